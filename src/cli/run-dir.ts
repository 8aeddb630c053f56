/**
 * A run folder, as `train` writes it and `eval`, `sample`, `plot` and `info` read it:
 * ```
 * DIR/model.safetensors   the weights (F64)
 * DIR/config.json         the model config, the training options, the data source and columns, the seed
 * DIR/history.csv         epoch,train_loss,val_nll,steps_per_second
 * DIR/metrics.json        test NLL, bits/dim, n, and KL, its standard error and the entropy where known
 * DIR/figures/*.svg       layers.svg, samples.svg, density.svg (2-D), loss.svg
 * ```
 *
 * @module
 */

import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RealNVP } from '../flow/real-nvp.ts';
import { loadModel, ModelFileError, readModelConfig, type ModelDocument } from '../io/model.ts';
import type { History } from '../train/fit.ts';
import { CliError } from './errors.ts';
import { readBytes, readText } from './fsx.ts';

/**
 * The file names inside a run folder.
 * @example const weightsPath = join(dir, RUN_FILES.weights); // DIR/model.safetensors
 */
export const RUN_FILES = {
  weights: 'model.safetensors',
  config: 'config.json',
  history: 'history.csv',
  metrics: 'metrics.json',
  figures: 'figures',
} as const;

/**
 * How the training data was obtained, as stored in config.json under `data`.
 * @example if (run.data?.source === 'csv') console.log(run.data.path);
 */
export type DataSource =
  | { source: 'dataset'; dataset: string; trainPoints: number; testPoints: number; columns: string[]; trainRows: number; valRows: number; testRows: number }
  | { source: 'csv'; path: string; header: boolean; rows: number; columns: string[]; trainRows: number; valRows: number; testRows: number };

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
}

/**
 * A run folder read back.
 * @example const run: Run = readRun('runs/post'); run.flow.sample(10, new Rng(0));
 */
export interface Run {
  dir: string;
  flow: RealNVP;
  doc: ModelDocument;
  /** The training record, when config.json has a valid one. */
  training: TrainingRecord | null;
  /** The data source, when config.json has a valid one. */
  data: DataSource | null;
  /** Column names: from the data source, or `x0, x1, ...`. */
  columns: string[];
}

/**
 * Reads a run folder's config and weights, refusing anything corrupt with the file's path in the message.
 * @example const { flow, columns } = readRun('runs/post');
 */
export function readRun(dir: string): Run {
  if (!existsSync(dir)) throw new CliError(`model directory ${dir} does not exist`);
  if (!statSync(dir).isDirectory()) throw new CliError(`${dir} is not a directory (--model takes the folder that train wrote)`);
  const configPath = join(dir, RUN_FILES.config);
  const weightsPath = join(dir, RUN_FILES.weights);
  const configJson = readText(configPath);
  const weights = readBytes(weightsPath);
  let doc: ModelDocument;
  let flow: RealNVP;
  try {
    doc = readModelConfig(configJson);
    flow = loadModel(configJson, weights);
  } catch (e) {
    if (e instanceof ModelFileError) {
      const path = e.part === 'config' ? configPath : weightsPath;
      throw new CliError(`${path}: ${e.message.replace(/^model (config|weights): /, '')}`);
    }
    throw e;
  }
  const training = readTraining(doc.extra.training);
  const data = readDataSource(doc.extra.data);
  const columns = data !== null && data.columns.length === flow.dim ? data.columns : Array.from({ length: flow.dim }, (_, j) => `x${j}`);
  return { dir, flow, doc, training, data, columns };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// The training record if it looks right; null otherwise (it is informative, the model does not need it).
function readTraining(v: unknown): TrainingRecord | null {
  if (!isObject(v)) return null;
  if ((v.preset !== 'default' && v.preset !== 'post') || typeof v.seed !== 'number' || !Number.isInteger(v.seed)) return null;
  return v as unknown as TrainingRecord;
}

function readDataSource(v: unknown): DataSource | null {
  if (!isObject(v)) return null;
  if (!Array.isArray(v.columns) || !v.columns.every((c) => typeof c === 'string')) return null;
  if (v.source === 'dataset' && typeof v.dataset === 'string' && typeof v.trainPoints === 'number' && typeof v.testPoints === 'number') return v as unknown as DataSource;
  if (v.source === 'csv' && typeof v.path === 'string') return v as unknown as DataSource;
  return null;
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
