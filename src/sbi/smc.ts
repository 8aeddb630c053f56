/**
 * Sequential Monte Carlo with adaptive tempering, for reference posteriors that have an exact
 * likelihood but no closed form (slcp): particles drawn from the prior move through the tempered
 * targets p(θ)·p(x | θ)^β, β from 0 to 1, each step chosen so that the effective sample size of the
 * incremental weights is a fixed fraction of the particles (Y. Zhou, A. M. Johansen & J. A. D. Aston,
 * "Toward automatic model comparison: an adaptive sequential Monte Carlo approach", JCGS 2016), then
 * systematic resampling and random-walk Metropolis moves whose covariance is the particles' own, scaled
 * by 2.38²/d (A. Gelman, G. O. Roberts & W. R. Gilks, 1996) and adapted to an acceptance near 0.3.
 *
 * Coordinates whose sign the target ignores (slcp's θ₃ and θ₄ enter only squared) are folded to their
 * absolute value during the moves (a reflecting random walk, still symmetric) and given fair random
 * signs at the end: every mirror mode then gets its exact share, which a random walk would not find.
 *
 * @module
 */

import { Tensor } from '../autograd/tensor.ts';
import type { RandomSource } from '../rng/rng.ts';
import type { Prior } from './prior.ts';

/**
 * Options of {@link temperedSmc}.
 * @example { particles: 10_000, rng: new Rng(0), moves: 10, finalMoves: 50, signSymmetric: [2, 3] }
 */
export interface SmcOptions {
  /** Number of particles, which is also the number of samples returned. */
  particles: number;
  /** The seeded generator. */
  rng: RandomSource;
  /** Metropolis moves after each resampling (default 10). */
  moves?: number;
  /** Extra Metropolis moves at β = 1 (default 50). */
  finalMoves?: number;
  /** Effective sample size kept by each tempering step, as a fraction of the particles (default 0.5). */
  essFraction?: number;
  /** Coordinates whose sign the target ignores (default none). */
  signSymmetric?: readonly number[];
}

/**
 * What {@link temperedSmc} returns: the samples and how the run went.
 * @example const { samples, temperatures, acceptance } = temperedSmc(prior, logLik, options);
 */
export interface SmcResult {
  /** particles×dim samples of the posterior (equally weighted). */
  samples: Tensor;
  /** The tempering schedule β₁ < … < 1 (not counting β = 0). */
  temperatures: number[];
  /** The Metropolis acceptance rate of each stage's moves. */
  acceptance: number[];
  /** The estimate of log p(x) = log ∫ p(θ) p(x | θ) dθ. */
  logEvidence: number;
}

function logSumExp(v: Float64Array): number {
  let m = -Infinity;
  for (let i = 0; i < v.length; i++) if (v[i]! > m) m = v[i]!;
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (let i = 0; i < v.length; i++) s += Math.exp(v[i]! - m);
  return m + Math.log(s);
}

/** ESS = (Σw)²/Σw² of the weights exp(δβ·ℓ). */
function essOf(logLik: Float64Array, delta: number): number {
  let m = -Infinity;
  for (let i = 0; i < logLik.length; i++) if (delta * logLik[i]! > m) m = delta * logLik[i]!;
  let s = 0, s2 = 0;
  for (let i = 0; i < logLik.length; i++) {
    const w = Math.exp(delta * logLik[i]! - m);
    s += w;
    s2 += w * w;
  }
  return (s * s) / s2;
}

/** Systematic resampling (Kitagawa 1996): indices of the new particles, weights ∝ exp(logW). */
function systematicResample(logW: Float64Array, rng: RandomSource): Int32Array {
  const n = logW.length, lse = logSumExp(logW), idx = new Int32Array(n);
  const u0 = rng.uniform() / n;
  let cumulative = 0, j = 0;
  for (let i = 0; i < n; i++) {
    const u = u0 + i / n;
    while (j < n - 1 && cumulative + Math.exp(logW[j]! - lse) < u) {
      cumulative += Math.exp(logW[j]! - lse);
      j++;
    }
    idx[i] = j;
  }
  return idx;
}

/** The lower Cholesky factor of the particles' covariance (+ a small ridge), row-major d×d. */
function covarianceCholesky(theta: Float64Array, n: number, d: number): Float64Array {
  const mean = new Float64Array(d), cov = new Float64Array(d * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += theta[i * d + j]! / n;
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < d; a++) {
      const ra = theta[i * d + a]! - mean[a]!;
      for (let b = 0; b <= a; b++) cov[a * d + b]! += (ra * (theta[i * d + b]! - mean[b]!)) / (n - 1);
    }
  }
  const L = new Float64Array(d * d);
  for (let a = 0; a < d; a++) {
    for (let b = 0; b <= a; b++) {
      let s = cov[a * d + b]! + (a === b ? 1e-12 + 1e-9 * cov[a * d + a]! : 0);
      for (let k = 0; k < b; k++) s -= L[a * d + k]! * L[b * d + k]!;
      L[a * d + b] = a === b ? Math.sqrt(Math.max(s, 1e-300)) : s / L[b * d + b]!;
    }
  }
  return L;
}

