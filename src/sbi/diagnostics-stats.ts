/**
 * The distribution functions the calibration diagnostics need for their p-values and bands: two-sided
 * normal p-values (Φ itself is `standardNormalCdf` in `special.ts`), the chi-square survival function,
 * the binomial CDF and quantiles, the exact one-sided Kolmogorov–Smirnov (Smirnov) tail, and the sample
 * mean and variance. Plain float64, no tables.
 *
 * @module
 */

import { standardNormalCdf } from './special.ts';

/**
 * log Γ(x) for x > 0 by the Lanczos approximation (g = 7, 9 coefficients; C. Lanczos, "A precision
 * approximation of the gamma function", SIAM J. Numer. Anal. 1964), with the reflection formula below ½.
 * Relative error about 1e-15.
 *
 * @example
 * logGamma(5);   // log(24) = 3.1780538303479458
 * logGamma(0.5); // log(√π) = 0.5723649429247001
 */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const c = LANCZOS;
  const z = x - 1;
  let a = c[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/**
 * The two-sided p-value of a standard-normal statistic, 2·Φ(−|z|).
 * @example twoSidedP(1.96); // 0.04999579029644087
 */
export function twoSidedP(z: number): number {
  return Math.min(1, 2 * standardNormalCdf(-Math.abs(z)));
}

/**
 * The regularised upper incomplete gamma function Q(a, x) = Γ(a, x)/Γ(a): the series of P below
 * x < a + 1, Lentz's continued fraction above (Numerical Recipes §6.2).
 *
 * @example
 * gammaQ(1, 2); // e^{-2} = 0.1353352832366127
 */
export function gammaQ(a: number, x: number): number {
  if (!(a > 0) || !(x >= 0)) throw new RangeError(`gammaQ: needs a > 0 and x ≥ 0, got a = ${a}, x = ${x}`);
  if (x === 0) return 1;
  const logPrefix = -x + a * Math.log(x) - logGamma(a);
  if (x < a + 1) {
    let sum = 1 / a, term = sum;
    for (let n = 1; n < 10000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
    }
    return Math.max(0, 1 - sum * Math.exp(logPrefix));
  }
  const tiny = 1e-300;
  let b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
  for (let i = 1; i < 10000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(logPrefix) * h;
}

/**
 * P(X² ≥ x) for a chi-square variable with `df` degrees of freedom: Q(df/2, x/2).
 * @example chiSquareSf(3.841458820694124, 1); // 0.05
 */
export function chiSquareSf(x: number, df: number): number {
  if (!(x > 0)) return 1;
  return gammaQ(df / 2, x / 2);
}

/**
 * The binomial distribution Binom(n, p) tabulated: `cdf[k]` = P(X ≤ k) and `sf[k]` = P(X ≥ k) for
 * k = 0..n, each summed from its own tail in log space (so both tails keep their relative precision,
 * and n·p large does not underflow).
 * @example const t = binomialTable(10, 0.5); t.cdf[4]; // 0.376953125
 */
export interface BinomialTable {
  n: number;
  p: number;
  cdf: Float64Array;
  sf: Float64Array;
}

/**
 * Tabulates Binom(n, p) (see {@link BinomialTable}).
 * @example binomialTable(3, 0.5).sf[3]; // 0.125
 */
export function binomialTable(n: number, p: number): BinomialTable {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`binomialTable: n must be an integer ≥ 0, got ${n}`);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`binomialTable: p must be in [0, 1], got ${p}`);
  const pmf = new Float64Array(n + 1);
  if (p === 0) pmf[0] = 1;
  else if (p === 1) pmf[n] = 1;
  else {
    const lp = Math.log(p), lq = Math.log1p(-p), lnf = logGamma(n + 1);
    for (let k = 0; k <= n; k++) pmf[k] = Math.exp(lnf - logGamma(k + 1) - logGamma(n - k + 1) + k * lp + (n - k) * lq);
  }
  const cdf = new Float64Array(n + 1), sf = new Float64Array(n + 1);
  let acc = 0;
  for (let k = 0; k <= n; k++) {
    acc += pmf[k]!;
    cdf[k] = Math.min(1, acc);
  }
  acc = 0;
  for (let k = n; k >= 0; k--) {
    acc += pmf[k]!;
    sf[k] = Math.min(1, acc);
  }
  return { n, p, cdf, sf };
}

/**
 * The q-quantile of a tabulated binomial: the smallest k with P(X ≤ k) ≥ q (scipy's `binom.ppf`).
 * @example binomialQuantile(binomialTable(10, 0.5), 0.5); // 5
 */
export function binomialQuantile(table: BinomialTable, q: number): number {
  const { cdf, n } = table;
  for (let k = 0; k <= n; k++) if (cdf[k]! >= q * (1 - 1e-12)) return k;
  return n;
}

/**
 * The exact tail of the one-sided Kolmogorov–Smirnov statistic for n i.i.d. U(0, 1) draws,
 * P(D⁺ ≥ d) with D⁺ = sup_t (Fₙ(t) − t) (the same for D⁻ by symmetry), by the Birnbaum–Tingey formula
 * (Z. W. Birnbaum & F. H. Tingey, "One-sided confidence contours for probability distribution functions",
 * Ann. Math. Statist. 1951): d·Σ_{j=0}^{⌊n(1−d)⌋} C(n, j)(1 − d − j/n)^{n−j}(d + j/n)^{j−1}, summed in log space.
 *
 * @example
 * smirnovSf(0, 10);   // 1
 * smirnovSf(0.5, 1);  // 0.5
 */
export function smirnovSf(d: number, n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`smirnovSf: n must be a positive integer, got ${n}`);
  if (!(d > 0)) return 1;
  if (d >= 1) return 0;
  const jMax = Math.floor(n * (1 - d) + 1e-12);
  const lnf = logGamma(n + 1);
  let sum = 0;
  for (let j = 0; j <= jMax; j++) {
    const a = 1 - d - j / n;
    if (a <= 0 && n - j > 0) continue;
    const logTerm = lnf - logGamma(j + 1) - logGamma(n - j + 1) + (n - j) * Math.log(Math.max(a, 0)) + (j - 1) * Math.log(d + j / n);
    sum += Math.exp(logTerm);
  }
  return Math.min(1, Math.max(0, d * sum));
}

/**
 * The arithmetic mean of the values.
 * @example sampleMean(Float64Array.of(1, 2, 6)); // 3
 */
export function sampleMean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s / a.length;
}

/**
 * The unbiased sample variance, Σ(aᵢ − ā)²/(n − 1).
 * @example sampleVariance(Float64Array.of(1, 2, 6)); // 7
 */
export function sampleVariance(a: ArrayLike<number>): number {
  const m = sampleMean(a);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - m) ** 2;
  return s / (a.length - 1);
}
