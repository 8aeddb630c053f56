/**
 * Priors over simulator parameters θ: a uniform box and an independent normal, each with a sampler,
 * a log-density and (the box) its support.
 *
 * @module
 */

import { Tensor } from '../autograd/tensor.ts';
import type { RandomSource } from '../rng/rng.ts';

/**
 * An axis-aligned box [low₁, high₁] × … × [low_d, high_d].
 * @example const box: Box = { low: [-1, -1], high: [1, 1] };
 */
export interface Box {
  readonly low: readonly number[];
  readonly high: readonly number[];
}

/**
 * A prior p(θ): samples, the log-density (−∞ outside the support), and the support as a box when it is
 * one (null for an unbounded support).
 * @example const theta = prior.sample(100, new Rng(0)); prior.logProb(theta); // 100 log-densities
 */
export interface Prior {
  /** Dimension of θ. */
  readonly dim: number;
  /** The support when it is a box, null when it is all of ℝᵈ. */
  readonly support: Box | null;
  /** n draws, an n×dim tensor. */
  sample(n: number, rng: RandomSource): Tensor;
  /** log p(θ) for each row of θ (n×dim): −∞ outside the support. */
  logProb(theta: Tensor): Float64Array;
  /** One line, e.g. `U(-1, 1)^2`. */
  describe(): string;
}

function checkTheta(where: string, theta: Tensor, dim: number): void {
  if (theta.cols !== dim) throw new RangeError(`${where}: θ must have ${dim} columns, got ${theta.rows}×${theta.cols}`);
}

