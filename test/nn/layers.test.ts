/**
 * Layers: Linear against PyTorch (test/fixtures/ops.json, case `linear`), its initialisation, the
 * activations, Sequential and MLP.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ShapeError, sum, Tensor, tensor } from '../../src/autograd/index.ts';
import { Rng } from '../../src/rng/rng.ts';
import { activation, LeakyReLU, Linear, MLP, ReLU, Sequential, Sigmoid, Softplus, Tanh, type Layer } from '../../src/nn/layers.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';
import { loadFixture } from '../helpers/fixtures.ts';
import type { OpCase } from '../helpers/oracle.ts';

// ---------------------------------------------------------------------------------------------------
// Linear.

test('Linear matches PyTorch forward and backward on the fixture case "linear"', () => {
  const c = loadFixture<{ cases: OpCase[] }>('ops.json').cases.find((k) => k.op === 'linear');
  if (c === undefined) assert.unreachable('ops.json has no "linear" case');
  const [xv, Wv, bv] = c!.inputs as [number[][], number[][], number[][]];
  const layer = new Linear(Wv[0]!.length, Wv.length, { rng: new Rng(0) });
  assert.equal(layer.weight.shape, [Wv.length, Wv[0]!.length], 'weight is out×in');
  assert.equal(layer.bias!.shape, [1, Wv.length], 'bias is 1×out');
  layer.weight.data.set(Wv.flat());
  layer.bias!.data.set(bv.flat());
  const x = tensor(xv, { requiresGrad: true });
  const out = layer.forward(x);
  assertClose(out.toArray(), c!.output, 'Linear forward', { rtol: 1e-10, atol: 1e-15 });
  out.backward(c!.upstream);
  assertClose(x.gradArray()!, c!.grads[0]!, 'dx', { rtol: 1e-10, atol: 1e-15 });
  assertClose(layer.weight.gradArray()!, c!.grads[1]!, 'dW', { rtol: 1e-10, atol: 1e-15 });
  assertClose(layer.bias!.gradArray()!, c!.grads[2]!, 'db', { rtol: 1e-10, atol: 1e-15 });
});

test('Linear computes x·Wᵀ + b on a hand-worked example', () => {
  const layer = new Linear(2, 2, { rng: new Rng(0) });
  layer.weight.data.set([1, 2, 3, 4]); // W = [[1, 2], [3, 4]]
  layer.bias!.data.set([10, 20]);
  // [1, 1]·Wᵀ = [1 + 2, 3 + 4]
  assert.equal(layer.forward(tensor([[1, 1], [0, 1]])).toArray(), [[13, 27], [12, 24]]);
});

test("Linear's default initialisation lies in ±1/√in, as PyTorch's", () => {
  for (const [nIn, nOut] of [[1, 50], [9, 40], [100, 30]] as const) {
    const layer = new Linear(nIn, nOut, { rng: new Rng(nIn) });
    const bound = 1 / Math.sqrt(nIn);
    for (const t of [layer.weight, layer.bias!]) {
      let max = 0;
      for (const v of t.data) {
        assert.ok(Math.abs(v) <= bound, `|${v}| <= ${bound}`);
        max = Math.max(max, Math.abs(v));
      }
      if (t.size >= 40) assert.ok(max > 0.8 * bound, `values fill the range (max ${max}, bound ${bound})`);
    }
    assert.ok(layer.weight.requiresGrad && layer.bias!.requiresGrad);
  }
});

test('Linear is deterministic for a seed and differs between seeds', () => {
  const a = new Linear(3, 4, { rng: new Rng(7) });
  const b = new Linear(3, 4, { rng: new Rng(7) });
  const c = new Linear(3, 4, { rng: new Rng(8) });
  assert.equal(a.weight.toArray(), b.weight.toArray());
  assert.equal(a.bias!.toArray(), b.bias!.toArray());
  assert.not.equal(a.weight.toArray(), c.weight.toArray());
});

test('Linear without rng is a clear error', () => {
  assertThrows(() => new Linear(2, 3, {} as never), ['Linear: pass { rng }', 'new Rng(0)'], TypeError);
  assertThrows(() => new Linear(2, 3, undefined as never), ['Linear: pass { rng }'], TypeError);
  assertThrows(() => new Linear(2, 3, { rng: Math as never }), ['Linear: pass { rng }'], TypeError);
});

test('Linear refuses sizes that are not positive integers, and inputs of the wrong width', () => {
  assertThrows(() => new Linear(0, 3, { rng: new Rng(0) }), ['Linear: inFeatures must be a positive integer, got 0'], RangeError);
  assertThrows(() => new Linear(2, 1.5, { rng: new Rng(0) }), ['outFeatures must be a positive integer, got 1.5'], RangeError);
  const layer = new Linear(2, 3, { rng: new Rng(0) });
  assertThrows(() => layer.forward(Tensor.zeros(4, 5)), ['4×5', '3×2'], ShapeError);
});

test('Linear with bias: false has only a weight', () => {
  const layer = new Linear(3, 2, { rng: new Rng(0), bias: false });
  assert.is(layer.bias, null);
  assert.equal(layer.namedParameters().map(([n]) => n), ['weight']);
  layer.weight.data.set([1, 0, 0, 0, 1, 0]);
  assert.equal(layer.forward(tensor([[4, 5, 6]])).toArray(), [[4, 5]]);
});

// ---------------------------------------------------------------------------------------------------
// Activations.

test('the activations compute their formulas', () => {
  const x = tensor([[-2, 0, 3]]);
  assert.equal(new ReLU().forward(x).toArray(), [[0, 0, 3]]);
  assert.equal(new LeakyReLU().forward(x).toArray(), [[-0.02, 0, 3]], 'default slope 0.01, as PyTorch');
  assert.equal(new LeakyReLU(0.2).forward(x).toArray(), [[-0.4, 0, 3]]);
  assertClose(new Tanh().forward(x).toArray(), [[Math.tanh(-2), 0, Math.tanh(3)]], 'tanh', { rtol: 1e-15 });
  assertClose(new Sigmoid().forward(x).toArray(), [[1 / (1 + Math.exp(2)), 0.5, 1 / (1 + Math.exp(-3))]], 'sigmoid', { rtol: 1e-15 });
  assertClose(new Softplus().forward(x).toArray(), [[Math.log1p(Math.exp(-2)), Math.LN2, Math.log1p(Math.exp(3))]], 'softplus', { rtol: 1e-15 });
  assert.is(new LeakyReLU(0.2).describe(), 'LeakyReLU(slope=0.2)');
});

test('activation() makes each layer by name and refuses an unknown name', () => {
  const kinds: [Parameters<typeof activation>[0], new (...a: never[]) => Layer][] = [['relu', ReLU], ['leakyRelu', LeakyReLU], ['tanh', Tanh], ['sigmoid', Sigmoid], ['softplus', Softplus]];
  for (const [name, kind] of kinds) assert.ok(activation(name) instanceof kind, name);
  assertThrows(() => activation('gelu' as never), ['unknown activation "gelu"', 'relu, leakyRelu, tanh, sigmoid or softplus'], RangeError);
});

// ---------------------------------------------------------------------------------------------------
// Sequential and MLP.

test('Sequential applies its layers in order and names children by index', () => {
  const rng = new Rng(3);
  const l1 = new Linear(2, 3, { rng }), l2 = new Linear(3, 1, { rng });
  const net = new Sequential(l1, new Tanh(), l2);
  const x = tensor([[0.3, -1.2], [2, 0.5]]);
  assert.equal(net.forward(x).toArray(), l2.forward(new Tanh().forward(l1.forward(x))).toArray());
  assert.equal(net.namedParameters().map(([n]) => n), ['0.weight', '0.bias', '2.weight', '2.bias']);
});

test('Sequential caches no parameter: a reassigned weight is used by the next forward and is what parameters() returns and backward reaches', () => {
  const rng = new Rng(4);
  const seq = new Sequential(new Linear(1, 3, { rng }), new LeakyReLU(0.01), new Linear(3, 1, { rng }));
  const x = tensor([[0.5], [-2]]);
  const before = seq.forward(x).toArray(); // the first forward (a cache, if any, would be built here)
  const first = seq.layers[0] as Linear;
  const fresh = Tensor.zeros(3, 1, { requiresGrad: true });
  first.weight = fresh;
  const out = seq.forward(x);
  // with W1 = 0 the hidden layer is leaky(b1), the same for every row
  const expected = new Sequential(first, new LeakyReLU(0.01), seq.layers[2]!);
  expected.fuse = false;
  assertClose(out.data, expected.forward(x).data, 'forward with the new weight', { rtol: 1e-14 });
  assert.is(out.data[0], out.data[1], 'rows agree once the input weight is zero');
  assert.not.equal(out.toArray(), before);
  assert.ok(seq.parameters().includes(fresh), 'parameters() lists the new weight');
  sum(out).backward();
  assert.ok(fresh.grad !== null, 'the new weight receives a gradient');
  // a replaced layer is seen too
  seq.layers[1] = new Tanh();
  assert.equal(seq.forward(x).data, (() => { const p = new Sequential(...seq.layers); p.fuse = false; return p.forward(x).data; })());
});

test('MLP alternates Linear layers and the activation, with no activation after the last by default', () => {
  const net = new MLP([3, 5, 4, 2], { rng: new Rng(0) });
  assert.equal(net.layers.map((l) => l.constructor.name), ['Linear', 'ReLU', 'Linear', 'ReLU', 'Linear']);
  const linears = net.layers.filter((l): l is Linear => l instanceof Linear);
  assert.equal(linears.map((l) => [l.inFeatures, l.outFeatures]), [[3, 5], [5, 4], [4, 2]]);
  assert.is(net.parameterCount(), 3 * 5 + 5 + 5 * 4 + 4 + 4 * 2 + 2);
  assert.ok(net.lastLinear === net.layers[4]);
  assert.equal(net.forward(Tensor.zeros(7, 3)).shape, [7, 2]);
});

test('MLP takes the activation and a finalActivation by name', () => {
  const net = new MLP([2, 6, 3], { activation: 'tanh', finalActivation: 'sigmoid', rng: new Rng(1) });
  assert.equal(net.layers.map((l) => l.constructor.name), ['Linear', 'Tanh', 'Linear', 'Sigmoid']);
  assert.ok(net.lastLinear === net.layers[2], 'lastLinear skips the final activation');
  const y = net.forward(tensor([[40, -40], [0, 0]]));
  for (const v of y.data) assert.ok(v > 0 && v < 1, `sigmoid output ${v} in (0, 1)`);
  const plain = new MLP([2, 6, 3], { activation: 'tanh', finalActivation: null, rng: new Rng(1) });
  assert.is(plain.layers.length, 3);
  assert.equal(plain.lastLinear.weight.toArray(), net.lastLinear.weight.toArray(), 'same seed, same weights');
});

test('MLP refuses fewer than two sizes and a missing rng', () => {
  assertThrows(() => new MLP([4], { rng: new Rng(0) }), ['MLP: needs at least two sizes', '[4]'], RangeError);
  assertThrows(() => new MLP([2, 3], {} as never), ['MLP: pass { rng }'], TypeError);
});

test.run();
