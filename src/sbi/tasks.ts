/**
 * The sbibm benchmark tasks (J.-M. Lueckmann, J. Boelts, D. S. Greenberg, P. J. Gonçalves & J. H. Macke,
 * "Benchmarking Simulation-Based Inference", AISTATS 2021; https://github.com/sbi-benchmark/sbibm), each
 * a {@link Simulator} with its exact likelihood, its reference posterior and its observation seeds.
 *
 * Read off sbibm's `tasks/<name>/task.py`:
 * - two-moons: θ ~ U(−1, 1)²; a ~ U(−π/2, π/2), r ~ N(0.1, 0.01²) (0.01 is a standard deviation),
 *   p = (r cos a + 0.25, r sin a); x = p + (−|θ₁ + θ₂|/√2, (−θ₁ + θ₂)/√2).
 * - gaussian-linear: θ ~ N(0, 0.1·I₁₀), x ~ N(θ, 0.1·I₁₀). sbibm passes `precision_matrix =
 *   inverse(0.1·I)`, so 0.1 is the **variance** (its docstring says "standard deviation").
 * - gaussian-linear-uniform: θ ~ U(−1, 1)¹⁰, x ~ N(θ, 0.1·I₁₀) (variance 0.1, the same way).
 * - gaussian-mixture: θ ~ U(−10, 10)², x ~ ½ N(θ, I) + ½ N(θ, 0.01·I) (`mixture_scales` [1, 0.1] are
 *   standard deviations).
 * - slcp: θ ~ U(−3, 3)⁵; m = (θ₁, θ₂), s₁ = θ₃², s₂ = θ₄², ρ = tanh θ₅,
 *   Σ = [[s₁², ρ s₁ s₂], [ρ s₁ s₂, s₂²]] + 10⁻⁶·I; x = four i.i.d. draws of N(m, Σ) flattened
 *   point by point to (x₁₁, x₁₂, x₂₁, …, x₄₂). sbibm simulates slcp in float32; here everything is float64.
 *
 * @module
 */

import { didYouMean } from '../autograd/options.ts';
import { Tensor } from '../autograd/tensor.ts';
import type { RandomSource } from '../rng/rng.ts';
import { BoxUniform, DiagonalNormal } from './prior.ts';
import type { Simulator } from './simulator.ts';

/**
 * A benchmark task: a simulator with a name, its exact log-likelihood log p(x | θ) and the seeds of
 * its ten observations (sbibm's, though our generator gives other values; see `observation`).
 *
 * @example
 * const task = getTask('two_moons'); // sbibm's spelling works too
 * task.name; // 'two-moons'
 * task.logLikelihood(theta, x); // one value per row of θ, for one observation x
 */
export interface Task extends Simulator {
  /** The canonical name, e.g. `'two-moons'`. */
  readonly name: string;
  /** sbibm's name, e.g. `'two_moons'`. */
  readonly sbibmName: string;
  /** A one-line description for `flowgrad sbi tasks`. */
  readonly summary: string;
  /** The seeds of observations 1..10 (sbibm's list for the task). */
  readonly observationSeeds: readonly number[];
  /** log p(x | θ) for each row of θ (n×thetaDim) and one observation x (length xDim). */
  logLikelihood(theta: Tensor, x: ArrayLike<number>): Float64Array;
}

/** sbibm's default observation seeds (`Task.__init__`): 1000000 + i for i = 0..9. */
const DEFAULT_SEEDS = [1000000, 1000001, 1000002, 1000003, 1000004, 1000005, 1000006, 1000007, 1000008, 1000009];

function names(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);
}

function checkRows(where: string, theta: Tensor, dim: number): void {
  if (theta.cols !== dim) throw new RangeError(`${where}: θ must have ${dim} columns, got ${theta.rows}×${theta.cols}`);
}

function checkObservation(where: string, x: ArrayLike<number>, dim: number): void {
  if (x.length !== dim) throw new RangeError(`${where}: the observation must have ${dim} numbers, got ${x.length}`);
}

const LOG_2PI = Math.log(2 * Math.PI);

// --- two moons -------------------------------------------------------------------------------------

const MOON_R_LOC = 0.1, MOON_R_SCALE = 0.01, MOON_OFFSET = 0.25;

/**
 * log of the density of p = (r cos a + 0.25, r sin a) at (u + 0.25, v), a ~ U(−π/2, π/2),
 * r ~ N(0.1, 0.01²): in polar coordinates the density is N(r)·(1/π)/|r|, r signed by u's sign
 * (u < 0 needs r < 0). sbibm's `_likelihood` leaves out the 1/(π|r|) factor; its reference sampler
 * does not need the likelihood.
 */