function checkCount(where: string, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${where}: the number of samples must be an integer ≥ 0, got ${n}`);
}

/**
 * The uniform distribution on a box, U(low, high) in each coordinate independently.
 *
 * @example
 * const prior = new BoxUniform([-1, -1], [1, 1]);
 * prior.sample(3, new Rng(0)).shape; // [3, 2]
 * prior.logProb(tensor([[0, 0], [2, 0]])); // [log(1/4), -Infinity]
 */
export class BoxUniform implements Prior {
  readonly dim: number;
  readonly support: Box;
  private readonly logDensity: number;

  constructor(low: readonly number[], high: readonly number[]) {
    if (low.length !== high.length || low.length === 0) {
      throw new RangeError(`BoxUniform: low and high must be non-empty and of one length, got ${low.length} and ${high.length}`);
    }
    let logVolume = 0;
    for (let j = 0; j < low.length; j++) {
      if (!(Number.isFinite(low[j]!) && Number.isFinite(high[j]!) && low[j]! < high[j]!)) {
        throw new RangeError(`BoxUniform: coordinate ${j} needs finite low < high, got [${low[j]}, ${high[j]}]`);
      }
      logVolume += Math.log(high[j]! - low[j]!);
    }
    this.dim = low.length;
    this.support = { low: [...low], high: [...high] };
    this.logDensity = -logVolume;
  }

  /**
   * n draws, each coordinate low + (high − low)·u with u uniform in [0, 1).
   * @example new BoxUniform([0], [2]).sample(2, new Rng(0)).shape; // [2, 1]
   */
  sample(n: number, rng: RandomSource): Tensor {
    checkCount('BoxUniform.sample', n);
    const { low, high } = this.support, d = this.dim;
    const out = new Float64Array(n * d);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) out[i * d + j] = low[j]! + (high[j]! - low[j]!) * rng.uniform();
    }
    return Tensor.from(n, d, out);
  }

  /**
   * −log volume inside the box (edges included), −∞ outside.
   * @example new BoxUniform([0], [2]).logProb(tensor([[1], [3]])); // [-0.693…, -Infinity]
   */
  logProb(theta: Tensor): Float64Array {
    checkTheta('BoxUniform.logProb', theta, this.dim);
    const { low, high } = this.support, d = this.dim, v = theta.data;
    const out = new Float64Array(theta.rows);
    for (let i = 0; i < theta.rows; i++) {
      let inside = true;
      for (let j = 0; j < d; j++) {
        const t = v[i * d + j]!;
        if (!(t >= low[j]! && t <= high[j]!)) inside = false;
      }
      out[i] = inside ? this.logDensity : -Infinity;
    }
    return out;
  }

  /**
   * `U(low, high)^d` when every coordinate has the same bounds, else the list of intervals.
   * @example new BoxUniform([-1, -1], [1, 1]).describe(); // 'U(-1, 1)^2'
   */
  describe(): string {
    const { low, high } = this.support;
    const same = low.every((l, j) => l === low[0] && high[j] === high[0]);
    if (same) return `U(${low[0]}, ${high[0]})^${this.dim}`;
    return low.map((l, j) => `U(${l}, ${high[j]})`).join(' × ');
  }
}

/**
 * Independent normals N(mean_j, variance_j): the parameters are **variances** (sbibm writes its
 * Gaussian-linear prior as a covariance 0.1·I, so the standard deviation is √0.1 ≈ 0.316).
 *
 * @example
 * const prior = new DiagonalNormal(new Array(10).fill(0), new Array(10).fill(0.1)); // N(0, 0.1·I₁₀)
 * prior.sample(5, new Rng(0)).shape; // [5, 10]
 */
export class DiagonalNormal implements Prior {
  readonly dim: number;
  readonly support = null;
  readonly mean: readonly number[];
  readonly variance: readonly number[];

  constructor(mean: readonly number[], variance: readonly number[]) {
    if (mean.length !== variance.length || mean.length === 0) {
      throw new RangeError(`DiagonalNormal: mean and variance must be non-empty and of one length, got ${mean.length} and ${variance.length}`);
    }
    for (let j = 0; j < mean.length; j++) {
      if (!Number.isFinite(mean[j]!) || !(variance[j]! > 0) || !Number.isFinite(variance[j]!)) {
        throw new RangeError(`DiagonalNormal: coordinate ${j} needs a finite mean and a finite variance > 0, got ${mean[j]}, ${variance[j]}`);
      }
    }
    this.dim = mean.length;
    this.mean = [...mean];
    this.variance = [...variance];
  }

  /**
   * n draws mean + √variance·ε, ε ~ N(0, 1).
   * @example new DiagonalNormal([0], [4]).sample(2, new Rng(0)).shape; // [2, 1]
   */
  sample(n: number, rng: RandomSource): Tensor {
    checkCount('DiagonalNormal.sample', n);
    const d = this.dim, out = new Float64Array(n * d);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) out[i * d + j] = this.mean[j]! + Math.sqrt(this.variance[j]!) * rng.normal();
    }
    return Tensor.from(n, d, out);
  }

  /**
   * Σ_j −(θ_j − mean_j)²/(2·variance_j) − ½·log(2π·variance_j).
   * @example new DiagonalNormal([0], [1]).logProb(tensor([[0]])); // [-0.9189385332046727]
   */
  logProb(theta: Tensor): Float64Array {
    checkTheta('DiagonalNormal.logProb', theta, this.dim);
    return diagonalNormalLogProb(theta, this.mean, this.variance);
  }

  /**
   * `N(0, 0.1)^10` when every coordinate is alike (the second number is the variance).
   * @example new DiagonalNormal([0, 0], [0.1, 0.1]).describe(); // 'N(0, 0.1)^2 (mean, variance)'
   */
  describe(): string {
    const same = this.mean.every((m, j) => m === this.mean[0] && this.variance[j] === this.variance[0]);
    if (same) return `N(${this.mean[0]}, ${this.variance[0]})^${this.dim} (mean, variance)`;
    return this.mean.map((m, j) => `N(${m}, ${this.variance[j]})`).join(' × ') + ' (mean, variance)';
  }
}

/**
 * Row-wise log-density of independent normals with the given means and variances (shared by the
 * prior and the closed-form posteriors).
 * @example diagonalNormalLogProb(tensor([[0]]), [0], [1]); // [-0.9189385332046727]
 */
export function diagonalNormalLogProb(theta: Tensor, mean: ArrayLike<number>, variance: ArrayLike<number>): Float64Array {
  const d = theta.cols, v = theta.data, out = new Float64Array(theta.rows);
  let constant = 0;
  for (let j = 0; j < d; j++) constant -= 0.5 * Math.log(2 * Math.PI * variance[j]!);
  for (let i = 0; i < theta.rows; i++) {
    let s = constant;
    for (let j = 0; j < d; j++) {
      const r = v[i * d + j]! - mean[j]!;
      s -= (r * r) / (2 * variance[j]!);
    }
    out[i] = s;
  }
  return out;
}
