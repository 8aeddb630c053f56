/**
 * What every calibration diagnostic starts from: N pairs (θ*, x*) drawn from the prior and the
 * simulator, and L posterior samples for each x*, drawn in one batched call (m rows per observation, in
 * order), plus log q(θ | x*) of the truth and of the samples when the posterior has a density. Also the
 * small interfaces a posterior, a prior and a simulator must meet, and the verdict vocabulary.
 *
 * @module
 */

import { noGrad, Tensor } from '../autograd/tensor.ts';
import { checkOptionKeys } from '../autograd/options.ts';
import { repeatRows } from '../autograd/shape.ts';
import type { RandomSource } from '../rng/rng.ts';

/**
 * An amortized posterior estimate q(θ | x): batched sampling and, optionally, the log-density.
 *
 * @example
 * const posterior: PosteriorEstimate = {
 *   sample: (m, x, rng) => flow.sample(m, x, rng),         // (k·m)×d: rows i·m..(i+1)·m−1 belong to row i of x
 *   logProb: (theta, x) => flow.logProb(theta, x).data,    // one value per row pair
 * };
 */
export interface PosteriorEstimate {
  /** m samples for each row of x (k×c), as a (k·m)×d tensor, the m rows of observation i at i·m..(i+1)·m−1. */
  sample(m: number, x: Tensor, rng: RandomSource): Tensor;
  /** log q(θᵢ | xᵢ) for n rows of θ (n×d) and n rows of x (n×c). */
  logProb?(theta: Tensor, x: Tensor): Float64Array | Tensor;
}

/**
 * Anything that draws θ from the prior (the sbi tasks' priors satisfy it).
 * @example const prior: PriorSampler = { sample: (n, rng) => normalRows(n, 2, rng) };
 */
export interface PriorSampler {
  /** n draws, an n×d tensor. */
  sample(n: number, rng: RandomSource): Tensor;
}

/**
 * A simulator over a batch: one row of x (n×c) per row of θ (n×d).
 * @example const simulate: Simulate = (theta, rng) => addNoise(theta, 0.1, rng);
 */
export type Simulate = (theta: Tensor, rng: RandomSource) => Tensor;

/**
 * The verdict of a check on one dimension (or on the joint): `calibrated`; `overconfident` (too
 * narrow: the truth falls outside the credible regions too often); `underconfident` (too wide);
 * `biased` (shifted; see the direction).
 * @example const v: Verdict = 'overconfident';
 */
export type Verdict = 'calibrated' | 'overconfident' | 'underconfident' | 'biased';

/**
 * Which way a biased posterior is off: its mass sits `above` or `below` the true value.
 * @example const d: Direction = 'above'; // the posterior overestimates θ
 */
export type Direction = 'above' | 'below';

/**
 * N simulated pairs and their posterior samples (see the module comment).
 * @example const set = simulateCalibrationSet({ prior, simulate, posterior, rng: new Rng(0) }); set.samples.rows; // N·L
 */
export interface CalibrationSet {
  /** The true parameters θ*, N×d. */
  theta: Tensor;
  /** The simulated observations x*, N×c (pairs whose x was not finite are dropped). */
  x: Tensor;
  /** L posterior samples per pair, (N·L)×d, pair i at rows i·L..(i+1)·L−1. */
  samples: Tensor;
  /** L, posterior samples per pair. */
  perPair: number;
  /** log q(θ*ᵢ | x*ᵢ), N values, when the posterior has `logProb`; else null. */
  logProbTrue: Float64Array | null;
  /** log q(sample | x*ᵢ) of every sample, N·L values, when the posterior has `logProb`; else null. */
  logProbSamples: Float64Array | null;
  /** Pairs dropped because the simulator returned NaN or ±∞. */
  dropped: number;
}

/**
 * Options of {@link simulateCalibrationSet}.
 * @example simulateCalibrationSet({ prior, simulate, posterior, rng, pairs: 1000, samples: 99 });
 */
export interface CalibrationSetOptions {
  prior: PriorSampler;
  simulate: Simulate;
  posterior: PosteriorEstimate;
  /** The seeded generator: θ*, then x*, then the posterior samples, in that order. */
  rng: RandomSource;
  /** N, the number of (θ*, x*) pairs (default 1000, as sbi recommends; it warns below 100). */
  pairs?: number;
  /** L, posterior samples per pair (default 99: ranks take the 100 values 0..99). */
  samples?: number;
}

