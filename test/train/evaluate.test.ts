/**
 * evaluate: the test NLL and its standard error, bits per dimension, the paired KL estimate against a
 * target's exact density with its standard error, the entropy passed through, batching, and a perfect
 * model (the target's own density) for which the KL is exactly 0 and the NLL estimates the entropy.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isGradEnabled, ShapeError, Tensor } from '../../src/autograd/tensor.ts';
import { Rng } from '../../src/rng/rng.ts';
import type { Target } from '../../src/data/target.ts';
import { evaluate } from '../../src/train/evaluate.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';
import { postData, postMixture, smallFlow } from './helpers/models.ts';

/** A "model" whose log-density per row is a fixed list of values (x is only used for its row count). */
function fixedModel(values: readonly number[]) {
  return {
    logProb(x: Tensor): Tensor {
      assert.is(x.rows, values.length, 'rows passed to logProb');
      return Tensor.from(values.length, 1, new Float64Array(values));
    },
  };
}

/** A model with the target's own density: log q = log p, as an n×1 tensor. */
function perfectModel(target: Target) {
  return { logProb: (x: Tensor) => Tensor.from(x.rows, 1, target.logDensity!(x)) };
}

/** Mean and standard error (sample sd with n - 1, over √n), written out. */
function meanSe(v: readonly number[]): [number, number] {
  const n = v.length, m = v.reduce((s, a) => s + a, 0) / n;
  return [m, Math.sqrt(v.reduce((s, a) => s + (a - m) ** 2, 0) / (n - 1) / n)];
}

test('a hand-worked case: log q = -1, -2, -3, -4 on 2-D rows gives NLL 2.5 ± √(5/12) and 2.5/(2 ln 2) bits per dimension', () => {
  const x = Tensor.from(4, 2, new Float64Array(8));
  const e = evaluate(fixedModel([-1, -2, -3, -4]), x);
  // sample variance ((1.5)² + (0.5)² + (0.5)² + (1.5)²)/3 = 5/3, standard error √(5/3 / 4)
  assert.is(e.n, 4);
  assert.is(e.nll, 2.5);
  assertClose(e.nllStdErr, Math.sqrt(5 / 12), 'standard error', { rtol: 1e-15 });
  assertClose(e.bitsPerDim, 2.5 / (2 * Math.LN2), 'bits per dimension', { rtol: 1e-15 });
  assert.not.ok('kl' in e || 'klStdErr' in e || 'entropy' in e, 'no target, no KL and no entropy');
});

test('the NLL is -mean(logProb) of a flow and bitsPerDim is nll/(d ln 2)', () => {
  const flow = smallFlow(3);
  const x = postData(500, 1);
  const lp = Array.from(flow.logProb(x).data);
  const [mean, se] = meanSe(lp.map((v) => -v));
  const e = evaluate(flow, x);
  assertClose(e.nll, mean, 'nll', { rtol: 1e-13 });
  assertClose(e.nllStdErr, se, 'nll standard error', { rtol: 1e-10 });
  assertClose(e.bitsPerDim, e.nll / (2 * Math.LN2), 'bits per dimension', { rtol: 1e-15 });
});

test('evaluating in batches gives the same numbers as one batch, whatever the batch size', () => {
  const flow = smallFlow(3);
  const x = postData(103, 1);
  const whole = evaluate(flow, x, postMixture);
  for (const batchSize of [1, 7, 50, 102, 103, 1000]) {
    const e = evaluate(flow, x, postMixture, batchSize);
    assertClose([e.nll, e.nllStdErr, e.kl!, e.klStdErr!], [whole.nll, whole.nllStdErr, whole.kl!, whole.klStdErr!], `batch size ${batchSize}`, { rtol: 1e-13 });
  }
});

