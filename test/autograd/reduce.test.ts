/**
 * Reductions: sum and mean over all entries (1×1), down the rows (axis 0, 1×cols) and across the
 * columns (axis 1, rows×1).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mean, sum, tensor, type Axis, type Tensor } from '../../src/autograd/index.ts';
import { anyMatrix, pool } from '../helpers/arb.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';
import { check, fc } from '../helpers/fc.ts';
import { analyticGrads, assertGradients, type Matrix } from '../helpers/finite-diff.ts';
import { assertMatchesOracle, casesOf } from '../helpers/oracle.ts';

const x: Matrix = [[1, 2], [3, 4]];

// ---------------------------------------------------------------------------------------------------
// Hand-worked examples.

test('sum over all entries is 1×1 and sends dOut to every entry', () => {
  const { output, grads } = analyticGrads(([v]) => sum(v!), [x], [[2]]);
  assert.equal(output, [[10]]);
  assert.equal(grads, [[[2, 2], [2, 2]]]);
});

test('sum over axis 0 gives the column sums (1×cols) and copies dOut down each column', () => {
  const { output, grads } = analyticGrads(([v]) => sum(v!, 0), [x], [[1, 2]]);
  assert.equal(output, [[4, 6]]);
  assert.equal(grads, [[[1, 2], [1, 2]]]);
});

test('sum over axis 1 gives the row sums (rows×1) and copies dOut across each row', () => {
  const { output, grads } = analyticGrads(([v]) => sum(v!, 1), [x], [[1], [2]]);
  assert.equal(output, [[3], [7]]);
  assert.equal(grads, [[[1, 1], [2, 2]]]);
});

test('mean over all entries divides the sum and the gradient by the number of entries', () => {
  const { output, grads } = analyticGrads(([v]) => mean(v!), [x], [[1]]);
  assert.equal(output, [[2.5]]);
  assert.equal(grads, [[[0.25, 0.25], [0.25, 0.25]]]);
});

test('mean over axis 0 divides by the number of rows', () => {
  const { output, grads } = analyticGrads(([v]) => mean(v!, 0), [x], [[1, 2]]);
  assert.equal(output, [[2, 3]]);
  assert.equal(grads, [[[0.5, 1], [0.5, 1]]]);
});

test('mean over axis 1 divides by the number of columns', () => {
  const { output, grads } = analyticGrads(([v]) => mean(v!, 1), [[[1, 2, 3], [4, 5, 6]]], [[1], [2]]);
  assertClose(output, [[2], [5]], 'mean axis 1 forward', { rtol: 1e-15 });
  assertClose(grads[0]!, [[1 / 3, 1 / 3, 1 / 3], [2 / 3, 2 / 3, 2 / 3]], 'mean axis 1 gradient', { rtol: 1e-15 });
});

// ---------------------------------------------------------------------------------------------------
// Properties on random shapes 1..5, for every axis.

const reductions: { name: string; f: (x: Tensor) => Tensor; axis: Axis; ref: (x: Matrix) => Matrix }[] = [];
for (const axis of [undefined, 0, 1] as const) {
  const rows = (m: Matrix) => m.map((r) => r.reduce((s, v) => s + v, 0));
  const cols = (m: Matrix) => m[0]!.map((_, j) => m.reduce((s, r) => s + r[j]!, 0));
  const all = (m: Matrix) => rows(m).reduce((s, v) => s + v, 0);
  const size = (m: Matrix) => (axis === undefined ? m.length * m[0]!.length : axis === 0 ? m.length : m[0]!.length);
  const sums = (m: Matrix): Matrix => (axis === undefined ? [[all(m)]] : axis === 0 ? [cols(m)] : rows(m).map((v) => [v]));
  reductions.push({ name: 'sum', axis, f: (t) => sum(t, axis), ref: sums });
  reductions.push({ name: 'mean', axis, f: (t) => mean(t, axis), ref: (m) => sums(m).map((r) => r.map((v) => v / size(m))) });
}

for (const { name, axis, f, ref } of reductions) {
  const where = axis === undefined ? 'over all entries' : `over axis ${axis}`;
  const input = fc.record({ x: anyMatrix(), pool });

  test(`${name} ${where} agrees with a plain loop on random shapes`, () => {
    check(
      fc.property(input, ({ x: m }) => {
        const out = f(tensor(m));
        const expected = ref(m);
        assert.equal(out.shape, [expected.length, expected[0]!.length], 'output shape');
        assertClose(out.toArray(), expected, `${name} ${where}`, { rtol: 1e-12, atol: 1e-14 });
      }),
    );
  });

  test(`${name} ${where} backward matches central differences and gradcheck on random shapes`, () => {
    check(fc.property(input, ({ x: m, pool: p }) => assertGradients(([t]) => f(t!), [m], p, `${name} ${where}`)));
  });
}

// ---------------------------------------------------------------------------------------------------
// The PyTorch float64 oracle.

for (const c of casesOf('reduce')) {
  test(`${c.op} matches PyTorch (ops.json) forward and backward to rtol 1e-10`, () => assertMatchesOracle(c));
}

// ---------------------------------------------------------------------------------------------------
// Errors.

test('sum and mean refuse an axis other than 0, 1 or none, naming the op and the axis', () => {
  assertThrows(() => sum(tensor(x), 2 as unknown as Axis), ['sum:', 'axis', '2'], RangeError);
  assertThrows(() => mean(tensor(x), -1 as unknown as Axis), ['mean:', 'axis', '-1'], RangeError);
});

test.run();
