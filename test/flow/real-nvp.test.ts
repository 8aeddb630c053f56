/**
 * RealNVP: a bijection with randomised weights in every configuration, a density that integrates to
 * one (in the data's own units with Standardize), the identity at initialisation, rebuilding from its
 * config, sampling, the layer-by-layer traces, and its errors.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mean, neg, noGrad, ShapeError, Tensor, tensor } from '../../src/autograd/index.ts';
import { Rng } from '../../src/rng/rng.ts';
import { FlowInputError } from '../../src/flow/bijection.ts';
import { checkBijection } from '../../src/flow/check.ts';
import { nll, RealNVP, type RealNVPConfig } from '../../src/flow/real-nvp.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';
import { check, fc } from '../helpers/fc.ts';
import { flowRuns, permutationKind, scaleMode, seed, smoothActivation } from './helpers/arb.ts';
import { independentLogDetError, perturbParameters, randomRows } from './helpers/jacobian.ts';

// ---------------------------------------------------------------------------------------------------
// The bijection properties, over every configuration.

const flowCase = fc.record({
  dim: fc.integer({ min: 2, max: 8 }),
  layers: fc.integer({ min: 1, max: 6 }),
  hidden: fc.integer({ min: 1, max: 16 }),
  depth: fc.integer({ min: 1, max: 2 }),
  scale: scaleMode,
  activation: smoothActivation,
  permutation: permutationKind,
  actNorm: fc.boolean(),
  seed,
});

type FlowCase = typeof flowCase extends fc.Arbitrary<infer T> ? T : never;

function build(c: FlowCase, rng: Rng): RealNVP {
  return new RealNVP({ dim: c.dim, layers: c.layers, hidden: c.hidden, depth: c.depth, scale: c.scale, activation: c.activation, permutation: c.permutation, actNorm: c.actNorm, rng });
}

test('with randomised weights a RealNVP round-trips to 1e-9, its log-dets cancel, and its log-det matches the numerical Jacobian to 1e-6', () => {
  check(
    fc.property(flowCase, (c) => {
      const rng = new Rng(c.seed);
      const flow = build(c, rng);
      // checkBijection adds N(0, 0.3²) to every parameter (ActNorm then initialises from the first batch)
      const report = checkBijection(flow, { rng, perturb: 0.3, tolerance: { roundTrip: 1e-9, logDet: 1e-6 } });
      assert.ok(report.ok, report.summary);
    }),
    flowRuns(40),
  );
});

test('the log-det of a RealNVP with randomised weights and standardisation equals log|det| of its autodiff Jacobian, which matches central differences', () => {
  check(
    fc.property(flowCase, fc.boolean(), (c, standardize) => {
      const rng = new Rng(c.seed);
      const st = standardize ? { mean: randomRows(rng, 1, c.dim)[0]!, std: randomRows(rng, 1, c.dim)[0]!.map((v) => 0.2 + Math.abs(v)) } : false;
      const flow = new RealNVP({ dim: c.dim, layers: c.layers, hidden: c.hidden, depth: c.depth, scale: c.scale, activation: c.activation, permutation: c.permutation, actNorm: c.actNorm, standardize: st, rng });
      perturbParameters(flow, rng, 0.3);
      const x = randomRows(rng, 4, c.dim, 1.5);
      flow.forward(tensor(x)); // initialises the ActNorms, if any, before the Jacobian is taken
      const { jacobianError, logDetError } = independentLogDetError(flow, x);
      assert.ok(jacobianError <= 1e-6, `autodiff vs central differences: ${jacobianError}`);
      assert.ok(logDetError <= 1e-9, `log-det vs QR of the autodiff Jacobian: ${logDetError}`);
    }),
    flowRuns(25),
  );
});

test("nll's gradient matches central differences for every parameter of a small flow", () => {
  const rng = new Rng(17);
  const flow = new RealNVP({ dim: 2, layers: 2, hidden: 3, scale: 'tanh', activation: 'tanh', actNorm: true, standardize: { mean: [1, -1], std: [2, 0.5] }, rng });
  perturbParameters(flow, rng, 0.5);
  const x = tensor(randomRows(rng, 6, 2, 2));
  flow.forward(x); // ActNorm initialisation, once
  flow.zeroGrad();
  nll(flow, x).backward();
  const h = 1e-6;
  let checked = 0;
  for (const [name, p] of flow.namedParameters()) {
    for (let i = 0; i < p.size; i++) {
      const v = p.data[i]!;
      p.data[i] = v + h;
      const up = noGrad(() => nll(flow, x).item());
      p.data[i] = v - h;
      const down = noGrad(() => nll(flow, x).item());
      p.data[i] = v;
      assertClose(p.grad![i]!, (up - down) / (2 * h), `${name}[${i}]`, { rtol: 1e-5, atol: 1e-7 });
      checked++;
    }
  }
  assert.is(checked, flow.parameterCount());
});

test('nll is the mean negative logProb, and logProb = base.logProb(z) + logDet', () => {
  const rng = new Rng(2);
  const flow = new RealNVP({ dim: 3, layers: 3, hidden: 5, rng });
  perturbParameters(flow, rng, 0.3);
  const x = tensor(randomRows(rng, 7, 3));
  const [z, ld] = flow.forward(x);
  const lp = flow.logProb(x);
  assertClose(lp.toArray(), flow.base.logProb(z).toArray().map((r, i) => [r[0]! + ld.data[i]!]), 'logProb', { rtol: 1e-14, atol: 1e-14 });
  assertClose(nll(flow, x).item(), neg(mean(lp)).item(), 'nll', { rtol: 1e-15 });
});

// ---------------------------------------------------------------------------------------------------
// The density integrates to one.

/**
 * ∫ exp(logProb) over a box by the midpoint rule on an n×n grid, evaluated under noGrad in batches;
 * also the L1 distance ∫ |q - N(0, I)| over the same box, to show the density is not the base's.
 */
