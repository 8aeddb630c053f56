/**
 * Structural ops on columns: sliceCols, concatCols, gatherCols. Their backward routes every gradient
 * entry back to where its value came from.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { concatCols, gatherCols, ShapeError, sliceCols, tensor } from '../../src/autograd/index.ts';
import { dim, matrix, pool } from '../helpers/arb.ts';
import { assertThrows } from '../helpers/assert.ts';
import { check, fc } from '../helpers/fc.ts';
import { analyticGrads, assertGradients } from '../helpers/finite-diff.ts';
import { assertMatchesOracle, casesOf } from '../helpers/oracle.ts';

// ---------------------------------------------------------------------------------------------------
// Hand-worked examples.

test('sliceCols takes columns start..end-1 and puts the gradient back in those columns only', () => {
  const { output, grads } = analyticGrads(([x]) => sliceCols(x!, 1, 3), [[[1, 2, 3, 4], [5, 6, 7, 8]]], [[1, 2], [3, 4]]);
  assert.equal(output, [[2, 3], [6, 7]]);
  assert.equal(grads, [[[0, 1, 2, 0], [0, 3, 4, 0]]]);
});

test('sliceCols runs to the last column when end is omitted', () => {
  const { output, grads } = analyticGrads(([x]) => sliceCols(x!, 2), [[[1, 2, 3, 4]]], [[5, 6]]);
  assert.equal(output, [[3, 4]]);
  assert.equal(grads, [[[0, 0, 5, 6]]]);
});

test('concatCols places parts side by side and splits the gradient between them', () => {
  const { output, grads } = analyticGrads((parts) => concatCols(parts), [[[1], [2]], [[3, 4], [5, 6]]], [[1, 2, 3], [4, 5, 6]]);
  assert.equal(output, [[1, 3, 4], [2, 5, 6]]);
  assert.equal(grads, [[[1], [4]], [[2, 3], [5, 6]]]);
});

test('concatCols of a tensor with itself accumulates both halves of the gradient', () => {
  const x = tensor([[1, 2]], { requiresGrad: true });
  concatCols([x, x]).backward([[1, 2, 10, 20]]);
  assert.equal(Array.from(x.grad!), [11, 22]);
});

test('gatherCols picks columns by index, and a repeated index sums its gradients', () => {
  // indices [2, 0, 2]: column 2 is read twice, column 1 never
  const { output, grads } = analyticGrads(([x]) => gatherCols(x!, [2, 0, 2]), [[[1, 2, 3], [4, 5, 6]]], [[1, 2, 3], [4, 5, 6]]);
  assert.equal(output, [[3, 1, 3], [6, 4, 6]]);
  assert.equal(grads, [[[2, 0, 1 + 3], [5, 0, 4 + 6]]]);
});

test('gatherCols with a permutation is undone by gathering with the inverse permutation', () => {
  const x = [[1, 2, 3, 4]];
  const perm = [2, 0, 3, 1], inverse = [1, 3, 0, 2];
  assert.equal(gatherCols(gatherCols(tensor(x), perm), inverse).toArray(), x);
  assert.equal(gatherCols(tensor(x), Int32Array.from(perm)).toArray(), [[3, 1, 4, 2]], 'typed-array indices work too');
});

// ---------------------------------------------------------------------------------------------------
// Properties on random shapes 1..5.

const slice = fc
  .record({ m: dim, n: dim })
  .chain(({ m, n }) => fc.record({ x: matrix(m, n), start: fc.integer({ min: 0, max: n - 1 }), pool }))
  .chain(({ x, start, pool: p }) => fc.record({ x: fc.constant(x), start: fc.constant(start), end: fc.integer({ min: start + 1, max: x[0]!.length }), pool: fc.constant(p) }));

test('sliceCols returns exactly the chosen columns on random shapes and ranges', () => {
  check(
    fc.property(slice, ({ x, start, end }) => {
      assert.equal(sliceCols(tensor(x), start, end).toArray(), x.map((row) => row.slice(start, end)));
    }),
  );
});

test('sliceCols backward matches central differences and gradcheck on random shapes and ranges', () => {
  check(fc.property(slice, ({ x, start, end, pool: p }) => assertGradients(([t]) => sliceCols(t!, start, end), [x], p, `sliceCols ${start}:${end}`)));
});

const parts = fc
  .record({ m: dim, widths: fc.array(dim, { minLength: 1, maxLength: 3 }) })
  .chain(({ m, widths }) => fc.record({ parts: fc.tuple(...widths.map((w) => matrix(m, w))), pool }));

test('concatCols of 1 to 3 random parts puts each row of each part side by side', () => {
  check(
    fc.property(parts, ({ parts: ps }) => {
      const expected = ps[0]!.map((_, i) => ps.flatMap((p) => p[i]!));
      assert.equal(concatCols(ps.map((p) => tensor(p))).toArray(), expected);
    }),
  );
});

test('concatCols backward matches central differences and gradcheck for 1 to 3 random parts', () => {
  check(fc.property(parts, ({ parts: ps, pool: p }) => assertGradients((ts) => concatCols(ts), ps, p, `concatCols of ${ps.length} parts`)));
});

const gather = fc
  .record({ m: dim, n: dim })
  .chain(({ m, n }) => fc.record({ x: matrix(m, n), indices: fc.array(fc.integer({ min: 0, max: n - 1 }), { minLength: 1, maxLength: 6 }), pool }));

test('gatherCols reads column indices[j] into column j, repeats allowed, on random shapes', () => {
  check(
    fc.property(gather, ({ x, indices }) => {
      assert.equal(gatherCols(tensor(x), indices).toArray(), x.map((row) => indices.map((k) => row[k]!)));
    }),
  );
});

test('gatherCols backward matches central differences and gradcheck on random shapes and indices', () => {
  check(fc.property(gather, ({ x, indices, pool: p }) => assertGradients(([t]) => gatherCols(t!, indices), [x], p, `gatherCols [${indices.join(', ')}]`)));
});

// ---------------------------------------------------------------------------------------------------
// The PyTorch float64 oracle.

for (const c of casesOf('shape')) {
  test(`${c.op} matches PyTorch (ops.json) forward and backward to rtol 1e-10`, () => assertMatchesOracle(c));
}

// ---------------------------------------------------------------------------------------------------
// Errors.

test('sliceCols refuses a range outside the tensor, naming the op, the range and the shape', () => {
  const x = tensor([[1, 2, 3]]);
  assertThrows(() => sliceCols(x, 1, 4), ['sliceCols:', '1:4', '1×3'], ShapeError);
  assertThrows(() => sliceCols(x, 2, 1), ['sliceCols:', '2:1'], ShapeError);
  assertThrows(() => sliceCols(x, -1, 2), ['sliceCols:', '-1:2'], ShapeError);
  assertThrows(() => sliceCols(x, 0.5, 2), ['sliceCols:'], ShapeError);
});

test('concatCols refuses parts with different numbers of rows, naming their shapes, and an empty list', () => {
  assertThrows(() => concatCols([tensor([[1], [2]]), tensor([[3, 4]])]), ['concatCols:', '2×1', '1×2'], ShapeError);
  assertThrows(() => concatCols([]), ['concatCols:'], ShapeError);
});

test('gatherCols refuses an index outside the columns, naming the index, its position and the shape', () => {
  assertThrows(() => gatherCols(tensor([[1, 2, 3]]), [0, 3]), ['gatherCols:', 'index 3', 'position 1', '1×3'], ShapeError);
  assertThrows(() => gatherCols(tensor([[1, 2, 3]]), [-1]), ['gatherCols:', 'index -1'], ShapeError);
  assertThrows(() => gatherCols(tensor([[1, 2, 3]]), [1.5]), ['gatherCols:', 'index 1.5'], ShapeError);
});

test.run();
