/**
 * A job in a worker thread, the one way `flowgrad train` (fit-worker.ts) and `flowgrad sbi train`
 * (sbi-train-job.ts) run theirs: the module that defines a job calls {@link serveJob} at its top level
 * (so that, started as a worker, it runs the job it is handed) and {@link runJobInWorker} to start
 * itself as that worker and wait. The protocol: the worker posts the job's progress messages, then
 * `{ type: 'done', outcome }` or `{ type: 'error', error }` (rebuilt with its class by errorFromWire).
 * The main thread stays idle meanwhile, so it redraws progress and answers signals at once.
 *
 * @module
 */

import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { errorFromWire, errorToWire, type WireError } from './errors.ts';

type Reply<M, O> = M | { type: 'done'; outcome: O } | { type: 'error'; error: WireError };

interface Envelope<J> {
  kind: string;
  job: J;
}

/**
 * Runs `job` in a worker started from `moduleUrl` (the caller's `import.meta.url`, whose top level calls
 * {@link serveJob} with the same `kind`); `onMessage` receives its progress and may throw (a checkpoint
 * that cannot be written, say): the worker is then stopped and the promise rejects with that error.
 * `runHere` runs the job in this thread instead: with FLOWGRAD_WORKER=0 (profiling, debugging), or when
 * no worker can start (no loader for TypeScript); a Ctrl-C then ends the process.
 *
 * @example return runJobInWorker(import.meta.url, 'flowgrad-train', job, onMessage, () => runTrainJob(job, onMessage));
 */
export async function runJobInWorker<J, M, O>(moduleUrl: string, kind: string, job: J, onMessage: (message: M) => void, runHere: () => O, what = 'the training worker'): Promise<O> {
  if (process.env.FLOWGRAD_WORKER === '0') return runHere();
  let worker: Worker;
  try {
    worker = startWorker(moduleUrl, { kind, job });
  } catch {
    return runHere();
  }
  return new Promise<O>((resolve, reject) => {
    let heard = false, settled = false;
    const fail = (e: unknown) => {
      if (settled) return;
      settled = true;
      void worker.terminate();
      reject(e);
    };
    worker.on('message', (reply: Reply<M, O>) => {
      heard = true;
      if (settled) return;
      const r = reply as { type?: unknown };
      if (r.type === 'done') {
        settled = true;
        resolve((reply as { outcome: O }).outcome);
      } else if (r.type === 'error') {
        fail(errorFromWire((reply as { error: WireError }).error));
      } else {
        try {
          onMessage(reply as M);
        } catch (e) {
          fail(e);
        }
      }
    });
    worker.on('error', (error) => {
      if (settled) return;
      // The worker could not even start (no loader for TypeScript, say): run here instead.
      if (!heard) {
        settled = true;
        try {
          resolve(runHere());
        } catch (e) {
          reject(e);
        }
      } else fail(error);
    });
    worker.on('exit', (code) => fail(new Error(`${what} stopped unexpectedly (exit code ${code})`)));
  });
}

/**
 * In a worker started by {@link runJobInWorker} for `kind`: runs the job with `run`, posting its messages
 * (with `transfer` naming buffers to move rather than copy), then its outcome or error. Anywhere else
 * (the main thread, another kind of worker) it does nothing.
 * @example serveJob('flowgrad-train', (job: TrainJob, post) => runTrainJob(job, post));
 */
export function serveJob<J, M, O>(kind: string, run: (job: J, post: (message: M) => void) => O, transfer?: (message: M) => ArrayBuffer[]): void {
  if (isMainThread || (workerData as Partial<Envelope<J>> | null)?.kind !== kind) return;
  const port = parentPort!;
  try {
    const outcome = run((workerData as Envelope<J>).job, (message) => port.postMessage(message, transfer?.(message) ?? []));
    port.postMessage({ type: 'done', outcome } satisfies Reply<M, O>);
  } catch (e) {
    port.postMessage({ type: 'error', error: errorToWire(e) } satisfies Reply<M, O>);
  }
}

// Starts `moduleUrl` as a worker. Under tsx (a .ts file), the worker registers tsx's loader first.
function startWorker<J>(moduleUrl: string, envelope: Envelope<J>): Worker {
  const self = new URL(moduleUrl);
  if (self.pathname.endsWith('.ts')) {
    const api = import.meta.resolve('tsx/esm/api');
    const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(self.href)}); });`;
    return new Worker(boot, { eval: true, workerData: envelope });
  }
  return new Worker(self, { workerData: envelope });
}
