/**
 * The box support (sbi #741): (lo, hi)^d -> R^d by z = log(x - lo) - log(hi - x), with its log-det;
 * the inverse x = lo + (hi - lo)·σ(z) lands strictly inside the box for every finite z. A flow built with
 * `support` samples only inside the box, and its density still integrates to one over it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gradcheck, mul, sum, Tensor, tensor } from '../../src/autograd/index.ts';
import { Rng } from '../../src/rng/rng.ts';
import { FlowInputError } from '../../src/flow/bijection.ts';
import { boxSigmoid, BoxSupport } from '../../src/flow/box-support.ts';
import { checkBijection } from '../../src/flow/check.ts';
import { RealNVP, type RealNVPConfig } from '../../src/flow/real-nvp.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';
import { check, fc } from '../helpers/fc.ts';
import { flowRuns, seed } from './helpers/arb.ts';
import { centralJacobians, independentLogDetError, logAbsDetQR, perturbParameters, randomRows } from './helpers/jacobian.ts';

/**
 * A random box per feature: lo in [-5, 5], width in [0.5, 10]. (Not narrower: the finite-difference
 * step is 1e-6, and its error grows as (step / distance to the edge)²; narrow boxes are in the tests of
 * extreme values.)
 */
function randomBox(rng: Rng, d: number): { lo: number[]; hi: number[] } {
  const lo = Array.from({ length: d }, () => 10 * rng.uniform() - 5);
  const hi = lo.map((a) => a + 0.5 + 9.5 * rng.uniform());
  return { lo, hi };
}

/** n points uniformly inside the box, kept 2% of the width away from the edges. */
function inside(rng: Rng, n: number, box: { lo: number[]; hi: number[] }): number[][] {
  return Array.from({ length: n }, () => box.lo.map((a, j) => a + (box.hi[j]! - a) * (0.02 + 0.96 * rng.uniform())));
}

test('a hand-worked point: (0, 0.5) in (-1, 1)² maps to (0, log 3) with log|det| = log 2 + log(8/3)', () => {
  const box = new BoxSupport([-1, -1], [1, 1]);
  const [z, ld] = box.forward(tensor([[0, 0.5]]));
  assertClose(z.toArray(), [[0, Math.log(3)]], 'z', { rtol: 1e-15 });
  // per feature log(hi - lo) - log(x - lo) - log(hi - x): log 2 - 0 - 0, and log 2 - log 1.5 - log 0.5
  assertClose(ld.item(), Math.log(2) + Math.log(8 / 3), 'log-det', { rtol: 1e-15 });
  const [x, ldInv] = box.inverse(z);
  assertClose(x.toArray(), [[0, 0.5]], 'inverse', { rtol: 1e-15, atol: 1e-16 });
  assertClose(ldInv.item(), -ld.item(), 'inverse log-det', { rtol: 1e-14 });
});

test('round trips, cancelling log-dets and the log-det against a finite-difference Jacobian, on random boxes (checkBijection)', () => {
  check(
    fc.property(fc.integer({ min: 1, max: 6 }), seed, (d, s) => {
      const rng = new Rng(s);
      const box = randomBox(rng, d);
      const bij = new BoxSupport(box.lo, box.hi);
      const report = checkBijection(bij, { rng, sampleX: (n, r) => tensor(inside(r as Rng, n, box)), tolerance: { logDet: 1e-6 } });
      assert.ok(report.ok, report.summary);
    }),
    flowRuns(60),
  );
});

test("both directions' log-dets equal log|det| of independent Jacobians (autodiff and central differences, QR)", () => {
  check(
    fc.property(fc.integer({ min: 1, max: 5 }), seed, (d, s) => {
      const rng = new Rng(s);
      const box = randomBox(rng, d);
      const bij = new BoxSupport(box.lo, box.hi);
      const { jacobianError, logDetError } = independentLogDetError(bij, inside(rng, 4, box));
      assert.ok(jacobianError <= 1e-6 && logDetError <= 1e-9, `forward: ${jacobianError}, ${logDetError}`);
      const z = randomRows(rng, 4, d, 3);
      const Js = centralJacobians((t) => bij.inverse(t)[0], z);
      const ld = bij.inverse(tensor(z))[1].data;
      Js.forEach((J, i) => assertClose(ld[i]!, logAbsDetQR(J, d), `inverse log-det row ${i}`, { rtol: 1e-6, atol: 1e-6 }));
    }),
    flowRuns(40),
  );
});

