import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { explain } from '../../src/autograd/explain.ts';
import { gradcheck } from '../../src/autograd/gradcheck.ts';
import { defineOp } from '../../src/autograd/op.ts';
import { sum } from '../../src/autograd/reduce.ts';
import { noGrad, tensor, type Tensor } from '../../src/autograd/tensor.ts';

// out = x³
// dx = dOut·3x²
const cube = defineOp({
  name: 'cube',
  formula: 'out = x³',
  derivative: 'dx = dOut·3x²',
  forward(ctx, x: Tensor) {
    const o = ctx.output(x.size), v = x.data;
    for (let k = 0; k < o.length; k++) o[k] = v[k]! * v[k]! * v[k]!;
    return {
      rows: x.rows, cols: x.cols, data: o, inputs: [x],
      backward(dOut, grad) {
        const gx = grad(x);
        if (gx !== null) for (let k = 0; k < gx.length; k++) gx[k]! += dOut[k]! * 3 * v[k]! * v[k]!;
      },
    };
  },
});

test('a custom op defined in a few lines passes gradcheck', () => {
  const report = gradcheck((x) => cube(x), [tensor([[0.5, -2], [1.5, 3]], { requiresGrad: true })], { raiseOnFailure: false });
  assert.ok(report.ok, report.summary);
});

test('a custom op used twice accumulates (x³·x³ has gradient 6x⁵)', () => {
  const x = tensor([[2]], { requiresGrad: true });
  const c = cube(x);
  sum(cube(c)).backward(); // (x³)³ = x⁹: 9x⁸ = 2304
  assert.equal(x.grad![0], 9 * 2 ** 8);
});

test('the rule travels with the op and with every node it makes, and explain prints it', () => {
  assert.equal(cube.rule, { name: 'cube', formula: 'out = x³', derivative: 'dx = dOut·3x²' });
  const y = cube(tensor([[1]], { requiresGrad: true }));
  assert.is(y.op, 'cube');
  assert.is(y.rule, cube.rule);
  assert.match(explain(y), 'out = x³; dx = dOut·3x²');
});

test('under noGrad the op records nothing', () => {
  const y = noGrad(() => cube(tensor([[1]], { requiresGrad: true })));
  assert.is(y.requiresGrad, false);
  assert.is(y.backwardFn, null);
});

test('a detail function labels the node only when printed', () => {
  let calls = 0;
  const tagged = defineOp({
    name: 'tagged', formula: 'out = x', derivative: 'dx = dOut',
    forward(ctx, x: Tensor, tag: number) {
      const o = ctx.output(x.size);
      o.set(x.data);
      return { rows: x.rows, cols: x.cols, data: o, inputs: [x], detail: () => (calls++, `tag=${tag}`) };
    },
  });
  const y = tagged(tensor([[1]]), 7);
  assert.is(calls, 0);
  assert.is(y.label, 'tag=7');
  assert.is(calls, 1);
});

test.run();
