/**
 * Conditional flows: every bijection takes an optional context (n×c, one row per row of x). The
 * couplings' conditioners read it beside their half of the features; a RealNVP built with `contextDim`
 * (and optionally an embedding network) gives logProb(θ, x), sample(m, x, rng) (m samples per row of x,
 * in one pass) and sampleWithLogProb. The bijection properties hold at a fixed context, and gradients
 * reach the context and the embedding.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { add, gradcheck, mul, noGrad, ShapeError, sum, Tensor, tensor } from '../../src/autograd/index.ts';
import { Rng } from '../../src/rng/rng.ts';
import { AffineCoupling } from '../../src/flow/affine-coupling.ts';
import { Chain, ContextError, FlowInputError } from '../../src/flow/bijection.ts';
import { checkBijection } from '../../src/flow/check.ts';
import { conditionerInput, conditionerNet } from '../../src/flow/conditioner.ts';
import { gatherRows, repeatRows } from '../../src/autograd/shape.ts';
import { Permutation } from '../../src/flow/permutation.ts';
import { PostCoupling } from '../../src/flow/post-coupling.ts';
import { nll, RealNVP, type RealNVPConfig } from '../../src/flow/real-nvp.ts';
import { DeepSetEmbedding, MLPEmbedding } from '../../src/nn/embedding.ts';
import { Linear } from '../../src/nn/layers.ts';
import { Adam } from '../../src/optim/adam.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';
import { check, fc } from '../helpers/fc.ts';
import { flowRuns, mask, scaleMode, seed, smoothActivation } from './helpers/arb.ts';
import { independentLogDetError, perturbParameters, randomRows } from './helpers/jacobian.ts';

// ---------------------------------------------------------------------------------------------------
// The bijection properties at a fixed context, and the context's gradient.

test('a conditional AffineCoupling passes checkBijection at a fixed context, and its context gradient matches central differences', () => {
  check(
    fc.property(fc.integer({ min: 2, max: 6 }).chain((dim) => fc.record({ dim: fc.constant(dim), mask: mask(dim), contextDim: fc.integer({ min: 1, max: 4 }), scale: scaleMode, activation: smoothActivation, depth: fc.integer({ min: 1, max: 2 }), seed })), (c) => {
      const rng = new Rng(c.seed);
      const layer = new AffineCoupling({ dim: c.dim, mask: c.mask, contextDim: c.contextDim, scale: c.scale, activation: c.activation, depth: c.depth, hidden: 6, rng });
      const report = checkBijection(layer, { rng, perturb: 0.4 });
      assert.ok(report.ok, report.summary);
      assert.ok(report.contextSensitivity > 0);
    }),
    flowRuns(40),
  );
});

test('a conditional PostCoupling and a Chain of conditional couplings and permutations pass checkBijection', () => {
  const rng = new Rng(3);
  const post = new PostCoupling(5, 2, 6, rng, { contextDim: 3 });
  assert.ok(checkBijection(post, { rng, perturb: 0.3 }).ok);
  const chain = new Chain([new AffineCoupling({ dim: 3, contextDim: 2, hidden: 5, rng }), Permutation.reverse(3), new AffineCoupling({ dim: 3, contextDim: 2, mask: 'alternating', hidden: 5, rng })]);
  assert.is(chain.contextDim, 2);
  const report = checkBijection(chain, { rng });
  assert.ok(report.ok, report.summary);
});

test('checkBijection fails a conditional bijection whose context gradient is wrong, or that ignores its context', () => {
  const rng = new Rng(4);
  // a coupling whose context gradient is cut: the context goes in through a detached copy
  class Detached extends AffineCoupling {
    override forward(x: Tensor, context?: Tensor) {
      return super.forward(x, context === undefined ? undefined : Tensor.from(context.rows, context.cols, context.data.slice()));
    }
  }
  const cut = checkBijection(new Detached({ dim: 2, contextDim: 2, hidden: 4, rng }), { rng, raiseOnFailure: false });
  assert.not.ok(cut.ok, 'a detached context fails');
  assert.ok(cut.contextGradient > 1e-3, cut.summary);
  // a conditioner that reads the context but ignores it: zero weights on the context columns, never perturbed
  const net = new Linear(1 + 2, 2, { rng });
  const ignoring = new AffineCoupling({ dim: 2, contextDim: 2, net, rng });
  const report = checkBijection(ignoring, { rng, perturb: 0, raiseOnFailure: false });
  assert.ok(report.ok, 'a context that matters through the random init passes');
  net.weight.data[1] = 0;
  net.weight.data[2] = 0;
  net.weight.data[4] = 0;
  net.weight.data[5] = 0;
  const ignored = checkBijection(ignoring, { rng, perturb: 0, raiseOnFailure: false });
  assert.not.ok(ignored.ok);
  assert.match(ignored.summary, 'does not depend on the context');
});

const conditionalCase = fc.record({
  dim: fc.integer({ min: 2, max: 5 }),
  contextDim: fc.integer({ min: 1, max: 4 }),
  layers: fc.integer({ min: 1, max: 4 }),
  hidden: fc.integer({ min: 2, max: 8 }),
  scale: scaleMode,
  activation: smoothActivation,
  embed: fc.constantFrom('none', 'mlp', 'deepset'),
  standardizeContext: fc.boolean(),
  actNorm: fc.boolean(),
  seed,
});

type ConditionalCase = typeof conditionalCase extends fc.Arbitrary<infer T> ? T : never;

function buildConditional(c: ConditionalCase, rng: Rng): RealNVP {
  const contextDim = c.embed === 'deepset' ? 2 * c.contextDim : c.contextDim;
  const embedding = c.embed === 'mlp'
    ? new MLPEmbedding({ inFeatures: contextDim, hidden: [5], outFeatures: 3, activation: 'tanh', rng })
    : c.embed === 'deepset' ? new DeepSetEmbedding({ items: c.contextDim, itemDim: 2, phiHidden: [4], pooledDim: 4, rhoHidden: [4], outFeatures: 3, activation: 'tanh', rng }) : undefined;
  const standardizeContext = c.standardizeContext ? { mean: randomRows(rng, 1, contextDim)[0]!, std: randomRows(rng, 1, contextDim)[0]!.map((v) => 0.5 + Math.abs(v)) } : false;
  return new RealNVP({
    dim: c.dim, layers: c.layers, hidden: c.hidden, scale: c.scale, activation: c.activation, actNorm: c.actNorm, contextDim, standardizeContext, rng,
    ...(embedding !== undefined ? { embedding } : {}),
  });
}

test('a conditional RealNVP (with or without an embedding) round-trips at a fixed context, its log-det matches the Jacobian, and its context gradient matches central differences', () => {
  check(
    fc.property(conditionalCase, (c) => {
      const rng = new Rng(c.seed);
      const flow = buildConditional(c, rng);
      const report = checkBijection(flow, { rng, perturb: 0.3 });
      assert.ok(report.ok, report.summary);
    }),
    flowRuns(30),
  );
});

test("a conditional RealNVP's log-det equals log|det| of its autodiff Jacobian at each row's context (QR), which matches central differences", () => {
  check(
    fc.property(conditionalCase, (c) => {
      const rng = new Rng(c.seed);
      const flow = buildConditional(c, rng);
      perturbParameters(flow, rng, 0.3);
      const x = randomRows(rng, 4, c.dim, 1.5);
      const context = randomRows(rng, 4, flow.contextDim, 1.5);
      flow.forward(tensor(x), tensor(context)); // initialises the ActNorms, if any
      const { jacobianError, logDetError } = independentLogDetError(flow, x, context);
      assert.ok(jacobianError <= 1e-6, `autodiff vs central differences: ${jacobianError}`);
      assert.ok(logDetError <= 1e-9, `log-det vs QR of the autodiff Jacobian: ${logDetError}`);
    }),
    flowRuns(20),
  );
});

// ---------------------------------------------------------------------------------------------------
// logProb(θ, x), nll and training end to end.

test('logProb(θ, x) = base.logProb(z) + logDet with z = forward(θ, x)[0], and the context changes it', () => {
  const rng = new Rng(5);
  const flow = new RealNVP({ dim: 2, layers: 3, hidden: 6, contextDim: 3, rng });
  perturbParameters(flow, rng, 0.4);
  const theta = tensor(randomRows(rng, 6, 2));
  const x = tensor(randomRows(rng, 6, 3));
  const [z, ld] = flow.forward(theta, x);
  assertClose(flow.logProb(theta, x).toArray(), add(flow.base.logProb(z), ld).toArray(), 'logProb', { rtol: 1e-15 });
  const other = tensor(randomRows(rng, 6, 3));
  const a = flow.logProb(theta, x).data, b = flow.logProb(theta, other).data;
  assert.ok(a.some((v, i) => Math.abs(v - b[i]!) > 1e-6), 'a different context gives a different density');
  assertClose(nll(flow, theta, x).item(), -a.reduce((s, v) => s + v, 0) / 6, 'nll(flow, θ, x)', { rtol: 1e-14 });
});

test('standardizeContext is (x - mean)/std before the couplings: the same weights without it, fed the standardised x, give the same density', () => {
  const rng = new Rng(6);
  const mean = [1, -2, 0.5], std = [2, 0.5, 3];
  const withIt = new RealNVP({ dim: 2, layers: 2, hidden: 4, contextDim: 3, standardizeContext: { mean, std }, rng });
  perturbParameters(withIt, rng, 0.4);
  const without = new RealNVP({ dim: 2, layers: 2, hidden: 4, contextDim: 3, rng: new Rng(0) });
  without.loadStateDict(withIt.stateDict(), { strict: false });
  const theta = tensor(randomRows(rng, 5, 2)), xRows = randomRows(rng, 5, 3, 3);
  const standardised = tensor(xRows.map((r) => r.map((v, j) => (v - mean[j]!) / std[j]!)));
  assertClose(withIt.logProb(theta, tensor(xRows)).toArray(), without.logProb(theta, standardised).toArray(), 'same density', { rtol: 1e-13, atol: 1e-13 });
  assertClose(withIt.embedContext(tensor(xRows)).toArray(), standardised.toArray(), 'embedContext without an embedding', { rtol: 1e-15, atol: 1e-15 });
});

test('a fresh conditional RealNVP is the identity whatever the context (its conditioners start at zero)', () => {
  const flow = new RealNVP({ dim: 4, contextDim: 2, rng: new Rng(0) }); // 8 layers of reversals: the identity
  const theta = tensor(randomRows(new Rng(1), 5, 4, 2));
  const [z, ld] = flow.forward(theta, tensor(randomRows(new Rng(2), 5, 2, 3)));
  assert.equal(z.toArray(), theta.toArray());
  assert.ok(ld.data.every((v) => v === 0));
});

test("nll's gradient reaches every parameter, the embedding's included, and the context (central differences)", () => {
  const rng = new Rng(17);
  const embedding = new DeepSetEmbedding({ items: 3, itemDim: 2, phiHidden: [3], pooledDim: 3, rhoHidden: [3], outFeatures: 2, activation: 'tanh', rng });
  const flow = new RealNVP({ dim: 2, layers: 2, hidden: 3, contextDim: 6, embedding, standardizeContext: { mean: [0, 1, 0, 1, 0, 1], std: [1, 2, 1, 2, 1, 2] }, rng });
  perturbParameters(flow, rng, 0.5);
  const theta = tensor(randomRows(rng, 5, 2, 1.5));
  const xData = randomRows(rng, 5, 6, 1.5);
  const x = tensor(xData, { requiresGrad: true });
  flow.zeroGrad();
  nll(flow, theta, x).backward();
  const h = 1e-6;
  const names = flow.namedParameters().map(([n]) => n);
  assert.ok(names.some((n) => n.startsWith('embedding.phi.')) && names.some((n) => n.startsWith('embedding.rho.')), names.join(', '));
  for (const [name, p] of flow.namedParameters()) {
    for (let i = 0; i < p.size; i++) {
      const v = p.data[i]!;
      p.data[i] = v + h;
      const up = noGrad(() => nll(flow, theta, tensor(xData)).item());
      p.data[i] = v - h;
      const down = noGrad(() => nll(flow, theta, tensor(xData)).item());
      p.data[i] = v;
      assertClose(p.grad![i]!, (up - down) / (2 * h), `${name}[${i}]`, { rtol: 1e-5, atol: 1e-7 });
    }
  }
  for (let k = 0; k < xData.length * 6; k++) {
    const i = Math.floor(k / 6), j = k % 6;
    const plus = xData.map((r) => r.slice()), minus = xData.map((r) => r.slice());
    plus[i]![j]! += h;
    minus[i]![j]! -= h;
    const numeric = (noGrad(() => nll(flow, theta, tensor(plus)).item()) - noGrad(() => nll(flow, theta, tensor(minus)).item())) / (2 * h);
    assertClose(x.grad![k]!, numeric, `∂nll/∂x[${i}, ${j}]`, { rtol: 1e-5, atol: 1e-8 });
  }
});

test('trained end to end, a conditional flow learns the posterior of a linear Gaussian model (mean and spread)', () => {
  // θ ~ N(0, I₂), x = θ + 0.5·ε: the posterior is N(0.8·x, 0.2·I).
  const rng = new Rng(21);
  const embedding = new MLPEmbedding({ inFeatures: 2, hidden: [16], outFeatures: 4, activation: 'tanh', rng });
  const flow = new RealNVP({ dim: 2, layers: 4, hidden: 16, contextDim: 2, embedding, rng });
  const opt = new Adam(flow.parameters(), { lr: 1e-2 });
  for (let step = 0; step < 300; step++) {
    if (step === 200) opt.lr = 2e-3;
    const theta = randomRows(rng, 256, 2);
    const x = theta.map((r) => r.map((v) => v + 0.5 * rng.normal()));
    opt.zeroGrad();
    nll(flow, tensor(theta), tensor(x)).backward();
    opt.step();
  }
  const obs = tensor([[1, -0.5], [-1.5, 0.5]]);
  const samples = flow.sample(2000, obs, new Rng(1));
  assert.equal(samples.shape, [4000, 2]);
  for (let o = 0; o < 2; o++) {
    for (let j = 0; j < 2; j++) {
      let m = 0, v = 0;
      for (let i = 0; i < 2000; i++) m += samples.data[(o * 2000 + i) * 2 + j]! / 2000;
      for (let i = 0; i < 2000; i++) v += (samples.data[(o * 2000 + i) * 2 + j]! - m) ** 2 / 2000;
      assertClose(m, 0.8 * obs.data[o * 2 + j]!, `posterior mean ${o},${j}`, { atol: 0.1 });
      assertClose(v, 0.2, `posterior variance ${o},${j}`, { atol: 0.06 });
    }
  }
});

// ---------------------------------------------------------------------------------------------------
// Sampling: one observation, many observations in one pass.

function trainedLookingConditional(): RealNVP {
  const rng = new Rng(8);
  const embedding = new MLPEmbedding({ inFeatures: 3, hidden: [4], outFeatures: 2, rng });
  const flow = new RealNVP({ dim: 3, layers: 3, hidden: 5, contextDim: 3, embedding, standardize: { mean: [0, 5, -5], std: [1, 3, 0.2] }, rng });
  perturbParameters(flow, rng, 0.3);
  return flow;
}

test('sample(m, x, rng) for one observation gives m×dim, records no graph, and is deterministic', () => {
  const flow = trainedLookingConditional();
  const obs = tensor([[0.5, -1, 2]]);
  const a = flow.sample(50, obs, new Rng(5));
  assert.equal(a.shape, [50, 3]);
  assert.is(a.requiresGrad, false);
  assert.equal(flow.sample(50, obs, new Rng(5)).toArray(), a.toArray());
  assert.not.equal(flow.sample(50, tensor([[0, 0, 0]]), new Rng(5)).toArray(), a.toArray());
});

test('batched sampling (k×c context) gives m samples per row, in row order, equal to inverting the base draws at each row', () => {
  const flow = trainedLookingConditional();
  const obs = tensor(randomRows(new Rng(2), 4, 3));
  const m = 25;
  const batched = flow.sample(m, obs, new Rng(7));
  assert.equal(batched.shape, [4 * m, 3]);
  const z = flow.base.sample(4 * m, new Rng(7));
  const each = flow.inverse(z, repeatRows(obs, m))[0];
  assert.equal(batched.toArray(), each.toArray());
  // row block i is what sampling under observation i alone gives for the same base draws
  for (let i = 0; i < 4; i++) {
    const block = Tensor.from(m, 3, z.data.slice(i * m * 3, (i + 1) * m * 3));
    const alone = flow.inverse(block, repeatRows(tensor([Array.from(obs.data.slice(i * 3, i * 3 + 3))]), m))[0];
    assertClose(Array.from(batched.data.slice(i * m * 3, (i + 1) * m * 3)), Array.from(alone.data), `block ${i}`, { rtol: 1e-15, atol: 1e-15 });
  }
});

test("sampleWithLogProb(m, x, rng) returns sample's points and their log q(θ | x), to 1e-9", () => {
  const flow = trainedLookingConditional();
  const obs = tensor(randomRows(new Rng(3), 3, 3));
  const [theta, lp] = flow.sampleWithLogProb(20, obs, new Rng(9));
  assert.equal(theta.shape, [60, 3]);
  assert.equal(lp.shape, [60, 1]);
  assert.equal(theta.toArray(), flow.sample(20, obs, new Rng(9)).toArray());
  assertClose(lp.toArray(), flow.logProb(theta, repeatRows(obs, 20)).toArray(), 'log q of the samples', { rtol: 1e-9, atol: 1e-9 });
});

test('trace, inverseSteps and forwardSteps take the context and walk the same chain', () => {
  const flow = trainedLookingConditional();
  const z = tensor(randomRows(new Rng(4), 5, 3));
  const x = tensor(randomRows(new Rng(5), 5, 3));
  const steps = flow.trace(z, x);
  assert.is(steps.length, 4, 'three layers and the standardisation');
  assert.equal(steps.at(-1)!.toArray(), flow.inverse(z, x)[0].toArray());
  assert.equal(flow.inverseSteps(z, x).map((t) => t.toArray()), steps.map((t) => t.toArray()));
  assert.equal(flow.forwardSteps(steps.at(-1)!, x).at(-1)!.toArray().map((r) => r.map((v) => Math.round(v * 1e9) / 1e9)), z.toArray().map((r) => r.map((v) => Math.round(v * 1e9) / 1e9)));
});

// ---------------------------------------------------------------------------------------------------
// Config round trip.

test('a conditional model rebuilds from its config (MLP or DeepSet embedding, standardised context) with identical outputs', () => {
  const rng = new Rng(11);
  const cases: RealNVP[] = [
    new RealNVP({ dim: 2, layers: 2, hidden: 4, contextDim: 3, standardizeContext: { mean: [1, 2, 3], std: [1, 2, 3] }, rng }),
    new RealNVP({ dim: 3, layers: 2, hidden: 4, contextDim: 4, embedding: new MLPEmbedding({ inFeatures: 4, hidden: [3], outFeatures: 2, rng }), rng }),
    new RealNVP({ dim: 2, layers: 3, hidden: 4, contextDim: 6, embedding: new DeepSetEmbedding({ items: 3, itemDim: 2, phiHidden: [3], pooledDim: 3, rhoHidden: [3], outFeatures: 2, rng }), rng }),
    RealNVP.post({ dim: 3, layers: 2, hidden: 4, contextDim: 2, rng }),
  ];
  for (const flow of cases) {
    perturbParameters(flow, rng, 0.3);
    const config = JSON.parse(JSON.stringify(flow.config)) as RealNVPConfig;
    assert.is(config.contextDim, flow.contextDim);
    const rebuilt = RealNVP.fromConfig(config);
    rebuilt.loadStateDict(flow.stateDict());
    const theta = tensor(randomRows(rng, 4, flow.dim)), x = tensor(randomRows(rng, 4, flow.contextDim));
    assert.equal(rebuilt.logProb(theta, x).toArray(), flow.logProb(theta, x).toArray(), flow.describe());
    assert.equal(rebuilt.config, flow.config);
  }
});

test('an unconditional config has no conditioning fields (what earlier versions wrote); a custom embedding must be passed back', () => {
  const plain = new RealNVP({ dim: 2, layers: 1, hidden: 2, rng: new Rng(0) });
  assert.equal(Object.keys(plain.config), ['preset', 'dim', 'layers', 'hidden', 'depth', 'scale', 'bound', 'activation', 'permutation', 'permutationIndices', 'actNorm', 'standardize']);
  const custom = new Linear(3, 2, { rng: new Rng(1) });
  const flow = new RealNVP({ dim: 2, layers: 1, hidden: 2, contextDim: 3, embedding: custom, rng: new Rng(0) });
  assert.is(flow.config.embedding, 'custom');
  assertThrows(() => RealNVP.fromConfig(flow.config), ['custom embedding', 'fromConfig(config, { embedding })'], TypeError);
  const again = RealNVP.fromConfig(flow.config, { embedding: new Linear(3, 2, { rng: new Rng(9) }) });
  again.loadStateDict(flow.stateDict());
  const t = tensor([[0.1, 0.2]]), x = tensor([[1, 2, 3]]);
  assert.equal(again.logProb(t, x).toArray(), flow.logProb(t, x).toArray());
});

// ---------------------------------------------------------------------------------------------------
// The pieces: conditioner input, gatherRows, repeatRows.

test('conditionerInput puts the context beside x_A; conditionerNet reads |A| + c and starts at zero', () => {
  const xa = tensor([[1], [2]]), ctx = tensor([[3, 4], [5, 6]]);
  assert.equal(conditionerInput(xa, ctx).toArray(), [[1, 3, 4], [2, 5, 6]]);
  assert.ok(conditionerInput(xa, undefined) === xa);
  const net = conditionerNet({ inFeatures: 1, contextDim: 2, outFeatures: 4, rng: new Rng(0) });
  assert.equal(net.forward(conditionerInput(xa, ctx)).toArray(), [[0, 0, 0, 0], [0, 0, 0, 0]]);
  assertThrows(() => conditionerNet({ inFeatures: 1, outFeatures: 2, hiden: 3, rng: new Rng(0) } as never), ['conditionerNet: unknown option "hiden" (did you mean "hidden"?)'], TypeError);
});

test("gatherRows picks rows by index and its gradient (repeated rows accumulate) matches finite differences", () => {
  assert.equal(gatherRows(tensor([[1, 2], [3, 4]]), [1, 1, 0]).toArray(), [[3, 4], [3, 4], [1, 2]]);
  assert.equal(repeatRows(tensor([[1], [2]]), 3).toArray(), [[1], [1], [1], [2], [2], [2]]);
  check(
    fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.array(fc.nat(), { minLength: 1, maxLength: 7 }), seed, (r, c, picks, s) => {
      const rng = new Rng(s);
      const x = tensor(randomRows(rng, r, c), { requiresGrad: true });
      const index = picks.map((p) => p % r);
      const w = tensor(randomRows(rng, index.length, c));
      const report = gradcheck((t) => sum(mul(gatherRows(t, index), w)), [x]);
      assert.ok(report.ok, JSON.stringify(report));
    }),
    flowRuns(40),
  );
  assertThrows(() => gatherRows(tensor([[1]]), [1]), ['gatherRows: index 1 (position 0) is outside the 1 rows of 1×1'], ShapeError);
});

// ---------------------------------------------------------------------------------------------------
// Errors.

test('a missing, extra, mis-shaped or non-finite context is refused with a typed error naming the shapes', () => {
  const rng = new Rng(0);
  const flow = new RealNVP({ dim: 2, layers: 1, hidden: 2, contextDim: 3, rng });
  const plain = new RealNVP({ dim: 2, layers: 1, hidden: 2, rng });
  const theta = Tensor.zeros(4, 2);
  assertThrows(() => flow.logProb(theta), ['RealNVP.forward: this bijection is conditional (contextDim 3); pass a context (n×3'], ContextError);
  assertThrows(() => plain.logProb(theta, Tensor.zeros(4, 3)), ['RealNVP.forward: got a context (4×3) but this bijection takes none'], ContextError);
  assertThrows(() => flow.logProb(theta, Tensor.zeros(1, 3)), ['expected a context of 4×3', 'got 1×3'], ShapeError);
  assertThrows(() => flow.logProb(theta, Tensor.zeros(4, 2)), ['expected a context of 4×3', 'got 4×2'], ShapeError);
  assertThrows(() => flow.logProb(theta, tensor([[0, 0, 0], [0, NaN, 0], [0, 0, 0], [0, 0, 0]])), ['RealNVP.forward (context): row 1, column 1 is NaN'], FlowInputError);
  assertThrows(() => flow.sample(5, rng), ['this flow is conditional (contextDim 3); call sample(n, context, rng)'], ContextError);
  assertThrows(() => plain.sample(5, Tensor.zeros(1, 3), rng), ['this flow is unconditional; call sample(n, rng)'], ContextError);
  assertThrows(() => flow.sample(5, Tensor.zeros(2, 4), rng), ['RealNVP.sample (context): expected input with 3 columns', 'got 2×4'], ShapeError);
  assertThrows(() => flow.sample(5, tensor([[Infinity, 0, 0]]), rng), ['RealNVP.sample (context): row 0, column 0 is Infinity'], FlowInputError);
  assertThrows(() => flow.sample(-1, Tensor.zeros(1, 3), rng), ['n must be a non-negative integer, got -1'], RangeError);
  assertThrows(() => new AffineCoupling({ dim: 2, rng }).forward(theta, Tensor.zeros(4, 1)), ['AffineCoupling.forward: got a context'], ContextError);
  assertThrows(() => Permutation.reverse(2).forward(theta, Tensor.zeros(4, 1)), ['Permutation.forward: got a context'], ContextError);
  assertThrows(() => new RealNVP({ dim: 2, embedding: new Linear(3, 2, { rng }), rng }), ['an embedding needs a context; give contextDim'], RangeError);
  assertThrows(() => new RealNVP({ dim: 2, contextDim: 4, embedding: new MLPEmbedding({ inFeatures: 3, outFeatures: 2, rng }), rng }), ['the embedding reads 3 features but contextDim is 4'], RangeError);
  assertThrows(() => new RealNVP({ dim: 2, contextDim: -1, rng }), ['contextDim must be a non-negative integer, got -1'], RangeError);
  assertThrows(() => new Chain([new AffineCoupling({ dim: 2, contextDim: 2, rng }), new AffineCoupling({ dim: 2, contextDim: 3, rng })]), ['Chain: step 1 reads a context of 3 columns, step 0 one of 2'], ShapeError);
});

test('unknown option keys are refused with a did-you-mean, in RealNVP, RealNVP.post, AffineCoupling and PostCoupling', () => {
  const rng = new Rng(0);
  assertThrows(() => new RealNVP({ dim: 2, laysers: 4, rng } as never), ['RealNVP: unknown option "laysers" (did you mean "layers"?)'], TypeError);
  assertThrows(() => new RealNVP({ dim: 2, context_dim: 4, rng } as never), ['did you mean "contextDim"?'], TypeError);
  assertThrows(() => new RealNVP({ dim: 2, preset: 'post', rng } as never), ['RealNVP: unknown option "preset"'], TypeError);
  assertThrows(() => RealNVP.post({ dim: 2, depth: 2, rng } as never), ['RealNVP.post: unknown option "depth"'], TypeError);
  assertThrows(() => new AffineCoupling({ dim: 2, hiden: 3, rng } as never), ['AffineCoupling: unknown option "hiden" (did you mean "hidden"?)'], TypeError);
  assertThrows(() => new PostCoupling(2, 1, 3, rng, { contextdim: 2 } as never), ['PostCoupling: unknown option "contextdim" (did you mean "contextDim"?)'], TypeError);
});

test.run();