const SET_KEYS = ['prior', 'simulate', 'posterior', 'rng', 'pairs', 'samples'];

/**
 * Draws N pairs θ* ~ p(θ), x* ~ p(x | θ*) and L posterior samples for every x* in one batched call
 * (no loop over pairs); with `posterior.logProb`, also log q of the truths and of all samples (two more
 * batched calls). Gradients are off throughout.
 *
 * @example
 * const set = simulateCalibrationSet({ prior, simulate, posterior, rng: new Rng(1), pairs: 500, samples: 99 });
 * set.theta.rows;   // 500 (fewer if the simulator returned non-finite values)
 * set.samples.rows; // 500 · 99
 */
export function simulateCalibrationSet(options: CalibrationSetOptions): CalibrationSet {
  checkOptionKeys('simulateCalibrationSet', options, SET_KEYS);
  const { prior, simulate, posterior, rng } = options;
  const n = options.pairs ?? 1000, L = options.samples ?? 99;
  if (!Number.isInteger(n) || n < 2) throw new RangeError(`simulateCalibrationSet: pairs must be an integer ≥ 2, got ${n}`);
  if (!Number.isInteger(L) || L < 1) throw new RangeError(`simulateCalibrationSet: samples must be a positive integer, got ${L}`);
  return noGrad(() => {
    const theta0 = prior.sample(n, rng);
    if (theta0.rows !== n) throw new RangeError(`simulateCalibrationSet: prior.sample(${n}) returned ${theta0.rows}×${theta0.cols}, expected ${n} rows`);
    const x0 = simulate(theta0, rng);
    if (x0.rows !== n) throw new RangeError(`simulateCalibrationSet: simulate(θ ${n}×${theta0.cols}) returned ${x0.rows}×${x0.cols}, expected ${n} rows`);
    const { theta, x, dropped } = dropNonFinite(theta0, x0);
    if (theta.rows < 2) throw new RangeError(`simulateCalibrationSet: only ${theta.rows} of ${n} simulations were finite`);
    const d = theta.cols, N = theta.rows;
    const samples = posterior.sample(L, x, rng);
    if (samples.rows !== N * L || samples.cols !== d) {
      throw new RangeError(`simulateCalibrationSet: posterior.sample(${L}, x ${N}×${x.cols}) returned ${samples.rows}×${samples.cols}, expected ${N * L}×${d}`);
    }
    let logProbTrue: Float64Array | null = null, logProbSamples: Float64Array | null = null;
    if (posterior.logProb !== undefined) {
      logProbTrue = values(posterior.logProb(theta, x), N, 'logProb(θ*, x*)');
      logProbSamples = values(posterior.logProb(samples, repeatRows(x, L)), N * L, 'logProb(samples, x*)');
    }
    return { theta, x, samples, perPair: L, logProbTrue, logProbSamples, dropped };
  });
}

function values(v: Float64Array | Tensor, n: number, what: string): Float64Array {
  const data = v instanceof Float64Array ? v : v.data;
  if (data.length !== n) throw new RangeError(`simulateCalibrationSet: ${what} returned ${data.length} values, expected ${n}`);
  return data;
}

function dropNonFinite(theta: Tensor, x: Tensor): { theta: Tensor; x: Tensor; dropped: number } {
  const keep: number[] = [];
  for (let i = 0; i < x.rows; i++) {
    let ok = true;
    for (let j = 0; j < x.cols; j++) if (!Number.isFinite(x.data[i * x.cols + j]!)) ok = false;
    if (ok) keep.push(i);
  }
  if (keep.length === x.rows) return { theta, x, dropped: 0 };
  return { theta: takeRows(theta, keep), x: takeRows(x, keep), dropped: x.rows - keep.length };
}

function takeRows(t: Tensor, rows: readonly number[]): Tensor {
  const out = new Float64Array(rows.length * t.cols);
  rows.forEach((r, i) => out.set(t.data.subarray(r * t.cols, (r + 1) * t.cols), i * t.cols));
  return Tensor.from(rows.length, t.cols, out);
}

/**
 * The column of dimension j of pair i's L samples, copied out.
 * @example const column = pairColumn(set, 0, 1); // L values of θ₁ for the first pair
 */
export function pairColumn(set: CalibrationSet, i: number, j: number): Float64Array {
  const L = set.perPair, d = set.samples.cols, out = new Float64Array(L);
  for (let s = 0; s < L; s++) out[s] = set.samples.data[(i * L + s) * d + j]!;
  return out;
}
