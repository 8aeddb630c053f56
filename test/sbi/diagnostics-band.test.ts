import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Rng } from '../../src/rng/rng.ts';
import { ecdfBand, ecdfGamma, ecdfP, levelTables } from '../../src/sbi/diagnostics-band.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';

// The count of u below each level i/K, i = 1..K−1.
function countsBelow(u: Float64Array, k: number): number[] {
  const out: number[] = [];
  for (let i = 1; i < k; i++) out.push(u.filter((v) => v < i / k).length);
  return out;
}

test('ecdfGamma by hand: one level, two of four draws below ½', () => {
  // Binom(4, ½): P(X ≤ 2) = 11/16 = P(X ≥ 2), so γ = 2·11/16 capped at 1.
  assert.is(ecdfGamma([2], levelTables(4, 2)), 1);
  // No draw below ½: P(X ≤ 0) = 1/16, γ = 1/8.
  assertClose(ecdfGamma([0], levelTables(4, 2)), 0.125, 'γ with no draw below ½', { rtol: 1e-12 });
  assertThrows(() => ecdfGamma([1, 2], levelTables(4, 2)), ['ecdfGamma', '2 counts for 1 levels']);
});

test('the band holds the diagonal, and a fresh uniform ECDF stays inside it with the stated probability', () => {
  const n = 200, k = 20, confidence = 0.9;
  const band = ecdfBand(n, k, { rng: new Rng(3), confidence, simulations: 2000 });
  assert.is(band.levels.length, k - 1);
  band.levels.forEach((z, i) => assert.ok(band.lower[i]! <= z && z <= band.upper[i]!, `level ${z}: [${band.lower[i]}, ${band.upper[i]}]`));
  assert.ok(band.gamma < 1 - confidence, `γ ${band.gamma} is below α: each pointwise interval is wider than a pointwise 90% one`);
  const rng = new Rng(4), trials = 1000;
  let inside = 0;
  const u = new Float64Array(n);
  for (let t = 0; t < trials; t++) {
    for (let i = 0; i < n; i++) u[i] = rng.uniform();
    const counts = countsBelow(u, k);
    if (counts.every((c, i) => band.lower[i]! * n <= c && c <= band.upper[i]! * n)) inside++;
  }
  const se = Math.sqrt((confidence * (1 - confidence)) / trials);
  // The band is made of whole counts, so it holds at least its confidence (up to simulation error).
  assert.ok(inside / trials > confidence - 4 * se && inside / trials < confidence + 0.06, `inside ${inside / trials}, expected about ${confidence}`);
});

test('ecdfP: an ECDF far off the diagonal gets the smallest p-value, a typical one a large p', () => {
  const n = 100, k = 10;
  const band = ecdfBand(n, k, { rng: new Rng(5), simulations: 999 });
  const tables = levelTables(n, k);
  const skewed = new Float64Array(n).map((_, i) => ((i + 0.5) / n) ** 3); // piled near 0
  assert.is(ecdfP(band, ecdfGamma(countsBelow(skewed, k), tables)), 1 / 1000);
  const even = new Float64Array(n).map((_, i) => (i + 0.5) / n);
  assert.ok(ecdfP(band, ecdfGamma(countsBelow(even, k), tables)) > 0.9);
});

test('same seed, same band; a bad argument is named', () => {
  const a = ecdfBand(50, 5, { rng: new Rng(9) }), b = ecdfBand(50, 5, { rng: new Rng(9) });
  assert.equal(a, b);
  assertThrows(() => ecdfBand(0, 5, { rng: new Rng(1) }), ['ecdfBand', 'n must be a positive integer']);
  assertThrows(() => ecdfBand(10, 1, { rng: new Rng(1) }), ['ecdfBand', 'K']);
  assertThrows(() => ecdfBand(10, 5, { rng: new Rng(1), confidence: 1 }), ['confidence must be in (0, 1)']);
});

test.run();
