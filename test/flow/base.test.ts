/**
 * The base distribution: the standard normal with its full constant, log p(z) = -½‖z‖² - (d/2)·log 2π.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ShapeError, sum, tensor } from '../../src/autograd/index.ts';
import { Rng } from '../../src/rng/rng.ts';
import { StandardNormal } from '../../src/flow/base.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';

test('logProb at the origin is -(d/2)·log 2π and falls off as -½‖z‖²', () => {
  const base = new StandardNormal(2);
  assertClose(base.logProb(tensor([[0, 0]])).item(), -Math.log(2 * Math.PI), 'origin', { rtol: 1e-15 });
  // ‖(3, 4)‖² = 25
  assertClose(base.logProb(tensor([[3, 4]])).item(), -12.5 - Math.log(2 * Math.PI), '(3, 4)', { rtol: 1e-15 });
  const b3 = new StandardNormal(3);
  const lp = b3.logProb(tensor([[1, 0, 0], [1, 1, 1]]));
  assert.equal(lp.shape, [2, 1]);
  assertClose(lp.toArray(), [[-0.5 - 1.5 * Math.log(2 * Math.PI)], [-1.5 - 1.5 * Math.log(2 * Math.PI)]], 'd = 3', { rtol: 1e-15 });
});

test('logProb is the product of d one-dimensional normal densities', () => {
  const z = [0.3, -1.7, 2.2, 0.01];
  const base = new StandardNormal(4);
  const product = z.reduce((s, v) => s + Math.log(Math.exp(-0.5 * v * v) / Math.sqrt(2 * Math.PI)), 0);
  assertClose(base.logProb(tensor([z])).item(), product, 'product of densities', { rtol: 1e-14 });
});

test('the gradient of logProb is -z', () => {
  const z = tensor([[0.5, -2], [1, 3]], { requiresGrad: true });
  sum(new StandardNormal(2).logProb(z)).backward();
  assertClose(z.gradArray()!, [[-0.5, 2], [-1, -3]], 'd logp / dz', { rtol: 1e-15 });
});

test('sample has the right shape, moments near 0 and 1, and is deterministic for a seed', () => {
  const base = new StandardNormal(3);
  const n = 20000;
  const s = base.sample(n, new Rng(21));
  assert.equal(s.shape, [n, 3]);
  for (let j = 0; j < 3; j++) {
    let m = 0, v = 0;
    for (let i = 0; i < n; i++) m += s.data[i * 3 + j]!;
    m /= n;
    for (let i = 0; i < n; i++) v += (s.data[i * 3 + j]! - m) ** 2;
    v /= n;
    assert.ok(Math.abs(m) < 5 / Math.sqrt(n), `mean of column ${j}: ${m}`);
    assert.ok(Math.abs(v - 1) < 5 * Math.sqrt(2 / n), `variance of column ${j}: ${v}`);
  }
  assert.equal(base.sample(5, new Rng(4)).toArray(), base.sample(5, new Rng(4)).toArray());
  assert.equal(base.sample(0, new Rng(4)).shape, [0, 3]);
});

test('entropy is (d/2)(1 + log 2π)', () => {
  assertClose(new StandardNormal(2).entropy(), 1 + Math.log(2 * Math.PI), 'd = 2', { rtol: 1e-15 });
  assertClose(new StandardNormal(5).entropy(), 2.5 * (1 + Math.log(2 * Math.PI)), 'd = 5', { rtol: 1e-15 });
});

test('bad dimensions, sample sizes and input widths are refused', () => {
  assertThrows(() => new StandardNormal(0), ['StandardNormal: dim must be a positive integer, got 0'], RangeError);
  assertThrows(() => new StandardNormal(2).sample(-1, new Rng(0)), ['n must be a non-negative integer, got -1'], RangeError);
  assertThrows(() => new StandardNormal(2).logProb(tensor([[1, 2, 3]])), ['StandardNormal.logProb', '2 columns', '1×3'], ShapeError);
});

test.run();
