/**
 * Elementwise ops: a hand-worked example each, a property against central differences (independent
 * helper and the library's gradcheck) on random shapes and broadcast layouts, and the PyTorch oracle.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  abs,
  add,
  addScalar,
  div,
  exp,
  leakyRelu,
  log,
  mul,
  neg,
  powScalar,
  relu,
  scale,
  ShapeError,
  sigmoid,
  softplus,
  sqrt,
  square,
  sub,
  tanh,
  tensor,
  type Tensor,
} from '../../src/autograd/index.ts';
import { awayFromZero, broadcastPair, anyMatrix, pool, positive, smooth, within } from '../helpers/arb.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';
import { check, fc } from '../helpers/fc.ts';
import { analyticGrads, assertGradients, type Matrix } from '../helpers/finite-diff.ts';
import { assertMatchesOracle, casesOf } from '../helpers/oracle.ts';

const exact = { rtol: 1e-15 };

// ---------------------------------------------------------------------------------------------------
// Hand-worked examples: forward values, then the gradients of backward(upstream).

test('add sums entrywise and passes dOut to both operands', () => {
  const { output, grads } = analyticGrads(([a, b]) => add(a!, b!), [[[1, 2], [3, 4]], [[10, 20], [30, 40]]], [[1, 2], [3, 4]]);
  assert.equal(output, [[11, 22], [33, 44]]);
  assert.equal(grads, [[[1, 2], [3, 4]], [[1, 2], [3, 4]]]);
});

test('add broadcasts a 1×n row and sums its gradient down the rows', () => {
  // dOut = [[1, 2, 3], [4, 5, 6]]; the row's gradient is the column sums [5, 7, 9]
  const { output, grads } = analyticGrads(([a, b]) => add(a!, b!), [[[1, 2, 3], [4, 5, 6]], [[10, 20, 30]]], [[1, 2, 3], [4, 5, 6]]);
  assert.equal(output, [[11, 22, 33], [14, 25, 36]]);
  assert.equal(grads, [[[1, 2, 3], [4, 5, 6]], [[5, 7, 9]]]);
});

test('add broadcasts an m×1 column and sums its gradient across the columns', () => {
  // the column's gradient is the row sums [1+2+3, 4+5+6]
  const { output, grads } = analyticGrads(([a, b]) => add(a!, b!), [[[1, 2, 3], [4, 5, 6]], [[100], [200]]], [[1, 2, 3], [4, 5, 6]]);
  assert.equal(output, [[101, 102, 103], [204, 205, 206]]);
  assert.equal(grads[1], [[6], [15]]);
});

test('add broadcasts a 1×1 operand on the left and sums its gradient over every entry', () => {
  const { output, grads } = analyticGrads(([a, b]) => add(a!, b!), [[[10]], [[1, 2, 3], [4, 5, 6]]], [[1, 2, 3], [4, 5, 6]]);
  assert.equal(output, [[11, 12, 13], [14, 15, 16]]);
  assert.equal(grads, [[[21]], [[1, 2, 3], [4, 5, 6]]]);
});

test('add broadcasts a 1×n row against an m×1 column to m×n, summing each gradient back', () => {
  const { output, grads } = analyticGrads(([a, b]) => add(a!, b!), [[[1, 2, 3]], [[10], [20]]], [[1, 2, 3], [4, 5, 6]]);
  assert.equal(output, [[11, 12, 13], [21, 22, 23]]);
  assert.equal(grads, [[[5, 7, 9]], [[6], [15]]]);
});

test('sub subtracts and sends -dOut to the right operand', () => {
  const { output, grads } = analyticGrads(([a, b]) => sub(a!, b!), [[[5, 6]], [[1, 2]]], [[1, 2]]);
  assert.equal(output, [[4, 4]]);
  assert.equal(grads, [[[1, 2]], [[-1, -2]]]);
});

test('sub broadcasts a 1×1 left operand: its gradient is the sum of dOut, the right one gets -dOut', () => {
  const { output, grads } = analyticGrads(([a, b]) => sub(a!, b!), [[[10]], [[1, 2], [3, 4]]], [[1, 1], [1, 1]]);
  assert.equal(output, [[9, 8], [7, 6]]);
  assert.equal(grads, [[[4]], [[-1, -1], [-1, -1]]]);
});

test('mul multiplies entrywise; each gradient is dOut times the other operand, summed over broadcast', () => {
  // b is 2×1: db = [1·1 + 1·2, 1·3 + 1·4] = [3, 7]; da = b broadcast = [[10, 10], [100, 100]]
  const { output, grads } = analyticGrads(([a, b]) => mul(a!, b!), [[[1, 2], [3, 4]], [[10], [100]]], [[1, 1], [1, 1]]);
  assert.equal(output, [[10, 20], [300, 400]]);
  assert.equal(grads, [[[10, 10], [100, 100]], [[3], [7]]]);
});

test('div divides; da = dOut / b and db = -dOut·a / b²', () => {
  // a = [1, 2], b = [2, 4]: da = [1/2, 1/4], db = [-1/4, -2/16]
  const { output, grads } = analyticGrads(([a, b]) => div(a!, b!), [[[1, 2]], [[2, 4]]], [[1, 1]]);
  assert.equal(output, [[0.5, 0.5]]);
  assert.equal(grads, [[[0.5, 0.25]], [[-0.25, -0.125]]]);
});

test('div by a broadcast 1×1 denominator sums -a/b² over every entry', () => {
  // a = [[1, 2], [3, 4]], b = 2: db = -(1 + 2 + 3 + 4) / 4 = -2.5
  const { output, grads } = analyticGrads(([a, b]) => div(a!, b!), [[[1, 2], [3, 4]], [[2]]], [[1, 1], [1, 1]]);
  assert.equal(output, [[0.5, 1], [1.5, 2]]);
  assert.equal(grads, [[[0.5, 0.5], [0.5, 0.5]], [[-2.5]]]);
});

test('neg flips signs of values and gradients', () => {
  const { output, grads } = analyticGrads(([x]) => neg(x!), [[[1, -2]]], [[3, 4]]);
  assert.equal(output, [[-1, 2]]);
  assert.equal(grads, [[[-3, -4]]]);
});

test('exp has itself as derivative: exp(0) = 1, exp(1) = e', () => {
  const { output, grads } = analyticGrads(([x]) => exp(x!), [[[0, 1]]], [[2, 3]]);
  assertClose(output, [[1, Math.E]], 'exp forward', exact);
  assertClose(grads[0]!, [[2, 3 * Math.E]], 'exp gradient', exact);
});

test('log has derivative 1/x: log(1) = 0, log(e) = 1, log(4) = 2·log(2)', () => {
  const { output, grads } = analyticGrads(([x]) => log(x!), [[[1, Math.E, 4]]], [[1, 1, 2]]);
  assertClose(output, [[0, 1, 2 * Math.LN2]], 'log forward', exact);
  assertClose(grads[0]!, [[1, 1 / Math.E, 0.5]], 'log gradient', exact);
});

test('tanh at 0 and ln 2: tanh(ln 2) = 0.6 and its derivative 1 - 0.36 = 0.64', () => {
  const { output, grads } = analyticGrads(([x]) => tanh(x!), [[[0, Math.LN2]]], [[1, 1]]);
  assertClose(output, [[0, 0.6]], 'tanh forward', exact);
  assertClose(grads[0]!, [[1, 0.64]], 'tanh gradient', { rtol: 1e-14 });
});

test('sigmoid at 0 and ln 3: σ(ln 3) = 3/4 with derivative 3/4·1/4 = 3/16', () => {
  const { output, grads } = analyticGrads(([x]) => sigmoid(x!), [[[0, Math.log(3)]]], [[1, 1]]);
  assertClose(output, [[0.5, 0.75]], 'sigmoid forward', exact);
  assertClose(grads[0]!, [[0.25, 0.1875]], 'sigmoid gradient', { rtol: 1e-14 });
});

test('sigmoid stays finite and saturates at ±1000', () => {
  const { output, grads } = analyticGrads(([x]) => sigmoid(x!), [[[-1000, 1000]]], [[1, 1]]);
  assert.equal(output, [[0, 1]]);
  assert.equal(grads, [[[0, 0]]]);
});

test('softplus at 0 and ln 3: log 2 and log 4, with derivative σ(x) = 1/2 and 3/4', () => {
  const { output, grads } = analyticGrads(([x]) => softplus(x!), [[[0, Math.log(3)]]], [[1, 1]]);
  assertClose(output, [[Math.LN2, 2 * Math.LN2]], 'softplus forward', exact);
  assertClose(grads[0]!, [[0.5, 0.75]], 'softplus gradient', { rtol: 1e-14 });
});

test('softplus neither overflows at 1000 nor loses the tail at -40', () => {
  const { output, grads } = analyticGrads(([x]) => softplus(x!), [[[1000, -40]]], [[1, 1]]);
  // softplus(-40) = log1p(e^-40) ≈ e^-40, which the naive log(1 + e^-40) would round to 0
  assertClose(output, [[1000, Math.exp(-40)]], 'softplus forward', { rtol: 1e-12 });
  assertClose(grads[0]!, [[1, Math.exp(-40)]], 'softplus gradient', { rtol: 1e-12 });
});

test('relu keeps positives, zeroes the rest, and passes gradient only where x > 0 (0 at x = 0)', () => {
  const { output, grads } = analyticGrads(([x]) => relu(x!), [[[-1, 2, 0]]], [[5, 6, 7]]);
  assert.equal(output, [[0, 2, 0]]);
  assert.equal(grads, [[[0, 6, 0]]]);
});

test('leakyRelu uses slope 0.01 by default and the given slope otherwise', () => {
  const d = analyticGrads(([x]) => leakyRelu(x!), [[[-1, 2]]], [[1, 1]]);
  assertClose(d.output, [[-0.01, 2]], 'leakyRelu forward', exact);
  assertClose(d.grads[0]!, [[0.01, 1]], 'leakyRelu gradient', exact);
  const s = analyticGrads(([x]) => leakyRelu(x!, 0.2), [[[-2, 3]]], [[1, 2]]);
  assertClose(s.output, [[-0.4, 3]], 'leakyRelu(0.2) forward', exact);
  assertClose(s.grads[0]!, [[0.2, 2]], 'leakyRelu(0.2) gradient', exact);
});

test('square has derivative 2x', () => {
  const { output, grads } = analyticGrads(([x]) => square(x!), [[[-3, 2]]], [[1, 0.5]]);
  assert.equal(output, [[9, 4]]);
  assert.equal(grads, [[[-6, 2]]]);
});

test('sqrt has derivative 1/(2√x): √4 = 2 gives 1/4, √9 = 3 gives 1/6', () => {
  const { output, grads } = analyticGrads(([x]) => sqrt(x!), [[[4, 9]]], [[1, 1]]);
  assert.equal(output, [[2, 3]]);
  assertClose(grads[0]!, [[0.25, 1 / 6]], 'sqrt gradient', exact);
});

test('abs has derivative sign(x), 0 at x = 0 as in PyTorch', () => {
  const { output, grads } = analyticGrads(([x]) => abs(x!), [[[-2, 3, 0]]], [[1, 1, 1]]);
  assert.equal(output, [[2, 3, 0]]);
  assert.equal(grads, [[[-1, 1, 0]]]);
});

test('scale multiplies values and gradients by c', () => {
  const { output, grads } = analyticGrads(([x]) => scale(x!, 3), [[[1, 2]]], [[1, -1]]);
  assert.equal(output, [[3, 6]]);
  assert.equal(grads, [[[3, -3]]]);
});

test('addScalar shifts values and passes dOut through unchanged', () => {
  const { output, grads } = analyticGrads(([x]) => addScalar(x!, 1.5), [[[1, 2]]], [[2, 3]]);
  assert.equal(output, [[2.5, 3.5]]);
  assert.equal(grads, [[[2, 3]]]);
});

test('powScalar has derivative p·x^(p-1) for integer, negative and fractional p', () => {
  const cube = analyticGrads(([x]) => powScalar(x!, 3), [[[2, 3]]], [[1, 1]]);
  assert.equal(cube.output, [[8, 27]]);
  assert.equal(cube.grads, [[[12, 27]]]);
  const inverse = analyticGrads(([x]) => powScalar(x!, -1), [[[2]]], [[1]]);
  assert.equal(inverse.output, [[0.5]]);
  assert.equal(inverse.grads, [[[-0.25]]]);
  const root = analyticGrads(([x]) => powScalar(x!, 0.5), [[[4]]], [[1]]);
  assert.equal(root.output, [[2]]);
  assert.equal(root.grads, [[[0.25]]]);
});

test('powScalar with p = 0 is constant 1 with gradient 0, even at x = 0 (as in PyTorch)', () => {
  const { output, grads } = analyticGrads(([x]) => powScalar(x!, 0), [[[0, -2, 5]]], [[1, 1, 1]]);
  assert.equal(output, [[1, 1, 1]]);
  assert.equal(grads, [[[0, 0, 0]]]);
});

test('an operand that does not require grad gets no gradient', () => {
  const a = tensor([[1, 2]], { requiresGrad: true });
  const b = tensor([[3, 4]]);
  mul(a, b).backward([[1, 1]]);
  assert.equal(Array.from(a.grad!), [3, 4]);
  assert.is(b.grad, null);
});

// ---------------------------------------------------------------------------------------------------
// Properties: forward against a plain-number reference, backward against central differences.

type Binary = (a: Tensor, b: Tensor) => Tensor;

const binaries: { name: string; f: Binary; ref: (a: number, b: number) => number; right: fc.Arbitrary<number> }[] = [
  { name: 'add', f: add, ref: (a, b) => a + b, right: smooth },
  { name: 'sub', f: sub, ref: (a, b) => a - b, right: smooth },
  { name: 'mul', f: mul, ref: (a, b) => a * b, right: smooth },
  // the denominator is kept at least 0.1 away from the pole
  { name: 'div', f: div, ref: (a, b) => a / b, right: awayFromZero },
];

/** The entry of a broadcast operand read for output entry (i, j). */
function at(m: Matrix, i: number, j: number): number {
  return m[m.length === 1 ? 0 : i]![m[0]!.length === 1 ? 0 : j]!;
}

