/**
 * Evaluating a density model: test NLL in nats (with the full normalising constant) and bits per
 * dimension, and, where the true density p is known, the KL divergence KL(p‖q) = E_p[log p - log q]
 * estimated on the same test points (a paired estimate, with its standard error).
 *
 * KL(p‖q) = NLL_q - H(p) is what a perfect model would bring to 0; the test NLL alone cannot say how far
 * from perfect a model is, because H(p) is unknown in general.
 *
 * @module
 */

import { formatShape, noGrad, ShapeError, Tensor } from '../autograd/tensor.ts';
import type { Target } from '../data/target.ts';

/**
 * The result of {@link evaluate}.
 * @example const { nll, bitsPerDim, kl }: Evaluation = evaluate(flow, test, postMixture);
 */
export interface Evaluation {
  /** Number of test rows. */
  n: number;
  /** Mean negative log-likelihood, nats. */
  nll: number;
  /** Its standard error. */
  nllStdErr: number;
  /** nll / (d·ln 2). */
  bitsPerDim: number;
  /** KL(p‖q) estimate in nats, where the target's density is known. */
  kl?: number;
  /** Standard error of the KL estimate. */
  klStdErr?: number;
  /** The target's entropy H(p), nats, where known. */
  entropy?: number;
}

function meanAndStdErr(values: Float64Array): [number, number] {
  const n = values.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i]!;
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i]! - mean) ** 2;
  return [mean, n > 1 ? Math.sqrt(ss / (n - 1) / n) : NaN];
}

/**
 * Options of {@link evaluate}.
 * @example evaluate(flow, test, target, { onProgress: (done, total) => console.error(`${done}/${total}`) });
 */
export interface EvaluateOptions {
  /** Rows per batch (default 4096). */
  batchSize?: number;
  /** Called after every batch with the rows done and the total (for progress on long evaluations). */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Test NLL, bits per dimension and (with a target that has `logDensity`) the paired KL estimate. With
 * a single row the standard errors are NaN (there is no spread to estimate).
 *
 * @example
 * const test = postMixture.sample(10_000, new Rng(7));
 * const e = evaluate(flow, test, postMixture);
 * // { n: 10000, nll: 3.55, nllStdErr: 0.01, bitsPerDim: 2.56, kl: 0.024, klStdErr: 0.002, entropy: 3.5244 }
 */
export function evaluate(model: { logProb(x: Tensor): Tensor }, x: Tensor, target?: Target, options: number | EvaluateOptions = {}): Evaluation {
  if (x.rows < 1) throw new RangeError('evaluate: no test rows');
  const { batchSize = 4096, onProgress } = typeof options === 'number' ? { batchSize: options } : options;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new RangeError(`evaluate: batchSize must be an integer >= 1, got ${batchSize}`);
  const logq = new Float64Array(x.rows);
  noGrad(() => {
    for (let start = 0; start < x.rows; start += batchSize) {
      const rows = Math.min(batchSize, x.rows - start);
      const batch = Tensor.from(rows, x.cols, x.data.subarray(start * x.cols, (start + rows) * x.cols));
      const lp = model.logProb(batch);
      // A short or wide result would otherwise leave rows at 0 or spill into the next batch's slots.
      if (lp.rows !== rows || lp.cols !== 1) throw new ShapeError(`evaluate: logProb of a ${formatShape(rows, x.cols)} batch must be ${formatShape(rows, 1)}, got ${formatShape(lp.rows, lp.cols)}`);
      logq.set(lp.data, start);
      onProgress?.(start + rows, x.rows);
    }
  });
  const negLogq = logq.map((v) => -v);
  const [nll, nllStdErr] = meanAndStdErr(negLogq);
  const out: Evaluation = { n: x.rows, nll, nllStdErr, bitsPerDim: nll / (x.cols * Math.LN2) };
  if (target?.logDensity !== undefined) {
    const logp = target.logDensity(x);
    const diff = new Float64Array(x.rows);
    for (let i = 0; i < x.rows; i++) diff[i] = logp[i]! - logq[i]!;
    const [kl, klStdErr] = meanAndStdErr(diff);
    out.kl = kl;
    out.klStdErr = klStdErr;
  }
  if (target?.entropy !== undefined) out.entropy = target.entropy;
  return out;
}
