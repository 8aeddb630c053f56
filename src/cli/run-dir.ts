/**
 * A run folder, as `train` writes it and `eval`, `sample`, `plot` and `info` read it:
 * ```
 * DIR/model.safetensors   the weights (F64)
 * DIR/config.json         the model config, the training options, the data source and columns, the seed
 * DIR/history.csv         epoch,train_loss,val_nll,steps_per_second
 * DIR/metrics.json        test NLL, bits/dim, n, and KL, its standard error and the entropy where known
 * DIR/figures/*.svg       layers.svg, samples.svg, density.svg (2-D), loss.svg
 * DIR/checkpoint.safetensors  an interrupted or diverged run: the state to continue from (train --resume)
 * DIR/.flowgrad-run.json  the manifest: which files the run wrote (train --force replaces only those)
 * ```
 *
 * @module
 */


import { lstatSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { datasets } from '../data/datasets.ts';
import type { RealNVP } from '../flow/real-nvp.ts';
import { loadModel, ModelFileError, readModelConfig, type ModelDocument } from '../io/model.ts';
import type { History } from '../train/fit.ts';
import { CliError } from './errors.ts';
import { readBytes, readText } from './fsx.ts';
import { recoverSwap, RUN_FILES } from './run-out.ts';
import type { LrPlateau } from './recipes.ts';

export { RUN_FILES } from './run-out.ts';

/**
 * The largest numbers a run's config may hold (points drawn, rows), so that a hostile or mistyped
 * config.json cannot make `plot` or `eval` allocate gigabytes.
 * @example RUN_LIMITS.points; // 10,000,000
 */
export const RUN_LIMITS = { points: 10_000_000, epochs: 10_000_000, batchSize: 100_000_000, configBytes: 64 << 20, weightsBytes: 2 ** 31 } as const;

/**
 * How the training data was obtained, as stored in config.json under `data`. A CSV file's `path` is
 * relative to the run folder (absolute when it was given so), with its SHA-256 to check that it is
 * still the file trained on.
 * @example if (run.data?.source === 'csv') console.log(run.data.path);
 */
export type DataSource =
  | { source: 'dataset'; dataset: string; trainPoints: number; testPoints: number; columns: string[]; trainRows: number; valRows: number; testRows: number }
  | {
      source: 'csv'; path: string; sha256: string | null; header: boolean; delimiter: string; select: number[] | null; dropIndex: boolean;
      rows: number; columns: string[]; trainRows: number; valRows: number; testRows: number;
    };

/**
 * The training options, as stored in config.json under `training`.
 * @example readRun('runs/post').training?.lr; // 2e-4
 */
export interface TrainingRecord {
  preset: 'default' | 'post';
  seed: number;
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: 'adam';
  standardize: boolean;
  valFraction: number;
  testFraction: number | null;
  patience: number | null;
  clipGradNorm: number | null;
  /** Decay of the weight average (fit's `ema`), or null. */
  ema?: number | null;
  /** Noise regularisation (fit's `noise`: a fraction of each feature's std), or null (older runs: absent). */
  noise?: number | null;
  /** The rate cut on a validation plateau (fit's `lrPlateau`), or null (older runs: absent). */
  lrPlateau?: LrPlateau | null;
  /** How the run ended: completed, interrupted (a checkpoint is kept) or diverged (the last good state is kept). */
  status?: 'completed' | 'interrupted' | 'diverged';
}

/**
 * A run folder read back.
 * @example const run: Run = readRun('runs/post'); run.flow.sample(10, new Rng(0));
 */
export interface Run {
  dir: string;
  flow: RealNVP;
  doc: ModelDocument;
  /** The training record (null when config.json has none). */
  training: TrainingRecord | null;
  /** The data source (null when config.json has none). */
  data: DataSource | null;
  /** Column names: from the data source, or `x0, x1, ...`. */
  columns: string[];
  /** Notes from loading, e.g. tensors in the weights the model does not use. */
  notes: string[];
}

/**
 * Reads a run folder's config and weights, refusing anything corrupt or out of range with the file's
 * path and the field in the message. Only regular files are read, with size limits.
 * @example const { flow, columns } = readRun('runs/post');
 */
export function readRun(dir: string): Run {
  recoverSwap(dir);
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new CliError(`model directory ${dir} does not exist`);
  }
  if (!st.isDirectory()) throw new CliError(`${dir} is not a directory (--model takes the folder that train wrote)`);
  const configPath = join(dir, RUN_FILES.config);
  const weightsPath = join(dir, RUN_FILES.weights);
  const configJson = readText(configPath, { maxBytes: RUN_LIMITS.configBytes, what: 'model config' });
  const weights = readBytes(weightsPath, { maxBytes: RUN_LIMITS.weightsBytes, what: 'weights file' });
  let doc: ModelDocument;
  let flow: RealNVP;
  const notes: string[] = [];
  try {
    doc = readModelConfig(configJson);
    flow = loadModel(configJson, weights, { onNote: (note) => notes.push(`${weightsPath}: ${note}`) });
  } catch (e) {
    if (e instanceof ModelFileError) {
      const path = e.part === 'config' ? configPath : weightsPath;
      throw new CliError(`${path}: ${e.message.replace(/^model (config|weights): /, '')}`);
    }
    throw e;
  }
  const fail = (message: string): never => {
    throw new CliError(`${configPath}: ${message}`);
  };
  const training = doc.extra.training === undefined ? null : readTraining(doc.extra.training, fail);
  const data = doc.extra.data === undefined ? null : readDataSource(doc.extra.data, flow.dim, fail);
  const columns = data !== null ? data.columns : Array.from({ length: flow.dim }, (_, j) => `x${j}`);
  return { dir, flow, doc, training, data, columns, notes };
}

