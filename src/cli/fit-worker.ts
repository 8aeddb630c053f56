/**
 * A training job ({@link TrainJob}) in a worker thread, so that the main thread stays idle while the
 * run trains, evaluates, draws and writes: it redraws the progress bar and, above all, answers signals
 * at once. (`tsx` and `npm run` relay a Ctrl-C to the child and kill it when it does not answer within
 * tens of milliseconds; a main thread busy with training or writing could not.) The main thread stops
 * the run through a shared flag that the job reads after every step.
 *
 * When a worker cannot be started, the job runs in this thread instead (and a Ctrl-C then ends the
 * process, losing the work since the last checkpoint).
 *
 * @module
 */

import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { errorFromWire, errorToWire, type WireError } from './errors.ts';
import { runTrainJob, type JobMessage, type JobOutcome, type TrainJob } from './train-job.ts';

type Reply = JobMessage | { type: 'done'; outcome: JobOutcome } | { type: 'error'; error: WireError };

interface Envelope {
  kind: 'flowgrad-train';
  job: TrainJob;
}

/**
 * Runs `job` in a worker thread; `onMessage` receives its progress. Rejects with the job's error,
 * rebuilt with its class (a CliError stays a CliError).
 *
 * @example const outcome = await runInWorker(job, (m) => m.type === 'epoch' && progress.epoch(m.info));
 */
export async function runInWorker(job: TrainJob, onMessage: (message: JobMessage) => void): Promise<JobOutcome> {
  // FLOWGRAD_WORKER=0 runs the job in this thread (for profiling and debugging; Ctrl-C then ends the process).
  if (process.env.FLOWGRAD_WORKER === '0') return runTrainJob(job, onMessage);
  let worker: Worker;
  try {
    worker = startWorker({ kind: 'flowgrad-train', job });
  } catch {
    return runTrainJob(job, onMessage);
  }
  return new Promise<JobOutcome>((resolve, reject) => {
    let heard = false;
    let settled = false;
    worker.on('message', (reply: Reply) => {
      heard = true;
      if (reply.type === 'done') {
        settled = true;
        resolve(reply.outcome);
      } else if (reply.type === 'error') {
        settled = true;
        reject(errorFromWire(reply.error));
      } else {
        onMessage(reply);
      }
    });
    worker.on('error', (error) => {
      if (settled) return;
      settled = true;
      // The worker could not even start (no loader for TypeScript, say): run in place instead.
      if (!heard) {
        try {
          resolve(runTrainJob(job, onMessage));
        } catch (e) {
          reject(e);
        }
      } else reject(error);
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
function startWorker(envelope: Envelope): Worker {
  const self = new URL(import.meta.url);
  if (self.pathname.endsWith('.ts')) {
    const api = import.meta.resolve('tsx/esm/api');
    const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(self.href)}); });`;
    return new Worker(boot, { eval: true, workerData: envelope });
  }
  return new Worker(self, { workerData: envelope });
}

function runHere(envelope: Envelope): void {
  const port = parentPort!;
  try {
    const outcome = runTrainJob(envelope.job, (message) => port.postMessage(message satisfies Reply));
    port.postMessage({ type: 'done', outcome } satisfies Reply);
  } catch (e) {
    port.postMessage({ type: 'error', error: errorToWire(e) } satisfies Reply);
  }
}

if (!isMainThread && (workerData as Partial<Envelope> | null)?.kind === 'flowgrad-train') runHere(workerData as Envelope);
