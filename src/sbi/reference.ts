/**
 * Reference posteriors p(θ | x) of the benchmark tasks, for one observation x: exact samplers, and
 * normalised log-densities where there is a closed form.
 *
 * - gaussian-linear: N(x/2, 0.05·I) (conjugate: prior and noise variances 0.1 each).
 * - gaussian-linear-uniform: N(x, 0.1·I) truncated to [−1, 1]¹⁰; the box is a product, so each
 *   coordinate is an independent truncated normal (sampled by rejection coordinate by coordinate, the
 *   same distribution as sbibm's joint rejection).
 * - gaussian-mixture: ½ N(x, I) + ½ N(x, 0.01·I) truncated to [−10, 10]² (sampled as sbibm does: pick
 *   a component, draw, reject outside the box; normalised with Φ).
 * - two-moons: exact. Inverting the simulator: draw p = (r cos a + 0.25, r sin a) from the simulator's
 *   noise, then |z₁| = p₁ − x₁, z₂ = x₂ − p₂ with a fair sign for z₁, and θ = R(π/4)·z; keep θ inside
 *   the prior box (rejection against the uniform prior is exact). sbibm's sampler also keeps draws with
 *   p₁ < x₁, which no θ can produce (|z₁| < 0); here they are rejected. The log-density is the exact
 *   likelihood (with the polar Jacobian 1/(π r)) over its integral on the box, which
 *   {@link twoMoonsLogNormaliser} computes through Φ and a one-dimensional quadrature.
 * - slcp: no closed form; tempered SMC ({@link temperedSmc}) on the exact Gaussian likelihood with θ₃,
 *   θ₄ folded (they enter only squared), 10 Metropolis moves per temperature and 50 at β = 1.
 *
 * @module
 */

import { Tensor } from '../autograd/tensor.ts';
import type { RandomSource } from '../rng/rng.ts';
import { diagonalNormalLogProb } from './prior.ts';
import { temperedSmc } from './smc.ts';
import { logNormalMass, logStandardNormal, standardNormalCdf } from './special.ts';
import { MIXTURE_SCALES, mixtureLogDensity, type Task } from './tasks.ts';

/**
 * A reference posterior for one observation: an exact sampler (SMC for slcp) and, where it has a
 * closed form, the normalised log-density (null otherwise).
 *
 * @example
 * const post = referencePosterior(getTask('gaussian-linear'), x);
 * post.sample(10_000, new Rng(0)).shape; // [10000, 10]
 * post.logProb?.(theta); // normalised log-densities
 */
export interface ReferencePosterior {
  readonly dim: number;
  /** How the samples are made, one line. */
  readonly method: string;
  /** n samples, n×dim. */
  sample(n: number, rng: RandomSource): Tensor;
  /** log p(θ | x) per row, or null when there is no closed form. */
  readonly logProb: ((theta: Tensor) => Float64Array) | null;
}

/**
 * Options of {@link referencePosterior}.
 * @example { smcMoves: 20 }
 */
export interface ReferenceOptions {
  /** SMC Metropolis moves per temperature for slcp (default 10). */
  smcMoves?: number;
  /** SMC moves at β = 1 for slcp (default 50). */
  smcFinalMoves?: number;
}

const MAX_TRIES = 1000;

function checkObs(task: Task, x: ArrayLike<number>): Float64Array {
  if (x.length !== task.xDim) throw new RangeError(`referencePosterior(${task.name}): the observation must have ${task.xDim} numbers, got ${x.length}`);
  const obs = Float64Array.from(x);
  for (let j = 0; j < obs.length; j++) if (!Number.isFinite(obs[j]!)) throw new RangeError(`referencePosterior(${task.name}): observation entry ${j} is ${obs[j]}`);
  return obs;
}

/**
 * The reference posterior of a task for an observation x.
 * @example referencePosterior(getTask('two-moons'), [0.1, -0.2]).sample(1000, new Rng(0));
 */
export function referencePosterior(task: Task, x: ArrayLike<number>, options: ReferenceOptions = {}): ReferencePosterior {
  const obs = checkObs(task, x);
  switch (task.name) {
    case 'gaussian-linear':
      return gaussianLinearPosterior(obs);
    case 'gaussian-linear-uniform':
      return truncatedNormalPosterior(obs, 0.1, -1, 1);
    case 'gaussian-mixture':
      return mixturePosterior(obs);
    case 'two-moons':
      return twoMoonsPosterior(task, obs);
    case 'slcp':
      return slcpPosterior(task, obs, options);
    default:
      throw new RangeError(`referencePosterior: no reference posterior for task "${task.name}"`);
  }
}

