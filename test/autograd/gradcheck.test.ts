/**
 * The library's gradcheck: it passes correct ops, and it fails (with a report naming the input) on
 * ops built here with a wrong derivative, a missing gradient, or a backward that is not linear in dOut.
 * Each wrong op has a correct twin built the same way, which passes, so the failures come from the
 * derivative and not from the scaffolding.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defineOp, exp, gradcheck, GradcheckError, linear, mul, sum, tanh, tensor, type GradcheckReport, type Tensor } from '../../src/autograd/index.ts';
import { assertThrows } from '../helpers/assert.ts';

/** A custom unary op: out = forward(x) entrywise, backward adds derivative(x, dOut) entrywise. */
function unaryNode(name: string, x: Tensor, forward: (v: number) => number, derivative: (v: number, g: number) => number): Tensor {
  return defineOp({
    name, formula: 'out = f(x)', derivative: 'dx = derivative(x, dOut)',
    forward(ctx, x: Tensor) {
      const o = ctx.output(x.size);
      for (let k = 0; k < o.length; k++) o[k] = forward(x.data[k]!);
      return {
        rows: x.rows, cols: x.cols, data: o, inputs: [x],
        backward(dOut, grad) {
          const gx = grad(x)!;
          for (let k = 0; k < dOut.length; k++) gx[k]! += derivative(x.data[k]!, dOut[k]!);
        },
      };
    },
  })(x);
}

/** A custom product op out = a·b (same shapes) whose gradient for b is scaled by `bFactor` (1 is correct). */
function productNode(a: Tensor, b: Tensor, bFactor: number, writeB = true): Tensor {
  return defineOp({
    name: 'productNode', formula: 'out = a·b', derivative: 'da = dOut·b, db = bFactor·dOut·a',
    forward(ctx, a: Tensor, b: Tensor) {
      const o = ctx.output(a.size);
      for (let k = 0; k < o.length; k++) o[k] = a.data[k]! * b.data[k]!;
      return {
        rows: a.rows, cols: a.cols, data: o, inputs: [a, b],
        backward(dOut, grad) {
          const ga = grad(a)!, gb = grad(b)!;
          for (let k = 0; k < dOut.length; k++) {
            ga[k]! += dOut[k]! * b.data[k]!;
            if (writeB) gb[k]! += bFactor * dOut[k]! * a.data[k]!;
          }
        },
      };
    },
  })(a, b);
}

const square = (x: Tensor) => unaryNode('square', x, (v) => v * v, (v, g) => 2 * v * g);
/** The classic slip: the factor 2 of d(x²)/dx forgotten. */
const squareWithoutTwo = (x: Tensor) => unaryNode('squareWithoutTwo', x, (v) => v * v, (v, g) => v * g);
/** out = 3x, backward 3·dOut·|dOut|: right for one-hot dOut (0 or 1), wrong for any other. */
const notLinearInDOut = (x: Tensor) => unaryNode('notLinearInDOut', x, (v) => 3 * v, (_, g) => 3 * g * Math.abs(g));

function failure(fn: () => unknown): GradcheckReport {
  const err = assertThrows(fn, ['gradcheck failed'], GradcheckError);
  return (err as GradcheckError).report;
}

// ---------------------------------------------------------------------------------------------------
// Correct ops pass.

test('gradcheck passes correct library ops and reports tiny errors for every input', () => {
  const x = tensor([[0.5, -1.2, 0.3], [1.1, 0.2, -0.7]], { requiresGrad: true });
  const W = tensor([[0.1, -0.4, 0.8], [0.5, 0.6, -0.2]], { requiresGrad: true });
  const b = tensor([[0.3, -0.1]], { requiresGrad: true });
  const report = gradcheck((v, w, c) => tanh(linear(exp(v!), w!, c!)), [x, W, b]);
  assert.is(report.ok, true);
  assert.equal(report.inputs.map((r) => r.input), [0, 1, 2]);
  assert.equal(report.inputs.map((r) => r.shape), [[2, 3], [2, 3], [1, 2]]);
  for (const r of report.inputs) assert.ok(r.maxAbsError < 1e-7, `input ${r.input}: ${r.maxAbsError}`);
  assert.ok(report.linearityError < 1e-12, `linearity ${report.linearityError}`);
  assert.match(report.summary, 'input 0 (2×3)');
  assert.match(report.summary, 'input 2 (1×2)');
});

test('gradcheck passes the correct custom node built the same way as the wrong ones below', () => {
  const x = tensor([[0.5, -1.2, 2]], { requiresGrad: true });
  assert.is(gradcheck(square, [x]).ok, true);
  const a = tensor([[0.5, -1.2]], { requiresGrad: true }), b = tensor([[2, 0.7]], { requiresGrad: true });
  assert.is(gradcheck((p, q) => productNode(p!, q!, 1), [a, b]).ok, true);
  assert.is(gradcheck((v) => notLinearInDOut(v!), [x], { raiseOnFailure: false }).inputs[0]!.maxAbsError < 1e-7, true, 'the one-hot Jacobian of notLinearInDOut is right');
});

