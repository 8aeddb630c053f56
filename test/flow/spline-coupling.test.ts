/**
 * The rational-quadratic spline coupling (Durkan et al., Neural Spline Flows, 2019), data -> latent:
 * y_A = x_A, y_B = RQS(x_B; θ(x_A, c)), log|det J| = Σ log RQS'.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { add, ShapeError, sum, Tensor, tensor } from '../../src/autograd/index.ts';
import { Rng } from '../../src/rng/rng.ts';
import { Chain, ContextError, type Bijection } from '../../src/flow/bijection.ts';
import { checkBijection } from '../../src/flow/check.ts';
import { Permutation } from '../../src/flow/permutation.ts';
import { SplineCoupling } from '../../src/flow/spline-coupling.ts';
import { splineParamCount } from '../../src/flow/spline.ts';
import { Linear } from '../../src/nn/layers.ts';
import { StandardNormal } from '../../src/flow/base.ts';
import { nll } from '../../src/flow/real-nvp.ts';
import { twoMoons } from '../../src/data/rings.ts';
import { fit } from '../../src/train/fit.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';
import { check, fc } from '../helpers/fc.ts';
import { anyActivation, flowRuns, mask, seed, smoothActivation } from './helpers/arb.ts';
import { independentLogDetError, perturbParameters, randomRows } from './helpers/jacobian.ts';

const couplingCase = fc.integer({ min: 2, max: 6 }).chain((dim) =>
  fc.record({
    dim: fc.constant(dim),
    mask: mask(dim),
    invertMask: fc.boolean(),
    bins: fc.integer({ min: 1, max: 10 }),
    bound: fc.double({ min: 1, max: 5, noNaN: true }),
    hidden: fc.integer({ min: 1, max: 12 }),
    depth: fc.integer({ min: 1, max: 2 }),
    seed,
  }),
);

test('a hand-built coupling applies the spline its conditioner gives to x_B and passes x_A through', () => {
  // dim 2, A = [0], B = [1]; a linear conditioner with zero weight: the logits are its bias, whatever x_A
  const K = 2, net = new Linear(1, splineParamCount(K), { rng: new Rng(0) });
  net.weight.data.fill(0);
  net.bias!.data.set([0, 0, Math.log(3), 0, 0]);
  const layer = new SplineCoupling({ dim: 2, bins: K, bound: 1, minBinWidth: 0, minBinHeight: 0, net });
  // the hand-worked bin of spline.test.ts: −0.5 -> −0.25 with slope 1.8
  const [y, ld] = layer.forward(tensor([[7, -0.5]]));
  assertClose(y.toArray(), [[7, -0.25]], 'y', { rtol: 1e-14 });
  assertClose(ld.item(), Math.log(1.8), 'log-det', { rtol: 1e-14 });
  const [x, ldInv] = layer.inverse(y);
  assertClose(x.toArray(), [[7, -0.5]], 'inverse', { rtol: 1e-14 });
  assertClose(ldInv.item(), -Math.log(1.8), 'inverse log-det', { rtol: 1e-14 });
});

test('a fresh default coupling is the identity to rounding (zero logits: uniform bins, unit slopes), for every mask, K and B', () => {
  check(
    fc.property(couplingCase, fc.constantFrom(1, 7), (c, n) => {
      const layer = new SplineCoupling({ dim: c.dim, mask: c.mask, invertMask: c.invertMask, bins: c.bins, bound: c.bound, hidden: c.hidden, depth: c.depth, rng: new Rng(c.seed) });
      const x = randomRows(new Rng(c.seed + 1), n, c.dim, 2);
      const [z, ld] = layer.forward(tensor(x));
      assertClose(z.toArray(), x, 'forward', { rtol: 1e-14, atol: 1e-14 });
      assert.ok(ld.data.every((v) => Math.abs(v) < 1e-13), `log-det ${Array.from(ld.data)}`);
      const [back, ldInv] = layer.inverse(tensor(x));
      assertClose(back.toArray(), x, 'inverse', { rtol: 1e-14, atol: 1e-14 });
      assert.ok(ldInv.data.every((v) => Math.abs(v) < 1e-13));
    }),
    flowRuns(50),
  );
});

test('with randomised weights a coupling round-trips, its log-dets cancel, and its log-det matches the numerical Jacobian', () => {
  check(
    fc.property(couplingCase, anyActivation, (c, activation) => {
      const rng = new Rng(c.seed);
      const layer = new SplineCoupling({ dim: c.dim, mask: c.mask, invertMask: c.invertMask, bins: c.bins, bound: c.bound, hidden: c.hidden, depth: c.depth, activation, rng });
      // N(0, 0.3²) on every parameter: logits of order 1, a real warp, with points inside and outside [−B, B].
      // The log-det is held to the numerical Jacobian at 1e-5 with h = 1e-5, not 1e-6 with h = 1e-6: in a
      // flat bin (slopes of 1e-5 occur) the rounding of y over h puts central differences off by
      // ε|y|/(h·y'), 6e-5 at h = 1e-6 in one case found, growing as h shrinks; in a narrow bin the
      // curvature error h²y'''/6y' ~ h²/w² grows with h. The exact check is the QR log-det of the
      // autodiff Jacobian in the next test. Points N(0, 1.5²): inside and, for small B, in the tails.
      const report = checkBijection(layer, { rng, perturb: 0.3, eps: 1e-5, tolerance: { logDet: 1e-5 } });
      assert.ok(report.ok, report.summary);
      assert.ok(report.roundTripForward <= 1e-9 && report.roundTripInverse <= 1e-9);
    }),
    flowRuns(50),
  );
});

test('a chain of spline couplings with random masks and permutations: autodiff Jacobian, central differences and QR log-det agree with the log-det', () => {
  const chainCase = fc.integer({ min: 2, max: 6 }).chain((dim) =>
    fc.record({ dim: fc.constant(dim), masks: fc.array(mask(dim), { minLength: 1, maxLength: 4 }), bins: fc.integer({ min: 2, max: 8 }), hidden: fc.integer({ min: 1, max: 12 }), activation: smoothActivation, seed }),
  );
  check(
    fc.property(chainCase, (c) => {
      const rng = new Rng(c.seed);
      const steps: Bijection[] = [];
      for (const m of c.masks) {
        steps.push(new SplineCoupling({ dim: c.dim, mask: m, bins: c.bins, hidden: c.hidden, activation: c.activation, rng }));
        steps.push(Permutation.random(c.dim, rng));
      }
      const chain = new Chain(steps);
      perturbParameters(chain, rng, 0.5);
      const { jacobianError, logDetError } = independentLogDetError(chain, randomRows(rng, 4, c.dim, 1.5));
      assert.ok(jacobianError <= 1e-5, `Jacobian: autodiff vs central differences ${jacobianError}`);
      assert.ok(logDetError <= 1e-8, `log-det vs QR of the Jacobian ${logDetError}`);
    }),
    flowRuns(30),
  );
});

test('rows far outside [−B, B] pass through the transformed features unchanged, with finite gradients for every parameter', () => {
  const rng = new Rng(4);
  const layer = new SplineCoupling({ dim: 3, bins: 6, bound: 2, rng });
  perturbParameters(layer, rng, 0.5);
  const x = tensor([[0.3, 1e6, -1e6], [-1e6, 5, 0.2], [0.1, 0.4, -0.7]], { requiresGrad: true });
  const [y, ld] = layer.forward(x);
  assert.equal([y.data[1], y.data[2]], [1e6, -1e6], 'transformed features in the tails are the identity');
  assert.is(ld.data[0], 0);
  add(sum(y), sum(ld)).backward();
  for (const [name, p] of layer.namedParameters()) assert.ok(p.grad !== null && p.grad.every(Number.isFinite), `${name}: finite gradient`);
  assert.ok(x.grad!.every(Number.isFinite));
});

test('the state dict holds the conditioner; a coupling loaded from it computes bit-identical outputs', () => {
  const a = new SplineCoupling({ dim: 4, mask: 'alternating', bins: 5, bound: 2.5, hidden: 7, depth: 2, rng: new Rng(1) });
  perturbParameters(a, new Rng(2), 0.4);
  const state = a.stateDict();
  assert.equal(Object.keys(state), ['net.0.weight', 'net.0.bias', 'net.2.weight', 'net.2.bias', 'net.4.weight', 'net.4.bias']);
  assert.equal([state['net.4.weight']!.rows, state['net.4.weight']!.cols], [2 * splineParamCount(5), 7]);
  const b = new SplineCoupling({ dim: 4, mask: 'alternating', bins: 5, bound: 2.5, hidden: 7, depth: 2, rng: new Rng(99) });
  b.loadStateDict(state);
  const x = tensor(randomRows(new Rng(3), 5, 4, 2));
  const [ya, la] = a.forward(x), [yb, lb] = b.forward(x);
  assert.equal(Array.from(yb.data), Array.from(ya.data));
  assert.equal(Array.from(lb.data), Array.from(la.data));
  assert.equal(Array.from(b.inverse(ya)[0].data), Array.from(a.inverse(ya)[0].data));
});

test('same seed, bit-identical coupling', () => {
  const make = () => new SplineCoupling({ dim: 3, bins: 4, zeroInit: false, rng: new Rng(11) });
  const x = tensor(randomRows(new Rng(12), 4, 3));
  assert.equal(Array.from(make().forward(x)[0].data), Array.from(make().forward(x)[0].data));
});

test('a chain of spline couplings trains on two moons: the NLL falls, nothing goes non-finite, and the same seed gives the same weights', () => {
  const train = () => {
    const rng = new Rng(21);
    const data = twoMoons.sample(256, rng.fork());
    const steps: Bijection[] = [];
    for (let l = 0; l < 3; l++) steps.push(new SplineCoupling({ dim: 2, bins: 6, hidden: 16, rng }), Permutation.reverse(2));
    const chain = new Chain(steps);
    const base = new StandardNormal(2);
    const logProb = (x: Tensor) => {
      const [z, logDet] = chain.forward(x);
      return add(base.logProb(z), logDet);
    };
    const model = Object.assign(chain, { logProb });
    const before = nll(model, data).item();
    const history = fit(model, data, { epochs: 15, batchSize: 64, lr: 5e-3, rng: rng.fork() });
    return { before, after: nll(model, data).item(), history, weights: chain.parameters().flatMap((p) => Array.from(p.data)) };
  };
  const a = train(), b = train();
  assert.ok(a.after < a.before - 0.3, `NLL ${a.before} -> ${a.after}`);
  assert.ok(a.history.trainLoss.every(Number.isFinite));
  assert.equal(a.weights, b.weights);
});

// ---------------------------------------------------------------------------------------------------
// Conditional.

test('a conditional SplineCoupling passes checkBijection at a fixed context, and its context gradient matches central differences', () => {
  check(
    fc.property(fc.integer({ min: 2, max: 5 }).chain((dim) => fc.record({ dim: fc.constant(dim), mask: mask(dim), contextDim: fc.integer({ min: 1, max: 4 }), bins: fc.integer({ min: 2, max: 8 }), activation: smoothActivation, depth: fc.integer({ min: 1, max: 2 }), seed })), (c) => {
      const rng = new Rng(c.seed);
      const layer = new SplineCoupling({ dim: c.dim, mask: c.mask, contextDim: c.contextDim, bins: c.bins, activation: c.activation, depth: c.depth, hidden: 6, rng });
      const report = checkBijection(layer, { rng, perturb: 0.3, eps: 1e-5, tolerance: { logDet: 1e-5 } });
      assert.ok(report.ok, report.summary);
      assert.ok(report.contextSensitivity > 0, 'the output depends on the context');
    }),
    flowRuns(40),
  );
});

test('a fresh conditional coupling is the identity whatever the context; a context changes a trained one', () => {
  const rng = new Rng(5);
  const layer = new SplineCoupling({ dim: 2, contextDim: 3, rng });
  const x = tensor([[0.5, -1.2], [2, 0.3]]);
  const ctx = tensor([[1, 2, 3], [-1, 0, 4]]);
  assertClose(layer.forward(x, ctx)[0].toArray(), x.toArray(), 'identity at init', { atol: 1e-14 });
  perturbParameters(layer, rng, 0.5);
  const other = tensor([[0, 0, 0], [0, 0, 0]]);
  assert.not.equal(Array.from(layer.forward(x, ctx)[0].data), Array.from(layer.forward(x, other)[0].data));
  assertClose(layer.inverse(layer.forward(x, ctx)[0], ctx)[0].toArray(), x.toArray(), 'round trip at a context', { atol: 1e-12 });
});

// ---------------------------------------------------------------------------------------------------
// Errors.

test('bad options, a conditioner of the wrong width, inputs and contexts of the wrong shape are refused with typed errors', () => {
  const rng = new Rng(0);
  assertThrows(() => new SplineCoupling({ dim: 2, bnis: 4, rng } as never), ['SplineCoupling: unknown option "bnis" (did you mean "bins"?)'], TypeError);
  assertThrows(() => new SplineCoupling({ dim: 2 }), ['pass { rng }'], TypeError);
  assertThrows(() => new SplineCoupling({ dim: 2, bins: 0, rng }), ['bins must be a positive integer'], RangeError);
  assertThrows(() => new SplineCoupling({ dim: 2, bound: 0, rng }), ['bound must be a positive finite number'], RangeError);
  assertThrows(() => new SplineCoupling({ dim: 1, rng }), ['dim must be an integer >= 2'], RangeError);
  const wrong = new SplineCoupling({ dim: 2, bins: 4, net: new Linear(1, 5, { rng }) });
  assertThrows(() => wrong.forward(tensor([[0, 0]])), ['SplineCoupling: the conditioner must map 1×1 to 1×11', 'got 1×5'], ShapeError);
  const layer = new SplineCoupling({ dim: 3, rng });
  assertThrows(() => layer.forward(tensor([[0, 0]])), ['SplineCoupling.forward', 'n×3', '1×2'], ShapeError);
  assertThrows(() => layer.inverse(tensor([[0, 0, 0]]), Tensor.zeros(1, 2)), ['SplineCoupling.inverse: got a context'], ContextError);
  const cond = new SplineCoupling({ dim: 3, contextDim: 2, rng });
  assertThrows(() => cond.forward(tensor([[0, 0, 0]])), ['SplineCoupling.forward: this bijection is conditional (contextDim 2)'], ContextError);
  assertThrows(() => cond.forward(tensor([[0, 0, 0]]), Tensor.zeros(1, 3)), ['1×2', 'got 1×3'], ShapeError);
  assert.is(cond.describe(), 'SplineCoupling(dim=3, A=[0], context=2, bins=8, bound=3)');
});

test.run();
