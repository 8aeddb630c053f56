/**
 * The training of `flowgrad sbi train`, after the simulations are on disk: `trainNpe` with checkpoints,
 * a clean stop on a shared flag, and a divergence turned into the last good posterior. It runs in a
 * worker thread ({@link runSbiTrainJob}) so that the main thread stays idle and answers Ctrl-C at once
 * (a busy main thread cannot run a signal handler); `FLOWGRAD_WORKER=0` runs it in this thread.
 *
 * The job is plain data and writes no file: checkpoints and the result come back as bytes, and the
 * main thread writes them into the run folder (so one thread counts every write for the fault hook).
 *
 * @module
 */

import { Tensor } from '../autograd/tensor.ts';
import { loadSafetensors, saveSafetensors } from '../io/safetensors.ts';
import { Rng } from '../rng/rng.ts';
import { NPE_DEFAULTS, npeStateFromDict, npeStateToDict, trainNpe, type CandidateResult, type NeuralPosterior, type NpeArchitecture, type NpeOptions, type NpeState } from '../sbi/npe.ts';
import type { FitState } from '../train/checkpoint.ts';
import { TrainingDivergedError, type EpochInfo, type History } from '../train/fit.ts';
import { runJobInWorker, serveJob } from './job-worker.ts';
import type { Matrix } from './train-job.ts';

/**
 * The metadata key of an sbi checkpoint holding what the run needs to continue ({@link SbiRunSpec}).
 * @example JSON.parse(loadSafetensors(bytes).metadata[SBI_RUN_METADATA]).seed;
 */
export const SBI_RUN_METADATA = 'sbi-run';

/**
 * The training options of an sbi run, kept in its checkpoints (the data's own record is
 * simulations.json).
 * @example const spec: SbiRunSpec = { seed: 0, epochs: 1000, lr: 2e-3 };
 */
export interface SbiRunSpec {
  seed: number;
  /** Maximum epochs. */
  epochs: number;
  /** Adam's starting rate (the recipe's, or --lr). */
  lr: number;
}

/**
 * Everything the training needs, as plain data.
 * @example const job: SbiTrainJob = { theta, x, spec, support: null, task: null, parameterNames, dataNames, checkpointSeconds: 10, resume: null, lr: null, stopFlag, training: { seed: 0 } };
 */
export interface SbiTrainJob {
  theta: Matrix;
  x: Matrix;
  spec: SbiRunSpec;
  support: { low: number[]; high: number[] } | null;
  task: string | null;
  parameterNames: string[];
  dataNames: string[];
  /** Seconds between checkpoints (0: every epoch). */
  checkpointSeconds: number;
  /** A checkpoint to continue from (its bytes), or null. */
  resume: Uint8Array | null;
  /** A learning rate replacing the checkpoint's (resume --lr), or null. */
  lr: number | null;
  /** Element 0 set to 1: stop after the current step. */
  stopFlag: Int32Array;
  /** The training record saved with the posterior (config.json's `training`); the job adds how it went and its `status`. */
  training: Record<string, unknown>;
}

/**
 * Progress messages of the job.
 * @example const m: SbiJobMessage = { type: 'checkpoint', bytes, epoch: 3, steps: 120 };
 */
export type SbiJobMessage =
  | { type: 'epoch'; info: EpochInfo }
  | { type: 'architecture'; index: number; count: number; architecture: 'main' | NpeArchitecture }
  | { type: 'checkpoint'; bytes: Uint8Array; epoch: number; steps: number };

/**
 * How the training ended, with the posterior to write (for a divergence: the best of its last good state).
 * @example if (outcome.status === 'interrupted') console.error(`stopped at epoch ${outcome.history.epochs}`);
 */
