import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../src/autograd/tensor.ts';
import { Rng } from '../../src/rng/rng.ts';
import { expectedCoverage } from '../../src/sbi/coverage.ts';
import { assertThrows } from '../helpers/assert.ts';
import { gaussianSet, VARIANTS } from '../helpers/gaussian-linear.ts';

// Coverage sees the width of the regions: a shift of 0.3 sd barely changes the central intervals' coverage.
const EXPECTED: Record<string, { central: string; hpd: string }> = {
  exact: { central: 'calibrated', hpd: 'calibrated' },
  'too narrow (0.7 × sd)': { central: 'overconfident', hpd: 'overconfident' },
  'too wide (1.4 × sd)': { central: 'underconfident', hpd: 'underconfident' },
};

for (const d of [2, 10]) {
  for (const v of VARIANTS.filter((v) => v.name in EXPECTED)) {
    test(`coverage, d = ${d}: the ${v.name} posterior's HPD and central curves are ${EXPECTED[v.name]!.hpd}`, () => {
      const result = expectedCoverage(gaussianSet(d, v.posterior, 2000 + d), { rng: new Rng(d) });
      assert.ok(result.hpd !== null, 'the oracle posterior has a density, so there is an HPD curve');
      for (const curve of [result.hpd!, ...result.central]) {
        const what = `${curve.region} ${curve.dim}: dip ${curve.dipBelow} (p ${curve.overconfidenceP}), rise ${curve.riseAbove} (p ${curve.underconfidenceP})`;
        assert.is(curve.verdict, EXPECTED[v.name]![curve.region === 'hpd' ? 'hpd' : 'central'], what);
        // The flags are separate: a too narrow posterior is never also called underconfident, and the other way round.
        assert.is(curve.overconfident, curve.verdict === 'overconfident', what);
        assert.is(curve.underconfident, curve.verdict === 'underconfident', what);
      }
    });
  }
}

test('a shifted posterior in 10 dimensions misses the truth too often: the joint HPD regions are overconfident', () => {
  const result = expectedCoverage(gaussianSet(10, { shift: 0.3 }, 2100), { rng: new Rng(1) });
  assert.is(result.hpd!.verdict, 'overconfident');
});

test('the coverage curve of the exact posterior follows the diagonal inside the pointwise band; the narrow one falls below it', () => {
  const exact = expectedCoverage(gaussianSet(2, {}, 2200), { rng: new Rng(2) }).central[0]!;
  assert.is(exact.levels.length, 51);
  assert.equal([exact.coverage[0], exact.coverage[50]], [0, 1]);
  const outside = exact.levels.filter((_, k) => exact.coverage[k]! < exact.lower[k]! || exact.coverage[k]! > exact.upper[k]!).length;
  assert.ok(outside <= 2, `${outside} of 51 levels outside the 99% pointwise band`);
  const narrow = expectedCoverage(gaussianSet(2, { scale: 0.7 }, 2200), { rng: new Rng(2) }).central[0]!;
  // At level 0.5 a 0.7×-wide interval covers 2Φ(0.7 · 0.674) − 1 ≈ 0.36 of the truths.
  assert.ok(Math.abs(narrow.coverage[25]! - 0.363) < 0.05, `coverage at 0.5: ${narrow.coverage[25]}`);
  assert.ok(narrow.coverage[25]! < narrow.lower[25]!);
});

test('positions, dip and rise by hand (the randomised PIT fixed at v = ½)', () => {
  // Two pairs, d = 1, L = 3. Pair 0: θ* = 0, samples −1, −2, 5: 2 below, u = 2.5/4, central position |2u − 1| = 0.25.
  // Pair 1: θ* = 0, samples 1, 2, 3: none below, u = 0.5/4, position 0.75. HPD: log q = −|θ|; pair 0 has 0 samples
  // denser than θ* (position 0.5/4), pair 1 also 0 (0.125).
  const set = {
    theta: Tensor.from(2, 1, new Float64Array([0, 0])),
    x: Tensor.zeros(2, 1),
    samples: Tensor.from(6, 1, new Float64Array([-1, -2, 5, 1, 2, 3])),
    perPair: 3,
    logProbTrue: new Float64Array([0, 0]),
    logProbSamples: new Float64Array([-1, -2, -5, -1, -2, -3]),
    dropped: 0,
  };
  const half = { uniform: () => 0.5, normal: () => 0 };
  const result = expectedCoverage(set, { rng: half, levels: 5 });
  const central = result.central[0]!;
  // Sorted positions 0.25, 0.75: the ECDF is 0 below 0.25, ½ up to 0.75, then 1.
  assert.equal(central.coverage, [0, 0.5, 0.5, 1, 1]); // at levels 0, 0.25, 0.5, 0.75, 1
  assert.is(central.dipBelow, 0.25); // just before 0.75 the ECDF is ½ while the level is ¾
  assert.is(central.riseAbove, 0.25); // at 0.25 the ECDF jumps to ½
  assert.is(result.hpd!.riseAbove, 1 - 0.125); // both at 0.125: the ECDF is 1 from there on
  assert.is(result.hpd!.dipBelow, 0.125);
});

test('without log q there is no HPD curve, and the threshold splits α over the central curves only', () => {
  const set = { ...gaussianSet(3, {}, 2300, 200, 19), logProbTrue: null, logProbSamples: null };
  const result = expectedCoverage(set, { rng: new Rng(3), alpha: 0.06 });
  assert.is(result.hpd, null);
  assert.is(result.central.length, 3);
  assert.is(result.threshold, 0.01);
  assertThrows(() => expectedCoverage(set, { rng: new Rng(3), levels: 1 }), ['expectedCoverage', 'levels must be an integer ≥ 2']);
  assertThrows(() => expectedCoverage(set, { rng: new Rng(3), level: 3 } as never), ['unknown option "level"', 'did you mean "levels"']);
});

test.run();
