/**
 * `fit` in a worker thread, so that the main thread stays free while training runs: it redraws the
 * progress bar and, above all, receives SIGINT. `fit` is synchronous, so in the main thread a Ctrl-C
 * could not be seen until training ended; here the main thread sets a shared flag, and the worker's
 * `onStep` turns it into `controller.abort()` on the AbortController passed as fit's `signal`, which stops
 * training cleanly after the current step.
 *
 * The model travels as {@link saveModel} bytes (F64, exact) both ways, and the shuffle generator as its
 * state, so training in the worker gives bit-identical weights to training in place. When a worker
 * cannot be started, training runs in place instead (and Ctrl-C then stops the process, as usual).
 *
 * @module
 */

import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { Tensor } from '../autograd/tensor.ts';
import { Rng } from '../rng/rng.ts';
import type { RealNVP } from '../flow/real-nvp.ts';
import { loadSafetensors } from '../io/safetensors.ts';
import { loadModel, saveModel } from '../io/model.ts';
import { fit, TrainingDivergedError, type EpochInfo, type History } from '../train/fit.ts';

/**
 * What to train with (a serialisable subset of fit's options).
 * @example const options: RemoteFitOptions = { epochs: 100, batchSize: 64, lr: 1e-3, patience: 20 };
 */
export interface RemoteFitOptions {
  epochs: number;
  batchSize: number;
  lr: number;
  patience?: number;
  clipGradNorm?: number;
  ema?: number;
}

/**
 * Callbacks and the stop flag of {@link fitInWorker}.
 * @example const hooks: RemoteFitHooks = { stopFlag: new Int32Array(new SharedArrayBuffer(4)), onEpoch: (info) => progress.epoch(info) };
 */
export interface RemoteFitHooks {
  onEpoch?: (info: EpochInfo) => void;
  /** Called at most every ~100 ms with the step count. */
  onStep?: (step: number) => void;
  /** Set element 0 to 1 (Atomics.store) to stop after the current step. */
  stopFlag: Int32Array;
}

type Matrix = { rows: number; cols: number; data: Float64Array };

interface Job {
  kind: 'flowgrad-fit';
  configJson: string;
  weights: Uint8Array;
  train: Matrix;
  val: Matrix | null;
  rngState: number[];
  options: RemoteFitOptions;
  stopFlag: Int32Array;
}

type Reply =
  | { type: 'epoch'; info: EpochInfo }
  | { type: 'step'; step: number }
  | { type: 'done'; history: History; weights: Uint8Array; rngState: number[] }
  | { type: 'diverged'; message: string; epoch: number; step: number; weights: Uint8Array }
  | { type: 'error'; name: string; message: string; stack: string | undefined };

/**
 * Trains `flow` on `train` in a worker thread and copies the trained weights back into it; the shuffle
 * generator `rng` advances exactly as if `fit` had run here. Rejects with a TrainingDivergedError (after
 * loading the last good weights) or the worker's error.
 *
 * @example
 * const stopFlag = new Int32Array(new SharedArrayBuffer(4));
 * process.once('SIGINT', () => Atomics.store(stopFlag, 0, 1));
 * const history = await fitInWorker(flow, train, val, rng, { epochs: 100, batchSize: 64, lr: 1e-3 }, { stopFlag });
 */