function moonLogDensity(u: number, v: number): number {
  const rho = Math.hypot(u, v);
  const r = u >= 0 ? rho : -rho;
  const z = (r - MOON_R_LOC) / MOON_R_SCALE;
  return -0.5 * z * z - 0.5 * LOG_2PI - Math.log(MOON_R_SCALE) - Math.log(Math.PI) - Math.log(rho);
}

function twoMoons(): Task {
  const prior = new BoxUniform([-1, -1], [1, 1]);
  return {
    name: 'two-moons',
    sbibmName: 'two_moons',
    summary: 'two crescent-shaped posterior modes; x = p(a, r) + (−|θ₁+θ₂|/√2, (θ₂−θ₁)/√2)',
    prior,
    thetaDim: 2,
    xDim: 2,
    parameterNames: names('theta', 2),
    dataNames: names('x', 2),
    observationSeeds: [1000011, 1000001, 1000002, 1000003, 1000013, 1000005, 1000006, 1000007, 1000008, 1000009],
    simulate(theta: Tensor, rng: RandomSource): Tensor {
      checkRows('two-moons.simulate', theta, 2);
      const n = theta.rows, t = theta.data, out = new Float64Array(n * 2);
      for (let i = 0; i < n; i++) {
        const a = -Math.PI / 2 + Math.PI * rng.uniform();
        const r = MOON_R_LOC + MOON_R_SCALE * rng.normal();
        const t1 = t[2 * i]!, t2 = t[2 * i + 1]!;
        out[2 * i] = r * Math.cos(a) + MOON_OFFSET - Math.abs(t1 + t2) / Math.SQRT2;
        out[2 * i + 1] = r * Math.sin(a) + (-t1 + t2) / Math.SQRT2;
      }
      return Tensor.from(n, 2, out);
    },
    logLikelihood(theta: Tensor, x: ArrayLike<number>): Float64Array {
      checkRows('two-moons.logLikelihood', theta, 2);
      checkObservation('two-moons.logLikelihood', x, 2);
      const t = theta.data, out = new Float64Array(theta.rows);
      for (let i = 0; i < theta.rows; i++) {
        const t1 = t[2 * i]!, t2 = t[2 * i + 1]!;
        const u = x[0]! + Math.abs(t1 + t2) / Math.SQRT2 - MOON_OFFSET;
        const v = x[1]! - (-t1 + t2) / Math.SQRT2;
        out[i] = moonLogDensity(u, v);
      }
      return out;
    },
  };
}

// --- Gaussian linear, Gaussian linear uniform ------------------------------------------------------

const LINEAR_DIM = 10, LINEAR_NOISE_VARIANCE = 0.1;

function gaussianNoiseSimulate(where: string, theta: Tensor, dim: number, variance: number, rng: RandomSource): Tensor {
  checkRows(where, theta, dim);
  const sd = Math.sqrt(variance), t = theta.data, out = new Float64Array(t.length);
  for (let k = 0; k < t.length; k++) out[k] = t[k]! + sd * rng.normal();
  return Tensor.from(theta.rows, dim, out);
}

function isotropicLogLikelihood(where: string, theta: Tensor, x: ArrayLike<number>, dim: number, variance: number): Float64Array {
  checkRows(where, theta, dim);
  checkObservation(where, x, dim);
  const t = theta.data, out = new Float64Array(theta.rows);
  const constant = -0.5 * dim * Math.log(2 * Math.PI * variance);
  for (let i = 0; i < theta.rows; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += (x[j]! - t[i * dim + j]!) ** 2;
    out[i] = constant - s / (2 * variance);
  }
  return out;
}

function gaussianLinear(): Task {
  const prior = new DiagonalNormal(new Array(LINEAR_DIM).fill(0), new Array(LINEAR_DIM).fill(0.1));
  return {
    name: 'gaussian-linear',
    sbibmName: 'gaussian_linear',
    summary: 'x ~ N(θ, 0.1·I), conjugate Gaussian posterior N(x/2, 0.05·I)',
    prior,
    thetaDim: LINEAR_DIM,
    xDim: LINEAR_DIM,
    parameterNames: names('theta', LINEAR_DIM),
    dataNames: names('x', LINEAR_DIM),
    observationSeeds: DEFAULT_SEEDS,
    simulate: (theta, rng) => gaussianNoiseSimulate('gaussian-linear.simulate', theta, LINEAR_DIM, LINEAR_NOISE_VARIANCE, rng),
    logLikelihood: (theta, x) => isotropicLogLikelihood('gaussian-linear.logLikelihood', theta, x, LINEAR_DIM, LINEAR_NOISE_VARIANCE),
  };
}

