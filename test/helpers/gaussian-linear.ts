/**
 * The closed-form gaussian-linear task as a test oracle for the calibration diagnostics (sbibm's
 * `gaussian_linear`, any dimension): θ ~ N(0, 0.1·I), x | θ ~ N(θ, 0.1·I), so the posterior is
 * N(x/2, 0.05·I). Posteriors built from it on purpose: the exact one, one shifted by a multiple of its
 * standard deviation, and ones scaled narrower or wider, each with its own sampler and log-density.
 */
import { Tensor } from '../../src/autograd/tensor.ts';
import { Rng, type RandomSource } from '../../src/rng/rng.ts';
import { simulateCalibrationSet, type CalibrationSet, type PosteriorEstimate, type PriorSampler, type Simulate } from '../../src/sbi/diagnostics-set.ts';

export const PRIOR_VARIANCE = 0.1;
export const NOISE_VARIANCE = 0.1;
export const POSTERIOR_VARIANCE = 0.05;
export const POSTERIOR_SD = Math.sqrt(POSTERIOR_VARIANCE);

/** θ ~ N(0, 0.1·I_d). */
export function gaussianPrior(d: number): PriorSampler {
  return {
    sample(n: number, rng: RandomSource): Tensor {
      const out = new Float64Array(n * d), s = Math.sqrt(PRIOR_VARIANCE);
      for (let k = 0; k < out.length; k++) out[k] = s * rng.normal();
      return Tensor.from(n, d, out);
    },
  };
}

/** x = θ + N(0, 0.1·I), row by row. */
export const gaussianSimulate: Simulate = (theta, rng) => {
  const out = new Float64Array(theta.data.length), s = Math.sqrt(NOISE_VARIANCE);
  for (let k = 0; k < out.length; k++) out[k] = theta.data[k]! + s * rng.normal();
  return Tensor.from(theta.rows, theta.cols, out);
};

/**
 * q(θ | x) = N(x/2 + shift·σ, (scale·σ)²·I), σ² = 0.05: exact for shift 0, scale 1; `shift` in posterior
 * standard deviations (positive: the posterior sits above the truth), `scale` < 1 too narrow, > 1 too wide.
 */
export function gaussianPosterior(options: { shift?: number; scale?: number } = {}): PosteriorEstimate {
  const shift = (options.shift ?? 0) * POSTERIOR_SD, sd = (options.scale ?? 1) * POSTERIOR_SD;
  return {
    sample(m: number, x: Tensor, rng: RandomSource): Tensor {
      const d = x.cols, out = new Float64Array(x.rows * m * d);
      for (let i = 0; i < x.rows; i++) {
        for (let s = 0; s < m; s++) {
          for (let j = 0; j < d; j++) out[(i * m + s) * d + j] = x.data[i * d + j]! / 2 + shift + sd * rng.normal();
        }
      }
      return Tensor.from(x.rows * m, d, out);
    },
    logProb(theta: Tensor, x: Tensor): Float64Array {
      const d = theta.cols, out = new Float64Array(theta.rows);
      const c = -0.5 * d * Math.log(2 * Math.PI * sd * sd);
      for (let i = 0; i < theta.rows; i++) {
        let q = 0;
        for (let j = 0; j < d; j++) q += ((theta.data[i * d + j]! - x.data[i * d + j]! / 2 - shift) / sd) ** 2;
        out[i] = c - 0.5 * q;
      }
      return out;
    },
  };
}

/** The posteriors the oracle tests run: the exact one and four wrong on purpose, with the verdict each must get. */
export const VARIANTS = [
  { name: 'exact', posterior: {}, verdict: 'calibrated' },
  { name: 'shifted up by 0.3 sd', posterior: { shift: 0.3 }, verdict: 'biased', direction: 'above' },
  { name: 'shifted down by 0.3 sd', posterior: { shift: -0.3 }, verdict: 'biased', direction: 'below' },
  { name: 'too narrow (0.7 × sd)', posterior: { scale: 0.7 }, verdict: 'overconfident' },
  { name: 'too wide (1.4 × sd)', posterior: { scale: 1.4 }, verdict: 'underconfident' },
] as const;

/** A calibration set of the gaussian-linear task in d dimensions with one of the posteriors above. */
export function gaussianSet(d: number, posterior: { shift?: number; scale?: number }, seed: number, pairs = 1000, samples = 99): CalibrationSet {
  return simulateCalibrationSet({ prior: gaussianPrior(d), simulate: gaussianSimulate, posterior: gaussianPosterior(posterior), rng: new Rng(seed), pairs, samples });
}
