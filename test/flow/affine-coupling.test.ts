/**
 * The affine coupling (Dinh et al., Real NVP, 2017), paper convention, data -> latent:
 * y_A = x_A, y_B = x_B·exp(s(x_A)) + t(x_A), log|det J| = Σ s, with the log-scale bounded by 'exp'
 * (not at all), 'tanh' (c·tanh a) or 'softclamp' (a / (1 + |a|/B)).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ShapeError, sum, Tensor, tensor } from '../../src/autograd/index.ts';
import { Rng } from '../../src/rng/rng.ts';
import { AffineCoupling, type ScaleMode } from '../../src/flow/affine-coupling.ts';
import { Chain, type Bijection } from '../../src/flow/bijection.ts';
import { checkBijection } from '../../src/flow/check.ts';
import { Permutation } from '../../src/flow/permutation.ts';
import { Linear, MLP } from '../../src/nn/layers.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';
import { check, fc } from '../helpers/fc.ts';
import { anyActivation, flowRuns, mask, scaleMode, seed, smoothActivation } from './helpers/arb.ts';
import { independentLogDetError, perturbParameters, randomRows } from './helpers/jacobian.ts';

/** A coupling on d = 2 (A = [0], B = [1]) with a(x) = 0.5·x₀ + 0.1 and t(x) = 2·x₀ - 1. */
function handCoupling(scale: ScaleMode, bound?: number): AffineCoupling {
  const rng = new Rng(0);
  const scaleNet = new Linear(1, 1, { rng }), shiftNet = new Linear(1, 1, { rng });
  scaleNet.weight.data[0] = 0.5;
  scaleNet.bias!.data[0] = 0.1;
  shiftNet.weight.data[0] = 2;
  shiftNet.bias!.data[0] = -1;
  return new AffineCoupling({ dim: 2, scaleNet, shiftNet, scale, ...(bound === undefined ? {} : { bound }) });
}

// ---------------------------------------------------------------------------------------------------
// Hand-worked examples.

test('each scale mode computes y_B = x_B·exp(s) + t with its own s, and log|det| = s', () => {
  // x = (2, 3): a = 0.5·2 + 0.1 = 1.1, t = 2·2 - 1 = 3
  const expected: [ScaleMode, number][] = [
    ['exp', 1.1],
    ['tanh', Math.tanh(1.1)], // c = 1 at the start
    ['softclamp', 1.1 / (1 + 1.1 / 3)],
  ];
  for (const [mode, s] of expected) {
    const layer = handCoupling(mode);
    const [y, ld] = layer.forward(tensor([[2, 3]]));
    assertClose(y.toArray(), [[2, 3 * Math.exp(s) + 3]], `${mode}: y`, { rtol: 1e-15 });
    assertClose(ld.item(), s, `${mode}: log-det`, { rtol: 1e-15 });
    const [x, ldInv] = layer.inverse(y);
    assertClose(x.toArray(), [[2, 3]], `${mode}: inverse`, { rtol: 1e-14 });
    assertClose(ldInv.item(), -s, `${mode}: inverse log-det`, { rtol: 1e-15 });
  }
});

test('the soft clamp bounds the log-scale by B, with slope 1 at 0', () => {
  const layer = handCoupling('softclamp', 2);
  // a huge raw log-scale: s = a / (1 + |a|/2) -> 2
  (layer.scaleNet as Linear).weight.data[0] = 1e6;
  const [, ld] = layer.forward(tensor([[10, 1], [-10, 1]]));
  assert.ok(ld.data[0]! < 2 && ld.data[0]! > 1.9999, `s = ${ld.data[0]} just under B = 2`);
  assert.ok(ld.data[1]! > -2 && ld.data[1]! < -1.9999, `s = ${ld.data[1]} just above -B`);
  // near a = 0 the clamp is the identity to first order
  (layer.scaleNet as Linear).weight.data[0] = 0;
  (layer.scaleNet as Linear).bias!.data[0] = 1e-6;
  const [, small] = layer.forward(tensor([[0, 1]]));
  assertClose(small.item(), 1e-6, 's ≈ a for small a', { rtol: 1e-6 });
  assertThrows(() => handCoupling('softclamp', 0), ['bound must be a positive finite number, got 0'], RangeError);
});