for (const { name, f, ref, right } of binaries) {
  test(`${name} broadcasts 1×1, 1×n and m×1 against m×n on either side, forward entry by entry`, () => {
    check(
      fc.property(broadcastPair(smooth, right), ({ a, b }) => {
        const out = f(tensor(a), tensor(b));
        const rows = Math.max(a.length, b.length), cols = Math.max(a[0]!.length, b[0]!.length);
        assert.equal(out.shape, [rows, cols], 'output shape');
        const expected = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => ref(at(a, i, j), at(b, i, j))));
        assertClose(out.toArray(), expected, `${name} forward`, exact);
      }),
    );
  });

  test(`${name} backward matches central differences and gradcheck, summed back to each operand's shape`, () => {
    check(
      fc.property(broadcastPair(smooth, right), ({ layouts, a, b, pool: p }) => {
        assertGradients(([x, y]) => f(x!, y!), [a, b], p, `${name} (${layouts})`);
      }),
    );
  });
}

const unaries: { name: string; f: (x: Tensor, c: number) => Tensor; ref: (x: number, c: number) => number; values: fc.Arbitrary<number>; param?: fc.Arbitrary<number> }[] = [
  { name: 'neg', f: (x) => neg(x), ref: (x) => -x, values: smooth },
  { name: 'exp', f: (x) => exp(x), ref: Math.exp, values: smooth },
  { name: 'log', f: (x) => log(x), ref: Math.log, values: positive },
  { name: 'tanh', f: (x) => tanh(x), ref: Math.tanh, values: within(-5, 5) },
  { name: 'sigmoid', f: (x) => sigmoid(x), ref: (x) => 1 / (1 + Math.exp(-x)), values: within(-5, 5) },
  { name: 'softplus', f: (x) => softplus(x), ref: (x) => Math.log1p(Math.exp(x)), values: within(-5, 5) },
  { name: 'relu', f: (x) => relu(x), ref: (x) => Math.max(x, 0), values: awayFromZero },
  { name: 'leakyRelu', f: (x, slope) => leakyRelu(x, slope), ref: (x, slope) => (x > 0 ? x : slope * x), values: awayFromZero, param: within(0, 1) },
  { name: 'square', f: (x) => square(x), ref: (x) => x * x, values: smooth },
  { name: 'sqrt', f: (x) => sqrt(x), ref: Math.sqrt, values: positive },
  { name: 'abs', f: (x) => abs(x), ref: Math.abs, values: awayFromZero },
  { name: 'scale', f: (x, c) => scale(x, c), ref: (x, c) => c * x, values: smooth, param: within(-3, 3) },
  { name: 'addScalar', f: (x, c) => addScalar(x, c), ref: (x, c) => x + c, values: smooth, param: within(-3, 3) },
  { name: 'powScalar', f: (x, p) => powScalar(x, p), ref: (x, p) => x ** p, values: positive, param: within(-2, 3) },
];