function integrate(flow: RealNVP, lo: [number, number], hi: [number, number], n: number): { mass: number; l1FromBase: number } {
  const hx = (hi[0] - lo[0]) / n, hy = (hi[1] - lo[1]) / n;
  const batch = 20000;
  let mass = 0, l1 = 0;
  noGrad(() => {
    for (let start = 0; start < n * n; start += batch) {
      const m = Math.min(batch, n * n - start);
      const data = new Float64Array(2 * m);
      for (let k = 0; k < m; k++) {
        const i = Math.floor((start + k) / n), j = (start + k) % n;
        data[2 * k] = lo[0] + (i + 0.5) * hx;
        data[2 * k + 1] = lo[1] + (j + 0.5) * hy;
      }
      const x = Tensor.from(m, 2, data);
      const q = flow.logProb(x).data, p = flow.base.logProb(x).data;
      for (let k = 0; k < m; k++) {
        mass += Math.exp(q[k]!);
        l1 += Math.abs(Math.exp(q[k]!) - Math.exp(p[k]!));
      }
    }
  });
  return { mass: mass * hx * hy, l1FromBase: l1 * hx * hy };
}

/**
 * A 2-D flow of three couplings (one hidden layer of 8, tanh), every weight moved by N(0, 0.3²). The log-
 * scale is bounded by B = 1 per layer so that the mass stays well inside [-8, 8]² (checked when the
 * seeds were chosen: the same integral over [-16, 16]² with 1600² cells differs from 1 by < 1e-11, the
 * one over [-8, 8]² below by < 1e-7).
 */
function warpedFlow(scale: 'exp' | 'tanh' | 'softclamp', seedValue: number, standardize?: { mean: number[]; std: number[] }): RealNVP {
  const rng = new Rng(seedValue);
  const flow = new RealNVP({ dim: 2, layers: 3, hidden: 8, depth: 1, scale, bound: 1, activation: 'tanh', rng, ...(standardize ? { standardize } : {}) });
  perturbParameters(flow, rng, 0.3);
  return flow;
}

const integrationSeeds = { exp: 6, tanh: 3, softclamp: 6 } as const;

