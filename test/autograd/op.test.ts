import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { explain } from '../../src/autograd/explain.ts';
import { gradcheck } from '../../src/autograd/gradcheck.ts';
import { defineOp } from '../../src/autograd/op.ts';
import { sum } from '../../src/autograd/reduce.ts';
import { noGrad, tensor, type Tensor } from '../../src/autograd/tensor.ts';
import * as autograd from '../../src/autograd/index.ts';

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

/** One call of every built-in op. */
const x = tensor([[1, 2], [3, 4]]);
const a = autograd;
const SAMPLES: Record<string, () => Tensor> = {
  add: () => a.add(x, x), sub: () => a.sub(x, x), mul: () => a.mul(x, x), div: () => a.div(x, x),
  neg: () => a.neg(x), exp: () => a.exp(x), log: () => a.log(x), tanh: () => a.tanh(x), sigmoid: () => a.sigmoid(x),
  softplus: () => a.softplus(x), relu: () => a.relu(x), leakyRelu: () => a.leakyRelu(x), square: () => a.square(x),
  sqrt: () => a.sqrt(x), abs: () => a.abs(x), scale: () => a.scale(x, 2), addScalar: () => a.addScalar(x, 2),
  powScalar: () => a.powScalar(x, 2), matmul: () => a.matmul(x, x), transpose: () => a.transpose(x),
  linear: () => a.linear(x, x), sum: () => a.sum(x), mean: () => a.mean(x, 0), sliceCols: () => a.sliceCols(x, 1),
  concatCols: () => a.concatCols([x, x]), gatherCols: () => a.gatherCols(x, [1, 0]), gatherRows: () => a.gatherRows(x, [1, 1, 0]),
  mlp: () => a.mlp(x, [{ weight: x, bias: null, activation: 'tanh' }]),
};

test('every built-in op is defined through defineOp: the export carries its rule, and so does every node it makes', () => {
  const exported = Object.entries(autograd).filter(([, v]) => typeof v === 'function' && 'rule' in v && 'spec' in v).map(([k]) => k).sort();
  assert.equal(exported, Object.keys(SAMPLES).sort(), 'the ops exported from src/autograd');
  for (const [name, make] of Object.entries(SAMPLES)) {
    const op = (autograd as unknown as Record<string, { rule: { name: string; formula: string; derivative: string } }>)[name]!;
    assert.is(op.rule.name, name, `${name}: named after itself`);
    assert.ok(op.rule.formula.startsWith('out') && op.rule.derivative.length > 0, `${name}: formula and derivative`);
    const node = make();
    assert.is(node.op, name);
    assert.is(node.rule, op.rule, `${name}: the node carries the op's rule`);
  }
});

test.run();