/**
 * The absolute path of a run's CSV data: `data.path` resolved from the run folder.
 * @example csvPathOf('runs/mine', run.data); // '/home/me/data.csv'
 */
export function csvPathOf(dir: string, data: Extract<DataSource, { source: 'csv' }>): string {
  return resolve(dir, data.path);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  return v === undefined ? 'nothing' : JSON.stringify(v) ?? String(v);
}

type Fail = (message: string) => never;

function int(fail: Fail, name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) return fail(`${name} must be an integer in ${min}..${max}, got ${show(v)}`);
  return v;
}

function num(fail: Fail, name: string, v: unknown, ok: (x: number) => boolean, range: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) return fail(`${name} must be a number ${range}, got ${show(v)}`);
  return v;
}

function nullable<T>(v: unknown, read: (x: unknown) => T): T | null {
  return v === null || v === undefined ? null : read(v);
}

// Every field checked: type and range; the message names it.
function readTraining(v: unknown, fail: Fail): TrainingRecord {
  if (!isObject(v)) return fail(`training must be an object, got ${show(v)}`);
  const f = (name: string) => `training.${name}`;
  if (v.preset !== 'default' && v.preset !== 'post') fail(`${f('preset')} must be "default" or "post", got ${show(v.preset)}`);
  if (v.optimizer !== 'adam') fail(`${f('optimizer')} must be "adam", got ${show(v.optimizer)}`);
  if (typeof v.standardize !== 'boolean') fail(`${f('standardize')} must be true or false, got ${show(v.standardize)}`);
  if (v.status !== undefined && v.status !== 'completed' && v.status !== 'interrupted' && v.status !== 'diverged') fail(`${f('status')} must be completed, interrupted or diverged, got ${show(v.status)}`);
  return {
    preset: v.preset as 'default' | 'post',
    seed: int(fail, f('seed'), v.seed, 0, 4294967295),
    epochs: int(fail, f('epochs'), v.epochs, 1, RUN_LIMITS.epochs),
    batchSize: int(fail, f('batchSize'), v.batchSize, 1, RUN_LIMITS.batchSize),
    lr: num(fail, f('lr'), v.lr, (x) => x > 0, '> 0'),
    optimizer: 'adam',
    standardize: v.standardize as boolean,
    valFraction: num(fail, f('valFraction'), v.valFraction, (x) => x >= 0 && x < 1, 'in [0, 1)'),
    testFraction: nullable(v.testFraction, (x) => num(fail, f('testFraction'), x, (y) => y > 0 && y < 1, 'in (0, 1)')),
    patience: nullable(v.patience, (x) => int(fail, f('patience'), x, 1, RUN_LIMITS.epochs)),
    clipGradNorm: nullable(v.clipGradNorm, (x) => num(fail, f('clipGradNorm'), x, (y) => y > 0, '> 0')),
    ema: nullable(v.ema, (x) => num(fail, f('ema'), x, (y) => y >= 0 && y < 1, 'in [0, 1)')),
    noise: nullable(v.noise, (x) => num(fail, f('noise'), x, (y) => y >= 0, '>= 0')),
    lrPlateau: nullable(v.lrPlateau, (x) => {
      if (!isObject(x) || typeof x.restoreBest !== 'boolean') return fail(`${f('lrPlateau')} must be { patience, factor, restoreBest } or null, got ${show(x)}`);
      return { patience: int(fail, `${f('lrPlateau')}.patience`, x.patience, 1, RUN_LIMITS.epochs), factor: num(fail, `${f('lrPlateau')}.factor`, x.factor, (y) => y > 0 && y < 1, 'in (0, 1)'), restoreBest: x.restoreBest };
    }),
    ...(v.status !== undefined ? { status: v.status as 'completed' | 'interrupted' | 'diverged' } : {}),
  };
}

