import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../src/autograd/tensor.ts';
import { Rng } from '../../src/rng/rng.ts';
import { posteriorPredictiveCheck } from '../../src/sbi/ppc.ts';
import { assertThrows } from '../helpers/assert.ts';
import { gaussianSet, gaussianSimulate, VARIANTS } from '../helpers/gaussian-linear.ts';

for (const d of [2, 10]) {
  for (const v of VARIANTS) {
    // The predictive check sees shifts; the noise (variance 0.1) swamps a wrong posterior width (0.05).
    const expected = v.verdict === 'biased' ? 'biased' : 'calibrated';
    test(`posterior predictive, d = ${d}: the ${v.name} posterior's predictive is ${expected}`, () => {
      const result = posteriorPredictiveCheck(gaussianSet(d, v.posterior, 4000 + d), { simulate: gaussianSimulate, rng: new Rng(d) });
      assert.is(result.draws, 50);
      for (const dim of result.dimensions) {
        const what = `x dimension ${dim.dim}: mean quantile ${dim.meanQuantile}, z ${dim.shiftZ}`;
        assert.is(dim.verdict, expected, what);
        assert.is(dim.direction, 'direction' in v ? v.direction : undefined, what);
      }
      assert.is(result.joint.verdict, 'calibrated', `outliers ${result.joint.outlierFraction}`);
    });
  }
}

test('a posterior far off is an outlier to its predictive: the joint check calls it overconfident', () => {
  const result = posteriorPredictiveCheck(gaussianSet(2, { shift: 4, scale: 0.3 }, 4100), { simulate: gaussianSimulate, rng: new Rng(1) });
  assert.is(result.joint.verdict, 'overconfident');
  assert.ok(result.joint.outlierFraction > 0.2, `outliers ${result.joint.outlierFraction}`);
});

test('the observation is placed among its draws: a hand-made predictive', () => {
  // One-dimensional θ and x; the "simulator" returns θ itself, so the predictive draws are the samples.
  const set = {
    theta: Tensor.from(2, 1, new Float64Array([0, 0])),
    x: Tensor.from(2, 1, new Float64Array([2.5, 0])),
    samples: Tensor.from(8, 1, new Float64Array([1, 2, 3, 4, 0, 0, 1, -1])),
    perPair: 4,
    logProbTrue: null,
    logProbSamples: null,
    dropped: 0,
  };
  const result = posteriorPredictiveCheck(set, { simulate: (t) => t, rng: new Rng(0), draws: 4 });
  // Pair 0: 2 of 4 draws below 2.5. Pair 1: 1 below 0 (−1), two equal (0, 0): (1 + 1)/4.
  assert.equal(result.dimensions[0]!.quantiles, [0.5, 0.5]);
  // Pair 0: predictive mean 2.5, so x* sits at distance 0 and every draw is at least as far: p = 5/5.
  assert.is(result.joint.pValues[0], 1);
});

test('a simulator returning the wrong shape or non-finite rows is reported', () => {
  const set = gaussianSet(2, {}, 4200, 50, 9);
  assertThrows(() => posteriorPredictiveCheck(set, { simulate: () => Tensor.zeros(3, 2), rng: new Rng(0) }), ['posteriorPredictiveCheck', 'returned 3×2', 'expected 450×2']);
  const holes = posteriorPredictiveCheck(set, {
    simulate: (t, rng) => {
      const x = gaussianSimulate(t, rng);
      for (let r = 0; r < x.rows; r += 10) x.data[r * 2] = NaN;
      return x;
    },
    rng: new Rng(0),
  });
  assert.is(holes.nonFinite, 45);
  assertThrows(() => posteriorPredictiveCheck(set, { simulate: gaussianSimulate, rng: new Rng(0), draws: 10 }), ['draws must be an integer in 2..L = 9']);
});

test.run();
