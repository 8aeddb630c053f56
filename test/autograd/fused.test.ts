/**
 * Fused ops against their readable references (one generic property over every registered fused op),
 * the fused MLP against central finite differences, explain's expansion, and the kernel table.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BufferArena, explain, fusedOps, referenceOn, gradcheck, leakyRelu, linear, MLP_KERNELS, mlp, relu, sum, mul, tanh, tensor, Tensor, type MlpActivation, type MlpLayer } from '../../src/autograd/index.ts';
import { Rng } from '../../src/rng/rng.ts';
import { LeakyReLU, Linear, ReLU, Sequential, Tanh } from '../../src/nn/index.ts';
// The flows' fused ops (the spline) register themselves on import: the generic test covers them too.
import { splineParamCount } from '../../src/flow/spline.ts';
import '../../src/flow/post-coupling.ts';
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

// ---------------------------------------------------------------------------------------------------
// The generic test: every op defined with a `reference` (fusedOps()) against that reference.

/** A value away from 0 (no relu kink near a random pre-activation), from a seeded generator. */
function away(rng: Rng): number {
  return (rng.uniform() < 0.5 ? -1 : 1) * (0.2 + rng.uniform());
}

function leafOf(rng: Rng, r: number, c: number): Tensor {
  const t = Tensor.zeros(r, c, { requiresGrad: true });
  for (let i = 0; i < t.size; i++) t.data[i] = away(rng);
  return t;
}

/**
 * Random arguments for each fused op, by name: random shapes from the seed. A fused op without an entry
 * fails the test below, so a new fused kernel cannot skip the comparison.
 */
const FUSED_ARGS: Record<string, (rng: Rng) => unknown[]> = {
  linear: (rng) => {
    const n = 1 + Math.floor(rng.uniform() * 7), nIn = 1 + Math.floor(rng.uniform() * 6), nOut = 1 + Math.floor(rng.uniform() * 70);
    return [leafOf(rng, n, nIn), leafOf(rng, nOut, nIn), rng.uniform() < 0.7 ? leafOf(rng, 1, nOut) : null];
  },
  mlp: (rng) => {
    // half the cases in the shape of the 1→H→1 kernel (so every table entry is exercised), half general
    const depth = rng.uniform() < 0.5 ? 2 : 1 + Math.floor(rng.uniform() * 3);
    const widths = [rng.uniform() < 0.5 ? 1 : 1 + Math.floor(rng.uniform() * 5)];
    for (let l = 1; l < depth; l++) widths.push(1 + Math.floor(rng.uniform() * 70));
    widths.push(rng.uniform() < 0.5 ? 1 : 1 + Math.floor(rng.uniform() * 5));
    const n = 1 + Math.floor(rng.uniform() * 9);
    const layers: MlpLayer[] = [];
    for (let l = 0; l + 1 < widths.length; l++) {
      layers.push({ weight: leafOf(rng, widths[l + 1]!, widths[l]!), bias: rng.uniform() < 0.8 ? leafOf(rng, 1, widths[l + 1]!) : null, activation: ACTIVATIONS[Math.floor(rng.uniform() * ACTIVATIONS.length)]! });
    }
    const x = leafOf(rng, n, widths[0]!);
    // every kernel that applies, or the general loop
    const kernels = ['general', ...MLP_KERNELS.filter((k) => k.applies(x, layers)).map((k) => k.name)];
    return [x, layers, kernels[Math.floor(rng.uniform() * kernels.length)]];
  },
  // x (or y) across [−B − 1, B + 1], so tails and bins are both hit; logits in ±1 (the inverse's
  // reference differentiates through √(b² − 4ac), which amplifies rounding for larger logits)
  postCouplingOutput: (rng) => {
    const n = 1 + Math.floor(rng.uniform() * 7), dim = 2 + Math.floor(rng.uniform() * 6), dimA = 1 + Math.floor(rng.uniform() * (dim - 1));
    return [leafOf(rng, n, dim), leafOf(rng, n, dim - dimA), leafOf(rng, n, dim - dimA), dimA];
  },
  rqSpline: (rng) => splineArgs(rng),
  rqSplineInverse: (rng) => splineArgs(rng),
};

function splineArgs(rng: Rng): unknown[] {
  const bins = 2 + Math.floor(rng.uniform() * 7), bound = 1 + 3 * rng.uniform();
  const n = 1 + Math.floor(rng.uniform() * 6), d = 1 + Math.floor(rng.uniform() * 3);
  const x = Tensor.zeros(n, d, { requiresGrad: true });
  for (let i = 0; i < x.size; i++) x.data[i] = (2 * rng.uniform() - 1) * (bound + 1);
  const shared = rng.uniform() < 0.3;
  const params = Tensor.zeros(shared ? 1 : n, d * splineParamCount(bins), { requiresGrad: true });
  for (let i = 0; i < params.size; i++) params.data[i] = 2 * rng.uniform() - 1;
  return [x, params, { bins, bound }];
}

/** The tensors in args, in order (through arrays and plain objects). */
function tensorsIn(value: unknown): Tensor[] {
  if (value instanceof Tensor) return [value];
  if (Array.isArray(value)) return value.flatMap(tensorsIn);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(tensorsIn);
  return [];
}