function readDataSource(v: unknown, dim: number, fail: Fail): DataSource {
  if (!isObject(v)) return fail(`data must be an object, got ${show(v)}`);
  if (!Array.isArray(v.columns) || !v.columns.every((c) => typeof c === 'string') || v.columns.length !== dim) {
    return fail(`data.columns must be ${dim} column names (one per model dimension), got ${show(v.columns)}`);
  }
  const columns = v.columns as string[];
  const rows = (name: string, max: number) => int(fail, `data.${name}`, v[name], 0, max);
  if (v.source === 'dataset') {
    if (typeof v.dataset !== 'string' || !Object.hasOwn(datasets, v.dataset)) return fail(`data.dataset must be one of ${Object.keys(datasets).join(', ')}, got ${show(v.dataset)}`);
    const trainPoints = int(fail, 'data.trainPoints', v.trainPoints, 2, RUN_LIMITS.points);
    const testPoints = int(fail, 'data.testPoints', v.testPoints, 1, RUN_LIMITS.points);
    return { source: 'dataset', dataset: v.dataset, trainPoints, testPoints, columns, trainRows: rows('trainRows', trainPoints), valRows: rows('valRows', trainPoints), testRows: rows('testRows', testPoints) };
  }
  if (v.source === 'csv') {
    if (typeof v.path !== 'string' || v.path === '') return fail(`data.path must be the CSV file's path, got ${show(v.path)}`);
    const sha256 = v.sha256 === undefined || v.sha256 === null ? null
      : typeof v.sha256 === 'string' && /^[0-9a-f]{64}$/.test(v.sha256) ? v.sha256 : fail(`data.sha256 must be 64 hex digits, got ${show(v.sha256)}`);
    if (typeof v.header !== 'boolean') return fail(`data.header must be true or false, got ${show(v.header)}`);
    const delimiter = v.delimiter === undefined ? ',' : typeof v.delimiter === 'string' && v.delimiter.length === 1 ? v.delimiter : fail(`data.delimiter must be one character, got ${show(v.delimiter)}`);
    const select = v.select === undefined || v.select === null ? null
      : Array.isArray(v.select) && v.select.length === dim && v.select.every((k) => Number.isSafeInteger(k) && (k as number) >= 0 && (k as number) < 100_000) ? (v.select as number[])
      : fail(`data.select must be ${dim} column indices, got ${show(v.select)}`);
    const total = int(fail, 'data.rows', v.rows, 1, 1e9);
    return {
      source: 'csv', path: v.path, sha256, header: v.header, delimiter, select, dropIndex: v.dropIndex === true, rows: total, columns,
      trainRows: rows('trainRows', total), valRows: rows('valRows', total), testRows: rows('testRows', total),
    };
  }
  return fail(`data.source must be "dataset" or "csv", got ${show(v.source)}`);
}

/**
 * Whether `path` is a regular file (a final link is not followed).
 * @example isRegularFile('runs/post/history.csv'); // true
 */
export function isRegularFile(path: string): boolean {
  try {
    return lstatSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * A history as rows, read from or written to history.csv (NaN for a missing validation NLL).
 * @example const rows: HistoryRows = parseHistoryCsv(readText(path), path); rows.valNll[0]; // NaN without validation
 */
export interface HistoryRows {
  epoch: number[];
  trainLoss: number[];
  valNll: number[];
  stepsPerSecond: number[];
}

/**
 * history.csv text: a header, then one row per epoch; an epoch without validation leaves val_nll empty.
 * @example historyCsv(history); // 'epoch,train_loss,val_nll,steps_per_second\n1,3.21,,412.5\n'
 */
export function historyCsv(history: History): string {
  const lines = ['epoch,train_loss,val_nll,steps_per_second'];
  for (let e = 0; e < history.trainLoss.length; e++) {
    const val = history.valNll[e];
    const cell = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? String(x) : '');
    lines.push(`${e + 1},${cell(history.trainLoss[e])},${cell(val)},${cell(history.stepsPerSecond[e])}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * Reads history.csv back (empty cells become NaN); a malformed file is a CliError naming the line.
 * @example parseHistoryCsv(text, 'runs/post/history.csv').trainLoss.length; // epochs run
 */
export function parseHistoryCsv(text: string, path: string): HistoryRows {
  const out: HistoryRows = { epoch: [], trainLoss: [], valNll: [], stepsPerSecond: [] };
  const lines = text.split(/\r\n|\n|\r/);
  if (lines[0]?.trim() !== 'epoch,train_loss,val_nll,steps_per_second') throw new CliError(`${path}: line 1 must be the header epoch,train_loss,val_nll,steps_per_second`);
  for (let l = 1; l < lines.length; l++) {
    const line = lines[l]!.trim();
    if (line === '') continue;
    const cells = line.split(',');
    if (cells.length !== 4) throw new CliError(`${path}: line ${l + 1}: expected 4 values, got ${cells.length}`);
    const values = cells.map((c, j) => {
      if (c.trim() === '') return NaN;
      const v = Number(c);
      if (!Number.isFinite(v)) throw new CliError(`${path}: line ${l + 1}, column ${j + 1}: "${c}" is not a number`);
      return v;
    });
    out.epoch.push(values[0]!);
    out.trainLoss.push(values[1]!);
    out.valNll.push(values[2]!);
    out.stepsPerSecond.push(values[3]!);
  }
  return out;
}