for (const { name, f, ref, values, param } of unaries) {
  const input = fc.record({ x: anyMatrix(values), c: param ?? fc.constant(0), pool });

  test(`${name} applies its formula to every entry of a random-shaped input`, () => {
    check(
      fc.property(input, ({ x, c }) => {
        const out = f(tensor(x), c);
        assert.equal(out.shape, [x.length, x[0]!.length], 'output shape');
        assertClose(out.toArray(), x.map((row) => row.map((v) => ref(v, c))), `${name} forward`, { rtol: 1e-14, atol: 1e-300 });
      }),
    );
  });

  test(`${name} backward matches central differences and gradcheck on random shapes`, () => {
    check(
      fc.property(input, ({ x, c, pool: p }) => {
        assertGradients(([t]) => f(t!, c), [x], p, `${name}${param ? ` (parameter ${c})` : ''}`);
      }),
    );
  });
}

// ---------------------------------------------------------------------------------------------------
// The PyTorch float64 oracle.

for (const c of casesOf('elementwise')) {
  test(`${c.op} matches PyTorch (ops.json) forward and backward to rtol 1e-10`, () => assertMatchesOracle(c));
}

// ---------------------------------------------------------------------------------------------------
// Errors.

test('binary ops refuse shapes that do not broadcast, naming the op and both shapes', () => {
  const ops: [string, Binary][] = [['add', add], ['sub', sub], ['mul', mul], ['div', div]];
  for (const [name, f] of ops) {
    assertThrows(() => f(twoByThree(), tensor([[1, 2], [3, 4], [5, 6]])), [`${name}:`, '2×3', '3×2'], ShapeError);
    assertThrows(() => f(tensor([[1, 2]]), twoByThree()), [`${name}:`, '1×2', '2×3'], ShapeError);
  }
});

function twoByThree(): Tensor {
  return tensor([[1, 2, 3], [4, 5, 6]]);
}

test.run();
