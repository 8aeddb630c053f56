/**
 * Matrix products: matmul, transpose and the fused linear layer.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { add, linear, matmul, ShapeError, Tensor, tensor, transpose } from '../../src/autograd/index.ts';
import { dim, matrix, pool } from '../helpers/arb.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';
import { check, fc } from '../helpers/fc.ts';
import { analyticGrads, assertGradients, type Matrix } from '../helpers/finite-diff.ts';
import { assertMatchesOracle, casesOf } from '../helpers/oracle.ts';

/** Plain triple loop, the textbook definition. */
function product(a: Matrix, b: Matrix): Matrix {
  return a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, p) => s + v * b[p]![j]!, 0)));
}

function t(a: Matrix): Matrix {
  return a[0]!.map((_, j) => a.map((row) => row[j]!));
}

// ---------------------------------------------------------------------------------------------------
// Hand-worked examples.

test('matmul of two 2×2 matrices, with dA = dOut·Bᵀ and dB = Aᵀ·dOut', () => {
  // A = [[1, 2], [3, 4]], B = [[5, 6], [7, 8]]; dOut = ones:
  // dA = ones·Bᵀ = [[5+6, 7+8], [5+6, 7+8]], dB = Aᵀ·ones = [[1+3, 1+3], [2+4, 2+4]]
  const { output, grads } = analyticGrads(([a, b]) => matmul(a!, b!), [[[1, 2], [3, 4]], [[5, 6], [7, 8]]], [[1, 1], [1, 1]]);
  assert.equal(output, [[19, 22], [43, 50]]);
  assert.equal(grads, [[[11, 15], [11, 15]], [[4, 4], [6, 6]]]);
});

test('matmul of a row by a column is their dot product; each gradient is the other vector', () => {
  const { output, grads } = analyticGrads(([a, b]) => matmul(a!, b!), [[[1, 2]], [[3], [4]]], [[2]]);
  assert.equal(output, [[11]]);
  assert.equal(grads, [[[6, 8]], [[2], [4]]]);
});

test('transpose swaps rows and columns, and its gradient is dOutᵀ', () => {
  const { output, grads } = analyticGrads(([x]) => transpose(x!), [[[1, 2, 3], [4, 5, 6]]], [[1, 2], [3, 4], [5, 6]]);
  assert.equal(output, [[1, 4], [2, 5], [3, 6]]);
  assert.equal(grads, [[[1, 3, 5], [2, 4, 6]]]);
});

test('linear computes x·Wᵀ + b with W out×in; dx = dOut·W, dW = dOutᵀ·x, db = column sums of dOut', () => {
  // x = [1, 2], W = [[1, 1], [0, 1]], b = [0, 10]: out = [1+2+0, 0+2+10] = [3, 12]
  // dOut = [1, 2]: dx = [1·1 + 2·0, 1·1 + 2·1] = [1, 3]; dW = [[1·1, 1·2], [2·1, 2·2]]; db = [1, 2]
  const { output, grads } = analyticGrads(([x, W, b]) => linear(x!, W!, b!), [[[1, 2]], [[1, 1], [0, 1]], [[0, 10]]], [[1, 2]]);
  assert.equal(output, [[3, 12]]);
  assert.equal(grads, [[[1, 3]], [[1, 2], [2, 4]], [[1, 2]]]);
});

test('linear sums the bias gradient over the batch rows', () => {
  const { grads } = analyticGrads(([x, W, b]) => linear(x!, W!, b!), [[[1, 0], [0, 1], [1, 1]], [[2, 3]], [[0.5]]], [[1], [2], [3]]);
  // dW = dOutᵀ·x = [1·[1,0] + 2·[0,1] + 3·[1,1]] = [[4, 5]]; db = 1 + 2 + 3
  assert.equal(grads[1], [[4, 5]]);
  assert.equal(grads[2], [[6]]);
});

