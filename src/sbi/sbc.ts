/**
 * Simulation-based calibration (S. Talts, M. Betancourt, D. Simpson, A. Vehtari & A. Gelman,
 * "Validating Bayesian inference algorithms with simulation-based calibration", arXiv:1804.06788, 2018).
 *
 * For each pair (θ*, x*) the rank of θ*ⱼ among the L posterior samples of dimension j is
 * rⱼ = #{s : θˢⱼ < θ*ⱼ} ∈ {0, …, L}. If q(θ | x) is the true posterior, θ* and the samples are
 * exchangeable, so rⱼ is uniform on {0, …, L} (Talts et al., Theorem 1). Shapes of a non-uniform rank
 * histogram: a slope (ranks piled on one side) means a shifted posterior; a U (too many extreme ranks)
 * a too narrow, overconfident one; a hump a too wide, underconfident one.
 *
 * Tests per dimension, all exact for discrete ranks (no continuity assumed):
 * - **Uniformity, chi-square** on B bins of whole ranks with their exact probabilities (bin width / (L+1)).
 *   Chosen over the Kolmogorov–Smirnov test sbi's `check_sbc` uses: KS assumes a continuous distribution,
 *   and on discrete ranks its p-values are too large (conservative).
 * - **Uniformity, graphical (ECDF)**: Säilynoja et al.'s statistic and simultaneous band (see
 *   `diagnostics-band.ts`), p-value from the simulated null (resolution 1/(M+1)); reported, drawn, not voted.
 * - **Shift**: the mean rank against L/2, a z-test with the exact variance ((L+1)² − 1)/12 of a uniform rank.
 * - **Spread**: the mean of (r − L/2)² against ((L+1)² − 1)/12, a z-test with its exact variance.
 * A dimension is flagged when the smallest of the three analytic p-values is below α/(3d) (Bonferroni over
 * the tests and the d dimensions: a calibrated posterior is flagged anywhere with probability ≤ α); the
 * label is the directed test with the smaller p-value.
 *
 * @module
 */

import { checkOptionKeys } from '../autograd/options.ts';
import type { RandomSource } from '../rng/rng.ts';
import { ecdfBand, ecdfGamma, ecdfP, levelTables, type EcdfBand } from './diagnostics-band.ts';
import type { CalibrationSet, Direction, Verdict } from './diagnostics-set.ts';
import { binomialQuantile, binomialTable, chiSquareSf, twoSidedP } from './diagnostics-stats.ts';

/**
 * SBC's numbers for one dimension of θ.
 * @example const { verdict, chiSquareP } = sbc(set, { rng }).dimensions[0];
 */
export interface SbcDimension {
  /** Index of the dimension. */
  dim: number;
  /** The rank histogram: counts per bin. */
  counts: number[];
  /** Pearson's chi-square statistic of the binned ranks, with B − 1 degrees of freedom. */
  chiSquare: number;
  chiSquareP: number;
  /** Säilynoja's ECDF statistic γ and its simulated p-value. */
  ecdfGamma: number;
  ecdfP: number;
  /** The ECDF of the ranks at the band's levels (ECDF values; subtract the level for the difference plot). */
  ecdf: number[];
  /** The mean rank over L, 0.5 when calibrated; below 0.5: the posterior sits above the truth. */
  meanRank: number;
  /** z of the mean rank against L/2 (negative: ranks low, posterior above the truth) and its p. */
  shiftZ: number;
  shiftP: number;
  /** z of the mean squared deviation of the ranks from L/2 (positive: U-shaped, too narrow) and its p. */
  spreadZ: number;
  spreadP: number;
  verdict: Verdict;
  /** Set when the verdict is `biased`. */
  direction?: Direction;
}

/**
 * The SBC result: the ranks, one entry per dimension, and the bands the figures draw.
 * @example const result = sbc(set, { rng: new Rng(0) }); result.dimensions.map((d) => d.verdict);
 */