export interface SbiJobOutcome {
  status: 'completed' | 'interrupted' | 'diverged';
  history: Pick<History, 'epochs' | 'steps' | 'stopReason' | 'bestEpoch' | 'bestValNll' | 'seconds'>;
  /** The posterior as `NeuralPosterior.save()` gives it, with the training record (config text, weights). */
  configJson: string;
  weights: Uint8Array;
  /** The architectures tried (the main one, then the candidates), which one was kept. */
  candidates: CandidateResult[];
  /** A divergence: what happened, and the epoch of the state kept. */
  reason: string | null;
  keptEpoch: number | null;
}

function tensorOf(m: Matrix): Tensor {
  return Tensor.from(m.rows, m.cols, m.data);
}

/** A checkpoint's bytes: the training state (which architecture, fit's state) with the run's spec. */
function checkpointBytes(state: NpeState, spec: SbiRunSpec): Uint8Array {
  const { tensors, metadata } = npeStateToDict(state, { [SBI_RUN_METADATA]: JSON.stringify(spec) });
  return saveSafetensors(tensors, metadata);
}

/**
 * Reads an sbi checkpoint back: its training state and the run's spec. Throws for anything else.
 * @example const { state, spec } = readSbiCheckpoint(readBytes('runs/tm/checkpoint.safetensors')); state.fit.epoch;
 */
export function readSbiCheckpoint(bytes: Uint8Array): { state: NpeState; spec: SbiRunSpec } {
  const loaded = loadSafetensors(bytes);
  const text = loaded.metadata[SBI_RUN_METADATA];
  if (text === undefined) throw new RangeError('it holds no sbi run (it was not written by flowgrad sbi train)');
  const spec = JSON.parse(text) as SbiRunSpec;
  if (!Number.isInteger(spec.seed) || !Number.isInteger(spec.epochs) || !(spec.lr > 0)) throw new RangeError(`its sbi run record is malformed: ${text}`);
  return { state: npeStateFromDict(loaded.tensors, loaded.metadata), spec };
}

/** trainNpe's options for a job, without the training's callbacks. */
function npeOptions(job: Pick<SbiTrainJob, 'spec' | 'support' | 'task' | 'parameterNames' | 'dataNames'>): NpeOptions {
  return { rng: new Rng(job.spec.seed), epochs: job.spec.epochs, lr: job.spec.lr, support: job.support, task: job.task, parameterNames: job.parameterNames, dataNames: job.dataNames };
}

/**
 * The checkpoint of a training before its first step (the split, the z-scoring and the initial
 * weights made from the seed and the data): written beside the simulations before training starts,
 * so that a run killed at any moment after can be resumed, and the training itself always resumes
 * from a checkpoint (one path; resuming from this one is bit-identical to a fresh start).
 * @example const bytes = startingCheckpoint({ theta, x, spec, support, task, parameterNames, dataNames });
 */
export function startingCheckpoint(job: Pick<SbiTrainJob, 'theta' | 'x' | 'spec' | 'support' | 'task' | 'parameterNames' | 'dataNames'>): Uint8Array {
  // The main flow's start: the candidates, trained after it, do not change it.
  const { history } = trainNpe(tensorOf(job.theta), tensorOf(job.x), { ...npeOptions(job), epochs: 0, candidates: [] });
  return checkpointBytes({ architectures: ['main', ...NPE_DEFAULTS.candidates], phase: 0, done: [], leader: null, fit: history.state! }, job.spec);
}

/**
 * Runs the training to its end in this thread; `post` receives progress and checkpoints.
 * @example const outcome = trainSbiJob(job, (m) => m.type === 'checkpoint' && writeFileAtomic(path, m.bytes));
 */