function gaussianLinearUniform(): Task {
  const prior = new BoxUniform(new Array(LINEAR_DIM).fill(-1), new Array(LINEAR_DIM).fill(1));
  return {
    name: 'gaussian-linear-uniform',
    sbibmName: 'gaussian_linear_uniform',
    summary: 'x ~ N(θ, 0.1·I), posterior N(x, 0.1·I) truncated to the prior box',
    prior,
    thetaDim: LINEAR_DIM,
    xDim: LINEAR_DIM,
    parameterNames: names('theta', LINEAR_DIM),
    dataNames: names('x', LINEAR_DIM),
    observationSeeds: DEFAULT_SEEDS,
    simulate: (theta, rng) => gaussianNoiseSimulate('gaussian-linear-uniform.simulate', theta, LINEAR_DIM, LINEAR_NOISE_VARIANCE, rng),
    logLikelihood: (theta, x) => isotropicLogLikelihood('gaussian-linear-uniform.logLikelihood', theta, x, LINEAR_DIM, LINEAR_NOISE_VARIANCE),
  };
}

// --- Gaussian mixture ------------------------------------------------------------------------------

/** The mixture's two standard deviations (sbibm's `mixture_scales`), equal weights. */
export const MIXTURE_SCALES = [1, 0.1] as const;

function gaussianMixture(): Task {
  const prior = new BoxUniform([-10, -10], [10, 10]);
  return {
    name: 'gaussian-mixture',
    sbibmName: 'gaussian_mixture',
    summary: 'x ~ ½ N(θ, I) + ½ N(θ, 0.01·I), a broad and a sharp posterior component',
    prior,
    thetaDim: 2,
    xDim: 2,
    parameterNames: names('theta', 2),
    dataNames: names('x', 2),
    observationSeeds: DEFAULT_SEEDS,
    simulate(theta: Tensor, rng: RandomSource): Tensor {
      checkRows('gaussian-mixture.simulate', theta, 2);
      const n = theta.rows, t = theta.data, out = new Float64Array(n * 2);
      for (let i = 0; i < n; i++) {
        const sd = rng.uniform() < 0.5 ? MIXTURE_SCALES[0] : MIXTURE_SCALES[1];
        out[2 * i] = t[2 * i]! + sd * rng.normal();
        out[2 * i + 1] = t[2 * i + 1]! + sd * rng.normal();
      }
      return Tensor.from(n, 2, out);
    },
    logLikelihood(theta: Tensor, x: ArrayLike<number>): Float64Array {
      checkRows('gaussian-mixture.logLikelihood', theta, 2);
      checkObservation('gaussian-mixture.logLikelihood', x, 2);
      return mixtureLogDensity(theta, x);
    },
  };
}

/**
 * log(½ N(θ; x, I) + ½ N(θ; x, 0.01·I)) per row (symmetric in θ and x, so also the likelihood).
 * @example mixtureLogDensity(tensor([[0, 0]]), [0, 0]);
 */
export function mixtureLogDensity(theta: Tensor, x: ArrayLike<number>): Float64Array {
  const t = theta.data, out = new Float64Array(theta.rows);
  for (let i = 0; i < theta.rows; i++) {
    const d2 = (t[2 * i]! - x[0]!) ** 2 + (t[2 * i + 1]! - x[1]!) ** 2;
    const terms = MIXTURE_SCALES.map((sd) => Math.log(0.5) - LOG_2PI - 2 * Math.log(sd) - d2 / (2 * sd * sd));
    const m = Math.max(terms[0]!, terms[1]!);
    out[i] = m + Math.log(Math.exp(terms[0]! - m) + Math.exp(terms[1]! - m));
  }
  return out;
}

// --- SLCP --------------------------------------------------------------------------------------------

const SLCP_POINTS = 4, SLCP_JITTER = 1e-6;

/** Σ's entries and the mean for one row of θ: [m₁, m₂, Σ₁₁, Σ₁₂, Σ₂₂]. */
function slcpMoments(t: Float64Array, i: number): [number, number, number, number, number] {
  const s1 = t[5 * i + 2]! ** 2, s2 = t[5 * i + 3]! ** 2, rho = Math.tanh(t[5 * i + 4]!);
  return [t[5 * i]!, t[5 * i + 1]!, s1 * s1 + SLCP_JITTER, rho * s1 * s2, s2 * s2 + SLCP_JITTER];
}