/**
 * Samples p(θ | x) ∝ p(θ)·p(x | θ) by tempered SMC, given the prior and θ ↦ log p(x | θ) for a batch.
 *
 * @example
 * const task = getTask('slcp');
 * const x = observation(task, 1).x;
 * const { samples } = temperedSmc(task.prior, (theta) => task.logLikelihood(theta, x), {
 *   particles: 10_000, rng: new Rng(0), signSymmetric: [2, 3],
 * });
 */
export function temperedSmc(prior: Prior, logLikelihood: (theta: Tensor) => Float64Array, options: SmcOptions): SmcResult {
  const n = options.particles, d = prior.dim, rng = options.rng;
  if (!Number.isInteger(n) || n < 2) throw new RangeError(`temperedSmc: particles must be an integer ≥ 2, got ${n}`);
  const moves = options.moves ?? 10, finalMoves = options.finalMoves ?? 50, essFraction = options.essFraction ?? 0.5;
  if (!(essFraction > 0 && essFraction < 1)) throw new RangeError(`temperedSmc: essFraction must be in (0, 1), got ${essFraction}`);
  const folded = options.signSymmetric ?? [];
  for (const j of folded) if (!Number.isInteger(j) || j < 0 || j >= d) throw new RangeError(`temperedSmc: signSymmetric index ${j} is not a coordinate of the ${d}-dimensional θ`);
  const fold = (v: Float64Array): void => {
    for (let i = 0; i < v.length / d; i++) for (const j of folded) v[i * d + j] = Math.abs(v[i * d + j]!);
  };

  let theta = prior.sample(n, rng).data;
  fold(theta);
  let logLik = logLikelihood(Tensor.from(n, d, theta));
  let logPrior = prior.logProb(Tensor.from(n, d, theta));
  let beta = 0, logEvidence = 0, scale = 2.38 / Math.sqrt(d);
  const temperatures: number[] = [], acceptance: number[] = [];

  const move = (count: number): void => {
    let accepted = 0;
    for (let sweep = 0; sweep < count; sweep++) {
      const L = covarianceCholesky(theta, n, d);
      const proposal = new Float64Array(n * d), eps = new Float64Array(d);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < d; j++) eps[j] = rng.normal();
        for (let a = 0; a < d; a++) {
          let s = 0;
          for (let b = 0; b <= a; b++) s += L[a * d + b]! * eps[b]!;
          proposal[i * d + a] = theta[i * d + a]! + scale * s;
        }
      }
      fold(proposal);
      const pt = Tensor.from(n, d, proposal);
      const propPrior = prior.logProb(pt);
      const propLik = new Float64Array(n).fill(-Infinity);
      // Only evaluate the likelihood inside the prior's support.
      const inside: number[] = [];
      for (let i = 0; i < n; i++) if (propPrior[i]! > -Infinity) inside.push(i);
      if (inside.length > 0) {
        const sub = new Float64Array(inside.length * d);
        inside.forEach((i, k) => sub.set(proposal.subarray(i * d, (i + 1) * d), k * d));
        const ll = logLikelihood(Tensor.from(inside.length, d, sub));
        inside.forEach((i, k) => (propLik[i] = ll[k]!));
      }
      let acc = 0;
      for (let i = 0; i < n; i++) {
        const logAlpha = propPrior[i]! + beta * propLik[i]! - (logPrior[i]! + beta * logLik[i]!);
        if (propPrior[i]! > -Infinity && Number.isFinite(propLik[i]!) && Math.log(rng.uniform()) < logAlpha) {
          theta.set(proposal.subarray(i * d, (i + 1) * d), i * d);
          logLik[i] = propLik[i]!;
          logPrior[i] = propPrior[i]!;
          acc++;
        }
      }
      const rate = acc / n;
      accepted += rate;
      // Keep the acceptance near 0.3 (a multiplicative adaptation between sweeps).
      scale *= Math.exp(rate - 0.3);
    }
    acceptance.push(count > 0 ? accepted / count : NaN);
  };

  while (beta < 1) {
    // The next temperature: the largest β' ≤ 1 whose incremental weights keep ESS ≥ essFraction·n.
    let next = 1;
    if (essOf(logLik, 1 - beta) < essFraction * n) {
      let lo = 0, hi = 1 - beta;
      for (let it = 0; it < 60; it++) {
        const mid = 0.5 * (lo + hi);
        if (essOf(logLik, mid) >= essFraction * n) lo = mid;
        else hi = mid;
      }
      next = beta + Math.max(lo, 1e-12);
    }
    const delta = next - beta;
    const logW = new Float64Array(n);
    for (let i = 0; i < n; i++) logW[i] = delta * logLik[i]!;
    logEvidence += logSumExp(logW) - Math.log(n);
    const idx = systematicResample(logW, rng);
    const resampled = new Float64Array(n * d), ll = new Float64Array(n), lp = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      resampled.set(theta.subarray(idx[i]! * d, (idx[i]! + 1) * d), i * d);
      ll[i] = logLik[idx[i]!]!;
      lp[i] = logPrior[idx[i]!]!;
    }
    theta = resampled;
    logLik = ll;
    logPrior = lp;
    beta = next;
    temperatures.push(beta);
    move(moves);
  }
  move(finalMoves);
  // Unfold: each folded coordinate gets a fair random sign.
  for (let i = 0; i < n; i++) for (const j of folded) if (rng.uniform() < 0.5) theta[i * d + j] = -theta[i * d + j]!;
  return { samples: Tensor.from(n, d, theta), temperatures, acceptance, logEvidence };
}
