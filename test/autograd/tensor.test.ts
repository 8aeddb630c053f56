/**
 * The tensor and the backward pass: construction, seeding, accumulation, values used twice, very deep
 * graphs, graph release, noGrad, detach, zeroGrad, anomaly mode and the errors for misuse.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  abs,
  add,
  addScalar,
  AnomalyError,
  concatCols,
  detectAnomaly,
  div,
  exp,
  gatherCols,
  isAnomalyEnabled,
  isGradEnabled,
  leakyRelu,
  linear,
  log,
  matmul,
  mean,
  mul,
  neg,
  noGrad,
  powScalar,
  relu,
  scale,
  ShapeError,
  sigmoid,
  sliceCols,
  softplus,
  sqrt,
  square,
  sub,
  sum,
  tanh,
  Tensor,
  tensor,
  topologicalOrder,
  transpose,
} from '../../src/autograd/index.ts';
import { anyMatrix, pool } from '../helpers/arb.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';
import { check, fc } from '../helpers/fc.ts';
import { analyticGrads, assertGradients } from '../helpers/finite-diff.ts';
import { allCases, assertMatchesOracle, casesOf, ORACLE, type Family } from '../helpers/oracle.ts';

// ---------------------------------------------------------------------------------------------------
// Construction.

test('tensor copies nested arrays into a row-major Float64Array', () => {
  const values = [[1, 2, 3], [4, 5, 6]];
  const x = tensor(values);
  values[0]![0] = 100;
  assert.equal(x.shape, [2, 3]);
  assert.is(x.size, 6);
  assert.equal(Array.from(x.data), [1, 2, 3, 4, 5, 6]);
  assert.equal(x.toArray(), [[1, 2, 3], [4, 5, 6]]);
  assert.is(x.requiresGrad, false);
  assert.is(x.op, 'leaf');
  assert.is(x.grad, null);
  assert.is(x.gradArray(), null);
});

test('Tensor.zeros and Tensor.ones fill, Tensor.from shares its buffer', () => {
  assert.equal(Tensor.zeros(2, 1).toArray(), [[0], [0]]);
  assert.equal(Tensor.ones(1, 3, { requiresGrad: true }).toArray(), [[1, 1, 1]]);
  assert.is(Tensor.ones(1, 1, { requiresGrad: true }).requiresGrad, true);
  const buffer = new Float64Array([3, 4]);
  const x = Tensor.from(1, 2, buffer, { name: 'x' });
  buffer[1] = 5;
  assert.equal(x.toArray(), [[3, 5]]);
  assert.is(x.label, 'x');
});

test('item reads a 1×1 tensor and refuses any other shape, naming it', () => {
  assert.is(tensor([[7]]).item(), 7);
  assertThrows(() => tensor([[1], [2]]).item(), ['item:', '2×1'], ShapeError);
});

test('ragged rows, a wrong number of values and a bad shape are ShapeErrors', () => {
  assertThrows(() => tensor([[1, 2], [3]]), ['tensor:', 'ragged', 'row 1 has 1'], ShapeError);
  assertThrows(() => Tensor.from(2, 2, new Float64Array(3)), ['tensor:', '2×2', 'needs 4 values, got 3'], ShapeError);
  assertThrows(() => Tensor.zeros(-1, 2), ['tensor:', '-1×2'], ShapeError);
  assertThrows(() => Tensor.zeros(1.5, 2), ['tensor:', '1.5×2'], ShapeError);
});

test('toString names the shape, the op and whether it requires grad', () => {
  const x = tensor([[1, 2]], { requiresGrad: true });
  assert.is(x.toString(), 'Tensor(1×2, op=leaf, requiresGrad)');
  assert.is(exp(tensor([[1]])).toString(), 'Tensor(1×1, op=exp)');
});

// ---------------------------------------------------------------------------------------------------
// Seeding backward.

test('backward on a 1×1 output seeds dOut = 1', () => {
  const x = tensor([[1, 2, 3]], { requiresGrad: true });
  sum(scale(x, 2)).backward();
  assert.equal(Array.from(x.grad!), [2, 2, 2]);
});

test('backward accepts dOut as nested arrays, a Tensor or a Float64Array, with the same result', () => {
  const seeds = [[[1, 2]], tensor([[1, 2]]), new Float64Array([1, 2])];
  for (const seed of seeds) {
    const x = tensor([[3, 4]], { requiresGrad: true });
    scale(x, 3).backward(seed);
    assert.equal(Array.from(x.grad!), [3, 6]);
  }
});

test('backward on a non-1×1 output without dOut is refused, naming the shape', () => {
  const x = tensor([[1, 2]], { requiresGrad: true });
  assertThrows(() => exp(x).backward(), ['backward:', '1×2', 'dOut'], ShapeError);
  assert.is(x.grad, null, 'nothing was accumulated');
});

test('backward refuses a dOut of the wrong shape, naming both shapes', () => {
  const y = exp(tensor([[1, 2], [3, 4]], { requiresGrad: true }));
  assertThrows(() => y.backward([[1, 2, 3, 4]]), ['backward:', '2×2', '1×4'], ShapeError);
  assertThrows(() => y.backward(tensor([[1], [2], [3], [4]])), ['backward:', '2×2', '4×1'], ShapeError);
  assertThrows(() => y.backward(new Float64Array(3)), ['backward:', '2×2', '3 values'], ShapeError);
});

test('backward on a tensor that does not require grad is refused', () => {
  assertThrows(() => sum(tensor([[1, 2]])).backward(), ['backward:', 'does not require grad']);
});

// ---------------------------------------------------------------------------------------------------
// Accumulation, values used twice, deep graphs.

test('a value used twice accumulates both contributions: d(x·x)/dx = 2x', () => {
  const { grads } = analyticGrads(([x]) => mul(x!, x!), [[[1, 2, -3]]], [[1, 1, 1]]);
  assert.equal(grads, [[[2, 4, -6]]]);
});

test('a value used three times, x·x + x, has gradient 2x + 1', () => {
  const { grads } = analyticGrads(([x]) => add(mul(x!, x!), x!), [[[1, 2, -3]]], [[1, 1, 1]]);
  assert.equal(grads, [[[3, 5, -5]]]);
});

test('an intermediate used twice sums both paths before passing its gradient on', () => {
  // y = tanh(x); z = y·exp(y): dz/dx = (1 + y)·exp(y)·(1 - y²)
  const x = tensor([[0.3, -0.7]], { requiresGrad: true });
  const y = tanh(x);
  sum(mul(y, exp(y))).backward();
  const expected = [0.3, -0.7].map((v) => {
    const t = Math.tanh(v);
    return (1 + t) * Math.exp(t) * (1 - t * t);
  });
  assertClose(x.grad!, expected, 'diamond gradient', { rtol: 1e-14 });
});

test('a weight shared by two layers gets the sum of both layers\' gradients', () => {
  // h = x·Wᵀ = [1, 3], y = h·Wᵀ = [7, 15], L = sum(y).
  // Outer use: dW += dOutᵀ·h = [[1, 3], [1, 3]]; dh = dOut·W = [4, 6]; inner use: dW += dhᵀ·x = [[4, 0], [6, 0]].
  const { output, grads } = analyticGrads(([x, W]) => linear(linear(x!, W!), W!), [[[1, 0]], [[1, 2], [3, 4]]], [[1, 1]]);
  assert.equal(output, [[7, 15]]);
  assert.equal(grads, [[[22, 32]], [[5, 3], [7, 3]]]);
});

test('graphs that reuse values (x·x, shared intermediates) match central differences and gradcheck', () => {
  const f = ([x]: Tensor[]) => {
    const y = tanh(x!);
    return add(mul(y, y), mul(exp(y), x!));
  };
  check(fc.property(fc.record({ x: anyMatrix(), pool }), ({ x, pool: p }) => assertGradients(f, [x], p, 'tanh(x)² + exp(tanh(x))·x')));
});

test('a chain of 100,000 addScalar ops runs backward without a stack overflow', () => {
  const x = tensor([[1, 2]], { requiresGrad: true });
  let y = x;
  for (let i = 0; i < 100_000; i++) y = addScalar(y, 0.5);
  const loss = sum(scale(y, 3));
  loss.backward();
  assert.equal(y.toArray(), [[50_001, 50_002]]);
  assert.equal(Array.from(x.grad!), [3, 3]);
});

test('a chain of 100,000 products with one shared weight gives dL/dw = 100,000·x·w^99,999', () => {
  const x = tensor([[2]], { requiresGrad: true });
  const w = tensor([[1]], { requiresGrad: true });
  let y = x;
  for (let i = 0; i < 100_000; i++) y = mul(y, w);
  y.backward();
  assert.is(y.item(), 2);
  assert.equal(Array.from(w.grad!), [200_000]);
  assert.equal(Array.from(x.grad!), [1]);
});

test('topologicalOrder lists each node once, parents before children, root last', () => {
  const x = tensor([[1]], { requiresGrad: true });
  const y = tanh(x);
  const z = add(mul(y, y), exp(y));
  const order = topologicalOrder(z);
  assert.is(new Set(order).size, order.length, 'no duplicates');
  assert.is(order.length, 5, 'x, tanh, mul, exp, add');
  assert.is(order[order.length - 1], z);
  for (const node of order) for (const p of node.parents) assert.ok(order.indexOf(p) < order.indexOf(node), `${p.op} before ${node.op}`);
});

// ---------------------------------------------------------------------------------------------------
// Leaves accumulate; zeroGrad; release of the graph; retainGraph.

test('leaf gradients accumulate across separate backward passes until zeroGrad', () => {
  const x = tensor([[1, 2]], { requiresGrad: true });
  sum(mul(x, x)).backward();
  sum(scale(x, 10)).backward();
  assert.equal(Array.from(x.grad!), [12, 14]);
  x.zeroGrad();
  assert.is(x.grad, null);
  sum(scale(x, 10)).backward();
  assert.equal(Array.from(x.grad!), [10, 10]);
});

test('backward releases the graph: every backward closure is dropped afterwards', () => {
  const x = tensor([[1, 2]], { requiresGrad: true });
  const y = tanh(mul(x, x));
  const loss = sum(y);
  assert.ok(topologicalOrder(loss).some((t) => t.backwardFn !== null));
  loss.backward();
  for (const node of topologicalOrder(loss)) assert.is(node.backwardFn, null, `${node.op} released`);
});

test('backward twice through the same graph without retainGraph is refused', () => {
  const x = tensor([[1, 2]], { requiresGrad: true });
  const loss = sum(mul(x, x));
  loss.backward();
  assertThrows(() => loss.backward(), ['backward:', 'released', 'retainGraph']);
  assert.equal(Array.from(x.grad!), [2, 4], 'the refused call did not touch the gradient');
});

test('backward through an intermediate whose graph was released by an earlier backward is refused', () => {
  // h is shared by two losses; PyTorch refuses the second backward as well
  const x = tensor([[1, 2]], { requiresGrad: true });
  const h = mul(x, x);
  sum(h).backward();
  assertThrows(() => sum(scale(h, 3)).backward(), ['backward:', 'released', 'retainGraph', 'mul']);
});

test('with retainGraph, a second backward runs again: leaves accumulate, intermediates start from zero', () => {
  const x = tensor([[1, 2]], { requiresGrad: true });
  const h = mul(x, x);
  const loss = sum(h);
  loss.backward(undefined, { retainGraph: true });
  assert.equal(Array.from(x.grad!), [2, 4]);
  loss.backward(undefined, { retainGraph: true });
  assert.equal(Array.from(x.grad!), [4, 8], 'leaf accumulated twice');
  assert.equal(Array.from(h.grad!), [1, 1], 'intermediate gradient is that of one pass');
  loss.backward();
  assert.equal(Array.from(x.grad!), [6, 12]);
  assertThrows(() => loss.backward(), ['released']);
});

// ---------------------------------------------------------------------------------------------------
// noGrad and detach.

test('noGrad makes tensors with requiresGrad false and no parents, and restores recording', () => {
  const x = tensor([[1, 2]], { requiresGrad: true });
  assert.is(isGradEnabled(), true);
  const y = noGrad(() => {
    assert.is(isGradEnabled(), false);
    return add(mul(x, x), exp(x));
  });
  assert.is(y.requiresGrad, false);
  assert.equal(y.parents, []);
  assert.is(y.backwardFn, null);
  assert.is(isGradEnabled(), true);
  assert.is(mul(x, x).requiresGrad, true, 'recording is back on after noGrad');
});

test('noGrad restores recording after an exception and nests', () => {
  assertThrows(() => noGrad(() => { throw new Error('inside'); }), ['inside']);
  assert.is(isGradEnabled(), true);
  noGrad(() => {
    noGrad(() => undefined);
    assert.is(isGradEnabled(), false, 'still off after the inner call');
  });
  assert.is(isGradEnabled(), true);
});

test('detach shares the values but cuts the graph: gradients do not flow through it', () => {
  const x = tensor([[1, 2]], { requiresGrad: true });
  const d = x.detach();
  assert.is(d.data, x.data, 'same buffer');
  assert.is(d.requiresGrad, false);
  assert.equal(d.parents, []);
  sum(mul(x, d)).backward();
  assert.equal(Array.from(x.grad!), [1, 2], 'd(x·c)/dx = c, not 2x');
  assert.is(d.grad, null);
  const e = exp(x).detach();
  assert.is(e.op, 'leaf');
  assert.equal(e.parents, []);
});

// ---------------------------------------------------------------------------------------------------
// Anomaly mode.

test('anomaly mode throws AnomalyError naming the op, entry and shapes for NaN in the forward pass', () => {
  const err = assertThrows(() => detectAnomaly(() => log(tensor([[1, 2], [-1, 4]]))), ['log', 'NaN', 'forward', '(1, 0)', '2×2'], AnomalyError);
  assert.is(err.name, 'AnomalyError');
  assert.is(isAnomalyEnabled(), false, 'anomaly mode is off again after the throw');
});

test('anomaly mode catches an infinite forward value from a binary op, naming both input shapes', () => {
  assertThrows(() => detectAnomaly(() => mul(tensor([[1e300, 1]]), tensor([[1e300], [1]]))), ['mul', 'Infinity', '1×2, 2×1'], AnomalyError);
});

test('anomaly mode checks the forward output of every op (each computes its values before the check)', () => {
  const n = tensor([[NaN, NaN], [NaN, NaN]]);
  const ops: [string, () => unknown][] = [
    ['add', () => add(n, n)], ['sub', () => sub(n, n)], ['mul', () => mul(n, n)], ['div', () => div(n, n)],
    ['neg', () => neg(n)], ['exp', () => exp(n)], ['log', () => log(n)], ['tanh', () => tanh(n)],
    ['sigmoid', () => sigmoid(n)], ['softplus', () => softplus(n)], ['relu', () => relu(tensor([[Infinity]]))],
    ['leakyRelu', () => leakyRelu(n)], ['square', () => square(n)], ['sqrt', () => sqrt(n)], ['abs', () => abs(n)],
    ['scale', () => scale(n, 2)], ['addScalar', () => addScalar(n, 1)], ['powScalar', () => powScalar(n, 2)],
    ['matmul', () => matmul(n, n)], ['transpose', () => transpose(n)], ['linear', () => linear(n, n)],
    ['sum', () => sum(n, 1)], ['mean', () => mean(n)], ['sliceCols', () => sliceCols(n, 1)],
    ['concatCols', () => concatCols([n, n])], ['gatherCols', () => gatherCols(n, [1])],
  ];
  for (const [name, run] of ops) {
    assert.not.throws(run, `${name} without anomaly mode`);
    assertThrows(() => detectAnomaly(run), [`anomaly: ${name} produced`, 'forward'], AnomalyError);
  }
});

test('anomaly mode throws AnomalyError naming the op and shapes for an infinite gradient in backward', () => {
  // sqrt(0) = 0 is fine, but its derivative 1/(2·√0) is infinite
  const x = tensor([[0, 4]], { requiresGrad: true });
  assertThrows(() => detectAnomaly(() => sum(sqrt(x)).backward()), ['backward of sqrt', 'Infinity', '1×2', '(0, 0)'], AnomalyError);
});

test('with anomaly mode off, NaN and infinities pass silently', () => {
  assert.is(isAnomalyEnabled(), false);
  assert.ok(Number.isNaN(log(tensor([[-1]])).item()));
  const x = tensor([[0, 4]], { requiresGrad: true });
  sum(sqrt(x)).backward();
  assert.equal(Array.from(x.grad!), [Infinity, 0.25]);
});

test('anomaly mode is silent on finite graphs and leaves their results unchanged', () => {
  const x = tensor([[0.5, 2]], { requiresGrad: true });
  const y = detectAnomaly(() => {
    const out = sum(mul(log(x), sqrt(x)));
    out.backward();
    return out.item();
  });
  assertClose(y, Math.log(0.5) * Math.sqrt(0.5) + Math.log(2) * Math.sqrt(2), 'forward', { rtol: 1e-15 });
  assert.ok(x.grad!.every(Number.isFinite));
});

// ---------------------------------------------------------------------------------------------------
// The PyTorch oracle: the case of this family, and coverage of the whole file.

for (const c of casesOf('tensor')) {
  test(`${c.op} matches PyTorch (ops.json) forward and backward to rtol 1e-10`, () => assertMatchesOracle(c));
}

test('every case of ops.json is mapped to a flowgrad op and run by a family test file', () => {
  const families: readonly Family[] = ['elementwise', 'matmul', 'reduce', 'shape', 'tensor'];
  const cases = allCases();
  assert.ok(cases.length >= 32, `ops.json has ${cases.length} cases`);
  const unmapped = cases.filter((c) => ORACLE[c.op] === undefined).map((c) => c.op);
  assert.equal(unmapped, [], 'cases without a mapping');
  const unused = Object.keys(ORACLE).filter((name) => !cases.some((c) => c.op === name));
  assert.equal(unused, [], 'mappings without a case');
  const run = families.flatMap((f) => casesOf(f).map((c) => c.op));
  assert.equal(run.sort(), cases.map((c) => c.op).sort(), 'each case is run exactly once');
});

test.run();
