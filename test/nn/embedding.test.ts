/**
 * Embedding networks: an MLP on x, and a DeepSet e(x) = ρ((1/K) Σ_k φ(x_k)) that does not change when
 * the items of a row are reordered; gradients (to the weights and to the input) against central
 * differences; rebuilding from the config.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gradcheck, mul, ShapeError, sum, Tensor, tensor } from '../../src/autograd/index.ts';
import { Rng } from '../../src/rng/rng.ts';
import { DeepSetEmbedding, embeddingFromConfig, MLPEmbedding } from '../../src/nn/embedding.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';
import { check, fc } from '../helpers/fc.ts';

const seed = fc.integer({ min: 0, max: 0x7fffffff });

function rows(rng: Rng, n: number, d: number, scale = 1): number[][] {
  return Array.from({ length: n }, () => Array.from({ length: d }, () => scale * rng.normal()));
}

test('an MLPEmbedding is Linear -> activation -> ... -> Linear, n×in -> n×out', () => {
  const rng = new Rng(0);
  const e = new MLPEmbedding({ inFeatures: 3, hidden: [4, 5], outFeatures: 2, activation: 'tanh', rng });
  assert.equal(e.forward(Tensor.zeros(7, 3)).shape, [7, 2]);
  assert.equal(e.namedParameters().map(([n]) => n), ['net.0.weight', 'net.0.bias', 'net.2.weight', 'net.2.bias', 'net.4.weight', 'net.4.bias']);
  // by hand: one row through the three layers
  const x = [0.5, -1, 2];
  const layer = (w: Tensor, b: Tensor, v: number[], act: boolean) => Array.from({ length: w.rows }, (_, i) => {
    let s = b.data[i]!;
    for (let j = 0; j < w.cols; j++) s += w.data[i * w.cols + j]! * v[j]!;
    return act ? Math.tanh(s) : s;
  });
  const p = new Map(e.namedParameters());
  const h1 = layer(p.get('net.0.weight')!, p.get('net.0.bias')!, x, true);
  const h2 = layer(p.get('net.2.weight')!, p.get('net.2.bias')!, h1, true);
  const out = layer(p.get('net.4.weight')!, p.get('net.4.bias')!, h2, false);
  assertClose(e.forward(tensor([x])).toArray(), [out], 'by hand', { rtol: 1e-14 });
  assert.is(e.describe(), 'MLPEmbedding(3 -> [4, 5] -> 2, tanh)');
});

test('a DeepSet equals ρ of the mean of φ over the items, computed by hand', () => {
  const rng = new Rng(1);
  const e = new DeepSetEmbedding({ items: 3, itemDim: 2, phiHidden: [4], pooledDim: 3, rhoHidden: [4], outFeatures: 2, activation: 'tanh', rng });
  const x = rows(rng, 5, 6);
  const items = (r: number[]) => [0, 1, 2].map((k) => r.slice(2 * k, 2 * k + 2));
  const expected = x.map((r) => {
    const phis = items(r).map((it) => e.phi.forward(tensor([it])).data);
    const pooled = [0, 1, 2].map((j) => (phis[0]![j]! + phis[1]![j]! + phis[2]![j]!) / 3);
    return Array.from(e.rho.forward(tensor([pooled])).data);
  });
  assertClose(e.forward(tensor(x)).toArray(), expected, 'by hand', { rtol: 1e-13, atol: 1e-15 });
});

test('a DeepSet is invariant to reordering the items of each row (to rounding), and an MLP is not', () => {
  check(
    fc.property(fc.integer({ min: 2, max: 6 }), fc.integer({ min: 1, max: 3 }), seed, (items, itemDim, s) => {
      const rng = new Rng(s);
      const e = new DeepSetEmbedding({ items, itemDim, phiHidden: [5], pooledDim: 4, rhoHidden: [5], outFeatures: 3, activation: 'tanh', rng });
      const x = rows(rng, 4, items * itemDim, 2);
      // reorder the items of every row by a random permutation (a different one per row)
      const shuffled = x.map((r) => {
        const order = Array.from(rng.permutation(items));
        return order.flatMap((k) => r.slice(k * itemDim, (k + 1) * itemDim));
      });
      assertClose(e.forward(tensor(shuffled)).toArray(), e.forward(tensor(x)).toArray(), 'reordered items', { rtol: 1e-12, atol: 1e-14 });
    }),
    60,
  );
  const rng = new Rng(2);
  const mlp = new MLPEmbedding({ inFeatures: 4, outFeatures: 2, rng });
  const a = mlp.forward(tensor([[1, 2, 3, 4]])).data, b = mlp.forward(tensor([[3, 4, 1, 2]])).data;
  assert.ok(Math.abs(a[0]! - b[0]!) > 1e-6, 'the MLP sees the order (so the invariance above is not vacuous)');
});

test('gradients of both embeddings, to the input and to every weight, match central differences', () => {
  check(
    fc.property(seed, fc.constantFrom('mlp', 'deepset'), (s, kind) => {
      const rng = new Rng(s);
      const e = kind === 'mlp'
        ? new MLPEmbedding({ inFeatures: 6, hidden: [4], outFeatures: 3, activation: 'tanh', rng })
        : new DeepSetEmbedding({ items: 3, itemDim: 2, phiHidden: [3], pooledDim: 3, rhoHidden: [3], outFeatures: 3, activation: 'tanh', rng });
      const x = tensor(rows(rng, 3, 6), { requiresGrad: true });
      const w = tensor(rows(rng, 3, 3));
      const report = gradcheck((input, ...params) => {
        void params;
        return sum(mul(e.forward(input), w));
      }, [x, ...e.parameters()]);
      assert.ok(report.ok, report.summary);
    }),
    30,
  );
});

test('both embeddings rebuild from their config with identical outputs', () => {
  const rng = new Rng(3);
  for (const e of [new MLPEmbedding({ inFeatures: 4, hidden: [3, 3], outFeatures: 2, activation: 'softplus', rng }), new DeepSetEmbedding({ items: 2, itemDim: 2, outFeatures: 2, rng })]) {
    const again = embeddingFromConfig(JSON.parse(JSON.stringify(e.config)));
    again.loadStateDict(e.stateDict());
    const x = tensor(rows(rng, 3, 4));
    assert.equal(again.forward(x).toArray(), e.forward(x).toArray());
    assert.equal(again.config, e.config);
  }
  assertThrows(() => embeddingFromConfig({ type: 'transformer' } as never), ["type must be 'mlp' or 'deepset', got transformer"], RangeError);
});

test('bad widths, sizes and option names are refused with messages', () => {
  const rng = new Rng(0);
  const set = new DeepSetEmbedding({ items: 4, itemDim: 2, outFeatures: 2, rng });
  assertThrows(() => set.forward(Tensor.zeros(2, 6)), ['DeepSetEmbedding.forward (4 items of 2): expected input with 8 columns (n×8), got 2×6'], ShapeError);
  assertThrows(() => new MLPEmbedding({ inFeatures: 2, outFeatures: 2, rng }).forward(Tensor.zeros(1, 3)), ['MLPEmbedding.forward: expected input with 2 columns'], ShapeError);
  assertThrows(() => new MLPEmbedding({ inFeatures: 2, outFeatures: 0, rng }), ['MLPEmbedding: outFeatures must be a positive integer, got 0'], RangeError);
  assertThrows(() => new MLPEmbedding({ inFeatures: 2, outFeatures: 2, hidden: [3, 0], rng }), ['hidden must be an array of positive integers, got [3,0]'], RangeError);
  assertThrows(() => new DeepSetEmbedding({ items: 4, item_dim: 2, outFeatures: 2, rng } as never), ['DeepSetEmbedding: unknown option "item_dim" (did you mean "itemDim"?)'], TypeError);
  assertThrows(() => new MLPEmbedding({ inFeatures: 2, outFeatures: 2, hiden: [3], rng } as never), ['did you mean "hidden"?'], TypeError);
});

test.run();
