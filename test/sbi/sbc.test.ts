import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../src/autograd/tensor.ts';
import { Rng } from '../../src/rng/rng.ts';
import { ecdfBand } from '../../src/sbi/diagnostics-band.ts';
import type { CalibrationSet } from '../../src/sbi/diagnostics-set.ts';
import { ecdfLevelCount, sbc, sbcRanks } from '../../src/sbi/sbc.ts';
import { assertThrows } from '../helpers/assert.ts';
import { gaussianSet, VARIANTS } from '../helpers/gaussian-linear.ts';

function handSet(theta: number[][], samples: number[][], L: number): CalibrationSet {
  const d = theta[0]!.length;
  return {
    theta: Tensor.from(theta.length, d, Float64Array.from(theta.flat())),
    x: Tensor.zeros(theta.length, 1),
    samples: Tensor.from(samples.length, d, Float64Array.from(samples.flat())),
    perPair: L,
    logProbTrue: null,
    logProbSamples: null,
    dropped: 0,
  };
}

test('sbcRanks counts the samples below the truth, per pair and dimension', () => {
  // Two pairs, L = 3, d = 2. Pair 0: θ* = (0, 5); pair 1: θ* = (10, −1).
  const set = handSet([[0, 5], [10, -1]], [[-1, 6], [1, 4], [-2, 7], [11, 0], [9, 1], [8, -2]], 3);
  const [r0, r1] = sbcRanks(set);
  assert.equal(Array.from(r0!), [2, 2]); // −1, −2 < 0; 9, 8 < 10
  assert.equal(Array.from(r1!), [1, 1]); // 4 < 5; −2 < −1
  assert.is(ecdfLevelCount(99), 100);
  assert.is(ecdfLevelCount(100), 101); // 101 is prime
  assert.is(ecdfLevelCount(199), 100);
});

const band = ecdfBand(1000, 100, { rng: new Rng(100), confidence: 0.99 });

for (const d of [2, 10]) {
  for (const v of VARIANTS) {
    test(`SBC, d = ${d}: the ${v.name} posterior is ${v.verdict}${'direction' in v ? ` (${v.direction})` : ''} in every dimension`, () => {
      const result = sbc(gaussianSet(d, v.posterior, 1000 + d), { rng: new Rng(1), band });
      assert.is(result.dimensions.length, d);
      for (const dim of result.dimensions) {
        const what = `dimension ${dim.dim}: χ² p ${dim.chiSquareP}, shift z ${dim.shiftZ}, spread z ${dim.spreadZ}`;
        assert.is(dim.verdict, v.verdict, what);
        assert.is(dim.direction, 'direction' in v ? v.direction : undefined, what);
        if (v.verdict === 'calibrated') assert.ok(dim.chiSquareP > result.threshold && dim.ecdfP > 0.001, what);
        else assert.ok(dim.chiSquareP < 1e-4 && dim.ecdfP < 0.01, `${what}: the uniformity tests see it too`);
      }
    });
  }
}

test('the histogram band is the binomial interval of each bin, and the counts add up to N', () => {
  const result = sbc(gaussianSet(2, {}, 7), { rng: new Rng(2), band });
  assert.is(result.edges.length, 21);
  assert.is(result.edges[20], 100);
  for (const dim of result.dimensions) assert.is(dim.counts.reduce((a, b) => a + b, 0), 1000);
  // 1000 pairs in 20 bins of 5 ranks: 50 expected; the 99% binomial interval of Binom(1000, 0.05) is [33, 69] (P(X ≤ 68) = 0.99489 < 0.995).
  assert.equal([result.histogramBand.expected[0], result.histogramBand.lower[0], result.histogramBand.upper[0]], [50, 33, 69]);
  assert.is(result.ranks[0]!.length, 1000);
});

test('a calibrated posterior is flagged at most at the family-wise rate α (Bonferroni over tests and dimensions)', () => {
  // α = 0.2, small sets: over 60 seeds, the number of runs with any flag stays near or below 0.2 · 60 = 12.
  let flagged = 0;
  const small = ecdfBand(200, 20, { rng: new Rng(5), confidence: 0.8, simulations: 200 });
  for (let seed = 0; seed < 60; seed++) {
    const result = sbc(gaussianSet(3, {}, 5000 + seed, 200, 19), { rng: new Rng(seed), alpha: 0.2, band: small });
    if (result.dimensions.some((dim) => dim.verdict !== 'calibrated')) flagged++;
  }
  assert.ok(flagged <= 18, `${flagged} of 60 calibrated runs flagged at α = 0.2`);
});

test('bad options are named', () => {
  const set = gaussianSet(2, {}, 3, 100, 9);
  assertThrows(() => sbc(set, { rng: new Rng(1), bins: 11 }), ['sbc', 'bins must be an integer in 2..L+1 = 10']);
  assertThrows(() => sbc(set, { rng: new Rng(1), band }), ['sbc', 'band is for n = 1000', 'needs n = 100']);
  assertThrows(() => sbc(set, { rng: new Rng(1), alpah: 0.1 } as never), ['unknown option "alpah"', 'did you mean "alpha"']);
});

test.run();
