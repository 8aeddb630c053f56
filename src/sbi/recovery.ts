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
 * Tests, per dimension, exact for any shape of posterior (no Gaussian assumption): if q is the true
 * posterior, θ* and the L samples are exchangeable, so z* of θ* computed from L − 1 of the samples has
 * the same distribution as the leave-one-out z of a sample, (mean of the other L − 1 − θₖ)/their sd.
 * Per pair, the test compares z* (and z*²) with the average leave-one-out z (and z²) of its L samples;
 * under calibration the differences have mean 0 (z-tests with their own standard errors). A mean z
 * above its calibrated value means a **bias** (positive: the posterior sits above the truth); a mean z²
 * above it errors bigger than the posterior admits (**overconfident**), below it **underconfident**.
 * (For a Gaussian posterior the calibrated mean z² is (1 + 1/L)(L − 1)/(L − 3); a skewed, heavy-tailed
 * or multimodal posterior has another, which is why it is estimated from the samples.)
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
  /** Mean z and mean z², with the mean z² expected of a calibrated posterior (the pairs' average leave-one-out z², see the module comment). */
  meanZ: number;
  meanZ2: number;
  expectedZ2: number;
  /** Pearson correlation of posterior mean and θ*, and the root mean squared error of the mean. */
  correlation: number;
  rmse: number;
  /** z-tests of mean z and mean z² against their calibrated values (leave-one-out), with p-values. */
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
  const dimensions: RecoveryDimension[] = [];
  for (let j = 0; j < d; j++) {
    const truth = new Float64Array(n), mean = new Float64Array(n), sd = new Float64Array(n);
    // Per pair: z* from the first L − 1 samples minus the average leave-one-out z of all L (bias), and
    // likewise for z² (spread); both have mean 0 when the posterior is calibrated.
    const biasDiff = new Float64Array(n), spreadDiff = new Float64Array(n), looZ2 = new Float64Array(n);
    const column = new Float64Array(L);
    for (let i = 0; i < n; i++) {
      truth[i] = theta.data[i * d + j]!;
      for (let s = 0; s < L; s++) column[s] = samples.data[(i * L + s) * d + j]!;
      const m = sampleMean(column);
      let q = 0;
      for (let s = 0; s < L; s++) q += (column[s]! - m) ** 2;
      mean[i] = m;
      sd[i] = Math.sqrt(q / (L - 1));
      if (L > 3) {
        const star = leaveOneOutZ(column, L - 1, m, q, truth[i]!);
        let z1 = 0, z2 = 0;
        for (let k = 0; k < L; k++) {
          const zk = leaveOneOutZ(column, k, m, q, column[k]!);
          z1 += zk / L;
          z2 += (zk * zk) / L;
        }
        biasDiff[i] = star - z1;
        spreadDiff[i] = star * star - z2;
        looZ2[i] = z2;
      }
    }
    const priorVar = sampleVariance(truth);
    const z = new Float64Array(n), contraction = new Float64Array(n), z2 = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      z[i] = sd[i]! > 0 ? (mean[i]! - truth[i]!) / sd[i]! : (mean[i]! === truth[i]! ? 0 : Math.sign(mean[i]! - truth[i]!) * Infinity);
      z2[i] = z[i]! * z[i]!;
      contraction[i] = Math.min(1, Math.max(0, 1 - (sd[i]! * sd[i]!) / priorVar));
    }
    const meanZ = sampleMean(z), meanZ2 = sampleMean(z2);
    const expectedZ2 = L > 3 ? sampleMean(looZ2) : NaN;
    // Without the spread test (L ≤ 3) the bias test falls back to mean z = 0.
    const biasZ = L > 3 ? diffZ(biasDiff) : meanZ / Math.sqrt(sampleVariance(z) / n);
    // A posterior collapsed to a point away from the truth has z = ±∞: overconfident beyond doubt.
    const spreadZ = L <= 3 ? 0 : diffZ(spreadDiff);
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
        dim.direction = biasZ > 0 ? 'above' : 'below';
      } else {
        dim.verdict = spreadZ > 0 ? 'overconfident' : 'underconfident';
      }
    }
    dimensions.push(dim);
  }
  return { pairs: n, samples: L, alpha, threshold, dimensions };
}

/**
 * z of `value` against the samples other than sample k: (mean − value)/sd over those L − 1, from the
 * full column's mean m and q = Σ(θₛ − m)² (with uₖ = θₖ − m: mean = m − uₖ/(L − 1), and
 * (L − 2)·var = q − uₖ²·L/(L − 1)). A zero sd gives 0 at the mean and ±∞ elsewhere.
 */
function leaveOneOutZ(column: Float64Array, k: number, m: number, q: number, value: number): number {
  const L = column.length, u = column[k]! - m;
  const looMean = m - u / (L - 1), looVar = (q - (u * u * L) / (L - 1)) / (L - 2);
  if (!(looVar > 0)) return looMean === value ? 0 : Math.sign(looMean - value) * Infinity;
  return (looMean - value) / Math.sqrt(looVar);
}

/** The z-test of mean 0 for per-pair differences; a non-finite mean passes through (NaN: no evidence). */
function diffZ(diff: Float64Array): number {
  const m = sampleMean(diff);
  if (!Number.isFinite(m)) return m;
  const se = Math.sqrt(sampleVariance(diff) / diff.length);
  return se > 0 ? m / se : m === 0 ? 0 : Math.sign(m) * Infinity;
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
