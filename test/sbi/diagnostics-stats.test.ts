import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Rng } from '../../src/rng/rng.ts';
import { binomialQuantile, binomialTable, chiSquareSf, gammaQ, logGamma, sampleMean, sampleVariance, smirnovSf, twoSidedP } from '../../src/sbi/diagnostics-stats.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';

test('logGamma matches factorials and Γ(½) = √π', () => {
  for (let k = 1; k <= 20; k++) {
    let f = 1;
    for (let i = 2; i < k; i++) f *= i;
    assertClose(logGamma(k), Math.log(f), `log Γ(${k})`, { rtol: 1e-13, atol: 1e-13 });
  }
  assertClose(logGamma(0.5), 0.5 * Math.log(Math.PI), 'log Γ(½)', { rtol: 1e-13 });
  assertClose(logGamma(0.25), Math.log(3.6256099082219083), 'log Γ(¼) (reflection branch)', { rtol: 1e-13 });
});

test('twoSidedP is 2Φ(−|z|): 0.01 at z₀.₉₉₅, 1 at 0, symmetric', () => {
  assertClose(twoSidedP(2.5758293035489004), 0.01, 'two-sided p of z_0.995', { rtol: 1e-13 });
  assertClose(twoSidedP(-2.5758293035489004), 0.01, 'two-sided p of −z_0.995', { rtol: 1e-13 });
  assertClose(twoSidedP(0), 1, 'p at z = 0', { rtol: 1e-15 });
});

test('sampleMean and sampleVariance by hand (n − 1 in the variance)', () => {
  assert.is(sampleMean(Float64Array.of(1, 2, 6)), 3);
  assert.is(sampleVariance(Float64Array.of(1, 2, 6)), 7); // (4 + 1 + 9)/2
  assert.is(sampleVariance([5, 5]), 0);
});

test('chiSquareSf gives α at the tabulated critical values', () => {
  // Critical values (upper 5% and 1%) for 1, 4, 19 and 99 degrees of freedom.
  const cases: [number, number, number][] = [[3.841458820694124, 1, 0.05], [13.276704135987622, 4, 0.01], [30.14352720564616, 19, 0.05]];
  for (const [x, df, p] of cases) assertClose(chiSquareSf(x, df), p, `χ²(${df}) at ${x}`, { rtol: 1e-10 });
  assertClose(gammaQ(1, 2), Math.exp(-2), 'Q(1, 2) = e^{-2}', { rtol: 1e-14 });
  // The series (x < a + 1) and the continued fraction (x ≥ a + 1) meet without a step.
  assertClose(gammaQ(49.5, 50.5 - 1e-9), gammaQ(49.5, 50.5), 'the two branches at x = a + 1', { rtol: 1e-9 });
  assert.is(chiSquareSf(0, 3), 1);
  assertThrows(() => gammaQ(0, 1), ['gammaQ', 'a > 0']);
});

test('binomialTable: cdf and sf agree with the pmf sums, and the quantile is scipy’s ppf', () => {
  const t = binomialTable(10, 0.5);
  assertClose(t.cdf[4]!, 386 / 1024, 'P(X ≤ 4)', { rtol: 1e-13 });
  assertClose(t.sf[8]!, 56 / 1024, 'P(X ≥ 8)', { rtol: 1e-13 });
  for (let k = 0; k < 10; k++) assertClose(t.cdf[k]! + t.sf[k + 1]!, 1, `cdf + sf at ${k}`, { rtol: 1e-13 });
  assert.is(binomialQuantile(t, 0.5), 5);
  assert.is(binomialQuantile(t, 0.005), 1); // P(X ≤ 0) = 1/1024 < 0.005 ≤ P(X ≤ 1) = 11/1024
  assert.is(binomialQuantile(t, 1), 10);
  // A large n·p does not underflow: Binom(100000, 0.5) has P(X ≤ 50000) ≈ ½.
  assertClose(binomialTable(100000, 0.5).cdf[50000]!, 0.5012615652, 'Binom(1e5, ½) at the median', { rtol: 1e-8 });
  assert.is(binomialTable(5, 0).cdf[0], 1);
  assert.is(binomialTable(5, 1).sf[5], 1);
  assertThrows(() => binomialTable(3, 1.5), ['binomialTable', 'p must be in [0, 1]']);
});

test('smirnovSf is exact: the n = 1 case by hand and a simulation at n = 30', () => {
  // n = 1: D⁺ = 1 − U, so P(D⁺ ≥ d) = 1 − d.
  for (const d of [0.1, 0.5, 0.9]) assertClose(smirnovSf(d, 1), 1 - d, `n = 1, d = ${d}`, { rtol: 1e-12 });
  const rng = new Rng(11), n = 30, m = 20000, d = 0.2;
  let hits = 0;
  const u = new Float64Array(n);
  for (let s = 0; s < m; s++) {
    for (let i = 0; i < n; i++) u[i] = rng.uniform();
    u.sort();
    let dPlus = 0;
    for (let i = 0; i < n; i++) dPlus = Math.max(dPlus, (i + 1) / n - u[i]!);
    if (dPlus >= d) hits++;
  }
  const exact = smirnovSf(d, n), se = Math.sqrt((exact * (1 - exact)) / m);
  assert.ok(Math.abs(hits / m - exact) < 4 * se, `simulated ${hits / m}, exact ${exact}`);
  assert.is(smirnovSf(0, 10), 1);
  assert.is(smirnovSf(1, 10), 0);
});

test.run();
