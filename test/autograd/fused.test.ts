/**
 * The fused MLP op against the readable composition of `linear` and the activations it replaces, and
 * against central finite differences.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BufferArena, gradcheck, leakyRelu, linear, mlp, relu, sum, mul, tanh, tensor, Tensor, type MlpActivation, type MlpLayer } from '../../src/autograd/index.ts';
import { Rng } from '../../src/rng/rng.ts';
import { LeakyReLU, Linear, ReLU, Sequential, Tanh } from '../../src/nn/index.ts';
import { assertClose } from '../helpers/assert.ts';
import { check, fc } from '../helpers/fc.ts';

const ACTIVATIONS: MlpActivation[] = ['identity', 'relu', 'tanh', { leakyRelu: 0.01 }, { leakyRelu: 0.2 }];

function reference(x: Tensor, layers: readonly MlpLayer[]): Tensor {
  let h = x;
  for (const { weight, bias, activation } of layers) {
    h = linear(h, weight, bias);
    if (activation === 'relu') h = relu(h);
    else if (activation === 'tanh') h = tanh(h);
    else if (typeof activation === 'object') h = leakyRelu(h, activation.leakyRelu);
  }
  return h;
}

/** Random network: widths, activations and values from a seed; values kept away from 0 so no unit sits on a kink. */
function network(seed: number, widths: number[], acts: number[], withBias: boolean[]) {
  const rng = new Rng(seed);
  const away = () => (rng.uniform() < 0.5 ? -1 : 1) * (0.2 + rng.uniform());
  const make = (r: number, c: number) => {
    const t = Tensor.zeros(r, c, { requiresGrad: true });
    for (let i = 0; i < t.size; i++) t.data[i] = away();
    return t;
  };
  const x = make(3, widths[0]!);
  const layers: MlpLayer[] = [];
  for (let l = 0; l + 1 < widths.length; l++) {
    layers.push({ weight: make(widths[l + 1]!, widths[l]!), bias: withBias[l] ? make(1, widths[l + 1]!) : null, activation: ACTIVATIONS[acts[l]! % ACTIVATIONS.length]! });
  }
  return { x, layers };
}

const arbNet = fc.record({
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  widths: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 2, maxLength: 4 }),
  acts: fc.array(fc.nat(20), { minLength: 3, maxLength: 3 }),
  withBias: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
});

test('mlp of one leaky layer, worked by hand', () => {
  const x = tensor([[1, -2]]);
  const W = tensor([[1, 1], [2, 0]]), b = tensor([[0, 1]]);
  // x·Wᵀ + b = [1 - 2 + 0, 2 + 0 + 1] = [-1, 3] -> leaky 0.1 -> [-0.1, 3]
  assertClose(mlp(x, [{ weight: W, bias: b, activation: { leakyRelu: 0.1 } }]).toArray(), [[-0.1, 3]], 'out', { rtol: 1e-15 });
});

test('mlp equals the chain of linear and activations, values and gradients, for random networks', () => {
  check(fc.property(arbNet, ({ seed, widths, acts, withBias }) => {
    const fused = network(seed, widths, acts, withBias);
    const plain = network(seed, widths, acts, withBias);
    const up = (t: Tensor) => mul(t, Tensor.from(t.rows, t.cols, t.data.map((_, k) => Math.sin(k + 1))));
    const a = mlp(fused.x, fused.layers), b = reference(plain.x, plain.layers);
    assertClose(a.data, b.data, 'forward', { rtol: 1e-13, atol: 1e-15 });
    sum(up(a)).backward();
    sum(up(b)).backward();
    assertClose(fused.x.grad!, plain.x.grad!, 'dx', { rtol: 1e-12, atol: 1e-14 });
    fused.layers.forEach((l, i) => {
      assertClose(l.weight.grad!, plain.layers[i]!.weight.grad!, `dW${i}`, { rtol: 1e-12, atol: 1e-14 });
      if (l.bias !== null) assertClose(l.bias.grad!, plain.layers[i]!.bias!.grad!, `db${i}`, { rtol: 1e-12, atol: 1e-14 });
    });
  }));
});

test('mlp backward matches central finite differences (gradcheck) on every input and weight, with identity and tanh layers', () => {
  check(fc.property(arbNet, ({ seed, widths, acts, withBias }) => {
    // Smooth activations only: a random pre-activation can land within eps of a relu kink.
    const { x, layers } = network(seed, widths, acts.map((a) => (a % 2 === 0 ? 0 : 2)), withBias);
    const inputs = [x, ...layers.flatMap((l) => (l.bias !== null ? [l.weight, l.bias] : [l.weight]))];
    gradcheck((...ts) => {
      let k = 1;
      const rebuilt = layers.map((l) => ({ weight: ts[k++]!, bias: l.bias !== null ? ts[k++]! : null, activation: l.activation }));
      return mlp(ts[0]!, rebuilt);
    }, inputs);
  }), 40);
});

test('mlp refuses mismatched weights and non-positive leaky slopes, naming the layer', () => {
  const x = Tensor.zeros(2, 3);
  assert.throws(() => mlp(x, [{ weight: Tensor.zeros(4, 2), bias: null, activation: 'relu' }]), /layer 0 weight 4×2 does not fit its 2×3 input/);
  assert.throws(() => mlp(x, [{ weight: Tensor.zeros(4, 3), bias: Tensor.zeros(1, 3), activation: 'relu' }]), /layer 0 bias must be 1×4/);
  assert.throws(() => mlp(x, [{ weight: Tensor.zeros(4, 3), bias: null, activation: { leakyRelu: -1 } }]), /slope must be > 0/);
});

test('Sequential runs fused and unfused to the same values and gradients, inside an arena too', () => {
  const build = () => {
    const rng = new Rng(11);
    return new Sequential(new Linear(2, 8, { rng }), new LeakyReLU(0.01), new Linear(8, 8, { rng }), new Tanh(), new Linear(8, 3, { rng }), new ReLU());
  };
  const fused = build(), plain = build();
  plain.fuse = false;
  const x = tensor([[0.3, -1.2], [2.0, 0.7], [-0.4, -0.9]]);
  const arena = new BufferArena();
  for (let step = 0; step < 2; step++) {
    arena.reset();
    const a = arena.run(() => {
      const out = fused.forward(x);
      sum(out).backward();
      return out.data.slice();
    });
    const b = plain.forward(x);
    sum(b).backward();
    assertClose(a, b.data, 'forward', { rtol: 1e-13, atol: 1e-15 });
  }
  fused.parameters().forEach((p, i) => assertClose(p.grad!, plain.parameters()[i]!.grad!, `grad ${i}`, { rtol: 1e-12, atol: 1e-14 }));
  assert.is(fused.forward(x).op, 'mlp');
  assert.is(plain.forward(x).op, 'relu');
});

test.run();
