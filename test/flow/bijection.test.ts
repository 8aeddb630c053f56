/**
 * The flow contract: forward is data -> latent, inverse latent -> data, each with log|det| per row;
 * Chain sums the log-dets and inverts by running the reversed list.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ShapeError, Tensor, tensor } from '../../src/autograd/index.ts';
import { Rng } from '../../src/rng/rng.ts';
import { AffineCoupling } from '../../src/flow/affine-coupling.ts';
import { Chain, checkFinite, checkWidth, FlowInputError } from '../../src/flow/bijection.ts';
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

test.run();