export interface SbcResult {
  /** N, pairs. */
  pairs: number;
  /** L, posterior samples per pair: ranks are 0..L. */
  samples: number;
  /** The ranks, `ranks[j][i]` for dimension j and pair i. */
  ranks: number[][];
  /** Bin b holds ranks edges[b] ≤ r < edges[b + 1] (B + 1 edges, from 0 to L + 1). */
  edges: number[];
  /** The pointwise binomial band for each bin's count at `confidence` (Talts et al.'s grey band). */
  histogramBand: { lower: number[]; upper: number[]; expected: number[]; confidence: number };
  /** The simultaneous ECDF band at the levels i/K (Säilynoja et al.). */
  ecdfBand: EcdfBand;
  /** The family-wise level α and the per-test threshold α/(3d). */
  alpha: number;
  threshold: number;
  dimensions: SbcDimension[];
}

/**
 * Options of {@link sbc}.
 * @example sbc(set, { rng, alpha: 0.01, bins: 20 });
 */
export interface SbcOptions {
  /** The seeded generator for the ECDF band's simulation (unused when `band` is given). */
  rng: RandomSource;
  /** Family-wise level of the verdicts (default 0.01); the bands are drawn at 1 − α. */
  alpha?: number;
  /** B, bins of the rank histogram (default min(20, L + 1, N/5): about 5 or more expected per bin). */
  bins?: number;
  /** M, simulated samples for the ECDF band (default 1000). */
  simulations?: number;
  /** A band computed before with {@link ecdfBand} for this N and K (reused across checks of one size). */
  band?: EcdfBand;
}

const SBC_KEYS = ['rng', 'alpha', 'bins', 'simulations', 'band'];

/**
 * The SBC ranks rⱼ = #{s : θˢⱼ < θ*ⱼ}, one Int32Array of N per dimension.
 * @example const [r0] = sbcRanks(set); r0[0]; // in 0..L
 */
export function sbcRanks(set: CalibrationSet): Int32Array[] {
  const { theta, samples, perPair: L } = set;
  const n = theta.rows, d = theta.cols;
  const ranks: Int32Array[] = [];
  for (let j = 0; j < d; j++) ranks.push(new Int32Array(n));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const truth = theta.data[i * d + j]!;
      let below = 0;
      for (let s = 0; s < L; s++) if (samples.data[(i * L + s) * d + j]! < truth) below++;
      ranks[j]![i] = below;
    }
  }
  return ranks;
}

/**
 * The number of ECDF levels K for ranks 0..L: the largest divisor of L + 1 up to 100 (so the count
 * below each level i/K is exactly binomial), or L + 1 itself when it has no other divisor.
 * @example ecdfLevelCount(99); // 100
 */
export function ecdfLevelCount(L: number): number {
  const n = L + 1;
  for (let k = Math.min(100, n); k >= 2; k--) if (n % k === 0) return k;
  return n;
}

/**
 * Runs simulation-based calibration on a calibration set: ranks, histogram, ECDF, tests and a verdict
 * per dimension (see the module comment).
 *
 * @example
 * const set = simulateCalibrationSet({ prior, simulate, posterior, rng: new Rng(1) });
 * const result = sbc(set, { rng: new Rng(2) });
 * result.dimensions[0].verdict;    // 'calibrated' for a good posterior
 * result.dimensions[0].chiSquareP; // a p-value
 */