for (const scale of ['exp', 'tanh', 'softclamp'] as const) {
  test(`a 2-D flow with randomised weights ('${scale}') has a density that integrates to 1 ± 1e-3`, () => {
    const flow = warpedFlow(scale, integrationSeeds[scale]);
    const { mass, l1FromBase } = integrate(flow, [-8, -8], [8, 8], 400);
    assert.ok(Math.abs(mass - 1) < 1e-3, `∫ q = ${mass}`);
    assert.ok(l1FromBase > 0.2, `the density is far from the base's (L1 distance ${l1FromBase})`);
  });
}

test('with a Standardize layer the density is in the original units and still integrates to 1 ± 1e-3', () => {
  const mean = [3, -2], std = [2.5, 0.6];
  const inner = warpedFlow('softclamp', integrationSeeds.softclamp);
  const flow = warpedFlow('softclamp', integrationSeeds.softclamp, { mean, std });
  // the same weights: Standardize draws nothing from the generator
  assert.equal(flow.parameters().map((p) => Array.from(p.data)), inner.parameters().map((p) => Array.from(p.data)));
  // log q(x) = log q_inner((x - mean)/std) - Σ log std
  const u = tensor([[0.3, -1], [2, 0.5]]);
  const x = tensor(u.toArray().map((r) => r.map((v, j) => mean[j]! + std[j]! * v)));
  const shift = Math.log(std[0]!) + Math.log(std[1]!);
  assertClose(flow.logProb(x).toArray(), inner.logProb(u).toArray().map((r) => [r[0]! - shift]), 'change of units', { rtol: 1e-12, atol: 1e-12 });
  // the box [-8, 8]² of the inner flow, in original units
  const lo: [number, number] = [mean[0]! - 8 * std[0]!, mean[1]! - 8 * std[1]!];
  const hi: [number, number] = [mean[0]! + 8 * std[0]!, mean[1]! + 8 * std[1]!];
  const { mass } = integrate(flow, lo, hi, 400);
  assert.ok(Math.abs(mass - 1) < 1e-3, `∫ q = ${mass}`);
  // without the Jacobian of the scaling the "density" would integrate to std₀·std₁ = 1.5
  assert.ok(Math.abs(mass * Math.exp(shift) - 1.5) < 2e-3);
});

// ---------------------------------------------------------------------------------------------------
// Initial state.

test('a fresh default RealNVP is exactly the identity: z = x and logDet = 0, in every scale mode', () => {
  const x = tensor(randomRows(new Rng(1), 5, 4, 3));
  for (const scale of ['exp', 'tanh', 'softclamp'] as const) {
    const flow = new RealNVP({ dim: 4, scale, rng: new Rng(2) }); // default: 16 layers, reversal
    const [z, ld] = flow.forward(x);
    assert.equal(z.toArray(), x.toArray(), scale);
    assert.ok(ld.data.every((v) => v === 0), `${scale}: logDet exactly 0`);
    assert.equal(flow.inverse(x)[0].toArray(), x.toArray());
    assert.equal(flow.logProb(x).toArray(), flow.base.logProb(x).toArray());
  }
  // without permutations, any number of fresh layers is the identity
  const none = new RealNVP({ dim: 4, layers: 5, hidden: 3, permutation: 'none', rng: new Rng(0) });
  assert.equal(none.forward(x)[0].toArray(), x.toArray());
});

test('with an odd number of reversals the fresh flow is a pure permutation, still with the base density', () => {
  const flow = new RealNVP({ dim: 3, layers: 3, hidden: 4, rng: new Rng(0) });
  const [z, ld] = flow.forward(tensor([[1, 2, 3]]));
  assert.equal(z.toArray(), [[3, 2, 1]]);
  assert.is(ld.data[0], 0);
});

test('the post preset is not the identity at initialisation', () => {
  const flow = RealNVP.post({ dim: 2, layers: 4, hidden: 8, rng: new Rng(0) });
  const x = tensor([[0.5, -1], [2, 1]]);
  const [z, ld] = flow.forward(x);
  assert.ok(z.data.some((v, i) => Math.abs(v - x.data[i]!) > 1e-3));
  assert.ok(ld.data.some((v) => Math.abs(v) > 1e-3));
});

