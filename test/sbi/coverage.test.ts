import { test } from 'uvu';
import * as assert from 'uvu/assert';
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
