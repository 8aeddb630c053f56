import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor } from '../../src/autograd/tensor.ts';
import { Adam, adamUpdate, type AdamOptions } from '../../src/optim/adam.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';
import { casesFor, replay } from './helpers/trajectory.ts';

for (const c of casesFor('Adam')) {
  test(`Adam ${JSON.stringify(c.options)} follows PyTorch's trajectory for ten steps`, () => {
    replay(c, (params, options) => new Adam(params, options as AdamOptions));
  });
}

test('the first Adam step moves each weight by lr·g / (|g| + ε)', () => {
  // m̂₁ = g and v̂₁ = g², so w₁ = w₀ − lr·g / (|g| + ε): a step of almost exactly lr against the sign of g.
  const w = tensor([[1, -2, 3]]);
  const g = [0.5, -4, 1e-3];
  const opt = new Adam([w], { lr: 0.1, eps: 1e-3 });
  w.grad = new Float64Array(g);
  opt.step();
  const expected = [1, -2, 3].map((w0, i) => w0 - (0.1 * g[i]!) / (Math.abs(g[i]!) + 1e-3));
  assertClose(w.data, expected, 'w after one step', { rtol: 1e-13 });
});

test('Adam keeps m and v as the bias-uncorrected moment estimates', () => {
  const w = tensor([[0]]);
  const opt = new Adam([w], { betas: [0.5, 0.75] });
  w.grad = new Float64Array([2]);
  opt.step();
  w.grad[0] = 4;
  opt.step();
  // m = 0.5·(0.5·2) + 0.5·4 = 2.5, v = 0.75·(0.25·4) + 0.25·16 = 4.75
  const state = opt.stateDict().params[0]!;
  assert.equal(state.step, 2);
  assertClose(state.buffers.m!, [2.5], 'm', { rtol: 1e-15 });
  assertClose(state.buffers.v!, [4.75], 'v', { rtol: 1e-15 });
});

test('AMSGrad divides by the largest v seen so far', () => {
  // A large gradient then small ones: v decays but vMax keeps the peak, so steps shrink faster.
  const plain = tensor([[0]]), ams = tensor([[0]]);
  const a = new Adam([plain], { lr: 1, betas: [0, 0.5] }), b = new Adam([ams], { lr: 1, betas: [0, 0.5], amsgrad: true });
  for (const g of [10, 1, 1]) {
    plain.grad = new Float64Array([g]);
    ams.grad = new Float64Array([g]);
    a.step();
    b.step();
  }
  const vMax = b.stateDict().params[0]!.buffers.vMax!;
  assertClose(vMax, [50], 'vMax after the peak (0.5·0 + 0.5·100)', { rtol: 1e-15 });
  assert.ok(Math.abs(ams.data[0]!) < Math.abs(plain.data[0]!), 'AMSGrad moved less');
});

test('adamUpdate adds eps after the square root of v̂, as PyTorch', () => {
  // v = (1 − β₂)·g² = 1e-3·1e-12 at t = 1, √v̂ = 1e-6, so denom = 1e-6 + eps, not √(v̂ + eps).
  const w = new Float64Array([0]), m = new Float64Array(1), v = new Float64Array(1);
  adamUpdate(w, new Float64Array([1e-6]), m, v, null, 1, 1, 0.9, 0.999, 1e-6, 0);
  assertClose(w, [-0.5], 'w', { rtol: 1e-12 });
});

test('Adam with weight decay adds λ·w to the gradient before the moments', () => {
  // With g = 0 the whole gradient is λ·w, and the first step is −lr·sign(λ·w).
  const w = tensor([[2, -3]]);
  const opt = new Adam([w], { lr: 0.1, weightDecay: 0.5, eps: 0 });
  w.grad = new Float64Array(2);
  opt.step();
  assertClose(w.data, [1.9, -2.9], 'w', { rtol: 1e-14 });
});

test('Adam fills in PyTorch defaults', () => {
  const opt = new Adam([tensor([[1]])]);
  assert.equal(opt.stateDict().options, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false });
  assert.equal(Object.keys(opt.stateDict().params[0]!.buffers), ['m', 'v']);
  assert.equal(Object.keys(new Adam([tensor([[1]])], { amsgrad: true }).stateDict().params[0]!.buffers), ['m', 'v', 'vMax']);
});

test('Adam rejects invalid options with messages that name them', () => {
  const w = [tensor([[1]])];
  assertThrows(() => new Adam(w, { lr: -1 }), ['Adam', 'lr', '-1'], RangeError);
  assertThrows(() => new Adam(w, { betas: [1, 0.999] }), ['beta1', '[0, 1)', 'got 1'], RangeError);
  assertThrows(() => new Adam(w, { betas: [0.9, -0.1] }), ['beta2', '-0.1'], RangeError);
  assertThrows(() => new Adam(w, { betas: [0.9, NaN] }), ['beta2', 'NaN'], RangeError);
  assertThrows(() => new Adam(w, { betas: [0.9] as unknown as [number, number] }), ['betas', 'two numbers'], RangeError);
  assertThrows(() => new Adam(w, { eps: -1e-8 }), ['eps'], RangeError);
  assertThrows(() => new Adam(w, { weightDecay: -0.1 }), ['weightDecay'], RangeError);
  assertThrows(() => new Adam(w, { amsgrad: 1 as unknown as boolean }), ['amsgrad', 'true or false'], TypeError);
  assertThrows(() => new Adam(w, { beta1: 0.9 } as unknown as AdamOptions), ['unknown option "beta1"', 'betas'], TypeError);
});

test.run();