// ---------------------------------------------------------------------------------------------------
// Rebuilding from the config.

test('RealNVP.fromConfig(flow.config) with loadStateDict(flow.stateDict()) gives identical outputs', () => {
  const rng = new Rng(31);
  const flow = new RealNVP({ dim: 3, layers: 4, hidden: 6, scale: 'tanh', activation: 'softplus', permutation: 'random', actNorm: true, standardize: { mean: [1, 2, 3], std: [0.5, 2, 4] }, rng });
  perturbParameters(flow, rng, 0.3);
  const data = tensor(randomRows(rng, 10, 3, 2));
  flow.forward(data); // initialise the ActNorms
  const config = JSON.parse(JSON.stringify(flow.config)) as RealNVPConfig;
  assert.is(config.permutation, 'random');
  assert.is(config.permutationIndices.length, 4);
  const rebuilt = RealNVP.fromConfig(config);
  rebuilt.loadStateDict(flow.stateDict());
  assert.equal(Array.from(rebuilt.perms[2]!.indices), Array.from(flow.perms[2]!.indices));
  const other = tensor(randomRows(rng, 6, 3, 5)); // a different batch: nothing may re-initialise
  for (const x of [other, data]) {
    assert.equal(rebuilt.forward(x)[0].toArray(), flow.forward(x)[0].toArray());
    assert.equal(rebuilt.forward(x)[1].toArray(), flow.forward(x)[1].toArray());
    assert.equal(rebuilt.logProb(x).toArray(), flow.logProb(x).toArray());
    assert.equal(rebuilt.inverse(x)[0].toArray(), flow.inverse(x)[0].toArray());
  }
  assert.equal(rebuilt.sample(5, new Rng(3)).toArray(), flow.sample(5, new Rng(3)).toArray());
  assert.equal(rebuilt.config, flow.config);
});

test('the post preset also rebuilds from its config, with an odd number of layers', () => {
  const rng = new Rng(4);
  const flow = RealNVP.post({ dim: 5, layers: 3, hidden: 4, allowOddLayers: true, rng });
  const rebuilt = RealNVP.fromConfig(flow.config);
  rebuilt.loadStateDict(flow.stateDict());
  const x = tensor(randomRows(rng, 3, 5));
  assert.equal(rebuilt.logProb(x).toArray(), flow.logProb(x).toArray());
  assertThrows(() => RealNVP.fromConfig({ ...flow.config, preset: 'glow' as never }), ["preset must be 'default' or 'post', got glow"], RangeError);
});

// ---------------------------------------------------------------------------------------------------
// Sampling and traces.

function trainedLooking(): RealNVP {
  const rng = new Rng(8);
  const flow = new RealNVP({ dim: 3, layers: 4, hidden: 6, actNorm: true, standardize: { mean: [0, 5, -5], std: [1, 3, 0.2] }, rng });
  perturbParameters(flow, rng, 0.3);
  flow.forward(tensor(randomRows(rng, 16, 3, 2)));
  return flow;
}

test('sample has shape n×d, records no graph and is deterministic for a seeded Rng', () => {
  const flow = trainedLooking();
  const a = flow.sample(50, new Rng(5));
  assert.equal(a.shape, [50, 3]);
  assert.is(a.requiresGrad, false);
  assert.equal(flow.sample(50, new Rng(5)).toArray(), a.toArray());
  assert.not.equal(flow.sample(50, new Rng(6)).toArray(), a.toArray());
});

test("sampleWithLogProb returns sample's points and their logProb, to 1e-9", () => {
  const flow = trainedLooking();
  const [x, lp] = flow.sampleWithLogProb(40, new Rng(9));
  assert.equal(x.shape, [40, 3]);
  assert.equal(lp.shape, [40, 1]);
  assert.equal(x.toArray(), flow.sample(40, new Rng(9)).toArray());
  assertClose(lp.toArray(), flow.logProb(x).toArray(), 'logProb of the samples', { rtol: 1e-9, atol: 1e-9 });
});