test('every registered fused op has random arguments for the generic test', () => {
  assert.equal(fusedOps().map((op) => op.rule.name).sort(), Object.keys(FUSED_ARGS).sort());
});

test('every fused op equals its reference: values and the gradients of all inputs, random shapes, to 1e-12', () => {
  const tol = { rtol: 1e-12, atol: 1e-12 };
  for (const op of fusedOps()) {
    check(fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
      const rng = new Rng(seed);
      const args = FUSED_ARGS[op.rule.name]!(rng);
      const out = op(...args);
      const dOut = Float64Array.from({ length: out.size }, () => away(rng));
      out.backward(dOut.slice());
      const inputs = out.parents;
      assert.equal(inputs, tensorsIn(args), `${op.rule.name}: the node's inputs are the tensors of its arguments`);
      const copies = inputs.map((t) => Tensor.from(t.rows, t.cols, t.data.slice(), { requiresGrad: true }));
      const ref = referenceOn(out, copies);
      assertClose(out.data, ref.data, `${op.rule.name} ${String(args[2] ?? '')}: values`, tol);
      ref.backward(dOut.slice());
      inputs.forEach((t, k) => assertClose(t.grad!, copies[k]!.grad!, `${op.rule.name} ${String(args[2] ?? '')}: gradient of input ${k} (${t.rows}×${t.cols})`, tol));
    }), 150);
  }
});

test('mlp with layers of 64 and more (products on the panel path, edge tiles included) equals its reference to 1e-12, values and gradients', () => {
  const tol = { rtol: 1e-12, atol: 1e-12 };
  const rng = new Rng(11);
  for (const activations of [[{ leakyRelu: 0.01 }, 'tanh', 'identity'], ['tanh', 'relu', { leakyRelu: 0.2 }]] as MlpActivation[][]) {
    const widths = [66, 65, 67, 64];
    const layers: MlpLayer[] = activations.map((activation, l) => ({ weight: leafOf(rng, widths[l + 1]!, widths[l]!), bias: leafOf(rng, 1, widths[l + 1]!), activation }));
    const x = leafOf(rng, 70, widths[0]!);
    const out = mlp(x, layers, 'general');
    const dOut = Float64Array.from({ length: out.size }, () => away(rng));
    out.backward(dOut.slice());
    const copies = out.parents.map((t) => Tensor.from(t.rows, t.cols, t.data.slice(), { requiresGrad: true }));
    const ref = referenceOn(out, copies);
    assertClose(out.data, ref.data, `mlp ${JSON.stringify(activations)}: values`, tol);
    ref.backward(dOut.slice());
    out.parents.forEach((t, k) => assertClose(t.grad!, copies[k]!.grad!, `mlp ${JSON.stringify(activations)}: gradient of input ${k} (${t.rows}×${t.cols})`, tol));
  }
});

test('explain with expand shows the linear and leakyRelu nodes inside a fused mlp, with their gradient norms', () => {
  const rng = new Rng(3);
  const net = new Sequential(new Linear(1, 4, { rng }), new LeakyReLU(0.01), new Linear(4, 1, { rng }), new LeakyReLU(0.01));
  const y = sum(net.forward(tensor([[0.5], [-1], [2]])));
  y.backward();
  const plain = explain(y), expanded = explain(y, { expand: true });
  assert.not.match(plain, 'reference of');
  const lines = expanded.split('\n');
  const at = lines.findIndex((l) => l.includes('reference of') && l.includes('mlp'));
  assert.ok(at > 0, expanded);
  const inside = lines.slice(at + 1).filter((l) => l.startsWith('    #'));
  assert.equal(inside.map((l) => l.split(' ').filter(Boolean)[1]), ['linear', 'leakyRelu', 'linear', 'leakyRelu'], expanded);
  for (const l of inside) assert.match(l, /\|∇\| = \d/, l);
  // the reference nodes' inputs are the fused node's own inputs (#0 is x, #1.. the weights)
  assert.match(inside[0]!, /← #\d+, #\d+, #\d+/);
  // the reference is rebuilt on copies: the real weights' gradients are not touched by explain
  const before = net.parameters().map((p) => Array.from(p.grad!));
  explain(y, { expand: true });
  assert.equal(net.parameters().map((p) => Array.from(p.grad!)), before);
  assert.throws(() => explain(y, { expnad: true } as never), /unknown option "expnad" \(did you mean "expand"\?\)/);
});

test('the kernel table: every entry names its benchmark; a forced kernel that does not apply is refused', () => {
  for (const k of MLP_KERNELS) {
    assert.ok(k.when.length > 0 && /npm run bench/.test(k.measured), `${k.name} justifies itself with a benchmark`);
  }
  const rng = new Rng(1);
  const x = leafOf(rng, 3, 2);
  const layers: MlpLayer[] = [{ weight: leafOf(rng, 4, 2), bias: null, activation: 'relu' }, { weight: leafOf(rng, 1, 4), bias: null, activation: 'identity' }];
  assert.throws(() => mlp(x, layers, 'stream-1-H-1'), /kernel stream-1-H-1 needs two layers 1→H→1/);
  assert.throws(() => mlp(x, layers, 'fast'), /unknown kernel "fast"/);
});

test.run();
