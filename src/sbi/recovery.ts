/**
 * Parameter recovery: the posterior mean against the true θ* per dimension, with the posterior z-score
 * and the posterior contraction as BayesFlow reports them (`bayesflow.diagnostics.metrics.posterior_z_score`
 * and `posterior_contraction`, after M. Betancourt, "Calibrating model-based inferences and decisions",
 * arXiv:1803.08393, 2018, and D. J. Schad, M. Betancourt & S. Vasishth, "Toward a principled Bayesian
 * workflow in cognitive science", Psychological Methods 2021):
 *
 *   z = (mean_q − θ*) / sd_q,   contraction = clip(1 − var_q / var_prior, 0, 1),
 *
 * sd and var over the L samples with Bessel's correction, var_prior the variance of the N true θ* (ddof 1),
 * both summarised by their median over the pairs (BayesFlow's default aggregation).
 *
 * Tests, per dimension: for the true posterior E[z] = 0, so a mean z away from 0 (a z-test with the
 * z's own standard error) means a **bias** (positive: the posterior sits above the truth); and E[z²] =
 * (1 + 1/L)(L − 1)/(L − 3) for a Gaussian posterior whose mean and sd are estimated from L samples (θ* −
 * mean is N(0, σ²(1 + 1/L)), independent of sd² ~ σ²χ²_{L−1}/(L − 1)), so a larger mean z² means
 * errors bigger than the posterior admits (**overconfident**), a smaller one **underconfident**.
 * Flagged below α/(2d) (Bonferroni); the label is the test with the smaller p-value.
 *
 * @module
 */

import { checkOptionKeys } from '../autograd/options.ts';
import type { CalibrationSet, Direction, Verdict } from './diagnostics-set.ts';
import { sampleMean, sampleVariance, twoSidedP } from './diagnostics-stats.ts';

/**
 * Recovery numbers for one dimension of θ.
 * @example const { medianZ, medianContraction, correlation } = recovery(set).dimensions[0];
 */
export interface RecoveryDimension {
  dim: number;
  /** θ*, posterior mean and posterior sd of every pair (N each), for the recovery plot. */
  truth: number[];
  mean: number[];
  sd: number[];
  /** Posterior z-score and contraction of every pair. */
  z: number[];
  contraction: number[];
  /** BayesFlow's summaries: medians over the pairs. */
  medianZ: number;
  medianContraction: number;
  /** Mean z and mean z², with the mean z² expected of a calibrated posterior. */
  meanZ: number;
  meanZ2: number;
  expectedZ2: number;
  /** Pearson correlation of posterior mean and θ*, and the root mean squared error of the mean. */
  correlation: number;
  rmse: number;
  /** z-tests of mean z = 0 and mean z² = expectedZ2, with p-values. */
  biasZ: number;
  biasP: number;
  spreadZ: number;
  spreadP: number;
  verdict: Verdict;
  direction?: Direction;
}

/**
 * The recovery result, one entry per dimension.
 * @example recovery(set).dimensions.map((d) => d.verdict);
 */
export interface RecoveryResult {
  pairs: number;
  samples: number;
  alpha: number;
  threshold: number;
  dimensions: RecoveryDimension[];
}

/**
 * Options of {@link recovery}.
 * @example recovery(set, { alpha: 0.01 });
 */
export interface RecoveryOptions {
  /** Family-wise level of the verdicts (default 0.01). */
  alpha?: number;
}

/**
 * Posterior mean against θ*, posterior z-scores and contraction per dimension, with a verdict (see the
 * module comment). Needs L ≥ 2 samples per pair (L ≥ 4 for the spread test).
 *
 * @example
 * const result = recovery(set);
 * result.dimensions[0].medianContraction; // ≈ 0.5 for gaussian-linear: posterior variance 0.05, prior 0.1
 * result.dimensions[0].verdict;           // 'calibrated'
 */
