/**
 * Initialisers: fill in place from a seeded generator (PyTorch's nn.init). For a weight of shape
 * out×in, fanIn = in (columns) and fanOut = out (rows). Moments are checked on large tensors from
 * fixed seeds, to within five standard errors.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../src/autograd/index.ts';
import { Rng } from '../../src/rng/rng.ts';
import { constant, gain, kaimingNormal, kaimingUniform, normal, uniform, xavierNormal, xavierUniform, zeros } from '../../src/nn/init.ts';
import { init } from '../../src/nn/index.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';

function moments(t: Tensor): { mean: number; std: number; min: number; max: number } {
  const d = t.data;
  let m = 0, min = Infinity, max = -Infinity;
  for (const v of d) {
    m += v;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  m /= d.length;
  let v2 = 0;
  for (const v of d) v2 += (v - m) ** 2;
  return { mean: m, std: Math.sqrt(v2 / d.length), min, max };
}

test('zeros and constant fill in place and return the same tensor', () => {
  const t = Tensor.ones(2, 3, { requiresGrad: true });
  assert.ok(zeros(t) === t);
  assert.equal(Array.from(t.data), [0, 0, 0, 0, 0, 0]);
  assert.ok(constant(t, 0.25) === t);
  assert.equal(Array.from(t.data), [0.25, 0.25, 0.25, 0.25, 0.25, 0.25]);
  assert.ok(init.zeros === zeros, 'also exported as the init namespace');
});

test('uniform stays in [a, b), fills the range, has mean (a+b)/2 and is deterministic for a seed', () => {
  const n = 20000;
  const t = uniform(Tensor.zeros(100, n / 100), -3, 5, new Rng(11));
  const { mean, std, min, max } = moments(t);
  assert.ok(min >= -3 && max < 5, `range [${min}, ${max}]`);
  assert.ok(min < -2.99 && max > 4.99, 'the whole range is used');
  const sd = 8 / Math.sqrt(12);
  assert.ok(Math.abs(mean - 1) < (5 * sd) / Math.sqrt(n), `mean ${mean}`);
  assert.ok(Math.abs(std - sd) < 0.02 * sd, `std ${std} vs ${sd}`);
  const again = uniform(Tensor.zeros(100, n / 100), -3, 5, new Rng(11));
  assert.equal(Array.from(again.data), Array.from(t.data));
  assertThrows(() => uniform(Tensor.zeros(1, 1), 2, 1, new Rng(0)), ['uniform: need a <= b, got a=2, b=1'], RangeError);
});

test('normal has the requested mean and standard deviation', () => {
  const n = 40000;
  const t = normal(Tensor.zeros(200, n / 200), 1.5, 0.5, new Rng(12));
  const { mean, std } = moments(t);
  assert.ok(Math.abs(mean - 1.5) < (5 * 0.5) / Math.sqrt(n), `mean ${mean}`);
  // the standard error of a sample std is about σ/√(2n)
  assert.ok(Math.abs(std - 0.5) < (5 * 0.5) / Math.sqrt(2 * n), `std ${std}`);
  assert.equal(Array.from(normal(Tensor.zeros(1, 3), 2, 0, new Rng(0)).data), [2, 2, 2], 'std 0 gives the mean');
  assertThrows(() => normal(Tensor.zeros(1, 1), 0, -1, new Rng(0)), ['normal: std must be >= 0, got -1'], RangeError);
});

test("gain follows PyTorch's calculate_gain", () => {
  assert.is(gain('linear'), 1);
  assert.is(gain('sigmoid'), 1);
  assert.is(gain('tanh'), 5 / 3);
  assert.is(gain('relu'), Math.SQRT2);
  assertClose(gain('leakyRelu', 0.2), Math.sqrt(2 / 1.04), 'leakyRelu 0.2', { rtol: 1e-15 });
  assertClose(gain('leakyRelu'), Math.sqrt(2 / (1 + 0.01 ** 2)), 'leakyRelu default slope 0.01', { rtol: 1e-15 });
});

test('kaimingUniform is bounded by gain·√(3 / fanIn), with fanIn the number of columns', () => {
  // out×in = 300×20 and 20×300: same size, different fanIn
  for (const [rows, cols] of [[300, 20], [20, 300]] as const) {
    const bound = Math.SQRT2 * Math.sqrt(3 / cols);
    const { min, max } = moments(kaimingUniform(Tensor.zeros(rows, cols), new Rng(rows), 'relu'));
    assert.ok(-bound <= min && max <= bound, `[${min}, ${max}] within ±${bound}`);
    assert.ok(max > 0.99 * bound && min < -0.99 * bound, `fills ±${bound}`);
  }
});

test('kaimingNormal has standard deviation gain / √fanIn', () => {
  const t = kaimingNormal(Tensor.zeros(400, 50), new Rng(3), 'tanh');
  const expected = (5 / 3) / Math.sqrt(50);
  const { mean, std } = moments(t);
  assert.ok(Math.abs(mean) < (5 * expected) / Math.sqrt(t.size), `mean ${mean}`);
  assert.ok(Math.abs(std - expected) < (5 * expected) / Math.sqrt(2 * t.size), `std ${std} vs ${expected}`);
});

test('xavierUniform is bounded by gain·√(6 / (fanIn + fanOut)) and xavierNormal has std gain·√(2 / (fanIn + fanOut))', () => {
  const u = xavierUniform(Tensor.zeros(100, 60), new Rng(4), 2);
  const bound = 2 * Math.sqrt(6 / 160);
  const mu = moments(u);
  assert.ok(-bound <= mu.min && mu.max <= bound, `[${mu.min}, ${mu.max}] within ±${bound}`);
  assert.ok(mu.max > 0.99 * bound && mu.min < -0.99 * bound);
  const n = xavierNormal(Tensor.zeros(100, 60), new Rng(5));
  const sd = Math.sqrt(2 / 160);
  const mn = moments(n);
  assert.ok(Math.abs(mn.std - sd) < (5 * sd) / Math.sqrt(2 * n.size), `std ${mn.std} vs ${sd}`);
});

test.run();
