/**
 * The work of `flowgrad train` after the command line is checked: fit (with checkpoints in the staging
 * folder), evaluate, draw, write the run and swap it into place. It runs in a worker thread
 * ({@link runInWorker} in `fit-worker.ts`) so that the main thread stays idle for the whole run and
 * answers signals at once: the launchers (`tsx`, `npm run`) kill a child that does not acknowledge a
 * Ctrl-C within tens of milliseconds.
 *
 * The job is plain data (structured-clone safe); progress and the outcome are messages.
 *
 * @module
 */

import { rmSync as rmFile } from 'node:fs';
import { join } from 'node:path';
import { Tensor } from '../autograd/tensor.ts';
import { getDataset } from '../data/datasets.ts';
import type { Target } from '../data/target.ts';
import { RealNVP } from '../flow/real-nvp.ts';
import { loadModel, readModelConfig, saveModel } from '../io/model.ts';
import { loadSafetensors, saveSafetensors } from '../io/safetensors.ts';
import { Rng } from '../rng/rng.ts';
import { checkpointFromDict, checkpointToDict, type FitState } from '../train/checkpoint.ts';
import { evaluate, type Evaluation } from '../train/evaluate.ts';
import { fit, TrainingDivergedError, type EpochInfo, type History } from '../train/fit.ts';
import { CliError } from './errors.ts';
import { makeFigures } from './figures.ts';
import { mkdirp, resetFaults, writeFileAtomic } from './fsx.ts';
import { jsonNumbers } from './report.ts';
import { commitRun, RUN_FILES, type OutPlan } from './run-out.ts';
import { historyCsv, parseHistoryCsv, type DataSource, type TrainingRecord } from './run-dir.ts';

/**
 * A matrix as plain data.
 * @example const m: Matrix = { rows: 2, cols: 1, data: new Float64Array([1, 2]) };
 */
export interface Matrix {
  rows: number;
  cols: number;
  data: Float64Array;
}

/**
 * Everything a training run needs, as plain data.
 * @example const job: TrainJob = buildJob(flags); // see train.ts
 */
export interface TrainJob {
  plan: OutPlan;
  /** The model before training (config text and weights). */
  configJson: string;
  weights: Uint8Array;
  train: Matrix;
  val: Matrix | null;
  test: Matrix;
  /** The toy data set's name (its density for KL and figures), or null for CSV data. */
  dataset: string | null;
  columns: string[];
  /** A short name of the data for titles. */
  name: string;
  training: TrainingRecord;
  data: DataSource;
  /** State of the shuffle generator and of the figures' generator. */
  shuffleState: number[];
  figuresState: number[];
  fit: { epochs: number; batchSize: number; lr: number; patience?: number; clipGradNorm?: number; ema?: number; noise?: number; lrPlateau?: { patience: number; factor: number; restoreBest: boolean } };
  /** Seconds between checkpoints (0: every epoch). */
  checkpointSeconds: number;
  /** Whether to draw the figures. */
  figures: boolean;
  /** A checkpoint to continue from (its bytes), or null. */
  resume: Uint8Array | null;
  /** Element 0: 1 = stop after the current step; 2 = and skip evaluation and figures. */
  stopFlag: Int32Array;
  /** The starting thread's count of file operations (the fault-injection hook numbers one sequence). */
  faultsBefore: number;
}

/**
 * What the job reports while it runs, and at the end.
 * @example const message: JobMessage = { type: 'epoch', info };
 */
export type JobMessage =
  | { type: 'epoch'; info: EpochInfo }
  | { type: 'step'; step: number }
  | { type: 'checkpoint'; epoch: number; step: number; path: string }
  | { type: 'phase'; phase: 'evaluating' | 'drawing' | 'writing' }
  | { type: 'note'; text: string };

/**
 * The end of a run.
 * @example if (outcome.status === 'diverged') console.error(outcome.reason);
 */
export interface JobOutcome {
  status: 'completed' | 'interrupted' | 'diverged' | 'quit';
  history: Pick<History, 'epochs' | 'steps' | 'stopReason' | 'bestEpoch' | 'bestValNll' | 'seconds'>;
  evaluation: Evaluation | null;
  metrics: Record<string, unknown> | null;
  figures: string[];
  /** Where the checkpoint is (interrupted, diverged, quit), or null. */
  checkpoint: string | null;
  /** Divergence: what happened. */
  reason: string | null;
  /** Epoch of the state kept after a divergence. */
  keptEpoch: number | null;
}