export function trainSbiJob(job: SbiTrainJob, post: (message: SbiJobMessage) => void): SbiJobOutcome {
  const theta = tensorOf(job.theta), x = tensorOf(job.x);
  const base = npeOptions(job);
  let resume: NpeState | undefined;
  if (job.resume !== null) {
    const saved = readSbiCheckpoint(job.resume).state;
    // A diverged run continues from its last good state, at the rate asked for if one is (for the
    // architecture training; those after it start at the run's rate).
    let fitState: FitState = { ...saved.fit, diverged: null };
    if (job.lr !== null) fitState = { ...fitState, optimizer: { ...fitState.optimizer, options: { ...fitState.optimizer.options, lr: job.lr } } };
    resume = { ...saved, fit: fitState };
  }
  const save = (state: NpeState) => post({ type: 'checkpoint', bytes: checkpointBytes(state, job.spec), epoch: state.fit.epoch, steps: state.fit.steps });
  // Test hook: a Ctrl-C at this step (the signal tests send real ones).
  const stopAt = Number(process.env.FLOWGRAD_TEST_STOP_AT_STEP ?? NaN);
  let steps = 0;
  const signal = { get aborted() { return Atomics.load(job.stopFlag, 0) >= 1; } };
  let result: { posterior: NeuralPosterior; history: History; candidates: CandidateResult[] };
  let status: SbiJobOutcome['status'] = 'completed', reason: string | null = null, keptEpoch: number | null = null;
  try {
    result = trainNpe(theta, x, {
      ...base,
      signal,
      checkpoint: job.checkpointSeconds > 0 ? { seconds: job.checkpointSeconds, save } : { every: 1, save },
      ...(resume !== undefined ? { resume } : {}),
      // Counted over the whole run (fit counts each architecture's steps from 1).
      onStep: () => {
        if (++steps === stopAt) Atomics.store(job.stopFlag, 0, 1);
      },
      onEpoch: (info) => post({ type: 'epoch', info }),
      onArchitecture: (index, count, architecture) => post({ type: 'architecture', index, count, architecture }),
    });
    if (result.history.stopReason === 'aborted') status = 'interrupted';
  } catch (e) {
    if (!(e instanceof TrainingDivergedError) || e.state === null) throw e;
    // fit saved the last good state (marked diverged); the posterior is that state's best weights:
    // the same training resumed from it with no epoch left to run (only the main flow's divergence
    // reaches here: a candidate that diverges is dropped inside trainNpe).
    status = 'diverged';
    reason = e.message.replace(/ \(try a lower learning rate or clipGradNorm\)$/, '');
    keptEpoch = e.state.epoch;
    result = trainNpe(theta, x, { ...base, candidates: [], epochs: e.state.epoch, resume: { ...e.state, diverged: null } });
    result.history.stopReason = 'aborted';
  }
  const h = result.history;
  const { configJson, weights } = result.posterior.save({
    training: { ...job.training, epochs: h.epochs, steps: h.steps, bestEpoch: h.bestEpoch, bestValidationLoss: h.bestValNll, stopReason: status === 'diverged' ? 'diverged' : h.stopReason, seconds: h.seconds, status, candidates: result.candidates },
  });
  return {
    status, reason, keptEpoch, configJson, weights, candidates: result.candidates,
    history: { epochs: h.epochs, steps: h.steps, stopReason: h.stopReason, bestEpoch: h.bestEpoch, bestValNll: h.bestValNll, seconds: h.seconds },
  };
}

const KIND = 'flowgrad-sbi-train';

/**
 * Runs the job in a worker thread (in this one when a worker cannot start, or with FLOWGRAD_WORKER=0);
 * `onMessage` receives progress and checkpoints and may throw (a checkpoint that cannot be written):
 * the worker is then stopped and the promise rejects with that error.
 *
 * @example const outcome = await runSbiTrainJob(job, (m) => { if (m.type === 'epoch') print(m.info); });
 */
export async function runSbiTrainJob(job: SbiTrainJob, onMessage: (message: SbiJobMessage) => void): Promise<SbiJobOutcome> {
  return runJobInWorker(import.meta.url, KIND, job, onMessage, () => trainSbiJob(job, onMessage));
}

// A checkpoint's bytes move to the main thread rather than being copied.
serveJob(KIND, trainSbiJob, (message: SbiJobMessage) => (message.type === 'checkpoint' ? [message.bytes.buffer as ArrayBuffer] : []));