test("the 'tanh' mode learns a factor c per transformed feature, and |s| ≤ |c|", () => {
  const layer = new AffineCoupling({ dim: 5, scale: 'tanh', hidden: 4, rng: new Rng(1) });
  assert.equal(layer.scaleFactor!.shape, [1, 3], '|B| = 3');
  assert.ok(layer.namedParameters().some(([n]) => n === 'scaleFactor'));
  perturbParameters(layer, new Rng(2), 3); // large raw log-scales
  layer.scaleFactor!.data.set([0.5, -2, 1]);
  const [, ld] = layer.forward(tensor(randomRows(new Rng(3), 20, 5, 3)));
  for (const v of ld.data) assert.ok(Math.abs(v) <= 3.5, `|Σ s| = ${Math.abs(v)} <= Σ|c| = 3.5`);
  sum(ld).backward();
  assert.ok(layer.scaleFactor!.grad !== null && layer.scaleFactor!.grad.some((g) => g !== 0), 'c receives a gradient');
  assert.is(new AffineCoupling({ dim: 2, rng: new Rng(0) }).scaleFactor, null, 'no factor in the other modes');
});

test('non-contiguous masks transform exactly the B features and keep every column in place', () => {
  const rng = new Rng(5);
  const layer = new AffineCoupling({ dim: 5, mask: [false, true, false, true, false], hidden: 6, rng });
  perturbParameters(layer, rng, 0.5);
  const x = tensor(randomRows(rng, 3, 5));
  const [y] = layer.forward(x);
  for (let i = 0; i < 3; i++) {
    for (const j of [1, 3]) assert.is(y.data[i * 5 + j], x.data[i * 5 + j], `A feature ${j} passes through unchanged`);
    for (const j of [0, 2, 4]) assert.is.not(y.data[i * 5 + j], x.data[i * 5 + j], `B feature ${j} is transformed`);
  }
  // the conditioner sees only the A features: changing a B feature changes only that feature
  const x2 = x.toArray();
  x2[0]![2]! += 1;
  const [y2] = layer.forward(tensor(x2));
  for (const j of [0, 1, 3, 4]) assert.is(y2.data[j], y.data[j]);
});

// ---------------------------------------------------------------------------------------------------
// Properties.

const couplingCase = fc.integer({ min: 2, max: 8 }).chain((dim) =>
  fc.record({
    dim: fc.constant(dim),
    mask: mask(dim),
    invertMask: fc.boolean(),
    hidden: fc.integer({ min: 1, max: 16 }),
    depth: fc.integer({ min: 1, max: 3 }),
    scale: scaleMode,
    seed,
  }),
);

test('a fresh default coupling is exactly the identity, for every mode and mask', () => {
  check(
    fc.property(couplingCase, fc.constantFrom(1, 7), (c, n) => {
      const layer = new AffineCoupling({ dim: c.dim, mask: c.mask, invertMask: c.invertMask, hidden: c.hidden, depth: c.depth, scale: c.scale, rng: new Rng(c.seed) });
      const x = tensor(randomRows(new Rng(c.seed + 1), n, c.dim, 2));
      const [z, ld] = layer.forward(x);
      assert.equal(z.toArray(), x.toArray());
      assert.ok(ld.data.every((v) => v === 0), 'log-det exactly 0');
      const [back, ldInv] = layer.inverse(x);
      assert.equal(back.toArray(), x.toArray());
      assert.ok(ldInv.data.every((v) => v === 0));
    }),
    flowRuns(50),
  );
});

test('with randomised weights a coupling round-trips, its log-dets cancel, and its log-det matches the numerical Jacobian', () => {
  check(
    fc.property(couplingCase, anyActivation, (c, activation) => {
      const rng = new Rng(c.seed);
      const layer = new AffineCoupling({ dim: c.dim, mask: c.mask, invertMask: c.invertMask, hidden: c.hidden, depth: c.depth, scale: c.scale, activation, rng });
      // perturb: N(0, 0.3²) noise on every parameter, zero-initialised last layer included
      const report = checkBijection(layer, { rng, perturb: 0.3 });
      assert.ok(report.ok, report.summary);
      assert.ok(report.roundTripForward <= 1e-9 && report.roundTripInverse <= 1e-9);
      assert.ok(report.logDetVsJacobian <= 1e-6);
    }),
    flowRuns(50),
  );
});

