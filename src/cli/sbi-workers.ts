/**
 * Simulating in parallel worker threads: the chunks of {@link simulateDataset} (each drawn from its own
 * generator forked off the seed) are split into contiguous runs, one per worker, and joined back in
 * order, so the data set is the same, bit for bit, for any number of workers. With one worker, or
 * when a worker cannot be started, the chunks run in this thread.
 *
 * @module
 */

import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { Tensor } from '../autograd/tensor.ts';
import { chunkSizes, DEFAULT_CHUNK_SIZE, joinChunks, simulateChunk, type SimulatedData } from '../sbi/simulator.ts';
import { CliError } from './errors.ts';
import { loadSimulator, type SimulatorSource } from './sbi-simulator.ts';

interface Job {
  source: SimulatorSource;
  seed: number;
  chunkSize: number;
  /** [chunk index, rows] pairs for this worker. */
  chunks: [number, number][];
}

interface ChunkMessage {
  chunk: number;
  theta: Float64Array;
  x: Float64Array;
  rows: number;
}

/**
 * Options of {@link simulateInWorkers}.
 * @example { seed: 1, workers: 2, onChunk: (done, total) => bar.update(done / total) }
 */
export interface WorkerSimulateOptions {
  seed: number;
  /** Worker threads (default 1: this thread). */
  workers?: number;
  chunkSize?: number;
  /** Called after each chunk with chunks done and the total. */
  onChunk?: (done: number, total: number) => void;
  /**
   * Stops the simulations: the workers are terminated (in this thread: before the next chunk) and the
   * promise rejects with a {@link SimulationAborted}; nothing is returned of the chunks done.
   */
  signal?: AbortSignal;
}

/**
 * The rejection of {@link simulateInWorkers} when its signal aborts.
 * @example try { await simulateInWorkers(source, n, { seed, signal }); } catch (e) { if (e instanceof SimulationAborted) console.error(`${e.done} of ${e.total} chunks were done`); }
 */
export class SimulationAborted extends Error {
  override readonly name = 'SimulationAborted';
  constructor(
    /** Chunks finished when it stopped, and the total. */
    readonly done: number,
    readonly total: number,
  ) {
    super(`the simulations were stopped after ${done} of ${total} chunks`);
  }
}

/**
 * n simulations from a source, in `workers` threads; the same rows as `simulateDataset` in one thread.
 * @example const data = await simulateInWorkers({ kind: 'task', name: 'slcp' }, 10_000, { seed: 1, workers: 2 });
 */
export async function simulateInWorkers(source: SimulatorSource, n: number, options: WorkerSimulateOptions): Promise<SimulatedData> {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const sizes = chunkSizes(n, chunkSize);
  const workers = Math.max(1, Math.min(options.workers ?? 1, sizes.length));
  const { simulator } = await loadSimulator(source);
  const results: { theta: Tensor; x: Tensor }[] = new Array(sizes.length);
  let done = 0;
  const signal = options.signal;
  if (signal?.aborted === true) throw new SimulationAborted(0, sizes.length);
  if (workers === 1) {
    for (let c = 0; c < sizes.length; c++) {
      results[c] = simulateChunk(simulator, c, sizes[c]!, { seed: options.seed });
      options.onChunk?.(++done, sizes.length);
      if (signal !== undefined) {
        // Between chunks, let a signal handler run (it aborts the signal).
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (signal.aborted) throw new SimulationAborted(done, sizes.length);
      }
    }
    return joinChunks(results, simulator.thetaDim, simulator.xDim);
  }
  // Contiguous runs of chunks, as even as possible.
  const jobs: Job[] = [];
  for (let w = 0; w < workers; w++) {
    const from = Math.floor((w * sizes.length) / workers), to = Math.floor(((w + 1) * sizes.length) / workers);
    jobs.push({ source, seed: options.seed, chunkSize, chunks: sizes.slice(from, to).map((rows, k) => [from + k, rows]) });
  }
  const started: Worker[] = [];
  let stop: (() => void) | null = null;
  const aborted = new Promise<never>((_resolve, reject) => {
    stop = () => {
      for (const w of started) void w.terminate();
      reject(new SimulationAborted(done, sizes.length));
    };
    signal?.addEventListener('abort', stop, { once: true });
  });
  aborted.catch(() => undefined);
  const all = Promise.all(
    jobs.map(
      (job) =>
        new Promise<void>((resolve, reject) => {
          const worker = startWorker(job);
          started.push(worker);
          let remaining = job.chunks.length, failed = false;
          worker.on('message', (m: ChunkMessage | { error: string }) => {
            if ('error' in m) {
              failed = true;
              reject(new CliError(m.error));
              return;
            }
            results[m.chunk] = { theta: Tensor.from(m.rows, simulator.thetaDim, m.theta), x: Tensor.from(m.rows, simulator.xDim, m.x) };
            options.onChunk?.(++done, sizes.length);
            if (--remaining === 0) resolve();
          });
          worker.on('error', (e) => {
            failed = true;
            reject(e);
          });
          worker.on('exit', (code) => {
            if (!failed && remaining > 0) reject(new CliError(`a simulation worker stopped unexpectedly (exit code ${code})`));
          });
        }),
    ),
  );
  try {
    await Promise.race([all, aborted]);
  } catch (e) {
    for (const w of started) void w.terminate();
    throw e;
  } finally {
    if (stop !== null) signal?.removeEventListener('abort', stop);
  }
  return joinChunks(results, simulator.thetaDim, simulator.xDim);
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

async function runJob(job: Job): Promise<void> {
  const port = parentPort!;
  try {
    const { simulator } = await loadSimulator(job.source);
    for (const [chunk, rows] of job.chunks) {
      const { theta, x } = simulateChunk(simulator, chunk, rows, { seed: job.seed });
      const message: ChunkMessage = { chunk, theta: theta.data, x: x.data, rows };
      port.postMessage(message, [theta.data.buffer as ArrayBuffer, x.data.buffer as ArrayBuffer]);
    }
  } catch (e) {
    port.postMessage({ error: e instanceof Error ? e.message : String(e) });
  }
}

if (!isMainThread && parentPort !== null && (workerData as Job | undefined)?.chunks !== undefined) {
  void runJob(workerData as Job);
}