test('linear without a bias is x·Wᵀ', () => {
  const { output, grads } = analyticGrads(([x, W]) => linear(x!, W!), [[[1, 2]], [[1, 1], [0, 1]]], [[1, 2]]);
  assert.equal(output, [[3, 2]]);
  assert.equal(grads, [[[1, 3]], [[1, 2], [2, 4]]]);
  const withNull = linear(tensor([[1, 2]]), tensor([[1, 1], [0, 1]]), null);
  assert.equal(withNull.toArray(), [[3, 2]]);
  assert.is(withNull.parents.length, 0, 'no input requires grad, so nothing is recorded');
});

// ---------------------------------------------------------------------------------------------------
// Properties on random shapes 1..5.

const product3 = fc.record({ m: dim, k: dim, n: dim }).chain(({ m, k, n }) => fc.record({ a: matrix(m, k), b: matrix(k, n), pool }));

test('matmul agrees with the textbook triple loop on random shapes', () => {
  check(
    fc.property(product3, ({ a, b }) => {
      const out = matmul(tensor(a), tensor(b));
      assert.equal(out.shape, [a.length, b[0]!.length]);
      assertClose(out.toArray(), product(a, b), 'matmul forward', { rtol: 1e-12, atol: 1e-14 });
    }),
  );
});

test('matmul backward matches central differences and gradcheck on random shapes', () => {
  check(
    fc.property(product3, ({ a, b, pool: p }) => {
      assertGradients(([x, y]) => matmul(x!, y!), [a, b], p, `matmul ${a.length}×${b.length} by ${b.length}×${b[0]!.length}`);
    }),
  );
});

const oneMatrix = fc.record({ m: dim, n: dim }).chain(({ m, n }) => fc.record({ x: matrix(m, n), pool }));

test('transpose moves entry (i, j) to (j, i) on random shapes', () => {
  check(
    fc.property(oneMatrix, ({ x }) => {
      assert.equal(transpose(tensor(x)).toArray(), t(x));
    }),
  );
});

test('transpose backward matches central differences and gradcheck on random shapes', () => {
  check(fc.property(oneMatrix, ({ x, pool: p }) => assertGradients(([v]) => transpose(v!), [x], p, 'transpose')));
});

const layer = fc.record({ batch: dim, nIn: dim, nOut: dim, withBias: fc.boolean() }).chain(({ batch, nIn, nOut, withBias }) =>
  fc.record({ x: matrix(batch, nIn), W: matrix(nOut, nIn), b: matrix(1, nOut), withBias: fc.constant(withBias), pool }),
);

test('linear equals matmul(x, transpose(W)) + b on random shapes, with and without bias', () => {
  check(
    fc.property(layer, ({ x, W, b, withBias }) => {
      const fused = withBias ? linear(tensor(x), tensor(W), tensor(b)) : linear(tensor(x), tensor(W));
      const composed = matmul(tensor(x), transpose(tensor(W)));
      const expected = withBias ? add(composed, tensor(b)) : composed;
      assert.equal(fused.shape, [x.length, W.length]);
      assertClose(fused.toArray(), expected.toArray(), 'linear forward', { rtol: 1e-12, atol: 1e-14 });
    }),
  );
});

test('linear backward matches central differences and gradcheck on random shapes, with and without bias', () => {
  check(
    fc.property(layer, ({ x, W, b, withBias, pool: p }) => {
      if (withBias) assertGradients(([v, w, c]) => linear(v!, w!, c!), [x, W, b], p, 'linear with bias');
      else assertGradients(([v, w]) => linear(v!, w!), [x, W], p, 'linear without bias');
    }),
  );
});

// ---------------------------------------------------------------------------------------------------
// The PyTorch float64 oracle.

for (const c of casesOf('matmul')) {
  test(`${c.op} matches PyTorch (ops.json) forward and backward to rtol 1e-10`, () => assertMatchesOracle(c));
}

// ---------------------------------------------------------------------------------------------------
// Errors.