function gaussianLinearPosterior(x: Float64Array): ReferencePosterior {
  // Prior N(0, a·I), noise N(0, b·I): posterior variance ab/(a + b), mean x·a/(a + b).
  const a = 0.1, b = 0.1, d = x.length;
  const variance = new Float64Array(d).fill((a * b) / (a + b));
  const mean = x.map((v) => (v * a) / (a + b));
  return {
    dim: d,
    method: 'closed form N(x/2, 0.05·I)',
    sample(n, rng) {
      const out = new Float64Array(n * d);
      for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) out[i * d + j] = mean[j]! + Math.sqrt(variance[j]!) * rng.normal();
      return Tensor.from(n, d, out);
    },
    logProb: (theta) => diagonalNormalLogProb(theta, mean, variance),
  };
}

/** N(x, variance·I) truncated to [low, high]^d: independent truncated normals. */
function truncatedNormalPosterior(x: Float64Array, variance: number, low: number, high: number): ReferencePosterior {
  const d = x.length, sd = Math.sqrt(variance);
  let logZ = 0;
  for (let j = 0; j < d; j++) logZ += logNormalMass((low - x[j]!) / sd, (high - x[j]!) / sd);
  return {
    dim: d,
    method: `closed form N(x, ${variance}·I) truncated to [${low}, ${high}]^${d}`,
    sample(n, rng) {
      const out = new Float64Array(n * d);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < d; j++) {
          let v = NaN;
          for (let t = 0; t < MAX_TRIES && !(v >= low && v <= high); t++) v = x[j]! + sd * rng.normal();
          if (!(v >= low && v <= high)) throw new RangeError(`referencePosterior: coordinate ${j} of the observation (${x[j]}) is too far outside [${low}, ${high}] to sample by rejection`);
          out[i * d + j] = v;
        }
      }
      return Tensor.from(n, d, out);
    },
    logProb(theta) {
      const out = new Float64Array(theta.rows), t = theta.data;
      for (let i = 0; i < theta.rows; i++) {
        let s = -logZ;
        for (let j = 0; j < d; j++) {
          const v = t[i * d + j]!;
          if (!(v >= low && v <= high)) s = -Infinity;
          s += logStandardNormal((v - x[j]!) / sd) - Math.log(sd);
        }
        out[i] = s;
      }
      return out;
    },
  };
}

function mixturePosterior(x: Float64Array): ReferencePosterior {
  const low = -10, high = 10;
  // Z = Σ_k ½ Π_j P(low ≤ N(x_j, sd_k²) ≤ high).
  const logMass = MIXTURE_SCALES.map((sd) => Math.log(0.5) + logNormalMass((low - x[0]!) / sd, (high - x[0]!) / sd) + logNormalMass((low - x[1]!) / sd, (high - x[1]!) / sd));
  const m = Math.max(...logMass);
  const logZ = m + Math.log(logMass.reduce((s, v) => s + Math.exp(v - m), 0));
  return {
    dim: 2,
    method: 'closed form ½ N(x, I) + ½ N(x, 0.01·I) truncated to [-10, 10]^2 (rejection)',
    sample(n, rng) {
      const out = new Float64Array(n * 2);
      for (let i = 0; i < n; i++) {
        let a = NaN, b = NaN, t = 0;
        do {
          const sd = rng.uniform() < 0.5 ? MIXTURE_SCALES[0] : MIXTURE_SCALES[1];
          a = x[0]! + sd * rng.normal();
          b = x[1]! + sd * rng.normal();
        } while (!(a >= low && a <= high && b >= low && b <= high) && ++t < MAX_TRIES);
        if (t >= MAX_TRIES) throw new RangeError(`referencePosterior: the observation (${x[0]}, ${x[1]}) is too far outside the box to sample by rejection`);
        out[2 * i] = a;
        out[2 * i + 1] = b;
      }
      return Tensor.from(n, 2, out);
    },
    logProb(theta) {
      const out = mixtureLogDensity(theta, x), t = theta.data;
      for (let i = 0; i < theta.rows; i++) {
        const inside = t[2 * i]! >= low && t[2 * i]! <= high && t[2 * i + 1]! >= low && t[2 * i + 1]! <= high;
        out[i] = inside ? out[i]! - logZ : -Infinity;
      }
      return out;
    },
  };
}

/** Quadrature points over the angle a for the two-moons normaliser. */
export const TWO_MOONS_ANGLES = 20000;

