/**
 * The contract every toy data set follows: a name, a dimension, a seeded sampler and, where it is known,
 * an exact normalised log-density and the entropy. Plus {@link entropyEstimate}, the Monte Carlo entropy
 * of any target that has a log-density.
 *
 * @module
 */

import { formatShape, ShapeError, Tensor } from '../autograd/tensor.ts';
import type { RandomSource } from '../rng/rng.ts';

/**
 * A distribution to learn: something to draw training data from and, for most of them, the exact density
 * to compare a trained flow against.
 *
 * @example
 * const t: Target = getDataset('post-mixture');
 * const x = t.sample(1000, new Rng(0)); // 1000×2 Tensor
 * t.logDensity?.(x);                    // Float64Array(1000), nats
 * t.entropy;                            // 3.5244...
 */
export interface Target {
  /** The registry name, e.g. `'post-mixture'`. */
  readonly name: string;
  /** Number of columns of a sample. */
  readonly dim: number;
  /** One paragraph: what it is, its parameters and where it comes from. */
  readonly description: string;
  /**
   * `n` independent draws as an n×dim tensor. Deterministic: the same generator state gives the same rows.
   * Only `rng.uniform()` and `rng.normal()` are used.
   */
  sample(n: number, rng: RandomSource): Tensor;
  /**
   * The exact normalised log-density (nats) of each row of an n×dim tensor. `-Infinity` where the
   * density is zero. Absent when the density has no usable form.
   */
  logDensity?(x: Tensor): Float64Array;
  /** The differential entropy H(p) = -E_p[log p] in nats, where it is known accurately. */
  readonly entropy?: number;
}

/**
 * A Monte Carlo estimate with its standard error.
 * @example const { value, stdError } = entropyEstimate(postMixture, 100_000, new Rng(0)); // ≈ 3.524 ± 0.003
 */
export interface Estimate {
  /** The estimate, nats. */
  value: number;
  /** Its standard error (sample standard deviation / √n). */
  stdError: number;
  /** Number of samples used. */
  n: number;
}

/**
 * Monte Carlo entropy of a target with a log-density: H ≈ -(1/n) Σ log p(xᵢ), xᵢ ~ p, with standard error
 * sd(log p)/√n. Draws in batches of 10,000 rows so memory stays small for large n.
 *
 * @example
 * const h = entropyEstimate(getDataset('eight-gaussians'), 100_000, new Rng(1));
 * h.value;    // ≈ 2.83 (nats)
 * h.stdError; // ≈ 0.003
 */
export function entropyEstimate(target: Target, n: number, rng: RandomSource): Estimate {
  if (target.logDensity === undefined) {
    throw new TypeError(`entropyEstimate: the target "${target.name}" has no logDensity`);
  }
  if (!Number.isInteger(n) || n < 2) throw new RangeError(`entropyEstimate: n must be an integer >= 2, got ${n}`);
  const batch = 10_000;
  // Welford's running mean and sum of squared deviations, for a numerically stable variance.
  let count = 0, mean = 0, m2 = 0;
  for (let start = 0; start < n; start += batch) {
    const rows = Math.min(batch, n - start);
    const logP = target.logDensity(target.sample(rows, rng));
    for (let i = 0; i < rows; i++) {
      const v = logP[i]!;
      if (!Number.isFinite(v)) {
        throw new RangeError(`entropyEstimate: log p of a sample of "${target.name}" is ${v}; the sampler and the density disagree`);
      }
      count++;
      const delta = v - mean;
      mean += delta / count;
      m2 += delta * (v - mean);
    }
  }
  const variance = m2 / (count - 1);
  return { value: -mean, stdError: Math.sqrt(variance / count), n: count };
}

/**
 * Throws a {@link ShapeError} unless `x` has `dim` columns; used by every `logDensity`.
 * @example checkColumns('post-mixture', x, 2);
 */
export function checkColumns(name: string, x: Tensor, dim: number): void {
  if (x.cols !== dim) {
    throw new ShapeError(`${name}.logDensity: expected n×${dim} points, got ${formatShape(x.rows, x.cols)}`);
  }
}

/**
 * Throws a RangeError unless `n` is a valid sample count (a non-negative integer).
 * @example checkCount('post-mixture', 1000);
 */
export function checkCount(name: string, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${name}.sample: n must be a non-negative integer, got ${n}`);
}

/**
 * An n×2 tensor filled row by row by `draw`, which writes one point into `out` at offset `2i`.
 * @example const x = sample2d(3, (out, k) => { out[k] = 1; out[k + 1] = 2; });
 */
export function sample2d(n: number, draw: (out: Float64Array, offset: number) => void): Tensor {
  const data = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) draw(data, 2 * i);
  return Tensor.from(n, 2, data);
}
