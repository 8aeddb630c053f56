/**
 * Expected coverage: how often the true θ* lies inside the posterior's credible region of level c, for
 * every c, over N simulated pairs (M. Deistler, P. J. Gonçalves & J. H. Macke, "Truncated proposals for
 * scalable and hassle-free simulation-based inference", NeurIPS 2022, §4 and sbi's `run_sbc` with
 * `reduce_fns = posterior.log_prob`; J. Hermans et al., "A trust crisis in simulation-based inference?",
 * TMLR 2022). A calibrated posterior covers the truth with frequency c at every level: the curve is
 * the diagonal. Below it, the regions are too small (**overconfident**); above it, too large
 * (**underconfident**, conservative; Hermans et al. argue this is the safer failure).
 *
 * Regions, from the L samples of each pair:
 * - **highest density** (when the posterior has log q): θ* is inside the level-c HPD region when the
 *   fraction of samples denser than it, #{s : log q(θˢ) > log q(θ*)}/(L+1), is at most c;
 * - **central interval** per dimension: θ*ⱼ is inside the central level-c interval when |2u − 1| ≤ c,
 *   u the position of θ*ⱼ among the samples.
 * Both positions are made exactly U(0, 1) under calibration by the randomised PIT: a count k ∈ {0..L}
 * becomes (k + v)/(L + 1), v ~ U(0, 1) seeded, so levels need not line up with 1/(L+1).
 *
 * The coverage curve is then the ECDF of N uniform values. Flags, one-sided and separate: the exact
 * one-sided Kolmogorov–Smirnov (Smirnov) test of the largest dip below the diagonal (overconfidence) and
 * of the largest rise above it (underconfidence), Bonferroni over 2 × curves at the family-wise α. The
 * band drawn is pointwise binomial: Binom(N, c)/N at 1 − α.
 *
 * @module
 */

import { checkOptionKeys } from '../autograd/options.ts';
import type { RandomSource } from '../rng/rng.ts';
import type { CalibrationSet, Verdict } from './diagnostics-set.ts';
import { binomialQuantile, binomialTable, smirnovSf } from './diagnostics-stats.ts';

/**
 * One coverage curve (the joint HPD regions, or one dimension's central intervals).
 * @example const { verdict, coverage, levels } = expectedCoverage(set, { rng }).central[0];
 */
export interface CoverageCurve {
  /** 'hpd' for the joint highest-density regions, 'central' for one dimension's central intervals. */
  region: 'hpd' | 'central';
  /** The dimension of a central curve; null for the joint HPD curve. */
  dim: number | null;
  /** Credible levels c. */
  levels: number[];
  /** Empirical coverage at each level: the fraction of pairs whose θ* lies inside the level-c region. */
  coverage: number[];
  /** Pointwise binomial band at 1 − α around the diagonal, at each level. */
  lower: number[];
  upper: number[];
  /** Largest dip of the coverage below the diagonal, sup_c (c − coverage(c)), and its one-sided p-value. */
  dipBelow: number;
  overconfidenceP: number;
  /** Largest rise above the diagonal, sup_c (coverage(c) − c), and its one-sided p-value. */
  riseAbove: number;
  underconfidenceP: number;
  overconfident: boolean;
  underconfident: boolean;
  /** `calibrated`, or the flag with the smaller p-value. */
  verdict: Verdict;
}

/**
 * The coverage result: the HPD curve (null without log q) and one central-interval curve per dimension.
 * @example const result = expectedCoverage(set, { rng }); result.hpd?.verdict;
 */
export interface CoverageResult {
  pairs: number;
  samples: number;
  alpha: number;
  /** The per-test threshold α/(2·curves). */
  threshold: number;
  hpd: CoverageCurve | null;
  central: CoverageCurve[];
}

/**
 * Options of {@link expectedCoverage}.
 * @example expectedCoverage(set, { rng: new Rng(3), alpha: 0.01, levels: 21 });
 */
export interface CoverageOptions {
  /** The seeded generator for the randomised PIT. */
  rng: RandomSource;
  /** Family-wise level of the flags and the band's 1 − α (default 0.01). */
  alpha?: number;
  /** Number of evenly spaced levels from 0 to 1 in the curves (default 51: steps of 0.02). */
  levels?: number;
}

const COVERAGE_KEYS = ['rng', 'alpha', 'levels'];

