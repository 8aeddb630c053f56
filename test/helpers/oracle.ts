/**
 * The PyTorch float64 oracle (test/fixtures/ops.json, made by make_fixtures.py): which flowgrad op
 * each fixture case runs, which test file runs it, and the comparison itself (forward output, then the
 * gradients of `backward(upstream)`, to rtol 1e-10).
 */
import * as assert from 'uvu/assert';
import {
  add,
  concatCols,
  div,
  exp,
  leakyRelu,
  linear,
  log,
  matmul,
  mean,
  mul,
  neg,
  relu,
  sigmoid,
  sliceCols,
  softplus,
  sqrt,
  square,
  sub,
  sum,
  tanh,
  tensor,
  transpose,
  type Tensor,
} from '../../src/autograd/index.ts';
import { assertClose } from './assert.ts';
import { loadFixture } from './fixtures.ts';
import type { Matrix } from './finite-diff.ts';

export interface OpCase {
  op: string;
  params: Record<string, number>;
  inputs: Matrix[];
  upstream: Matrix;
  output: Matrix;
  grads: Matrix[];
}

/** The test file that runs a case. */
export type Family = 'elementwise' | 'matmul' | 'reduce' | 'shape' | 'tensor';

interface Mapping {
  family: Family;
  run: (inputs: Tensor[], params: Record<string, number>) => Tensor;
}

/** Fixture op name -> the flowgrad computation PyTorch did. */
export const ORACLE: Readonly<Record<string, Mapping>> = {
  add: { family: 'elementwise', run: ([a, b]) => add(a!, b!) },
  add_row_broadcast: { family: 'elementwise', run: ([a, b]) => add(a!, b!) },
  add_col_broadcast: { family: 'elementwise', run: ([a, b]) => add(a!, b!) },
  add_scalar_broadcast: { family: 'elementwise', run: ([a, b]) => add(a!, b!) },
  sub: { family: 'elementwise', run: ([a, b]) => sub(a!, b!) },
  sub_row_broadcast: { family: 'elementwise', run: ([a, b]) => sub(a!, b!) },
  mul: { family: 'elementwise', run: ([a, b]) => mul(a!, b!) },
  mul_col_broadcast: { family: 'elementwise', run: ([a, b]) => mul(a!, b!) },
  div: { family: 'elementwise', run: ([a, b]) => div(a!, b!) },
  neg: { family: 'elementwise', run: ([x]) => neg(x!) },
  exp: { family: 'elementwise', run: ([x]) => exp(x!) },
  log: { family: 'elementwise', run: ([x]) => log(x!) },
  tanh: { family: 'elementwise', run: ([x]) => tanh(x!) },
  sigmoid: { family: 'elementwise', run: ([x]) => sigmoid(x!) },
  softplus: { family: 'elementwise', run: ([x]) => softplus(x!) },
  relu: { family: 'elementwise', run: ([x]) => relu(x!) },
  leaky_relu: { family: 'elementwise', run: ([x], p) => leakyRelu(x!, slopeOf(p)) },
  'leaky_relu_0.2': { family: 'elementwise', run: ([x], p) => leakyRelu(x!, slopeOf(p)) },
  square: { family: 'elementwise', run: ([x]) => square(x!) },
  sqrt: { family: 'elementwise', run: ([x]) => sqrt(x!) },
  matmul: { family: 'matmul', run: ([a, b]) => matmul(a!, b!) },
  transpose: { family: 'matmul', run: ([x]) => transpose(x!) },
  linear: { family: 'matmul', run: ([x, W, b]) => linear(x!, W!, b!) },
  sum_all: { family: 'reduce', run: ([x]) => sum(x!) },
  sum_axis0: { family: 'reduce', run: ([x]) => sum(x!, 0) },
  sum_axis1: { family: 'reduce', run: ([x]) => sum(x!, 1) },
  mean_all: { family: 'reduce', run: ([x]) => mean(x!) },
  mean_axis0: { family: 'reduce', run: ([x]) => mean(x!, 0) },
  mean_axis1: { family: 'reduce', run: ([x]) => mean(x!, 1) },
  slice_cols_1_end: { family: 'shape', run: ([x]) => sliceCols(x!, 1) },
  concat_cols: { family: 'shape', run: (parts) => concatCols(parts) },
  x_times_x: { family: 'tensor', run: ([x]) => add(mul(x!, x!), x!) },
};

function slopeOf(params: Record<string, number>): number {
  const slope = params.slope;
  if (slope === undefined) throw new Error('leaky_relu fixture without params.slope');
  return slope;
}

/** Every case of ops.json. */
export function allCases(): OpCase[] {
  return loadFixture<{ cases: OpCase[] }>('ops.json').cases;
}

/** The cases run by one family's test file (throws on a case that has no mapping). */
export function casesOf(family: Family): OpCase[] {
  return allCases().filter((c) => {
    const m = ORACLE[c.op];
    if (m === undefined) throw new Error(`ops.json case ${c.op} has no mapping in test/helpers/oracle.ts`);
    return m.family === family;
  });
}

/** Runs a case on fresh tensors: the forward output, then backward(upstream), both to rtol 1e-10. */
export function assertMatchesOracle(c: OpCase): void {
  const m = ORACLE[c.op];
  if (m === undefined) throw new Error(`ops.json case ${c.op} has no mapping`);
  const ts = c.inputs.map((v) => tensor(v, { requiresGrad: true }));
  const out = m.run(ts, c.params);
  assert.equal(out.shape, [c.output.length, c.output[0]!.length], `${c.op}: output shape`);
  assertClose(out.toArray(), c.output, `${c.op}: forward output`, { rtol: 1e-10, atol: 1e-15 });
  out.backward(c.upstream);
  assert.is(ts.length, c.grads.length, `${c.op}: number of gradients`);
  ts.forEach((t, i) => {
    const g = t.gradArray();
    if (g === null) assert.unreachable(`${c.op}: input ${i} received no gradient`);
    assertClose(g!, c.grads[i]!, `${c.op}: gradient of input ${i}`, { rtol: 1e-10, atol: 1e-15 });
  });
}
