/**
 * The post's coupling layer: z_A = x_A, z_B = exp(-s(x_A))·(x_B - b(x_A)), log|det| = -Σ s(x_A), with
 * s and b each Linear -> LeakyReLU -> Linear -> LeakyReLU (slope 0.01).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ShapeError, Tensor, tensor } from '../../src/autograd/index.ts';
import { Rng } from '../../src/rng/rng.ts';
import { checkBijection } from '../../src/flow/check.ts';
import { PostCoupling } from '../../src/flow/post-coupling.ts';
import { Linear } from '../../src/nn/layers.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';
import { perturbParameters, randomRows } from './helpers/jacobian.ts';

/** The post's conditioner written out with plain loops: leaky(W2·leaky(W1·a + b1) + b2). */
function net(layers: Linear[], a: number[]): number[] {
  const leaky = (v: number) => (v > 0 ? v : 0.01 * v);
  let h = a;
  for (const l of layers) {
    const out: number[] = [];
    for (let o = 0; o < l.outFeatures; o++) {
      let s = l.bias!.data[o]!;
      for (let i = 0; i < l.inFeatures; i++) s += l.weight.data[o * l.inFeatures + i]! * h[i]!;
      out.push(leaky(s));
    }
    h = out;
  }
  return h;
}

test("forward follows the post's formula, written out by hand", () => {
  const rng = new Rng(3);
  const layer = new PostCoupling(5, 2, 7, rng);
  perturbParameters(layer, rng, 0.5);
  const rows = randomRows(rng, 4, 5, 1.5);
  const [z, ld] = layer.forward(tensor(rows));
  const sLayers = [layer.s_nn.layers[0] as Linear, layer.s_nn.layers[2] as Linear];
  const bLayers = [layer.b_nn.layers[0] as Linear, layer.b_nn.layers[2] as Linear];
  rows.forEach((x, i) => {
    const xa = x.slice(0, 2), xb = x.slice(2);
    const s = net(sLayers, xa), b = net(bLayers, xa);
    const expected = [...xa, ...xb.map((v, j) => Math.exp(-s[j]!) * (v - b[j]!))];
    assertClose(Array.from(z.data.subarray(i * 5, i * 5 + 5)), expected, `row ${i}`, { rtol: 1e-13, atol: 1e-14 });
    assertClose(ld.data[i]!, -s.reduce((p, q) => p + q, 0), `log-det of row ${i}`, { rtol: 1e-13, atol: 1e-14 });
  });
});

test('inverse undoes forward and passes checkBijection with randomised weights', () => {
  const rng = new Rng(4);
  const layer = new PostCoupling(3, 1, 16, rng);
  assert.ok(checkBijection(layer, { rng, perturb: 0.5 }).ok);
  const x = tensor(randomRows(rng, 6, 3));
  const [z, ld] = layer.forward(x);
  const [back, ldInv] = layer.inverse(z);
  assertClose(back.toArray(), x.toArray(), 'round trip', { rtol: 1e-12, atol: 1e-12 });
  assertClose(Array.from(ldInv.data), Array.from(ld.data).map((v) => -v), 'log-dets cancel', { rtol: 1e-12, atol: 1e-14 });
});

test('a fresh post layer is not the identity (PyTorch initialisation, no zeroing)', () => {
  const layer = new PostCoupling(2, 1, 8, new Rng(0));
  const x = tensor([[0.5, -0.5]]);
  const [z, ld] = layer.forward(x);
  assert.is(z.data[0], 0.5, 'x_A passes through');
  assert.is.not(z.data[1], -0.5);
  assert.is.not(ld.data[0], 0);
});

test('dim, dimA and input widths are checked', () => {
  assertThrows(() => new PostCoupling(1, 1, 4, new Rng(0)), ['PostCoupling: dim must be an integer >= 2, got 1'], RangeError);
  assertThrows(() => new PostCoupling(4, 4, 4, new Rng(0)), ['dimA must be in 1..3, got 4'], RangeError);
  assertThrows(() => new PostCoupling(4, 0, 4, new Rng(0)), ['dimA must be in 1..3, got 0'], RangeError);
  assertThrows(() => new PostCoupling(4, 2, 4, new Rng(0)).forward(Tensor.zeros(2, 5)), ['PostCoupling.forward', '4 columns', '2×5'], ShapeError);
});

test.run();
