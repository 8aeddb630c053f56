/**
 * Where training data comes from, for the command line: a toy data set drawn with a seed, or a CSV
 * file split into training, validation and test rows. Both are pure functions of their inputs and the
 * seed, so `plot` can rebuild exactly the rows a model was trained on.
 *
 * @module
 */

import { createHash } from 'node:crypto';
import { Tensor } from '../autograd/tensor.ts';
import { CsvError, parseCsv } from '../data/csv.ts';
import { getDataset } from '../data/datasets.ts';
import { Rng } from '../rng/rng.ts';
import { trainValSplit } from '../data/split.ts';
import type { Target } from '../data/target.ts';
import { CliError, UsageError } from './errors.ts';
import { readBytes } from './fsx.ts';

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
 * A CSV file read and parsed, with column names (from the header or `x0, x1, ...`), the columns kept,
 * its SHA-256 (to check later that it is the same file) and notes on what was left out.
 * @example const csv: CsvData = readCsv('data.csv'); csv.columns; // ['height', 'weight']
 */
export interface CsvData {
  path: string;
  columns: string[];
  hasHeader: boolean;
  data: Tensor;
  sha256: string;
  delimiter: string;
  /** Indices (into the file's columns) of the columns kept, or null for all. */
  select: number[] | null;
  /** Whether an index column (pandas' `to_csv()` row numbers) was left out. */
  dropIndex: boolean;
  /** What was left out, for the user. */
  notes: string[];
}

/**
 * How to read a CSV file on the command line (`--header`/`--no-header`, `--delimiter`, `--columns`).
 * @example const options: CsvOptions = { header: true, delimiter: ';', columns: ['height', 'weight'] };
 */
export interface CsvOptions {
  /** true/false; absent: detected. */
  header?: boolean;
  delimiter?: string;
  /** Column names or 0-based indices to keep; absent: all (an index column is left out). */
  columns?: readonly string[];
  /** Whether to drop a detected index column (default true; false when read back with a recorded choice). */
  dropIndex?: boolean;
  /** The largest file read, bytes (default 1 GB). */
  maxBytes?: number;
  /** The SHA-256 the file must have, checked before its text is parsed (so that nothing of another file is shown). */
  expectSha256?: string;
  /** What to tell the user when the hash differs. */
  mismatch?: string;
}

/**
 * `x0, x1, ...` for `dim` columns.
 * @example defaultColumns(2); // ['x0', 'x1']
 */
export function defaultColumns(dim: number): string[] {
  return Array.from({ length: dim }, (_, j) => `x${j}`);
}

/**
 * The SHA-256 of some bytes, as hex.
 * @example sha256Hex(new TextEncoder().encode('')); // 'e3b0c442...'
 */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

// Names pandas and spreadsheets give an index column.
const INDEX_NAMES = new Set(['', 'index', 'unnamed: 0', 'id', 'row']);

/** Whether column 0 counts rows: 0, 1, 2, ... or 1, 2, 3, ... */
function isRowCounter(data: Tensor): boolean {
  if (data.cols < 2) return false;
  const first = data.data[0]!;
  if (first !== 0 && first !== 1) return false;
  for (let i = 0; i < data.rows; i++) if (data.data[i * data.cols] !== first + i) return false;
  return true;
}

/**
 * Reads and parses a numeric CSV file (`-`: standard input); errors name the file and the line and
 * column. Only a regular file (or `-`) is read, and at most `maxBytes`. An index column (a first column
 * named '', `index`, `Unnamed: 0`, `id` or `row`, or without a header, holding 0, 1, 2, ... or 1, 2, 3,
 * ...) is left out with a note unless `columns` says which to keep.
 *
 * @example const { data, columns } = readCsv('data.csv', { delimiter: ';', columns: ['a', 'b'] });
 */
