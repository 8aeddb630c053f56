/**
 * A C2ST whose folds run in Node worker threads (`bench/sbibm.ts --workers W`): `c2stPlan` makes the
 * folds (split and each fold's generator state) on the main thread, W workers run `c2stFold` on them,
 * and `c2stCombine` averages them in fold order, so the report is bit-identical to `c2stDetailed`'s
 * (each fold's classifier depends only on its plan and its own generator state).
 *
 * @example const report = await c2stWorkers(reference, samples, { rng: new Rng(3) }, 2);
 * @module
 */

import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { Tensor } from '../src/autograd/tensor.ts';
import { c2stCombine, c2stDetailed, c2stFold, c2stPlan, type C2stOptions, type C2stPlan, type C2stReport } from '../src/sbi/c2st.ts';

type FoldJob = { plan: Pick<C2stPlan, 'data' | 'labels' | 'd' | 'options'>; fold: C2stPlan['folds'][number] };

/**
 * `c2stDetailed(a, b, options)` with its folds spread over `workers` threads (1: on this thread).
 * @example (await c2stWorkers(a, b, { rng: new Rng(0) }, 2)).accuracy;
 */
export async function c2stWorkers(a: Tensor, b: Tensor, options: C2stOptions, workers: number): Promise<C2stReport> {
  if (workers <= 1) return c2stDetailed(a, b, options);
  const plan = c2stPlan(a, b, options);
  const { data, labels, d } = plan;
  const results: { accuracy: number; epochs: number }[] = new Array(plan.folds.length);
  let next = 0;
  const pool = Array.from({ length: Math.min(workers, plan.folds.length) }, async () => {
    const worker = startWorker();
    try {
      while (next < plan.folds.length) {
        const f = next++;
        results[f] = await new Promise((resolve, reject) => {
          worker.once('message', resolve);
          worker.once('error', reject);
          worker.postMessage({ plan: { data, labels, d, options: plan.options }, fold: plan.folds[f]! } satisfies FoldJob);
        });
        worker.removeAllListeners('error');
      }
    } finally {
      await worker.terminate();
    }
  });
  await Promise.all(pool);
  return c2stCombine(results);
}

// Starts this file as a worker. Under tsx (a .ts file), the worker registers tsx's loader first.
function startWorker(): Worker {
  const self = new URL(import.meta.url);
  if (self.pathname.endsWith('.ts')) {
    const api = import.meta.resolve('tsx/esm/api');
    const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(self.href)}); });`;
    return new Worker(boot, { eval: true, workerData: 'c2st-fold' });
  }
  return new Worker(self, { workerData: 'c2st-fold' });
}

if (!isMainThread && workerData === 'c2st-fold') {
  parentPort!.on('message', (job: FoldJob) => parentPort!.postMessage(c2stFold(job.plan, job.fold)));
}