export function recovery(set: CalibrationSet, options: RecoveryOptions = {}): RecoveryResult {
  checkOptionKeys('recovery', options, ['alpha']);
  const { theta, samples, perPair: L } = set;
  if (L < 2) throw new RangeError(`recovery: needs at least 2 posterior samples per pair, got ${L}`);
  const n = theta.rows, d = theta.cols;
  const alpha = options.alpha ?? 0.01;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`recovery: alpha must be in (0, 1), got ${alpha}`);
  const threshold = alpha / (2 * d);
  const expectedZ2 = L > 3 ? ((1 + 1 / L) * (L - 1)) / (L - 3) : NaN;
  const dimensions: RecoveryDimension[] = [];
  for (let j = 0; j < d; j++) {
    const truth = new Float64Array(n), mean = new Float64Array(n), sd = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      truth[i] = theta.data[i * d + j]!;
      let s1 = 0;
      for (let s = 0; s < L; s++) s1 += samples.data[(i * L + s) * d + j]!;
      const m = s1 / L;
      let s2 = 0;
      for (let s = 0; s < L; s++) s2 += (samples.data[(i * L + s) * d + j]! - m) ** 2;
      mean[i] = m;
      sd[i] = Math.sqrt(s2 / (L - 1));
    }
    const priorVar = sampleVariance(truth);
    const z = new Float64Array(n), contraction = new Float64Array(n), z2 = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      z[i] = sd[i]! > 0 ? (mean[i]! - truth[i]!) / sd[i]! : (mean[i]! === truth[i]! ? 0 : Math.sign(mean[i]! - truth[i]!) * Infinity);
      z2[i] = z[i]! * z[i]!;
      contraction[i] = Math.min(1, Math.max(0, 1 - (sd[i]! * sd[i]!) / priorVar));
    }
    const meanZ = sampleMean(z), meanZ2 = sampleMean(z2);
    const biasZ = meanZ / Math.sqrt(sampleVariance(z) / n);
    // A posterior collapsed to a point away from the truth has z = ±∞: overconfident beyond doubt.
    const spreadZ = L <= 3 ? 0 : Number.isFinite(meanZ2) ? (meanZ2 - expectedZ2) / Math.sqrt(sampleVariance(z2) / n) : Infinity;
    const biasP = finiteP(biasZ), spreadP = L > 3 ? finiteP(spreadZ) : 1;
    const dim: RecoveryDimension = {
      dim: j,
      truth: Array.from(truth),
      mean: Array.from(mean),
      sd: Array.from(sd),
      z: Array.from(z),
      contraction: Array.from(contraction),
      medianZ: median(z),
      medianContraction: median(contraction),
      meanZ,
      meanZ2,
      expectedZ2,
      correlation: correlation(mean, truth),
      rmse: Math.sqrt(sampleMean(Float64Array.from(mean, (m, i) => (m - truth[i]!) ** 2))),
      biasZ,
      biasP,
      spreadZ,
      spreadP,
      verdict: 'calibrated',
    };
    if (Math.min(biasP, spreadP) < threshold) {
      if (biasP <= spreadP) {
        dim.verdict = 'biased';
        dim.direction = meanZ > 0 ? 'above' : 'below';
      } else {
        dim.verdict = spreadZ > 0 ? 'overconfident' : 'underconfident';
      }
    }
    dimensions.push(dim);
  }
  return { pairs: n, samples: L, alpha, threshold, dimensions };
}

// A z statistic that is NaN (no spread at all) counts as no evidence; ±∞ as overwhelming.
function finiteP(z: number): number {
  if (Number.isNaN(z)) return 1;
  return twoSidedP(z);
}

function median(a: Float64Array): number {
  const s = Float64Array.from(a).sort();
  const h = s.length >> 1;
  return s.length % 2 === 1 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

function correlation(a: Float64Array, b: Float64Array): number {
  const ma = sampleMean(a), mb = sampleMean(b);
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < a.length; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0;
}