test('with the post-mixture target, kl is the paired mean of log p - log q with its standard error, and the entropy is passed through', () => {
  const flow = smallFlow(3);
  const x = postData(800, 2);
  const logq = flow.logProb(x).data, logp = postMixture.logDensity!(x);
  const [kl, klSe] = meanSe(Array.from(logp, (p, i) => p - logq[i]!));
  const e = evaluate(flow, x, postMixture);
  assertClose(e.kl!, kl, 'kl', { rtol: 1e-12 });
  assertClose(e.klStdErr!, klSe, 'kl standard error', { rtol: 1e-10 });
  assert.ok(e.kl! > 0.5, `an untrained flow is far from the target (kl ${e.kl})`);
  assert.is(e.entropy, postMixture.entropy);
  assertClose(e.entropy!, 3.5244, 'entropy of the post mixture', { atol: 1e-4 });
  // The paired KL equals NLL - mean(-log p) on the same points.
  const meanNegLogp = -Array.from(logp).reduce((s, v) => s + v, 0) / logp.length;
  assertClose(e.kl!, e.nll - meanNegLogp, 'kl = nll - (-mean log p)', { rtol: 1e-10 });
});

test('a target with an entropy but no density gives the entropy and no KL; one with neither gives neither', () => {
  const x = Tensor.from(3, 2, new Float64Array(6));
  const model = fixedModel([-1, -1, -2]);
  const noDensity: Target = { name: 'no-density', dim: 2, description: 'test', sample: postMixture.sample, entropy: 1.25 };
  const e = evaluate(model, x, noDensity);
  assert.is(e.entropy, 1.25);
  assert.not.ok('kl' in e || 'klStdErr' in e);
  const bare: Target = { name: 'bare', dim: 2, description: 'test', sample: postMixture.sample };
  const f = evaluate(model, x, bare);
  assert.not.ok('kl' in f || 'klStdErr' in f || 'entropy' in f);
});

test('a perfect model has KL exactly 0 and its NLL estimates the entropy within 4 standard errors on 20,000 points', () => {
  const x = postMixture.sample(20_000, new Rng(11));
  const e = evaluate(perfectModel(postMixture), x, postMixture);
  assert.is(e.kl, 0);
  assert.is(e.klStdErr, 0);
  assert.ok(e.nllStdErr > 0 && e.nllStdErr < 0.02, `standard error ${e.nllStdErr}`);
  const z = (e.nll - postMixture.entropy!) / e.nllStdErr;
  assert.ok(Math.abs(z) < 4, `nll ${e.nll} vs entropy ${postMixture.entropy}: ${z.toFixed(2)} standard errors`);
});

test('one row gives a NaN standard error; no rows is an error', () => {
  const e = evaluate(fixedModel([-3]), Tensor.from(1, 2, new Float64Array(2)));
  assert.is(e.nll, 3);
  assert.ok(Number.isNaN(e.nllStdErr));
  assertThrows(() => evaluate(fixedModel([]), Tensor.from(0, 2, new Float64Array(0))), ['evaluate: no test rows'], RangeError);
});

test('a logProb that does not return one value per row is refused with both shapes', () => {
  const x = Tensor.from(4, 2, new Float64Array(8));
  // Two values for four rows used to leave the other two log-densities at 0 and report NLL 0.75.
  const short = { logProb: () => Tensor.from(2, 1, new Float64Array([-1, -2])) };
  assertThrows(() => evaluate(short, x), ['evaluate: logProb of a 4×2 batch must be 4×1, got 2×1'], ShapeError);
  const wide = { logProb: (b: Tensor) => Tensor.from(b.rows, 2, new Float64Array(2 * b.rows)) };
  assertThrows(() => evaluate(wide, x, undefined, 3), ['must be 3×1, got 3×2'], ShapeError);
});

test('evaluate calls logProb with recording off (no graph is built for the test points)', () => {
  const flow = smallFlow(3);
  const seen: boolean[] = [];
  const spy = { logProb: (x: Tensor) => (seen.push(isGradEnabled()), flow.logProb(x)) };
  assert.ok(isGradEnabled(), 'recording is on outside');
  evaluate(spy, postData(50, 1), undefined, 20);
  assert.equal(seen, [false, false, false]);
  assert.ok(isGradEnabled(), 'and on again afterwards');
});

test.run();