/**
 * Empirical expected coverage of the HPD regions (when the set has log q) and of the central intervals
 * per dimension, with flags for overconfidence and underconfidence (see the module comment).
 *
 * @example
 * const result = expectedCoverage(set, { rng: new Rng(4) });
 * result.central[0].coverage[25]; // ≈ 0.5 at level 0.5 for a calibrated posterior
 * result.central[0].overconfident; // false
 */
export function expectedCoverage(set: CalibrationSet, options: CoverageOptions): CoverageResult {
  checkOptionKeys('expectedCoverage', options, COVERAGE_KEYS);
  const { theta, samples, perPair: L } = set;
  const rng = options.rng;
  const n = theta.rows, d = theta.cols;
  const alpha = options.alpha ?? 0.01;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`expectedCoverage: alpha must be in (0, 1), got ${alpha}`);
  const levelCount = options.levels ?? 51;
  if (!Number.isInteger(levelCount) || levelCount < 2) throw new RangeError(`expectedCoverage: levels must be an integer ≥ 2, got ${levelCount}`);
  const levels: number[] = [];
  for (let k = 0; k < levelCount; k++) levels.push(k / (levelCount - 1));
  const lower: number[] = [], upper: number[] = [];
  for (const c of levels) {
    const table = binomialTable(n, c);
    lower.push(binomialQuantile(table, alpha / 2) / n);
    upper.push(binomialQuantile(table, 1 - alpha / 2) / n);
  }
  const hasDensity = set.logProbTrue !== null && set.logProbSamples !== null;
  const threshold = alpha / (2 * (d + (hasDensity ? 1 : 0)));
  const curve = (region: 'hpd' | 'central', dim: number | null, positions: Float64Array): CoverageCurve =>
    coverageCurve(region, dim, positions, levels, lower, upper, threshold);
  let hpd: CoverageCurve | null = null;
  if (hasDensity) {
    const lpTrue = set.logProbTrue!, lpSamples = set.logProbSamples!;
    const positions = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let denser = 0;
      for (let s = 0; s < L; s++) if (lpSamples[i * L + s]! > lpTrue[i]!) denser++;
      positions[i] = (denser + rng.uniform()) / (L + 1);
    }
    hpd = curve('hpd', null, positions);
  }
  const central: CoverageCurve[] = [];
  for (let j = 0; j < d; j++) {
    const positions = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const truth = theta.data[i * d + j]!;
      let below = 0;
      for (let s = 0; s < L; s++) if (samples.data[(i * L + s) * d + j]! < truth) below++;
      const u = (below + rng.uniform()) / (L + 1);
      positions[i] = Math.abs(2 * u - 1);
    }
    central.push(curve('central', j, positions));
  }
  return { pairs: n, samples: L, alpha, threshold, hpd, central };
}

// The coverage curve of N positions α (θ* inside the level-c region when α ≤ c), with the one-sided tests.
function coverageCurve(
  region: 'hpd' | 'central',
  dim: number | null,
  positions: Float64Array,
  levels: readonly number[],
  lower: readonly number[],
  upper: readonly number[],
  threshold: number,
): CoverageCurve {
  const n = positions.length;
  const sorted = Float64Array.from(positions).sort();
  const coverage = levels.map((c) => countAtMost(sorted, c) / n);
  // The ECDF jumps at the sorted positions: just before the i-th (1-based) it is (i−1)/n, at it i/n.
  let dipBelow = 0, riseAbove = 0;
  for (let i = 0; i < n; i++) {
    dipBelow = Math.max(dipBelow, sorted[i]! - i / n);
    riseAbove = Math.max(riseAbove, (i + 1) / n - sorted[i]!);
  }
  const overconfidenceP = smirnovSf(dipBelow, n), underconfidenceP = smirnovSf(riseAbove, n);
  const overconfident = overconfidenceP < threshold, underconfident = underconfidenceP < threshold;
  let verdict: Verdict = 'calibrated';
  if (overconfident || underconfident) verdict = overconfidenceP <= underconfidenceP ? 'overconfident' : 'underconfident';
  return { region, dim, levels: [...levels], coverage, lower: [...lower], upper: [...upper], dipBelow, overconfidenceP, riseAbove, underconfidenceP, overconfident, underconfident, verdict };
}

function countAtMost(sorted: Float64Array, c: number): number {
  let lo = 0, hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= c) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