export function sbc(set: CalibrationSet, options: SbcOptions): SbcResult {
  checkOptionKeys('sbc', options, SBC_KEYS);
  const n = set.theta.rows, d = set.theta.cols, L = set.perPair;
  const alpha = options.alpha ?? 0.01;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`sbc: alpha must be in (0, 1), got ${alpha}`);
  const B = options.bins ?? Math.max(2, Math.min(20, L + 1, Math.floor(n / 5)));
  if (!Number.isInteger(B) || B < 2 || B > L + 1) throw new RangeError(`sbc: bins must be an integer in 2..L+1 = ${L + 1}, got ${B}`);
  const K = ecdfLevelCount(L);
  const band = options.band ?? ecdfBand(n, K, { rng: options.rng, confidence: 1 - alpha, ...(options.simulations !== undefined ? { simulations: options.simulations } : {}) });
  if (band.n !== n || band.levels.length !== K - 1) {
    throw new RangeError(`sbc: the given band is for n = ${band.n} and K = ${band.levels.length + 1}; this set needs n = ${n} and K = ${K}`);
  }
  const edges: number[] = [];
  for (let b = 0; b <= B; b++) edges.push(Math.floor((b * (L + 1)) / B));
  const expected: number[] = [], lower: number[] = [], upper: number[] = [];
  for (let b = 0; b < B; b++) {
    const p = (edges[b + 1]! - edges[b]!) / (L + 1);
    const table = binomialTable(n, p);
    expected.push(n * p);
    lower.push(binomialQuantile(table, alpha / 2));
    upper.push(binomialQuantile(table, 1 - alpha / 2));
  }
  const tables = levelTables(n, K);
  const threshold = alpha / (3 * d);
  const ranks = sbcRanks(set);
  // Exact moments of a uniform rank on 0..L (v = L + 1 values): variance (v² − 1)/12, fourth central moment (v² − 1)(3v² − 7)/240.
  const v = L + 1, centre = L / 2;
  const variance = (v * v - 1) / 12, m4 = ((v * v - 1) * (3 * v * v - 7)) / 240;
  const dimensions: SbcDimension[] = ranks.map((r, j) => {
    const perRank = new Int32Array(L + 1);
    for (let i = 0; i < n; i++) perRank[r[i]!]!++;
    const counts: number[] = [];
    let chiSquare = 0;
    for (let b = 0; b < B; b++) {
      let c = 0;
      for (let k = edges[b]!; k < edges[b + 1]!; k++) c += perRank[k]!;
      counts.push(c);
      chiSquare += (c - expected[b]!) ** 2 / expected[b]!;
    }
    const ecdfCounts: number[] = [];
    let below = 0, k = 0;
    for (let i = 1; i < K; i++) {
      const limit = (i * (L + 1)) / K; // count ranks r < limit
      while (k < limit) below += perRank[k++]!;
      ecdfCounts.push(below);
    }
    const gamma = ecdfGamma(ecdfCounts, tables);
    let sum = 0, sumSq = 0;
    for (let i = 0; i < n; i++) {
      const dev = r[i]! - centre;
      sum += dev;
      sumSq += dev * dev;
    }
    const shiftZ = sum / n / Math.sqrt(variance / n);
    const spreadZ = (sumSq / n - variance) / Math.sqrt((m4 - variance * variance) / n);
    const chiSquareP = chiSquareSf(chiSquare, B - 1);
    const shiftP = twoSidedP(shiftZ), spreadP = twoSidedP(spreadZ);
    const dim: SbcDimension = {
      dim: j,
      counts,
      chiSquare,
      chiSquareP,
      ecdfGamma: gamma,
      ecdfP: ecdfP(band, gamma),
      ecdf: ecdfCounts.map((c) => c / n),
      meanRank: (sum / n + centre) / L,
      shiftZ,
      shiftP,
      spreadZ,
      spreadP,
      verdict: 'calibrated',
    };
    if (Math.min(chiSquareP, shiftP, spreadP) < threshold) {
      if (shiftP <= spreadP) {
        dim.verdict = 'biased';
        dim.direction = shiftZ < 0 ? 'above' : 'below'; // low ranks: the truth sits under most samples
      } else {
        dim.verdict = spreadZ > 0 ? 'overconfident' : 'underconfident';
      }
    }
    return dim;
  });
  return {
    pairs: n,
    samples: L,
    ranks: ranks.map((r) => Array.from(r)),
    edges,
    histogramBand: { lower, upper, expected, confidence: 1 - alpha },
    ecdfBand: band,
    alpha,
    threshold,
    dimensions,
  };
}
