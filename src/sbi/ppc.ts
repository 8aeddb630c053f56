/**
 * Posterior predictive check: simulate x̃ from posterior samples θ̃ ~ q(θ | x*) and place the
 * observation x* among the x̃ (A. Gelman, X.-L. Meng & H. Stern, "Posterior predictive assessment of model
 * fitness via realized discrepancies", Statistica Sinica 1996; sbi's tutorial "Posterior predictive
 * checks"). Two placements per observation:
 * - per dimension, the predictive quantile u = (#{x̃ⱼ < x*ⱼ} + ½·#{x̃ⱼ = x*ⱼ}) / P;
 * - jointly, a distance rank: the standardised distance of x* from the predictive mean (each dimension
 *   divided by the predictive sd) against the same distance of every x̃, as a p-value
 *   (1 + #{x̃ at least as far}) / (1 + P): small when x* is an outlier to its own predictive.
 *
 * What is tested over the N simulated pairs, and why it is sound: for the true posterior, x* and one
 * predictive draw x̃ are exchangeable (p(x*) q(θ̃ | x*) p(x̃ | θ̃) = p(θ̃) p(x* | θ̃) p(x̃ | θ̃)), so E[u] = ½
 * exactly, and a mean u away from ½ (z-test, the u's own standard error) means the predictive is
 * **biased** (u > ½: the observations sit above it, so the posterior's predictions sit below). The
 * spread of u has no such exact reference: posterior predictive p-values of a correct model crowd
 * towards the middle (they are conservative). For the joint distance p-value we use the bound of
 * X.-L. Meng ("Posterior predictive p-values", Ann. Statist. 1994): P(p ≤ a) ≤ 2a for a correct model.
 * The check flags **overconfident** (observations too often outliers to their predictive: too narrow
 * or shifted) when the fraction of pairs with p ≤ a is significantly above 2a (one-sided binomial
 * z-test). Meng's bound is for discrepancies of the data and θ; our distance is standardised by the
 * predictive itself, so read that flag as a strong heuristic, not an exact test. A too-wide posterior
 * cannot be told from a correct one this way; SBC and coverage catch it.
 *
 * @module
 */

import { noGrad, Tensor } from '../autograd/tensor.ts';
import { checkOptionKeys } from '../autograd/options.ts';
import type { RandomSource } from '../rng/rng.ts';
import type { CalibrationSet, Direction, Simulate, Verdict } from './diagnostics-set.ts';
import { sampleMean, sampleVariance, twoSidedP } from './diagnostics-stats.ts';
import { standardNormalCdf } from './special.ts';

/**
 * The predictive placement of one dimension of x.
 * @example const { meanQuantile, verdict } = posteriorPredictiveCheck(set, { simulate, rng }).dimensions[0];
 */
export interface PpcDimension {
  dim: number;
  /** Predictive quantile of x*ⱼ for every pair (N values; NaN, written null by JSON, for a pair with under 2 finite draws). */
  quantiles: number[];
  /** Their mean (½ for a calibrated posterior), the z-test of mean = ½ and its p-value. */
  meanQuantile: number;
  shiftZ: number;
  shiftP: number;
  /** Fraction of pairs whose x*ⱼ lies outside the central 1 − a predictive interval. */
  outsideFraction: number;
  /** `calibrated` or `biased`. */
  verdict: Verdict;
  /** Set when biased: the predictive sits `above` or `below` the observations. */
  direction?: Direction;
}

/**
 * The predictive check: per dimension and joint.
 * @example const ppc = posteriorPredictiveCheck(set, { simulate, rng }); ppc.joint.verdict;
 */
export interface PpcResult {
  pairs: number;
  /** P, predictive draws per pair. */
  draws: number;
  alpha: number;
  /** The tail level a of the distance p-values (and of `outsideFraction`). */
  tail: number;
  /** Predictive simulations that returned NaN or ±∞ (left out of their pair). */
  nonFinite: number;
  dimensions: PpcDimension[];
  joint: {
    /** Distance p-value of every pair. */
    pValues: number[];
    /** Fraction of pairs with p ≤ tail, against Meng's bound 2·tail. */
    outlierFraction: number;
    bound: number;
    z: number;
    p: number;
    /** `calibrated` or `overconfident`. */
    verdict: Verdict;
  };
}

/**
 * Options of {@link posteriorPredictiveCheck}.
 * @example posteriorPredictiveCheck(set, { simulate, rng, draws: 50 });
 */
export interface PpcOptions {
  /** The simulator, called once on all N·P posterior samples. */
  simulate: Simulate;
  /** The seeded generator for the simulations. */
  rng: RandomSource;
  /** P, predictive draws per pair: the first P of its L samples (default min(50, L)). */
  draws?: number;
  /** Family-wise level (default 0.01), Bonferroni over the d + 1 tests. */
  alpha?: number;
  /** Tail level a of the outlier counts (default 0.05). */
  tail?: number;
}

const PPC_KEYS = ['simulate', 'rng', 'draws', 'alpha', 'tail'];

/**
 * Simulates from the first P posterior samples of every pair (one batched simulator call) and places
 * each x* among its predictive draws (see the module comment).
 *
 * @example
 * const ppc = posteriorPredictiveCheck(set, { simulate, rng: new Rng(5) });
 * ppc.dimensions[0].meanQuantile; // ≈ 0.5 for a calibrated posterior
 * ppc.joint.outlierFraction;      // well under 2 × 0.05
 */