test('a chain of couplings with random masks and permutations: autodiff Jacobian, central differences and QR log-det agree with the log-det', () => {
  // an independent computation: the Jacobian by backward passes and by central differences, its
  // log |det| by Gram–Schmidt QR, all written in test/flow/helpers/jacobian.ts
  const chainCase = fc.integer({ min: 2, max: 8 }).chain((dim) =>
    fc.record({
      dim: fc.constant(dim),
      masks: fc.array(mask(dim), { minLength: 1, maxLength: 4 }),
      hidden: fc.integer({ min: 1, max: 16 }),
      scale: scaleMode,
      activation: smoothActivation,
      seed,
    }),
  );
  check(
    fc.property(chainCase, (c) => {
      const rng = new Rng(c.seed);
      const steps: Bijection[] = [];
      for (const m of c.masks) {
        steps.push(new AffineCoupling({ dim: c.dim, mask: m, hidden: c.hidden, depth: 1, scale: c.scale, activation: c.activation, rng }));
        steps.push(Permutation.random(c.dim, rng));
      }
      const chain = new Chain(steps);
      perturbParameters(chain, rng, 0.3);
      const x = randomRows(rng, 4, c.dim, 1.5);
      const { jacobianError, logDetError } = independentLogDetError(chain, x);
      assert.ok(jacobianError <= 1e-6, `autodiff vs central differences: ${jacobianError}`);
      assert.ok(logDetError <= 1e-9, `log-det vs QR of the autodiff Jacobian: ${logDetError}`);
      // and the chain is far from volume-preserving, so the comparison has teeth
      const ld = chain.forward(tensor(x))[1].data;
      assert.ok(ld.some((v) => Math.abs(v) > 1e-3), `log-dets ${Array.from(ld)}`);
    }),
    flowRuns(40),
  );
});

// ---------------------------------------------------------------------------------------------------
// Errors.

test('d < 2, an empty part, an invalid scale mode, a missing rng and conflicting nets are refused', () => {
  const rng = new Rng(0);
  assertThrows(() => new AffineCoupling({ dim: 1, rng }), ['dim must be an integer >= 2', 'got 1'], RangeError);
  assertThrows(() => new AffineCoupling({ dim: 3, mask: [true, true, true], rng }), ['leaves no feature to transform'], RangeError);
  assertThrows(() => new AffineCoupling({ dim: 3, mask: [false, false, false], rng }), ['leaves no feature to condition on'], RangeError);
  assertThrows(() => new AffineCoupling({ dim: 2, scale: 'sigmoid' as never, rng }), ["scale must be 'exp', 'tanh' or 'softclamp', got sigmoid"], RangeError);
  assertThrows(() => new AffineCoupling({ dim: 2 }), ['AffineCoupling: pass { rng }'], TypeError);
  assertThrows(() => new AffineCoupling({ dim: 2, depth: 0, rng }), ['depth must be a positive integer, got 0'], RangeError);
  const lin = () => new Linear(1, 1, { rng });
  assertThrows(() => new AffineCoupling({ dim: 2, scaleNet: lin() }), ['give both scaleNet and shiftNet, or neither'], TypeError);
  assertThrows(() => new AffineCoupling({ dim: 2, net: new MLP([1, 2], { rng }), scaleNet: lin(), shiftNet: lin() }), ['give either net or scaleNet/shiftNet, not both'], TypeError);
});

test('a conditioner of the wrong output width and an input of the wrong width are ShapeErrors with shapes', () => {
  const rng = new Rng(0);
  const layer = new AffineCoupling({ dim: 3, net: new MLP([1, 4, 3], { rng }) }); // needs 2·|B| = 4 outputs
  assertThrows(() => layer.forward(Tensor.zeros(2, 3)), ['the conditioner must map 2×1 to 2×4', 'got 2×3'], ShapeError);
  const split = new AffineCoupling({ dim: 3, scaleNet: new Linear(1, 2, { rng }), shiftNet: new Linear(1, 1, { rng }) });
  assertThrows(() => split.forward(Tensor.zeros(2, 3)), ['shiftNet must map 2×1 to 2×2, got 2×1'], ShapeError);
  const ok = new AffineCoupling({ dim: 3, rng });
  assertThrows(() => ok.forward(Tensor.zeros(5, 4)), ['AffineCoupling.forward: expected input with 3 columns (n×3), got 5×4'], ShapeError);
  assertThrows(() => ok.inverse(Tensor.zeros(5, 2)), ['AffineCoupling.inverse', 'got 5×2'], ShapeError);
});

test.run();
