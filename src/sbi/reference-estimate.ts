/**
 * A task's reference posterior as an amortized {@link PosteriorEstimate}: m samples for each row of an
 * observation matrix in one call, and log p(θ | x) row by row, so that the calibration diagnostics can
 * run on the exact posterior (which must then be judged calibrated: the diagnostics' own oracle).
 *
 * gaussian-linear is batched in closed form, N(x/2, 0.05·I) for every row at once. The other tasks with
 * a closed-form reference (gaussian-linear-uniform, gaussian-mixture, two-moons) build the per-observation
 * reference of `reference.ts` once for each run of equal rows of x (so the layout of batched samples,
 * each observation repeated m times, costs one normaliser per observation, not per row). slcp has no
 * closed form and its SMC reference costs seconds per observation, so it is refused.
 *
 * @module
 */

import { Tensor } from '../autograd/tensor.ts';
import type { RandomSource } from '../rng/rng.ts';
import type { PosteriorEstimate } from './diagnostics-set.ts';
import { referencePosterior, type ReferencePosterior } from './reference.ts';
import type { Task } from './tasks.ts';

/** Prior and noise variance of gaussian-linear: the posterior is N(x·a/(a + b), ab/(a + b)·I). */
const LINEAR_PRIOR_VARIANCE = 0.1, LINEAR_NOISE_VARIANCE = 0.1;

/**
 * The reference posterior of a task as a {@link PosteriorEstimate} (see the module comment).
 *
 * @example
 * const task = getTask('gaussian-linear');
 * const report = checkPosterior({ prior: task.prior, simulate: (t, r) => task.simulate(t, r), posterior: referenceEstimate(task), rng: new Rng(0) });
 * report.verdict; // 'calibrated'
 */
export function referenceEstimate(task: Task): PosteriorEstimate {
  if (task.name === 'gaussian-linear') return gaussianLinearEstimate(task.xDim);
  if (task.name === 'slcp') throw new RangeError('referenceEstimate: slcp has no closed-form reference posterior (its SMC reference takes seconds per observation)');
  return perObservationEstimate(task);
}

function checkWidth(task: { name: string; xDim: number }, x: Tensor, what: string): void {
  if (x.cols !== task.xDim) throw new RangeError(`referenceEstimate(${task.name}).${what}: x must have ${task.xDim} columns, got ${x.rows}×${x.cols}`);
}

function gaussianLinearEstimate(d: number): PosteriorEstimate {
  const a = LINEAR_PRIOR_VARIANCE, b = LINEAR_NOISE_VARIANCE;
  const shrink = a / (a + b), variance = (a * b) / (a + b), sd = Math.sqrt(variance);
  const named = { name: 'gaussian-linear', xDim: d };
  return {
    // θ = x·a/(a + b) + sd·ε, for m draws of each row of x.
    sample(m: number, x: Tensor, rng: RandomSource): Tensor {
      checkWidth(named, x, 'sample');
      const out = new Float64Array(x.rows * m * d);
      for (let i = 0; i < x.rows; i++) {
        for (let s = 0; s < m; s++) {
          for (let j = 0; j < d; j++) out[(i * m + s) * d + j] = shrink * x.data[i * d + j]! + sd * rng.normal();
        }
      }
      return Tensor.from(x.rows * m, d, out);
    },
    logProb(theta: Tensor, x: Tensor): Float64Array {
      checkWidth(named, x, 'logProb');
      if (theta.rows !== x.rows) throw new RangeError(`referenceEstimate(gaussian-linear).logProb: θ has ${theta.rows} rows, x ${x.rows}`);
      // log N(θ; x·a/(a + b), variance·I) = Σⱼ −½ zⱼ² − d·log(sd·√(2π)).
      const out = new Float64Array(theta.rows), logNorm = d * Math.log(sd * Math.sqrt(2 * Math.PI));
      for (let i = 0; i < theta.rows; i++) {
        let s = -logNorm;
        for (let j = 0; j < d; j++) {
          const z = (theta.data[i * d + j]! - shrink * x.data[i * d + j]!) / sd;
          s -= 0.5 * z * z;
        }
        out[i] = s;
      }
      return out;
    },
  };
}

function perObservationEstimate(task: Task): PosteriorEstimate {
  const c = task.xDim;
  const reference = (x: Tensor, i: number): ReferencePosterior => referencePosterior(task, x.data.subarray(i * c, (i + 1) * c));
  return {
    sample(m: number, x: Tensor, rng: RandomSource): Tensor {
      checkWidth(task, x, 'sample');
      const d = task.thetaDim, out = new Float64Array(x.rows * m * d);
      for (let i = 0; i < x.rows; i++) out.set(reference(x, i).sample(m, rng).data, i * m * d);
      return Tensor.from(x.rows * m, d, out);
    },
    logProb(theta: Tensor, x: Tensor): Float64Array {
      checkWidth(task, x, 'logProb');
      if (theta.rows !== x.rows) throw new RangeError(`referenceEstimate(${task.name}).logProb: θ has ${theta.rows} rows, x ${x.rows}`);
      const d = theta.cols, out = new Float64Array(theta.rows);
      for (let start = 0; start < x.rows; ) {
        let end = start + 1;
        while (end < x.rows && sameRow(x, start, end)) end++;
        const post = reference(x, start);
        out.set(post.logProb!(Tensor.from(end - start, d, theta.data.slice(start * d, end * d))), start);
        start = end;
      }
      return out;
    },
  };
}

function sameRow(x: Tensor, i: number, k: number): boolean {
  const c = x.cols;
  for (let j = 0; j < c; j++) if (x.data[i * c + j] !== x.data[k * c + j]) return false;
  return true;
}