test('extreme latents give points strictly inside the box and finite log-dets and gradients, never NaN', () => {
  const box = new BoxSupport([-1, 0, 2], [0.3, 1e-12, 1e6]);
  const extremes = [0, 1e-300, -1e-300, 20, -20, 37, -37, 40, -40, 745, -745, 800, -800, 1e300, -1e300];
  const rows = extremes.map((v) => [v, -v, v]);
  const z = tensor(rows, { requiresGrad: true });
  const [x, ld] = box.inverse(z);
  for (let k = 0; k < x.size; k++) {
    const j = k % 3, v = x.data[k]!;
    assert.ok(v > box.lo.data[j]! && v < box.hi.data[j]!, `z ${z.data[k]} -> x ${v} strictly inside (${box.lo.data[j]}, ${box.hi.data[j]})`);
  }
  assert.ok(ld.data.every(Number.isFinite), `log-dets finite: ${Array.from(ld.data)}`);
  sum(ld).backward();
  assert.ok(z.grad!.every(Number.isFinite), 'gradient finite');
  // and the forward of the points they land on is finite too (the points one step inside an edge)
  const [z2, ld2] = box.forward(x);
  assert.ok(z2.data.every(Number.isFinite) && ld2.data.every(Number.isFinite));
  // at ±1e308 the log-det (-Σ|z|) is below -Number.MAX_VALUE: -Infinity, but still no NaN anywhere
  const [xMax, ldMax] = box.inverse(tensor([[1e308, -1e308, 1e308]]));
  assert.ok(xMax.data.every((v, j) => v > box.lo.data[j]! && v < box.hi.data[j]!));
  assert.not.ok(Number.isNaN(ldMax.item()));
  // the round trip is exact in the moderate range
  const moderate = tensor([[3, -7, 0.5]]);
  assertClose(box.forward(box.inverse(moderate)[0])[0].toArray(), moderate.toArray(), 'round trip', { rtol: 1e-9 });
});

test('points within one ulp of an edge map to finite latents; points on or outside an edge are refused', () => {
  const box = new BoxSupport([0, -3], [1, 5]);
  const [z, ld] = box.forward(tensor([[Number.MIN_VALUE, 5 - 2 ** -50], [1 - 2 ** -53, -3 + 2 ** -50]]));
  assert.ok(z.data.every(Number.isFinite) && ld.data.every(Number.isFinite), `${Array.from(z.data)}`);
  assert.ok(z.data[0]! < -700 && z.data[2]! > 36, 'far out in the tails');
  assertThrows(() => box.forward(tensor([[0.5, 0], [1, 0]])), ['BoxSupport.forward: row 1, column 0 is 1, not inside the box (0, 1)'], FlowInputError);
  assertThrows(() => box.forward(tensor([[0.5, -4]])), ['row 0, column 1 is -4', '(-3, 5)'], FlowInputError);
  assertThrows(() => box.forward(tensor([[NaN, 0]])), ['row 0, column 0 is NaN'], FlowInputError);
  assertThrows(() => new BoxSupport([0, 1], [1, 1]), ['BoxSupport: feature 1 needs finite lo < hi, got lo 1, hi 1'], RangeError);
  assertThrows(() => new BoxSupport([0], [Infinity]), ['feature 0 needs finite lo < hi'], RangeError);
  assertThrows(() => new BoxSupport([0, 0], [1]), ['same positive length, got 2 and 1'], RangeError);
});

test("boxSigmoid's gradient matches finite differences", () => {
  check(
    fc.property(seed, (s) => {
      const rng = new Rng(s);
      const box = randomBox(rng, 3);
      const z = tensor(randomRows(rng, 4, 3, 4), { requiresGrad: true });
      const w = tensor(randomRows(rng, 4, 3));
      const report = gradcheck((t) => sum(mul(boxSigmoid(t, tensor([box.lo]), tensor([box.hi])), w)), [z]);
      assert.ok(report.ok, JSON.stringify(report));
    }),
    flowRuns(40),
  );
});

// ---------------------------------------------------------------------------------------------------
// A flow with a box support.

