import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../src/autograd/tensor.ts';
import { Rng } from '../../src/rng/rng.ts';
import { nll, RealNVP } from '../../src/flow/real-nvp.ts';
import { Adam } from '../../src/optim/adam.ts';
import { TrainStep } from '../../src/train/step.ts';
import { flopsPerStep, HandFusedPost, type HandFusedKernel } from '../../bench/handfused.ts';
import { assertClose } from '../helpers/assert.ts';

/** A rows×dim batch from a seeded generator: two clusters, so both signs of every activation occur. */
function batchOf(rows: number, dim: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const x = new Float64Array(rows * dim);
  for (let i = 0; i < rows; i++) {
    const c = rng.uniform() < 0.5 ? -2 : 2;
    for (let j = 0; j < dim; j++) x[i * dim + j] = c + rng.normal();
  }
  return x;
}

/** The engine's gradients of nll(flow, x), flat, in namedParameters() order. */
function engineGradients(flow: RealNVP, x: Float64Array, rows: number): { loss: number; grads: Float64Array } {
  flow.zeroGrad();
  const loss = nll(flow, Tensor.from(rows, flow.dim, x.slice(0, rows * flow.dim)));
  loss.backward();
  const parts = flow.parameters().map((p) => p.grad ?? new Float64Array(p.size));
  const out = new Float64Array(parts.reduce((n, g) => n + g.length, 0));
  let at = 0;
  for (const g of parts) {
    out.set(g, at);
    at += g.length;
  }
  return { loss: loss.item(), grads: out };
}

/** Largest |a - e| relative to the largest |e| (entries near zero are compared on the gradient's scale). */
function maxRelErr(a: Float64Array, e: Float64Array): number {
  let scale = 0, err = 0;
  for (let k = 0; k < e.length; k++) scale = Math.max(scale, Math.abs(e[k]!));
  for (let k = 0; k < e.length; k++) err = Math.max(err, Math.abs(a[k]! - e[k]!) / Math.max(Math.abs(e[k]!), 1e-3 * scale));
  return err;
}

test('the FLOP count of the post\'s step is the peers\' 2,060,160 at dim 2, hidden 64, batch 64', () => {
  assert.is(flopsPerStep({ dim: 2, layers: 16, hidden: 64, batch: 64 }), 2_060_160);
});

test('the parameter layout is namedParameters() order, names and sizes', () => {
  for (const dim of [2, 5]) {
    const flow = RealNVP.post({ dim, layers: 4, hidden: 8, rng: new Rng(1) });
    const hf = new HandFusedPost({ dim, layers: 4, hidden: 8 });
    const named = flow.namedParameters();
    assert.equal(hf.names, named.map(([n]) => n));
    assert.equal(hf.sizes, named.map(([, t]) => t.size));
    hf.load(named);
    assertClose(hf.parameter('flows.3.b_nn.2.weight'), named.find(([n]) => n === 'flows.3.b_nn.2.weight')![1].data, 'copied weight', { rtol: 0 });
  }
});

// dim 2 through both kernels, dim 5 (dimA 2, dimB 3), and sizes that are not multiples of the 4×4 tiles
// (hidden 6, dimB 5, 37 rows) so that the tiled kernels' edge loops are checked too.
const cases: { dim: number; kernel: HandFusedKernel; hidden: number; layers: number }[] = [
  { dim: 2, kernel: 'fused2d', hidden: 64, layers: 16 },
  { dim: 2, kernel: 'general', hidden: 64, layers: 16 },
  { dim: 5, kernel: 'general', hidden: 64, layers: 16 },
  { dim: 9, kernel: 'general', hidden: 6, layers: 4 },
];

for (const { dim, kernel, hidden, layers } of cases) {
  const size = `dim ${dim}, hidden ${hidden}, ${layers} layers, ${kernel} kernel`;
  for (const rows of [64, 37]) {
    test(`hand-fused gradients equal the engine's to 1e-10 (${size}, ${rows} rows)`, () => {
      const flow = RealNVP.post({ dim, hidden, layers, rng: new Rng(10 + dim) });
      const hf = new HandFusedPost({ dim, hidden, layers, capacity: 64, kernel });
      hf.load(flow.namedParameters());
      const x = batchOf(64, dim, 100 + dim);
      const want = engineGradients(flow, x, rows);
      const loss = hf.lossAndGradients(x, rows);
      assertClose(loss, want.loss, 'loss', { rtol: 1e-12 });
      const err = maxRelErr(hf.gradients(), want.grads);
      assert.ok(err <= 1e-10, `max relative gradient error ${err}`);
      // every entry, on its own scale
      assertClose(hf.gradients(), want.grads, 'gradient', { rtol: 1e-10, atol: 1e-13 });
    });
  }

  test(`after 5 Adam steps the hand-fused parameters equal TrainStep's to 1e-10 (${size})`, () => {
    const flow = RealNVP.post({ dim, hidden, layers, rng: new Rng(20 + dim) });
    const hf = new HandFusedPost({ dim, hidden, layers, capacity: 64, kernel, lr: 1e-3 });
    hf.load(flow.namedParameters());
    const step = new TrainStep(flow, new Adam(flow.parameters(), { lr: 1e-3 }));
    for (let k = 0; k < 5; k++) {
      const rows = k === 4 ? 37 : 64;
      const x = batchOf(rows, dim, 200 + k);
      const engineLoss = step.run(Tensor.from(rows, dim, x));
      const hfLoss = hf.step(x, rows);
      assertClose(hfLoss, engineLoss, `loss of step ${k + 1}`, { rtol: 1e-12 });
    }
    for (const [name, p] of flow.namedParameters()) assertClose(hf.parameter(name), p.data, name, { rtol: 1e-10, atol: 1e-13 });
  });
}

test('meanNll evaluates in chunks of the capacity and matches the engine', () => {
  const flow = RealNVP.post({ dim: 3, layers: 4, hidden: 16, rng: new Rng(3) });
  const hf = new HandFusedPost({ dim: 3, layers: 4, hidden: 16, capacity: 32 });
  hf.load(flow.namedParameters());
  const x = batchOf(100, 3, 7);
  assertClose(hf.meanNll(x, 100), nll(flow, Tensor.from(100, 3, x)).item(), 'mean NLL', { rtol: 1e-12 });
});

test('a batch larger than the capacity is refused with its size', () => {
  const hf = new HandFusedPost({ dim: 2, capacity: 8 });
  assert.throws(() => hf.step(new Float64Array(18), 9), /1\.\.8/);
});

test.run();