test('gradcheck skips inputs that do not require grad and refuses when none does', () => {
  const a = tensor([[1, 2]]), b = tensor([[3, 4]], { requiresGrad: true });
  const report = gradcheck((p, q) => mul(p!, q!), [a, b]);
  assert.equal(report.inputs.map((r) => r.input), [1]);
  assertThrows(() => gradcheck((p) => exp(p!), [tensor([[1]])]), ['gradcheck:', 'no input requires grad']);
});

test('gradcheck restores the inputs\' values and gradients', () => {
  const x = tensor([[0.5, -1.2]], { requiresGrad: true });
  x.grad = new Float64Array([9, 9]);
  gradcheck((v) => sum(mul(v!, v!)), [x]);
  assert.equal(Array.from(x.data), [0.5, -1.2]);
  assert.equal(Array.from(x.grad), [9, 9]);
});

// ---------------------------------------------------------------------------------------------------
// Wrong ops fail, and the report says where.

test('gradcheck fails on a wrong derivative, and the report names the input and the worst entry', () => {
  const x = tensor([[0.5, -1.2, 2]], { requiresGrad: true });
  const report = failure(() => gradcheck((v) => squareWithoutTwo(v!), [x]));
  assert.is(report.ok, false);
  assert.match(report.summary, 'input 0 (1×3)');
  const r = report.inputs[0]!;
  assert.ok(r.maxAbsError > 1.9, `max abs error ${r.maxAbsError} (the worst entry is x = 2: analytic 2, numeric 4)`);
  assert.equal([r.worst.row, r.worst.col, r.worst.outputIndex], [0, 2, 2]);
  assert.ok(Math.abs(r.worst.analytic - 2) < 1e-12 && Math.abs(r.worst.numeric - 4) < 1e-6, `${r.worst.analytic} vs ${r.worst.numeric}`);
});

test('gradcheck blames only the input whose gradient is wrong', () => {
  const a = tensor([[0.5, -1.2], [0.3, 2]], { requiresGrad: true }), b = tensor([[2, 0.7], [-1, 0.4]], { requiresGrad: true });
  const report = gradcheck((p, q) => productNode(p!, q!, 1.5), [a, b], { raiseOnFailure: false });
  assert.is(report.ok, false);
  assert.ok(report.inputs[0]!.maxAbsError < 1e-7, 'input 0 is right');
  assert.ok(report.inputs[1]!.maxAbsError > 0.4, 'input 1 is wrong');
  assert.equal([report.inputs[1]!.worst.row, report.inputs[1]!.worst.col], [1, 1], 'worst where |a| is largest (a = 2)');
  const err = assertThrows(() => gradcheck((p, q) => productNode(p!, q!, 1.5), [a, b]), ['gradcheck failed', 'input 1 (2×2)'], GradcheckError);
  assert.is((err as GradcheckError).report.ok, false);
});

test('gradcheck fails when backward forgets an input\'s gradient', () => {
  const a = tensor([[0.5, -1.2]], { requiresGrad: true }), b = tensor([[2, 0.7]], { requiresGrad: true });
  const report = failure(() => gradcheck((p, q) => productNode(p!, q!, 1, false), [a, b]));
  assert.ok(report.inputs[1]!.maxAbsError > 1, `input 1 error ${report.inputs[1]!.maxAbsError}`);
  assert.ok(report.inputs[0]!.maxAbsError < 1e-7);
});

test('gradcheck fails on a backward that is not linear in dOut, through the linearity check', () => {
  const x = tensor([[0.5, -1.2, 2]], { requiresGrad: true });
  const report = gradcheck((v) => notLinearInDOut(v!), [x], { raiseOnFailure: false });
  assert.is(report.ok, false);
  assert.ok(report.inputs[0]!.maxAbsError < 1e-7, 'the Jacobian (one-hot dOut) looks right');
  assert.ok(report.linearityError > 1e-3, `linearity error ${report.linearityError}`);
  assert.match(report.summary, /backward linear in dOut: error \d/);
  failure(() => gradcheck((v) => notLinearInDOut(v!), [x]));
});

test('gradcheck fails on a NaN gradient', () => {
  const x = tensor([[0.5]], { requiresGrad: true });
  failure(() => gradcheck((v) => unaryNode('nanGrad', v!, (t) => t, () => NaN), [x]));
});

test('gradcheck respects its tolerances: a 1e-4 relative slip passes rtol 1e-3 and fails rtol 1e-6', () => {
  const slightly = (v: Tensor) => unaryNode('slightly', v, (t) => 2 * t, (_, g) => 2 * (1 + 1e-4) * g);
  const x = tensor([[0.5, -1.2]], { requiresGrad: true });
  assert.is(gradcheck(slightly, [x]).ok, true);
  failure(() => gradcheck(slightly, [x], { rtol: 1e-6, atol: 1e-9 }));
});

test.run();
