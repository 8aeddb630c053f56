/**
 * The flow contract: forward is data -> latent, inverse latent -> data, each with log|det| per row;
 * Chain sums the log-dets and inverts by running the reversed list.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ShapeError, Tensor, tensor } from '../../src/autograd/index.ts';
import { Rng } from '../../src/rng/rng.ts';
import { AffineCoupling } from '../../src/flow/affine-coupling.ts';
import { cascade, Chain, checkFinite, checkWidth, FlowInputError } from '../../src/flow/bijection.ts';
import { checkBijection } from '../../src/flow/check.ts';
import { Permutation } from '../../src/flow/permutation.ts';
import { Standardize } from '../../src/flow/standardize.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';
import { perturbParameters, randomRows } from './helpers/jacobian.ts';

test('Chain applies its steps in order, sums their log-dets, and inverts in reverse order', () => {
  const rng = new Rng(1);
  const c1 = new AffineCoupling({ dim: 3, hidden: 4, rng });
  const c2 = new AffineCoupling({ dim: 3, hidden: 4, mask: 'alternating', rng });
  perturbParameters(c1, rng, 0.4);
  perturbParameters(c2, rng, 0.4);
  const steps = [new Standardize([1, 0, -1], [2, 3, 0.5]), c1, Permutation.reverse(3), c2];
  const chain = new Chain(steps);
  const x = tensor(randomRows(rng, 5, 3, 2));
  let h = x, total = new Array(5).fill(0);
  for (const s of steps) {
    const [y, ld] = s.forward(h);
    total = total.map((v, i) => v + ld.data[i]!);
    h = y;
  }
  const [z, ld] = chain.forward(x);
  assert.equal(z.toArray(), h.toArray());
  assertClose(Array.from(ld.data), total, 'summed log-det', { rtol: 1e-14, atol: 1e-14 });
  const [back, ldInv] = chain.inverse(z);
  assertClose(back.toArray(), x.toArray(), 'round trip', { rtol: 1e-12, atol: 1e-12 });
  assertClose(Array.from(ldInv.data), total.map((v) => -v), 'inverse log-det', { rtol: 1e-12, atol: 1e-12 });
  assert.ok(checkBijection(chain, { rng }).ok);
  assert.equal(chain.namedParameters().map(([n]) => n)[0], 'steps.1.net.0.weight');
});

test('Chain refuses an empty list and steps of different dims', () => {
  assertThrows(() => new Chain([]), ['Chain: needs at least one bijection'], RangeError);
  assertThrows(() => new Chain([Permutation.reverse(2), Permutation.reverse(3)]), ['Chain: step 1 has dim 3, step 0 has dim 2'], ShapeError);
  assertThrows(() => new Chain([Permutation.reverse(2)]).forward(Tensor.zeros(1, 3)), ['Chain.forward', '2 columns', '1×3'], ShapeError);
});

test('checkWidth names both shapes; checkFinite names the row and column', () => {
  assertThrows(() => checkWidth('where', Tensor.zeros(4, 2), 3), ['where: expected input with 3 columns (n×3), got 4×2'], ShapeError);
  checkWidth('where', Tensor.zeros(4, 3), 3);
  assertThrows(() => checkFinite('here', tensor([[0, 1], [2, NaN]])), ['here: row 1, column 1 is NaN'], FlowInputError);
  assertThrows(() => checkFinite('here', tensor([[0, 1, -Infinity]])), ['row 0, column 2 is -Infinity'], FlowInputError);
  checkFinite('here', tensor([[1e308, -1e-308]]));
});

test('a volume-preserving step adds no log-det work: the composition calls only its points method, and no add node is made for it', () => {
  const rng = new Rng(2);
  const calls = { forward: 0, inverse: 0, points: 0 };
  class Watched extends Permutation {
    override forward(x: Tensor) {
      calls.forward++;
      return super.forward(x);
    }
    override inverse(z: Tensor) {
      calls.inverse++;
      return super.inverse(z);
    }
    override forwardPoints(x: Tensor) {
      calls.points++;
      return super.forwardPoints(x);
    }
    override inversePoints(z: Tensor) {
      calls.points++;
      return super.inversePoints(z);
    }
  }
  const coupling = new AffineCoupling({ dim: 3, hidden: 4, rng });
  perturbParameters(coupling, rng, 0.4);
  const chain = new Chain([coupling, new Watched(Permutation.reverse(3).indices), new Watched([1, 2, 0])]);
  const x = tensor(randomRows(rng, 4, 3));
  const [z, ld] = chain.forward(x);
  const [, ldCoupling] = coupling.forward(x);
  assert.is(ld.op, ldCoupling.op, "the chain's log-det is the coupling's own node, not an add with zeros");
  assert.equal(Array.from(ld.data), Array.from(ldCoupling.data));
  const [back, ldInv] = chain.inverse(z);
  assertClose(back.toArray(), x.toArray(), 'round trip', { rtol: 1e-12, atol: 1e-12 });
  assert.not.equal(ldInv.op, 'add');
  chain.forwardSteps(x);
  chain.inverseSteps(z);
  assert.equal(calls, { forward: 0, inverse: 0, points: 8 });
  // only permutations: the log-det is one zero column
  const perms = new Chain([Permutation.reverse(3), Permutation.swapHalves(3)]);
  assert.ok(perms.volumePreserving);
  const [, zeros] = perms.forward(x);
  assert.equal(zeros.toArray(), [[0], [0], [0], [0]]);
  assert.not.ok(chain.volumePreserving);
});

test('cascade runs the steps in order forward and reversed inverse, and visit sees every point in running order', () => {
  const a = new Permutation([1, 2, 0]), b = Permutation.reverse(3);
  const x = tensor([[10, 20, 30]]);
  const seen: number[][][] = [];
  const [z] = cascade([a, b], x, undefined, 'forward', (h) => seen.push(h.toArray()));
  assert.equal(seen, [[[20, 30, 10]], [[10, 30, 20]]]);
  assert.equal(z.toArray(), [[10, 30, 20]]);
  const back: number[][][] = [];
  const [x2] = cascade([a, b], z, undefined, 'inverse', (h) => back.push(h.toArray()));
  assert.equal(back, [[[20, 30, 10]], [[10, 20, 30]]]);
  assert.equal(x2.toArray(), x.toArray());
  const chain = new Chain([a, b]);
  assert.equal(chain.forwardSteps(x).map((t) => t.toArray()), seen);
  assert.equal(chain.inverseSteps(z).map((t) => t.toArray()), back);
});

test.run();
