/**
 * Fixed permutations: forward(x)[:, j] = x[:, indices[j]], exact inverse, zero log-det. The post's swap
 * of halves is its own inverse only for even d.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ShapeError, tensor } from '../../src/autograd/index.ts';
import { Rng } from '../../src/rng/rng.ts';
import { checkBijection } from '../../src/flow/check.ts';
import { Permutation } from '../../src/flow/permutation.ts';
import { assertThrows } from '../helpers/assert.ts';
import { check, fc } from '../helpers/fc.ts';
import { randomRows } from './helpers/jacobian.ts';
import { seed } from './helpers/arb.ts';

test('forward picks columns by index; the log-det is zero', () => {
  const p = new Permutation([2, 0, 1]);
  const [y, ld] = p.forward(tensor([[10, 11, 12], [20, 21, 22]]));
  assert.equal(y.toArray(), [[12, 10, 11], [22, 20, 21]]);
  assert.equal(ld.toArray(), [[0], [0]]);
  assert.equal(Array.from(p.inverseIndices), [1, 2, 0]);
  assert.equal(p.inverse(y)[0].toArray(), [[10, 11, 12], [20, 21, 22]]);
});

test("swapHalves is the post's torch.cat([x[:, dim_a:], x[:, :dim_a]])", () => {
  assert.equal(Array.from(Permutation.swapHalves(4).indices), [2, 3, 0, 1]);
  assert.equal(Array.from(Permutation.swapHalves(5).indices), [2, 3, 4, 0, 1]);
  assert.equal(Array.from(Permutation.swapHalves(5, 3).indices), [3, 4, 0, 1, 2]);
  assert.equal(Array.from(Permutation.reverse(4).indices), [3, 2, 1, 0]);
});

test('swapping halves twice is the identity for even d but not for odd d', () => {
  const x = tensor([[0, 1, 2, 3, 4]]);
  const s5 = Permutation.swapHalves(5);
  const twice = s5.forward(s5.forward(x)[0])[0];
  assert.equal(twice.toArray(), [[4, 0, 1, 2, 3]], 'for d = 5 the swap is not an involution');
  // its inverse is the swap at the other split point
  assert.equal(Permutation.swapHalves(5, 3).forward(s5.forward(x)[0])[0].toArray(), x.toArray());
  const x4 = tensor([[0, 1, 2, 3]]);
  const s4 = Permutation.swapHalves(4);
  assert.equal(s4.forward(s4.forward(x4)[0])[0].toArray(), x4.toArray());
});

test('random permutations are valid, exactly invertible and volume-preserving', () => {
  check(
    fc.property(fc.integer({ min: 1, max: 9 }), seed, (d, s) => {
      const rng = new Rng(s);
      const p = Permutation.random(d, rng);
      assert.equal(Array.from(p.indices).sort((a, b) => a - b), Array.from({ length: d }, (_, j) => j));
      const x = tensor(randomRows(rng, 3, d));
      const [y, ld] = p.forward(x);
      for (let i = 0; i < 3; i++) for (let j = 0; j < d; j++) assert.is(y.data[i * d + j], x.data[i * d + p.indices[j]!]);
      const [back, ldInv] = p.inverse(y);
      assert.equal(back.toArray(), x.toArray(), 'exact round trip');
      assert.ok(ld.data.every((v) => v === 0) && ldInv.data.every((v) => v === 0));
    }),
  );
});

test('a permutation passes checkBijection (|det| of a permutation matrix is 1)', () => {
  const report = checkBijection(new Permutation([3, 0, 4, 1, 2]), { rng: new Rng(1) });
  assert.ok(report.ok);
  assert.ok(report.logDetVsJacobian < 1e-9);
});

test('indices that are not a permutation are refused', () => {
  assertThrows(() => new Permutation([0, 0, 1]), ['[0, 0, 1] is not a permutation of 0..2'], RangeError);
  assertThrows(() => new Permutation([0, 3, 1]), ['[0, 3, 1] is not a permutation of 0..2'], RangeError);
  assertThrows(() => new Permutation([0, -1]), ['not a permutation of 0..1'], RangeError);
  assertThrows(() => new Permutation([0, 1.5]), ['not a permutation'], RangeError);
});

test('an input of the wrong width is a ShapeError naming the shapes', () => {
  const p = Permutation.reverse(3);
  assertThrows(() => p.forward(tensor([[1, 2]])), ['Permutation.forward', 'expected input with 3 columns', 'got 1×2'], ShapeError);
  assertThrows(() => p.inverse(tensor([[1, 2, 3, 4]])), ['Permutation.inverse', 'got 1×4'], ShapeError);
});

test.run();