/**
 * log ∫ over [−1, 1]² of p(x | θ) dθ for two-moons, nearly exactly. Changing variables from θ to the
 * simulator's noise (a, r) and the sign s of z₁ (Jacobian 1 on each branch) turns the integral into
 * Σ_s P(θ(a, r, s) ∈ box and p₁ ≥ x₁). For fixed a and s, θ is affine in r, so the box is an interval
 * of r and its probability is a difference of Φ; only the average over a ~ U(−π/2, π/2) is numerical
 * (midpoint rule with `angles` points). A plain grid over θ converges slowly here: the fold |θ₁ + θ₂|
 * puts a kink across a ridge only 0.01 wide.
 * @example twoMoonsLogNormaliser([0.1, 0.2]);
 */
export function twoMoonsLogNormaliser(x: ArrayLike<number>, angles: number = TWO_MOONS_ANGLES): number {
  const x1 = x[0]!, x2 = x[1]!;
  let total = 0;
  for (let k = 0; k < angles; k++) {
    const a = -Math.PI / 2 + ((k + 0.5) * Math.PI) / angles, c = Math.cos(a), sn = Math.sin(a);
    for (const s of [1, -1]) {
      // Each constraint is lo ≤ alpha·r + beta ≤ hi.
      const constraints: [number, number, number, number][] = [
        [(s * c + sn) / Math.SQRT2, (s * (0.25 - x1) - x2) / Math.SQRT2, -1, 1], // θ₁
        [(s * c - sn) / Math.SQRT2, (s * (0.25 - x1) + x2) / Math.SQRT2, -1, 1], // θ₂
        [c, 0.25 - x1, 0, Infinity], // p₁ − x₁ = |z₁| ≥ 0
      ];
      let rLo = -Infinity, rHi = Infinity;
      for (const [alpha, beta, lo, hi] of constraints) {
        if (alpha === 0) {
          if (beta < lo || beta > hi) rHi = -Infinity;
          continue;
        }
        const e1 = (lo - beta) / alpha, e2 = (hi - beta) / alpha;
        rLo = Math.max(rLo, Math.min(e1, e2));
        rHi = Math.min(rHi, Math.max(e1, e2));
      }
      if (rHi > rLo) total += standardNormalCdf((rHi - 0.1) / 0.01) - standardNormalCdf((rLo - 0.1) / 0.01);
    }
  }
  return Math.log(total / angles);
}

function twoMoonsPosterior(task: Task, x: Float64Array): ReferencePosterior {
  let logZ: number | undefined;
  return {
    dim: 2,
    method: 'exact: the simulator inverted analytically, rejection against the prior box',
    sample(n, rng) {
      const out = new Float64Array(n * 2);
      for (let i = 0; i < n; i++) {
        let t = 0;
        for (;;) {
          if (++t > 100 * MAX_TRIES) throw new RangeError(`referencePosterior: the observation (${x[0]}, ${x[1]}) cannot be produced by any θ in the prior box`);
          const a = -Math.PI / 2 + Math.PI * rng.uniform();
          const r = 0.1 + 0.01 * rng.normal();
          const p1 = r * Math.cos(a) + 0.25, p2 = r * Math.sin(a);
          const absZ1 = p1 - x[0]!;
          if (absZ1 < 0) continue;
          const z1 = rng.uniform() < 0.5 ? absZ1 : -absZ1;
          const z2 = x[1]! - p2;
          // z = R(−π/4)·θ, so θ = R(π/4)·z: θ₁ = (z₁ − z₂)/√2, θ₂ = (z₁ + z₂)/√2.
          const t1 = (z1 - z2) / Math.SQRT2, t2 = (z1 + z2) / Math.SQRT2;
          if (t1 < -1 || t1 > 1 || t2 < -1 || t2 > 1) continue;
          out[2 * i] = t1;
          out[2 * i + 1] = t2;
          break;
        }
      }
      return Tensor.from(n, 2, out);
    },
    logProb(theta) {
      if (logZ === undefined) logZ = twoMoonsLogNormaliser(x);
      const ll = task.logLikelihood(theta, x), t = theta.data;
      for (let i = 0; i < theta.rows; i++) {
        const inside = t[2 * i]! >= -1 && t[2 * i]! <= 1 && t[2 * i + 1]! >= -1 && t[2 * i + 1]! <= 1;
        ll[i] = inside ? ll[i]! - logZ : -Infinity;
      }
      return ll;
    },
  };
}

function slcpPosterior(task: Task, x: Float64Array, options: ReferenceOptions): ReferencePosterior {
  const moves = options.smcMoves ?? 10, finalMoves = options.smcFinalMoves ?? 50;
  return {
    dim: 5,
    method: `tempered SMC on the exact likelihood (θ₃, θ₄ folded; ${moves} moves per temperature, ${finalMoves} at the end)`,
    sample(n, rng) {
      return temperedSmc(task.prior, (theta) => task.logLikelihood(theta, x), { particles: n, rng, moves, finalMoves, signSymmetric: [2, 3] }).samples;
    },
    logProb: null,
  };
}