/**
 * The metadata key of a checkpoint holding the run's description (to resume it).
 * @example JSON.parse(loadSafetensors(bytes).metadata[RUN_METADATA]);
 */
export const RUN_METADATA = 'run';

/**
 * What a checkpoint's `run` metadata holds, to resume the run.
 * @example const spec: RunSpec = JSON.parse(metadata.run);
 */
export interface RunSpec {
  configJson: string;
  training: TrainingRecord;
  data: DataSource;
  columns: string[];
  name: string;
  fit: TrainJob['fit'];
  checkpointSeconds: number;
}

function tensorOf(m: Matrix): Tensor {
  return Tensor.from(m.rows, m.cols, m.data);
}

/**
 * Runs a training job to the end and returns its outcome; `post` receives progress.
 * @example const outcome = runTrainJob(job, (message) => parentPort.postMessage(message));
 */
export function runTrainJob(job: TrainJob, post: (message: JobMessage) => void): JobOutcome {
  resetFaults(job.faultsBefore);
  // A resumed run gets its weights from the checkpoint (fit's resume); a fresh one from job.weights.
  const flow = job.weights.length > 0 ? loadModel(job.configJson, job.weights) : RealNVP.fromConfig(readModelConfig(job.configJson).model);
  const train = tensorOf(job.train), val = job.val === null ? undefined : tensorOf(job.val), test = tensorOf(job.test);
  const target: Target | undefined = job.dataset !== null ? getDataset(job.dataset) : undefined;
  const shuffle = new Rng(0);
  shuffle.setState(job.shuffleState);
  const figuresRng = new Rng(0);
  figuresRng.setState(job.figuresState);
  const staging = job.plan.staging;
  const checkpointPath = join(staging, RUN_FILES.checkpoint);
  const spec: RunSpec = { configJson: job.configJson, training: job.training, data: job.data, columns: job.columns, name: job.name, fit: job.fit, checkpointSeconds: job.checkpointSeconds };
  const saveCheckpoint = (state: FitState) => {
    const { tensors, metadata } = checkpointToDict(state, { [RUN_METADATA]: JSON.stringify(spec, jsonNumbers) });
    writeFileAtomic(checkpointPath, saveSafetensors(tensors, metadata));
    post({ type: 'checkpoint', epoch: state.epoch, step: state.steps, path: checkpointPath });
  };
  let resume: FitState | undefined;
  if (job.resume !== null) {
    const loaded = loadSafetensors(job.resume);
    resume = checkpointFromDict(loaded.tensors, loaded.metadata);
    if (resume.diverged !== null) resume = { ...resume, diverged: null };
  }
  const signal = { get aborted() { return Atomics.load(job.stopFlag, 0) >= 1; } };
  let lastPost = 0;
  // Test hook: a Ctrl-C at this step (the signal tests send real ones).
  const stopAt = Number(process.env.FLOWGRAD_TEST_STOP_AT_STEP ?? NaN);
  let history: History;
  let status: JobOutcome['status'] = 'completed';
  let reason: string | null = null, keptEpoch: number | null = null;
  try {
    history = fit(flow, train, {
      ...job.fit,
      ...(val !== undefined ? { validation: val } : {}),
      rng: shuffle,
      signal,
      checkpoint: job.checkpointSeconds > 0 ? { seconds: job.checkpointSeconds, save: saveCheckpoint } : { every: 1, save: saveCheckpoint },
      ...(resume !== undefined ? { resume } : {}),
      onStep: (step) => {
        if (step === stopAt) Atomics.store(job.stopFlag, 0, 1);
        const t = performance.now();
        if (t - lastPost >= 100) {
          lastPost = t;
          post({ type: 'step', step });
        }
      },
      onEpoch: (info) => post({ type: 'epoch', info }),
    });
    if (history.stopReason === 'aborted') status = 'interrupted';
  } catch (e) {
    if (!(e instanceof TrainingDivergedError)) throw e;
    status = 'diverged';
    reason = e.message.replace(/ \(try a lower learning rate or clipGradNorm\)$/, '');
    keptEpoch = e.state?.epoch ?? null;
    const s = e.state;
    history = {
      trainLoss: s?.trainLoss ?? [], valNll: s?.valNll ?? [], stepsPerSecond: s?.stepsPerSecond ?? [], epochs: e.epoch, steps: e.step,
      bestValNll: s?.bestValNll ?? NaN, bestEpoch: s?.bestEpoch ?? 0, stopReason: 'aborted', seconds: s?.seconds ?? 0,
    };
  }
  const summary = { epochs: history.epochs, steps: history.steps, stopReason: history.stopReason, bestEpoch: history.bestEpoch, bestValNll: history.bestValNll, seconds: history.seconds };
  // A second Ctrl-C (flag 2) during the evaluation or the figures skips the rest: the checkpoint is written.
  const quit = (): JobOutcome => ({ status: 'quit', history: summary, evaluation: null, metrics: null, figures: [], checkpoint: checkpointPath, reason, keptEpoch });
  const quitting = () => Atomics.load(job.stopFlag, 0) >= 2;
  if (quitting()) return quit();

  flow.eval();
  post({ type: 'phase', phase: 'evaluating' });
  let evaluation: Evaluation;
  try {
    evaluation = evaluate(flow, test, target, {
      onProgress: () => {
        if (quitting()) throw new QuitRequest();
      },
    });
  } catch (e) {
    if (e instanceof QuitRequest) return quit();
    throw e;
  }
  const metrics = metricsOf(evaluation, summary, flow.dim, status);
  if (quitting()) return quit();
  post({ type: 'phase', phase: 'drawing' });
  const historyText = historyCsv(history);
  const figures = !job.figures ? [] : makeFigures({ flow, train, columns: job.columns, name: job.name, rng: figuresRng, history: parseHistoryCsv(historyText, RUN_FILES.history), ...(target !== undefined ? { target } : {}) });
  if (quitting()) return quit();

  post({ type: 'phase', phase: 'writing' });
  const training: TrainingRecord = { ...job.training, status: status === 'completed' ? 'completed' : status === 'diverged' ? 'diverged' : 'interrupted' };
  const saved = saveModel(flow, { training, data: job.data, history: { ...summary, finalTrainLoss: history.trainLoss.at(-1) ?? null }, metrics });
  const files: string[] = [RUN_FILES.weights, RUN_FILES.config, RUN_FILES.history, RUN_FILES.metrics];
  writeFileAtomic(join(staging, RUN_FILES.weights), saved.weights);
  writeFileAtomic(join(staging, RUN_FILES.config), saved.configJson);
  writeFileAtomic(join(staging, RUN_FILES.history), historyText);
  writeFileAtomic(join(staging, RUN_FILES.metrics), JSON.stringify(metrics, jsonNumbers, 2) + '\n');
  mkdirp(join(staging, RUN_FILES.figures));
  for (const f of figures) {
    writeFileAtomic(join(staging, RUN_FILES.figures, f.file), f.svg);
    files.push(`${RUN_FILES.figures}/${f.file}`);
  }
  if (status === 'completed') {
    removeFile(checkpointPath);
  } else {
    files.push(RUN_FILES.checkpoint);
  }
  commitRun(job.plan, files);
  const kept = status === 'completed' ? null : join(job.plan.dir, RUN_FILES.checkpoint);
  return { status, history: summary, evaluation, metrics, figures: figures.map((f) => join(job.plan.dir, RUN_FILES.figures, f.file)), checkpoint: kept, reason, keptEpoch };
}

/** Thrown from the evaluation's progress callback to stop it (a second Ctrl-C). */
class QuitRequest extends Error {}

function removeFile(path: string): void {
  try {
    // The checkpoint of a finished run is of no further use; written by this run, so it may go.
    rmFile(path, { force: true });
  } catch (e) {
    throw new CliError(`cannot remove ${path}: ${(e as Error).message}`);
  }
}

/** metrics.json: the evaluation plus how training went. */
function metricsOf(e: Evaluation, h: JobOutcome['history'], dim: number, status: JobOutcome['status']): Record<string, unknown> {
  return {
    n: e.n,
    dim,
    nll: e.nll,
    nllStdErr: e.nllStdErr,
    bitsPerDim: e.bitsPerDim,
    ...(e.kl !== undefined ? { kl: e.kl, klStdErr: e.klStdErr } : {}),
    ...(e.entropy !== undefined ? { entropy: e.entropy } : {}),
    trainSeconds: h.seconds,
    epochs: h.epochs,
    steps: h.steps,
    stopReason: status === 'diverged' ? 'diverged' : h.stopReason,
    bestEpoch: h.bestEpoch,
    bestValNll: h.bestValNll,
  };
}