export function posteriorPredictiveCheck(set: CalibrationSet, options: PpcOptions): PpcResult {
  checkOptionKeys('posteriorPredictiveCheck', options, PPC_KEYS);
  const { theta, x, samples, perPair: L } = set;
  const n = theta.rows, d = theta.cols, c = x.cols;
  const P = options.draws ?? Math.min(50, L);
  if (!Number.isInteger(P) || P < 2 || P > L) throw new RangeError(`posteriorPredictiveCheck: draws must be an integer in 2..L = ${L}, got ${P}`);
  const alpha = options.alpha ?? 0.01, tail = options.tail ?? 0.05;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`posteriorPredictiveCheck: alpha must be in (0, 1), got ${alpha}`);
  if (!(tail > 0 && tail < 0.5)) throw new RangeError(`posteriorPredictiveCheck: tail must be in (0, 0.5), got ${tail}`);
  const thetaTilde = new Float64Array(n * P * d);
  for (let i = 0; i < n; i++) thetaTilde.set(samples.data.subarray(i * L * d, (i * L + P) * d), i * P * d);
  const xTilde = noGrad(() => options.simulate(Tensor.from(n * P, d, thetaTilde), options.rng));
  if (xTilde.rows !== n * P || xTilde.cols !== c) {
    throw new RangeError(`posteriorPredictiveCheck: simulate(θ ${n * P}×${d}) returned ${xTilde.rows}×${xTilde.cols}, expected ${n * P}×${c}`);
  }
  const xt = xTilde.data;
  const finite = new Uint8Array(n * P);
  let nonFinite = 0;
  for (let r = 0; r < n * P; r++) {
    let ok = 1;
    for (let j = 0; j < c; j++) if (!Number.isFinite(xt[r * c + j]!)) ok = 0;
    finite[r] = ok;
    if (ok === 0) nonFinite++;
  }
  const quantiles: Float64Array[] = [];
  for (let j = 0; j < c; j++) quantiles.push(new Float64Array(n));
  const pValues = new Float64Array(n);
  const mu = new Float64Array(c), sd = new Float64Array(c), dist = new Float64Array(P);
  for (let i = 0; i < n; i++) {
    let used = 0;
    mu.fill(0);
    sd.fill(0);
    for (let s = 0; s < P; s++) {
      if (finite[i * P + s] === 0) continue;
      used++;
      for (let j = 0; j < c; j++) mu[j]! += xt[(i * P + s) * c + j]!;
    }
    if (used < 2) {
      for (let j = 0; j < c; j++) quantiles[j]![i] = NaN;
      pValues[i] = NaN;
      continue;
    }
    for (let j = 0; j < c; j++) mu[j]! /= used;
    for (let s = 0; s < P; s++) {
      if (finite[i * P + s] === 0) continue;
      for (let j = 0; j < c; j++) sd[j]! += (xt[(i * P + s) * c + j]! - mu[j]!) ** 2;
    }
    for (let j = 0; j < c; j++) sd[j] = Math.sqrt(sd[j]! / (used - 1));
    const distance = (row: ArrayLike<number>, offset: number): number => {
      let sum = 0;
      for (let j = 0; j < c; j++) if (sd[j]! > 0) sum += ((row[offset + j]! - mu[j]!) / sd[j]!) ** 2;
      return Math.sqrt(sum);
    };
    const observed = distance(x.data, i * c);
    let atLeast = 0;
    for (let s = 0; s < P; s++) {
      if (finite[i * P + s] === 0) continue;
      dist[s] = distance(xt, (i * P + s) * c);
      if (dist[s]! >= observed) atLeast++;
    }
    pValues[i] = (1 + atLeast) / (1 + used);
    for (let j = 0; j < c; j++) {
      const obs = x.data[i * c + j]!;
      let below = 0, equal = 0;
      for (let s = 0; s < P; s++) {
        if (finite[i * P + s] === 0) continue;
        const v = xt[(i * P + s) * c + j]!;
        if (v < obs) below++;
        else if (v === obs) equal++;
      }
      quantiles[j]![i] = (below + 0.5 * equal) / used;
    }
  }
  const threshold = alpha / (c + 1);
  const dimensions: PpcDimension[] = quantiles.map((q, j) => {
    const valid = q.filter((v) => !Number.isNaN(v));
    const m = sampleMean(valid);
    const se = Math.sqrt(sampleVariance(valid) / valid.length);
    const shiftZ = se > 0 ? (m - 0.5) / se : 0;
    const shiftP = twoSidedP(shiftZ);
    let outside = 0;
    for (const v of valid) if (v < tail / 2 || v > 1 - tail / 2) outside++;
    const dim: PpcDimension = { dim: j, quantiles: Array.from(q), meanQuantile: m, shiftZ, shiftP, outsideFraction: outside / valid.length, verdict: 'calibrated' };
    if (shiftP < threshold) {
      dim.verdict = 'biased';
      dim.direction = m > 0.5 ? 'below' : 'above'; // x* above its predictive: the predictions sit below
    }
    return dim;
  });
  const validP = pValues.filter((v) => !Number.isNaN(v));
  let outliers = 0;
  for (const p of validP) if (p <= tail) outliers++;
  const fraction = outliers / validP.length, bound = 2 * tail;
  const z = (fraction - bound) / Math.sqrt((bound * (1 - bound)) / validP.length);
  const p = standardNormalCdf(-z); // one-sided: only too many outliers is a failure
  return {
    pairs: n,
    draws: P,
    alpha,
    tail,
    nonFinite,
    dimensions,
    joint: { pValues: Array.from(pValues), outlierFraction: fraction, bound, z, p, verdict: p < threshold ? 'overconfident' : 'calibrated' },
  };
}