test('trace(z) has one entry per layer and ends at inverse(z); forwardSteps(x) ends at forward(x)', () => {
  const rng = new Rng(10);
  const flow = new RealNVP({ dim: 4, layers: 5, hidden: 6, actNorm: true, permutation: 'random', rng });
  perturbParameters(flow, rng, 0.3);
  const x = tensor(randomRows(rng, 8, 4, 2));
  flow.forward(x);
  const z = tensor(randomRows(rng, 8, 4));
  const steps = flow.trace(z);
  assert.is(steps.length, 5);
  assert.equal(steps.at(-1)!.toArray(), flow.inverse(z)[0].toArray());
  assert.equal(flow.inverseSteps(z).map((t) => t.toArray()), steps.map((t) => t.toArray()));
  const fwd = flow.forwardSteps(x);
  assert.is(fwd.length, 5);
  assert.equal(fwd.at(-1)!.toArray(), flow.forward(x)[0].toArray());
  // each entry of the trace is the forward step read backwards: trace of forward(x) passes through forwardSteps
  const back = flow.trace(flow.forward(x)[0]);
  assertClose(back[1]!.toArray(), fwd[2]!.toArray(), 'trace step 1 = forward step 2', { rtol: 1e-10, atol: 1e-10 });
  assertClose(back[4]!.toArray(), x.toArray(), 'the trace ends at the data', { rtol: 1e-10, atol: 1e-10 });
});

test('with Standardize, trace adds a last entry in original units and forwardSteps a first in standardised units', () => {
  const flow = trainedLooking();
  const z = tensor(randomRows(new Rng(1), 4, 3));
  const steps = flow.trace(z);
  assert.is(steps.length, 5, 'four layers and the standardisation');
  assert.equal(steps.at(-1)!.toArray(), flow.inverse(z)[0].toArray());
  const x = tensor([[0, 5, -5], [1, 8, -4.8]]);
  const fwd = flow.forwardSteps(x);
  assert.is(fwd.length, 5);
  assertClose(fwd[0]!.toArray(), [[0, 0, 0], [1, 1, 1]], 'standardised', { rtol: 1e-12, atol: 1e-12 });
  assert.equal(fwd.at(-1)!.toArray(), flow.forward(x)[0].toArray());
});

test('ActNorm layers inside a RealNVP initialise on the first training forward only', () => {
  const flow = new RealNVP({ dim: 2, layers: 2, hidden: 3, actNorm: true, rng: new Rng(0) });
  flow.eval();
  flow.forward(tensor([[1, 2], [3, 4]]));
  assert.ok(flow.norms.every((n) => !n.initialised), 'not in eval mode');
  flow.train();
  flow.forward(tensor([[1, 2], [3, 5], [0, 0]]));
  assert.ok(flow.norms.every((n) => n.initialised));
});

// ---------------------------------------------------------------------------------------------------
// Errors.

test('an input of the wrong width is a ShapeError naming the shapes, in every entry point', () => {
  const flow = new RealNVP({ dim: 3, layers: 2, hidden: 4, rng: new Rng(0) });
  const bad = Tensor.zeros(2, 5);
  assertThrows(() => flow.forward(bad), ['RealNVP.forward: expected input with 3 columns (n×3), got 2×5'], ShapeError);
  assertThrows(() => flow.inverse(bad), ['RealNVP.inverse', 'got 2×5'], ShapeError);
  assertThrows(() => flow.logProb(bad), ['3 columns', 'got 2×5'], ShapeError);
  assertThrows(() => flow.trace(bad), ['RealNVP.trace', 'got 2×5'], ShapeError);
  assertThrows(() => flow.forwardSteps(bad), ['RealNVP.forwardSteps', 'got 2×5'], ShapeError);
});