function slcp(): Task {
  const prior = new BoxUniform(new Array(5).fill(-3), new Array(5).fill(3));
  return {
    name: 'slcp',
    sbibmName: 'slcp',
    summary: 'simple likelihood, complex posterior: 4 draws of a 2-D Gaussian whose mean and covariance depend on θ',
    prior,
    thetaDim: 5,
    xDim: 2 * SLCP_POINTS,
    parameterNames: names('theta', 5),
    dataNames: names('x', 2 * SLCP_POINTS),
    observationSeeds: [1000000, 1000001, 1000002, 1000003, 1000004, 1000005, 1000010, 1000012, 1000008, 1000009],
    simulate(theta: Tensor, rng: RandomSource): Tensor {
      checkRows('slcp.simulate', theta, 5);
      const n = theta.rows, t = theta.data, out = new Float64Array(n * 2 * SLCP_POINTS);
      for (let i = 0; i < n; i++) {
        const [m1, m2, s11, s12, s22] = slcpMoments(t, i);
        // Cholesky factor of Σ: L = [[l11, 0], [l21, l22]].
        const l11 = Math.sqrt(s11), l21 = s12 / l11, l22 = Math.sqrt(Math.max(s22 - l21 * l21, 0));
        for (let k = 0; k < SLCP_POINTS; k++) {
          const e1 = rng.normal(), e2 = rng.normal();
          out[i * 2 * SLCP_POINTS + 2 * k] = m1 + l11 * e1;
          out[i * 2 * SLCP_POINTS + 2 * k + 1] = m2 + l21 * e1 + l22 * e2;
        }
      }
      return Tensor.from(n, 2 * SLCP_POINTS, out);
    },
    logLikelihood(theta: Tensor, x: ArrayLike<number>): Float64Array {
      checkRows('slcp.logLikelihood', theta, 5);
      checkObservation('slcp.logLikelihood', x, 2 * SLCP_POINTS);
      const t = theta.data, out = new Float64Array(theta.rows);
      for (let i = 0; i < theta.rows; i++) {
        const [m1, m2, s11, s12, s22] = slcpMoments(t, i);
        const det = s11 * s22 - s12 * s12;
        let quad = 0;
        for (let k = 0; k < SLCP_POINTS; k++) {
          const r1 = x[2 * k]! - m1, r2 = x[2 * k + 1]! - m2;
          quad += (s22 * r1 * r1 - 2 * s12 * r1 * r2 + s11 * r2 * r2) / det;
        }
        out[i] = SLCP_POINTS * (-LOG_2PI - 0.5 * Math.log(det)) - 0.5 * quad;
      }
      return out;
    },
  };
}

// --- registry ---------------------------------------------------------------------------------------

const FACTORIES: Record<string, () => Task> = {
  'two-moons': twoMoons,
  'gaussian-linear': gaussianLinear,
  'gaussian-linear-uniform': gaussianLinearUniform,
  'gaussian-mixture': gaussianMixture,
  slcp,
};

/**
 * The task names, in sbibm's order.
 * @example TASK_NAMES; // ['two-moons', 'gaussian-linear', 'gaussian-linear-uniform', 'gaussian-mixture', 'slcp']
 */
export const TASK_NAMES: readonly string[] = Object.keys(FACTORIES);

/**
 * Thrown by {@link getTask} for a name it does not know.
 * @example try { getTask('two-moon'); } catch (e) { e instanceof UnknownTaskError; }
 */
export class UnknownTaskError extends Error {
  override name = 'UnknownTaskError';
}

/**
 * A task by name; sbibm's spelling (`two_moons`) and any letter case are accepted.
 *
 * @example
 * getTask('two_moons').name; // 'two-moons'
 * getTask('two-moon'); // UnknownTaskError: unknown task "two-moon" (did you mean "two-moons"?) …
 */
export function getTask(name: string): Task {
  const key = String(name).trim().toLowerCase().replace(/_/g, '-');
  const factory = FACTORIES[key];
  if (factory === undefined) {
    const hint = didYouMean(key, TASK_NAMES);
    throw new UnknownTaskError(`unknown task "${name}"${hint !== undefined ? ` (did you mean "${hint}"?)` : ''}; the tasks are ${TASK_NAMES.join(', ')}`);
  }
  return factory();
}

/**
 * Every task, in sbibm's order.
 * @example allTasks().map((t) => t.name);
 */
export function allTasks(): Task[] {
  return TASK_NAMES.map((n) => FACTORIES[n]!());
}

