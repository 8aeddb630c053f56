/**
 * Simultaneous confidence bands for the ECDF of N uniform draws, by the simulation method of
 * T. Säilynoja, P.-C. Bürkner & A. Vehtari, "Graphical test for discrete uniformity and its applications
 * in goodness-of-fit evaluation and multiple sample comparison", Statistics and Computing 32, 2022, §2.2.
 *
 * At K − 1 interior levels zᵢ = i/K the count N·F(zᵢ) of a uniform sample is Binom(N, zᵢ). The band
 * is the pointwise binomial interval at an adjusted level γ, chosen so that the whole ECDF stays inside
 * with probability 1 − α: simulate M uniform samples, record for each the smallest two-sided binomial
 * tail over the levels, γ = the α-quantile of those. The same statistic gives a p-value for an observed
 * ECDF (the graphical test as a test). For discrete ranks 0..L the levels must be multiples of 1/(L+1),
 * so that the count below zᵢ is exactly Binom(N, zᵢ): K divides L + 1.
 *
 * @module
 */

import type { RandomSource } from '../rng/rng.ts';
import { binomialQuantile, binomialTable, type BinomialTable } from './diagnostics-stats.ts';

/**
 * A simultaneous band for an ECDF of `n` draws at `levels` (ECDF values, not differences: subtract
 * the level for the ECDF-difference plot), with the simulated null distribution of the statistic.
 * @example const band = ecdfBand(1000, 20, { rng: new Rng(0) }); band.lower[9] <= 0.5 && 0.5 <= band.upper[9]; // true
 */
export interface EcdfBand {
  /** Number of draws the ECDF is of. */
  n: number;
  /** The interior levels zᵢ = i/K, i = 1..K−1. */
  levels: number[];
  /** Lower edge of the band at each level (a fraction of n). */
  lower: number[];
  /** Upper edge. */
  upper: number[];
  /** The simultaneous confidence 1 − α. */
  confidence: number;
  /** The adjusted pointwise level γ: each pointwise interval holds 1 − γ. */
  gamma: number;
  /** The statistic of each simulated uniform sample, sorted increasing (small = extreme). */
  nullGammas: number[];
}

/**
 * Options of {@link ecdfBand}.
 * @example ecdfBand(500, 25, { confidence: 0.99, simulations: 2000, rng });
 */
export interface EcdfBandOptions {
  /** The seeded generator for the simulation. */
  rng: RandomSource;
  /** Simultaneous confidence 1 − α (default 0.99). */
  confidence?: number;
  /** Number of simulated uniform samples M (default 1000). */
  simulations?: number;
}

/**
 * The binomial tables of the counts at levels i/K, i = 1..K−1, for n draws.
 * @example levelTables(100, 4).length; // 3
 */
export function levelTables(n: number, k: number): BinomialTable[] {
  const tables: BinomialTable[] = [];
  for (let i = 1; i < k; i++) tables.push(binomialTable(n, i / k));
  return tables;
}

/**
 * Säilynoja's statistic of one ECDF: γ = 2·minᵢ min(P(X ≤ cᵢ), P(X ≥ cᵢ)) with cᵢ the count of draws
 * below level i/K and X ~ Binom(n, i/K). Small means the ECDF strays far from the diagonal somewhere.
 *
 * @example
 * const tables = levelTables(4, 2);
 * ecdfGamma([2], tables); // 2·min(P(X ≤ 2), P(X ≥ 2)) for Binom(4, ½) = 2·11/16, capped at 1 → 1
 */
export function ecdfGamma(counts: ArrayLike<number>, tables: readonly BinomialTable[]): number {
  if (counts.length !== tables.length) throw new RangeError(`ecdfGamma: ${counts.length} counts for ${tables.length} levels`);
  let g = Infinity;
  for (let i = 0; i < tables.length; i++) {
    const c = counts[i]!, t = tables[i]!;
    const tail = Math.min(t.cdf[c]!, t.sf[c]!);
    if (tail < g) g = tail;
  }
  return Math.min(1, 2 * g);
}

/**
 * The simultaneous 1 − α band for the ECDF of n uniform draws at the K − 1 levels i/K (see the module
 * comment). Cost: M·n uniform draws and M·K table reads.
 *
 * @example
 * const band = ecdfBand(1000, 100, { rng: new Rng(1) });
 * band.gamma;     // about 5e-4 for n = 1000, K = 100, α = 0.01 (each level's interval holds 99.95%)
 * band.lower[49]; // 0.445: the lower edge at level 0.5
 */
export function ecdfBand(n: number, k: number, options: EcdfBandOptions): EcdfBand {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`ecdfBand: n must be a positive integer, got ${n}`);
  if (!Number.isInteger(k) || k < 2) throw new RangeError(`ecdfBand: the number of levels K must be an integer ≥ 2, got ${k}`);
  const confidence = options.confidence ?? 0.99;
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`ecdfBand: confidence must be in (0, 1), got ${confidence}`);
  const m = options.simulations ?? 1000;
  if (!Number.isInteger(m) || m < 10) throw new RangeError(`ecdfBand: simulations must be an integer ≥ 10, got ${m}`);
  const tables = levelTables(n, k);
  const nullGammas = new Float64Array(m);
  const bins = new Int32Array(k);
  const counts = new Int32Array(k - 1);
  for (let s = 0; s < m; s++) {
    bins.fill(0);
    for (let j = 0; j < n; j++) bins[Math.min(k - 1, Math.floor(options.rng.uniform() * k))]!++;
    let below = 0;
    for (let i = 0; i < k - 1; i++) {
      below += bins[i]!;
      counts[i] = below;
    }
    nullGammas[s] = ecdfGamma(counts, tables);
  }
  nullGammas.sort();
  const alpha = 1 - confidence;
  const gamma = empiricalQuantile(nullGammas, alpha);
  const levels: number[] = [], lower: number[] = [], upper: number[] = [];
  for (let i = 0; i < tables.length; i++) {
    levels.push((i + 1) / k);
    lower.push(binomialQuantile(tables[i]!, gamma / 2) / n);
    upper.push(binomialQuantile(tables[i]!, 1 - gamma / 2) / n);
  }
  return { n, levels, lower, upper, confidence, gamma, nullGammas: Array.from(nullGammas) };
}

/**
 * The p-value of an observed statistic against a band's simulated null: (1 + #{null ≤ γ}) / (1 + M),
 * so never below 1/(M+1).
 * @example ecdfP(band, ecdfGamma(counts, levelTables(band.n, band.levels.length + 1)));
 */
export function ecdfP(band: EcdfBand, gamma: number): number {
  const g = band.nullGammas;
  let lo = 0, hi = g.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (g[mid]! <= gamma * (1 + 1e-12)) lo = mid + 1;
    else hi = mid;
  }
  return (1 + lo) / (1 + g.length);
}

// The q-quantile of sorted values, linear between order statistics (numpy's default).
function empiricalQuantile(sorted: Float64Array, q: number): number {
  const pos = q * (sorted.length - 1);
  const i = Math.floor(pos), f = pos - i;
  if (i + 1 >= sorted.length) return sorted[sorted.length - 1]!;
  return sorted[i]! + f * (sorted[i + 1]! - sorted[i]!);
}
