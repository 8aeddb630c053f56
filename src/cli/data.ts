/**
 * Where training data comes from, for the command line: a toy data set drawn with a seed, or a CSV
 * file split into training, validation and test rows. Both are pure functions of their inputs and the
 * seed, so `plot` can rebuild exactly the rows a model was trained on.
 *
 * @module
 */

import type { Tensor } from '../autograd/tensor.ts';
import { CsvError, parseCsv } from '../data/csv.ts';
import { getDataset } from '../data/datasets.ts';
import { Rng } from '../rng/rng.ts';
import { trainValSplit } from '../data/split.ts';
import type { Target } from '../data/target.ts';
import { CliError, UsageError } from './errors.ts';
import { readText } from './fsx.ts';

/**
 * The independent random streams of a run, forked in a fixed order from `new Rng(seed)`, so that changing
 * one use (say, more test points) does not change the others.
 *
 * @example const { init, shuffle }: Streams = streams(0);
 */
export interface Streams {
  /** Training points of a toy data set. */
  data: Rng;
  /** Test points of a toy data set. */
  test: Rng;
  /** Test and validation splits. */
  split: Rng;
  /** Initial weights. */
  init: Rng;
  /** Minibatch shuffles. */
  shuffle: Rng;
  /** Base samples and flow samples for the figures. */
  figures: Rng;
}

/**
 * The streams of a run.
 * @example const s = streams(0); s.init;
 */
export function streams(seed: number): Streams {
  const root = new Rng(seed);
  return { data: root.fork(), test: root.fork(), split: root.fork(), init: root.fork(), shuffle: root.fork(), figures: root.fork() };
}

/**
 * Training, validation (absent without) and test rows.
 * @example const { train, val, test }: DataSplit = splitRows(csv.data, 0.1, 0.1, streams(0));
 */
export interface DataSplit {
  train: Tensor;
  val?: Tensor;
  test: Tensor;
}

/**
 * A CSV file read and parsed, with column names (from the header or `x0, x1, ...`).
 * @example const csv: CsvData = readCsv('data.csv'); csv.columns; // ['height', 'weight']
 */
export interface CsvData {
  path: string;
  columns: string[];
  hasHeader: boolean;
  data: Tensor;
}

/**
 * `x0, x1, ...` for `dim` columns.
 * @example defaultColumns(2); // ['x0', 'x1']
 */
export function defaultColumns(dim: number): string[] {
  return Array.from({ length: dim }, (_, j) => `x${j}`);
}

/**
 * Reads and parses a numeric CSV file; errors name the file and the line and column.
 * @example const { data, columns } = readCsv('data.csv');
 */
export function readCsv(path: string): CsvData {
  const text = readText(path);
  try {
    const table = parseCsv(text);
    return { path, columns: table.columns ?? defaultColumns(table.data.cols), hasHeader: table.columns !== null, data: table.data };
  } catch (e) {
    if (e instanceof CsvError) throw new CliError(`${path}: ${e.message}`);
    throw e;
  }
}

/**
 * The data set called `name`, as a usage error listing the valid names when unknown.
 * @example datasetByName('post-mixture').dim; // 2
 */
export function datasetByName(name: string): Target {
  try {
    return getDataset(name);
  } catch (e) {
    throw new UsageError(`${(e as Error).message}`);
  }
}

/**
 * Draws `trainPoints` from a toy target (then holds out `valFraction` of them for validation) and
 * `testPoints` fresh test points from a separate stream.
 *
 * @example const { train, val, test } = splitDataset(getDataset('post-mixture'), 1000, 10_000, 0.1, streams(0));
 */
export function splitDataset(target: Target, trainPoints: number, testPoints: number, valFraction: number, s: Streams): DataSplit {
  const all = target.sample(trainPoints, s.data);
  const test = target.sample(testPoints, s.test);
  if (valFraction <= 0) return { train: all, test };
  try {
    const { train, val } = trainValSplit(all, valFraction, s.split);
    return { train, val, test };
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw new CliError(`${trainPoints} training points are too few to hold out ${valFraction} of them for validation with at least one row on each side; use more points (--n) or change --val-fraction`);
  }
}

/**
 * Splits a CSV table: `testFraction` of the rows for the test set, then `valFraction` of the rest for
 * validation.
 *
 * @example const { train, val, test } = splitRows(csv.data, 0.1, 0.1, streams(0));
 */
export function splitRows(data: Tensor, testFraction: number, valFraction: number, s: Streams): DataSplit {
  try {
    const first = trainValSplit(data, testFraction, s.split);
    if (valFraction <= 0) return { train: first.train, test: first.val };
    const second = trainValSplit(first.train, valFraction, s.split);
    return { train: second.train, val: second.val, test: first.val };
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    const parts = `${testFraction} of the rows for testing${valFraction > 0 ? ` and ${valFraction} of the rest for validation` : ''}`;
    throw new CliError(`${data.rows} rows are too few to hold out ${parts} with at least one row in each part; use more data or change --test-fraction / --val-fraction`);
  }
}