export async function fitInWorker(flow: RealNVP, train: Tensor, val: Tensor | undefined, rng: Rng, options: RemoteFitOptions, hooks: RemoteFitHooks): Promise<History> {
  const saved = saveModel(flow);
  const job: Job = {
    kind: 'flowgrad-fit',
    configJson: saved.configJson,
    weights: saved.weights,
    train: { rows: train.rows, cols: train.cols, data: train.data },
    val: val === undefined ? null : { rows: val.rows, cols: val.cols, data: val.data },
    rngState: rng.getState(),
    options,
    stopFlag: hooks.stopFlag,
  };
  let worker: Worker;
  try {
    worker = startWorker(job);
  } catch {
    return fitHere(flow, train, val, rng, options, hooks);
  }
  return new Promise<History>((resolve, reject) => {
    let heard = false;
    let settled = false;
    const load = (weights: Uint8Array) => flow.loadStateDict(loadSafetensors(weights).tensors);
    worker.on('message', (reply: Reply) => {
      heard = true;
      switch (reply.type) {
        case 'epoch':
          hooks.onEpoch?.(reply.info);
          break;
        case 'step':
          hooks.onStep?.(reply.step);
          break;
        case 'done':
          load(reply.weights);
          rng.setState(reply.rngState);
          settled = true;
          resolve(reply.history);
          break;
        case 'diverged':
          load(reply.weights);
          settled = true;
          reject(new TrainingDivergedError(reply.message, reply.epoch, reply.step));
          break;
        case 'error': {
          // Rebuilt with the worker's name and stack, so it is reported as it would be in this thread.
          const error = reply.name === 'RangeError' ? new RangeError(reply.message) : reply.name === 'TypeError' ? new TypeError(reply.message) : new Error(reply.message);
          if (error.name !== reply.name) Object.defineProperty(error, 'name', { value: reply.name });
          if (reply.stack !== undefined) error.stack = reply.stack;
          settled = true;
          reject(error);
          break;
        }
      }
    });
    worker.on('error', (error) => {
      if (settled) return;
      settled = true;
      // The worker could not even start (no loader for TypeScript, say): train in place instead.
      if (!heard) fitHere(flow, train, val, rng, options, hooks).then(resolve, reject);
      else reject(error);
    });
    worker.on('exit', (code) => {
      if (!settled) {
        settled = true;
        reject(new Error(`the training worker stopped unexpectedly (exit code ${code})`));
      }
    });
  });
}

// Starts this file as a worker. Under tsx (a .ts file), the worker registers tsx's loader first.
function startWorker(job: Job): Worker {
  const self = new URL(import.meta.url);
  if (self.pathname.endsWith('.ts')) {
    const api = import.meta.resolve('tsx/esm/api');
    const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(self.href)}); });`;
    return new Worker(boot, { eval: true, workerData: job });
  }
  return new Worker(self, { workerData: job });
}

// The same training in this thread.
async function fitHere(flow: RealNVP, train: Tensor, val: Tensor | undefined, rng: Rng, options: RemoteFitOptions, hooks: RemoteFitHooks): Promise<History> {
  const controller = new AbortController();
  return fit(flow, train, {
    ...fitOptions(options, val),
    rng,
    signal: controller.signal,
    onStep: () => {
      if (Atomics.load(hooks.stopFlag, 0) === 1) controller.abort();
    },
    onEpoch: (info) => {
      hooks.onEpoch?.(info);
    },
  });
}

function fitOptions(options: RemoteFitOptions, val: Tensor | undefined) {
  return {
    epochs: options.epochs,
    batchSize: options.batchSize,
    lr: options.lr,
    ...(val !== undefined ? { validation: val } : {}),
    ...(options.patience !== undefined ? { patience: options.patience } : {}),
    ...(options.clipGradNorm !== undefined ? { clipGradNorm: options.clipGradNorm } : {}),
    ...(options.ema !== undefined ? { ema: options.ema } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------
// The worker side

function runJob(job: Job): void {
  const port = parentPort!;
  const flow = loadModel(job.configJson, job.weights);
  const train = Tensor.from(job.train.rows, job.train.cols, job.train.data);
  const val = job.val === null ? undefined : Tensor.from(job.val.rows, job.val.cols, job.val.data);
  const rng = new Rng(0);
  rng.setState(job.rngState);
  const controller = new AbortController();
  let lastPost = 0;
  try {
    const history = fit(flow, train, {
      ...fitOptions(job.options, val),
      rng,
      signal: controller.signal,
      onStep: (step) => {
        if (Atomics.load(job.stopFlag, 0) === 1) controller.abort();
        const t = performance.now();
        if (t - lastPost >= 100) {
          lastPost = t;
          port.postMessage({ type: 'step', step } satisfies Reply);
        }
      },
      onEpoch: (info) => {
        port.postMessage({ type: 'epoch', info } satisfies Reply);
      },
    });
    port.postMessage({ type: 'done', history, weights: saveModel(flow).weights, rngState: rng.getState() } satisfies Reply);
  } catch (e) {
    if (e instanceof TrainingDivergedError) {
      port.postMessage({ type: 'diverged', message: e.message, epoch: e.epoch, step: e.step, weights: saveModel(flow).weights } satisfies Reply);
    } else {
      const error = e instanceof Error ? e : new Error(String(e));
      port.postMessage({ type: 'error', name: error.name, message: error.message, stack: error.stack } satisfies Reply);
    }
  }
}

if (!isMainThread && (workerData as Partial<Job> | null)?.kind === 'flowgrad-fit') runJob(workerData as Job);
