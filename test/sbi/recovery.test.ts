import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../src/autograd/tensor.ts';
import { Rng } from '../../src/rng/rng.ts';
import { recovery } from '../../src/sbi/recovery.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';
import { gaussianSet, VARIANTS } from '../helpers/gaussian-linear.ts';

test('z-score and contraction by hand (BayesFlow’s definitions)', () => {
  // Two pairs, d = 1, L = 3. Pair 0: samples 1, 2, 3 (mean 2, sd 1), θ* = 1 → z = 1.
  // Pair 1: samples 0, 2, 4 (mean 2, sd 2), θ* = 3 → z = −0.5. Prior variance of θ* = var(1, 3) = 2.
  const set = {
    theta: Tensor.from(2, 1, new Float64Array([1, 3])),
    x: Tensor.zeros(2, 1),
    samples: Tensor.from(6, 1, new Float64Array([1, 2, 3, 0, 2, 4])),
    perPair: 3,
    logProbTrue: null,
    logProbSamples: null,
    dropped: 0,
  };
  const [dim] = recovery(set).dimensions;
  assert.equal(dim!.z, [1, -0.5]);
  assert.equal(dim!.contraction, [0.5, 0]); // 1 − 1/2, and 1 − 4/2 clipped to 0
  assert.is(dim!.medianZ, 0.25);
  assert.equal(dim!.mean, [2, 2]);
  assert.equal(dim!.sd, [1, 2]);
  assertClose(dim!.rmse, Math.sqrt((1 + 1) / 2), 'rmse');
});

for (const d of [2, 10]) {
  for (const v of VARIANTS) {
    test(`recovery, d = ${d}: the ${v.name} posterior is ${v.verdict}${'direction' in v ? ` (${v.direction})` : ''}`, () => {
      const result = recovery(gaussianSet(d, v.posterior, 3000 + d));
      for (const dim of result.dimensions) {
        const what = `dimension ${dim.dim}: mean z ${dim.meanZ}, mean z² ${dim.meanZ2} (expected ${dim.expectedZ2})`;
        assert.is(dim.verdict, v.verdict, what);
        assert.is(dim.direction, 'direction' in v ? v.direction : undefined, what);
      }
    });
  }
}

test('the gaussian-linear posterior halves the prior variance: contraction ≈ 0.5, and the posterior mean tracks θ* (r ≈ 0.7)', () => {
  const result = recovery(gaussianSet(3, {}, 3100));
  for (const dim of result.dimensions) {
    assert.ok(Math.abs(dim.medianContraction - 0.5) < 0.05, `contraction ${dim.medianContraction}`);
    // The mean of 99 samples is x/2 + noise of variance 0.05/99: corr = 0.05 / √((0.05 + 0.05/99) · 0.1) ≈ 0.704,
    // and with N = 1000 pairs its standard error is about (1 − r²)/√N ≈ 0.016.
    const r = 0.05 / Math.sqrt((0.05 + 0.05 / 99) * 0.1);
    assert.ok(Math.abs(dim.correlation - r) < 0.06, `r ${dim.correlation}, expected ${r}`);
    assert.ok(Math.abs(dim.medianZ) < 0.1, `median z ${dim.medianZ}`);
    // The calibrated mean z², estimated from the samples (leave-one-out, L − 1 = 98 of them), is the
    // Gaussian value for 98 samples, (1 + 1/98)·97/95 = 1.0315, up to its Monte Carlo error.
    assertClose(dim.expectedZ2, (99 / 98) * (97 / 95), 'expected z²', { atol: 0.005 });
  }
});

test('recovery needs two samples per pair and refuses unknown options', () => {
  assertThrows(() => recovery({ ...gaussianSet(1, {}, 1, 10, 2), perPair: 1 }), ['recovery', 'at least 2 posterior samples']);
  assertThrows(() => recovery(gaussianSet(1, {}, 1, 10, 9), { alfa: 0.1 } as never), ['unknown option "alfa"']);
});


// An uninformative x: the exact posterior is the prior itself, here far from Gaussian. N pairs of
// θ* ~ p and L samples ~ p, so every check must pass; a Gaussian formula for E[z] and E[z²] does not.
function priorAsPosteriorSet(draw: (rng: Rng) => number, n: number, L: number, seed: number) {
  const rng = new Rng(seed);
  return {
    theta: Tensor.from(n, 1, Float64Array.from({ length: n }, () => draw(rng))),
    x: Tensor.zeros(n, 1),
    samples: Tensor.from(n * L, 1, Float64Array.from({ length: n * L }, () => draw(rng))),
    perPair: L,
    logProbTrue: null,
    logProbSamples: null,
    dropped: 0,
  };
}

test('exact non-Gaussian posteriors are not flagged: skewed (exponential) and bimodal (two narrow modes, like two-moons)', () => {
  // With the Gaussian E[z²] = (1 + 1/L)(L − 1)/(L − 3) = 1.031 the exponential's mean z² (≈ 1.09 calibrated)
  // was flagged overconfident, and two-moons' exact posterior underconfident.
  const shapes: [string, (rng: Rng) => number][] = [
    ['exponential', (rng) => -Math.log(1 - rng.uniform())],
    ['bimodal', (rng) => (rng.uniform() < 0.5 ? -1 : 1) + 0.1 * rng.normal()],
  ];
  for (const [name, draw] of shapes) {
    for (const seed of [1, 2, 3]) {
      const [dim] = recovery(priorAsPosteriorSet(draw, 4000, 99, seed)).dimensions;
      assert.is(dim!.verdict, 'calibrated', `${name}, seed ${seed}: mean z ${dim!.meanZ}, mean z² ${dim!.meanZ2} (expected ${dim!.expectedZ2}), bias p ${dim!.biasP}, spread p ${dim!.spreadP}`);
    }
  }
});

test.run();