export function readCsv(path: string, options: CsvOptions = {}): CsvData {
  const bytes = readBytes(path, { maxBytes: options.maxBytes ?? 2 ** 30, allowStdin: true, what: 'data file' });
  const sha256 = sha256Hex(bytes);
  if (options.expectSha256 !== undefined && sha256 !== options.expectSha256) throw new CliError(options.mismatch ?? `${path} is not the expected file (its SHA-256 differs)`);
  const text = Buffer.from(bytes).toString('utf8');
  const name = path === '-' ? 'standard input' : path;
  const delimiter = options.delimiter ?? ',';
  let table: ReturnType<typeof parseCsv>;
  try {
    // A header whose first name is empty (pandas' `to_csv()`: ",a,b") is a header with an index column.
    let header: boolean | 'auto' = options.header ?? 'auto';
    if (header === 'auto') {
      const first = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/).find((l) => l.trim() !== '');
      if (first !== undefined && first.trim().startsWith(delimiter) && !/^[\s\d.+\-eE"]*$/.test(first.split(delimiter).slice(1).join(''))) header = true;
    }
    table = parseCsv(text, { header, delimiter });
  } catch (e) {
    if (e instanceof CsvError) throw new CliError(`${name}: ${e.message.replace('(header: true; on the command line, --header)', '(pass --header)')}`);
    if (e instanceof RangeError) throw new UsageError(`--delimiter: ${e.message.replace(/^parseCsv: /, '')}`);
    throw e;
  }
  const all = table.columns ?? defaultColumns(table.data.cols);
  const notes: string[] = [];
  let select: number[] | null = null;
  let dropIndex = false;
  if (options.columns !== undefined) {
    select = options.columns.map((c) => {
      const byName = all.indexOf(c);
      if (byName >= 0) return byName;
      if (/^\d+$/.test(c) && Number(c) < all.length) return Number(c);
      throw new UsageError(`--columns: ${name} has no column ${JSON.stringify(c)} (its columns: ${all.join(', ')}; or give 0-based indices)`);
    });
    if (new Set(select).size !== select.length) throw new UsageError('--columns: a column is named twice');
  } else if ((options.dropIndex ?? true) && isRowCounter(table.data) && (table.columns === null || INDEX_NAMES.has(table.columns[0]!.trim().toLowerCase()))) {
    dropIndex = true;
    select = Array.from({ length: table.data.cols - 1 }, (_, j) => j + 1);
    notes.push(`${name}: column 1${table.columns !== null ? ` ("${table.columns[0]}")` : ''} counts the rows (an index column, as pandas writes it) and is left out; pass --columns to choose the columns yourself`);
  }
  let data = table.data;
  if (select !== null) {
    const out = new Float64Array(data.rows * select.length);
    for (let i = 0; i < data.rows; i++) for (let j = 0; j < select.length; j++) out[i * select.length + j] = data.data[i * data.cols + select[j]!]!;
    data = Tensor.from(data.rows, select.length, out);
  }
  const columns = select === null ? all : select.map((k) => all[k]!);
  return { path, columns, hasHeader: table.columns !== null, data, sha256, delimiter, select, dropIndex, notes };
}

/**
 * Refuses training columns that cannot be standardised, with the right reason: a constant column, and
 * columns whose scale is too large (squares overflow, |x| above 1e150) or too small (squares underflow)
 * for float64 statistics.
 *
 * @example checkColumnScales(split.train, ['a', 'b'], 'data.csv');
 */
export function checkColumnScales(x: Tensor, columns: readonly string[], where: string): void {
  for (let j = 0; j < x.cols; j++) {
    let max = 0, min = Infinity, lo = Infinity, hi = -Infinity;
    for (let i = 0; i < x.rows; i++) {
      const v = x.data[i * x.cols + j]!;
      const a = Math.abs(v);
      if (a > max) max = a;
      if (a > 0 && a < min) min = a;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const label = `column ${j + 1} ("${columns[j]}")`;
    if (lo === hi) throw new CliError(`${where}: ${label} is constant (${lo}) in the training rows and cannot be standardised; drop it (--columns), or pass --no-standardize`);
    if (max > 1e150) throw new CliError(`${where}: ${label} holds values up to ${max.toPrecision(3)}, too large to standardise in float64 (their squares overflow); rescale it (divide by a power of ten), or pass --no-standardize`);
    if (max < 1e-150) throw new CliError(`${where}: ${label} holds values no larger than ${max.toPrecision(3)}, too small to standardise in float64 (their squares underflow); rescale it (multiply by a power of ten), or pass --no-standardize`);
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