test('matmul refuses mismatched inner sizes, naming the op and both shapes', () => {
  assertThrows(() => matmul(tensor([[1, 2, 3], [4, 5, 6]]), tensor([[1], [2], [3], [4]])), ['matmul:', '2×3', '4×1'], ShapeError);
});

test('linear refuses a weight whose columns do not match the input, naming both shapes', () => {
  assertThrows(() => linear(tensor([[1, 2, 3]]), tensor([[1, 2], [3, 4]])), ['linear:', '1×3', '2×2'], ShapeError);
});

test('linear refuses a bias that is not 1×out, naming its shape', () => {
  assertThrows(() => linear(tensor([[1, 2]]), tensor([[1, 2], [3, 4]]), tensor([[1], [2]])), ['linear:', '1×2', '2×1'], ShapeError);
});

test('linear over many rows (its dW = dOutᵀ·x taken in row blocks) equals its reference bit for bit, dW and db included', () => {
  // 203 rows of 37 inputs and 41 outputs: the dW product runs in several row blocks plus edge rows and columns;
  // 300×130 -> 6 and 512×256 -> 4 (few outputs, wide input) take dW through tilesAtBRowBlocks, the first
  // with a last partial block of rows and edge rows and columns
  let seed = 3;
  const next = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const make = (r: number, c: number) => Tensor.from(r, c, Float64Array.from({ length: r * c }, next), { requiresGrad: true });
  for (const [n, nIn, nOut] of [[203, 37, 41], [1000, 3, 5], [64, 64, 4], [130, 70, 66], [300, 130, 6], [512, 256, 4]] as const) {
    const x = make(n, nIn), W = make(nOut, nIn), b = make(1, nOut), dOut = make(n, nOut);
    linear(x, W, b).backward(dOut.data);
    const fused = [x.grad!.slice(), W.grad!.slice(), b.grad!.slice()];
    x.grad = null;
    W.grad = null;
    b.grad = null;
    add(matmul(x, transpose(W)), b).backward(dOut.data);
    assert.equal(Array.from(fused[0]!), Array.from(x.grad!), `${n}×${nIn} -> ${nOut}: dx`);
    assert.equal(Array.from(fused[1]!), Array.from(W.grad!), `${n}×${nIn} -> ${nOut}: dW`);
    assert.equal(Array.from(fused[2]!), Array.from(b.grad!), `${n}×${nIn} -> ${nOut}: db`);
  }
});

test('matmul of large operands (the panel path, with edge rows and columns) equals the textbook loops bit for bit, values and both gradients', () => {
  let seed = 7;
  const next = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  for (const [m, k, n] of [[64, 64, 64], [67, 65, 70], [130, 66, 65]] as const) {
    const A = Tensor.from(m, k, Float64Array.from({ length: m * k }, next), { requiresGrad: true });
    const B = Tensor.from(k, n, Float64Array.from({ length: k * n }, next), { requiresGrad: true });
    const G = Float64Array.from({ length: m * n }, next);
    const out = matmul(A, B);
    out.backward(G);
    // each sum in order from 0, as the textbook loop writes it
    const o = new Float64Array(m * n), dA = new Float64Array(m * k), dB = new Float64Array(k * n);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) { let acc = 0; for (let p = 0; p < k; p++) acc += A.data[i * k + p]! * B.data[p * n + j]!; o[i * n + j] = acc; }
    for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) { let acc = 0; for (let j = 0; j < n; j++) acc += G[i * n + j]! * B.data[p * n + j]!; dA[i * k + p] = acc; }
    for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) { let acc = 0; for (let i = 0; i < m; i++) acc += A.data[i * k + p]! * G[i * n + j]!; dB[p * n + j] = acc; }
    assert.equal(Array.from(out.data), Array.from(o), `${m}×${k} by ${k}×${n}: values`);
    assert.equal(Array.from(A.grad!), Array.from(dA), `${m}×${k} by ${k}×${n}: dA`);
    assert.equal(Array.from(B.grad!), Array.from(dB), `${m}×${k} by ${k}×${n}: dB`);
  }
});

test.run();