test('NaN or infinite input is a FlowInputError naming the row and column', () => {
  const flow = new RealNVP({ dim: 2, layers: 2, hidden: 4, rng: new Rng(0) });
  assertThrows(() => flow.forward(tensor([[0, 1], [2, 3], [4, NaN]])), ['RealNVP.forward: row 2, column 1 is NaN'], FlowInputError);
  assertThrows(() => flow.logProb(tensor([[Infinity, 1]])), ['row 0, column 0 is Infinity'], FlowInputError);
  assertThrows(() => flow.inverse(tensor([[0, 0], [NaN, 0]])), ['RealNVP.inverse: row 1, column 0 is NaN'], FlowInputError);
});

test('bad layer counts, dims, scale modes, permutations, options and missing rng are refused with messages', () => {
  const rng = new Rng(0);
  assertThrows(() => RealNVP.post({ dim: 2, layers: 3, rng }), ['RealNVP.post: layers must be a positive even integer', 'got 3'], RangeError);
  assertThrows(() => new RealNVP({ dim: 2, layers: 0, rng }), ['RealNVP: layers must be a positive integer, got 0'], RangeError);
  assertThrows(() => RealNVP.post({ dim: 2, layers: 0, rng }), ['RealNVP.post: layers must be a positive integer, got 0'], RangeError);
  assertThrows(() => new RealNVP({ dim: 1, rng }), ['RealNVP: dim must be an integer >= 2', 'got 1'], RangeError);
  assertThrows(() => RealNVP.post({ dim: 1, rng }), ['RealNVP.post: dim must be an integer >= 2'], RangeError);
  assertThrows(() => new RealNVP({ dim: 2, hidden: 0, rng }), ['hidden must be a positive integer, got 0'], RangeError);
  assertThrows(() => new RealNVP({ dim: 2, layers: 1, scale: 'relu' as never, rng }), ["scale must be 'exp', 'tanh' or 'softclamp', got relu"], RangeError);
  assertThrows(() => new RealNVP({ dim: 2, permutation: 'shuffle' as never, rng }), ["permutation must be 'swap', 'reverse', 'random' or 'none', got shuffle"], RangeError);
  assertThrows(() => new RealNVP({ dim: 2 } as never), ['RealNVP: pass { rng }'], TypeError);
  assertThrows(() => new RealNVP(null as never), ['RealNVP: options must be an object'], TypeError);
  assertThrows(() => new RealNVP({ dim: 3, layers: 2, permutationIndices: [[0, 1, 2]], rng }), ['permutationIndices has 1 entries for 2 layers'], RangeError);
  assertThrows(() => new RealNVP({ dim: 2, layers: 1, permutationIndices: [[0, 1, 2]], rng }), ['permutationIndices[0] has 3 entries for dim 2'], RangeError);
  assertThrows(() => new RealNVP({ dim: 2, layers: 1, permutationIndices: [[1, 1]], rng }), ['[1, 1] is not a permutation'], RangeError);
  assertThrows(() => new RealNVP({ dim: 2, layers: 1, standardize: { mean: [0, 0, 0], std: [1, 1, 1] }, rng }), ['standardize has 3 features for dim 2'], RangeError);
  assertThrows(() => new RealNVP({ dim: 2, layers: 1, standardize: { mean: [0, 0], std: [1, 0] }, rng }), ['std of feature 1 must be positive'], RangeError);
  assertThrows(() => new RealNVP({ dim: 2, layers: 1, hidden: 2, rng }).reverseAsInPost(Tensor.zeros(1, 2)), ["reverseAsInPost: only for the post's model"], Error);
});

test('forwardSteps does not initialise a fresh ActNorm from the points it is shown, and keeps the mode', () => {
  const flow = new RealNVP({ dim: 2, layers: 2, hidden: 4, actNorm: true, rng: new Rng(21) });
  const x = tensor([[10, -4], [12, 3], [8, 0], [11, 1]]);
  flow.forwardSteps(x);
  assert.not.ok(flow.norms[0]!.initialised, 'still uninitialised');
  assert.equal(Array.from(flow.norms[0]!.bias.data), [0, 0]);
  assert.ok(flow.training, 'back in training mode');
});

test.run();