test('a RealNVP with a box support puts every sample inside the box, conditional or not, and its samples get their log q', () => {
  const rng = new Rng(3);
  const support = { lo: [-1, 0, 10], hi: [1, 0.01, 20] };
  const flow = new RealNVP({ dim: 3, layers: 3, hidden: 6, support, rng });
  perturbParameters(flow, rng, 1.5); // a wild warp: many base draws land far out in logit space
  const samples = flow.sample(5000, new Rng(1));
  for (let k = 0; k < samples.size; k++) {
    const j = k % 3;
    assert.ok(samples.data[k]! > support.lo[j]! && samples.data[k]! < support.hi[j]!, `sample ${k}: ${samples.data[k]}`);
  }
  const conditional = new RealNVP({ dim: 3, layers: 2, hidden: 6, contextDim: 2, support, rng });
  perturbParameters(conditional, rng, 1.5);
  const theta = conditional.sample(500, tensor([[0, 1], [5, -5]]), new Rng(2));
  for (let k = 0; k < theta.size; k++) assert.ok(theta.data[k]! > support.lo[k % 3]! && theta.data[k]! < support.hi[k % 3]!);
  const [x, lp] = flow.sampleWithLogProb(200, new Rng(4));
  // (points far out in the tails round to within a few ulps of an edge, where log q(x) of the rounded
  // point differs from the exact log q at the sampled z; compare the samples away from the edges)
  const finite = Array.from(lp.data).map((v, i) => [v, i] as const).filter(([v]) => Math.abs(v) < 10).map(([, i]) => i);
  assert.ok(finite.length > 50, `${finite.length} samples to compare`);
  const again = flow.logProb(x).data;
  for (const i of finite) assertClose(again[i]!, lp.data[i]!, `log q of sample ${i}`, { rtol: 1e-7, atol: 1e-7 });
});

test('the density of a 2-D flow with a box support integrates to 1 over the box (midpoint rule)', () => {
  const rng = new Rng(6);
  const flow = new RealNVP({ dim: 2, layers: 2, hidden: 4, support: { lo: [-1, 2], hi: [1, 3] }, standardize: { mean: [0.3, -0.2], std: [0.8, 1.2] }, rng });
  perturbParameters(flow, rng, 0.3);
  const m = 300, rows: number[][] = [];
  for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) rows.push([-1 + (2 * (a + 0.5)) / m, 2 + (b + 0.5) / m]);
  const lp = flow.logProb(tensor(rows)).data;
  let total = 0;
  for (const v of lp) total += Math.exp(v) * (2 / m) * (1 / m);
  assertClose(total, 1, 'integral over the box', { atol: 2e-3 });
});

test('a model with a support rebuilds from its config; without one the config has no support field; bad supports are refused', () => {
  const rng = new Rng(7);
  const flow = new RealNVP({ dim: 2, layers: 2, hidden: 3, support: { lo: [0, -2], hi: [1, 2] }, rng });
  perturbParameters(flow, rng, 0.3);
  const config = JSON.parse(JSON.stringify(flow.config)) as RealNVPConfig;
  assert.equal(config.support, { lo: [0, -2], hi: [1, 2] });
  const rebuilt = RealNVP.fromConfig(config);
  rebuilt.loadStateDict(flow.stateDict());
  const x = tensor([[0.5, 0], [0.1, 1.9]]);
  assert.equal(rebuilt.logProb(x).toArray(), flow.logProb(x).toArray());
  assert.is(flow.trace(Tensor.zeros(3, 2)).length, 3, 'two layers and the support');
  assert.not.ok('support' in new RealNVP({ dim: 2, layers: 1, hidden: 2, rng }).config);
  const post = RealNVP.post({ dim: 2, layers: 2, hidden: 3, support: { lo: [0, 0], hi: [1, 1] }, rng });
  assert.ok(post.sample(100, new Rng(0)).data.every((v) => v > 0 && v < 1));
  assertThrows(() => new RealNVP({ dim: 2, support: { lo: [0], hi: [1] }, rng }), ['RealNVP: support has 1 features for dim 2'], RangeError);
  assertThrows(() => new RealNVP({ dim: 2, support: { low: [0, 0], hi: [1, 1] } as never, rng }), ['RealNVP support: unknown option "low"'], TypeError);
});

test.run();
