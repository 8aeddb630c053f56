import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor } from '../../src/autograd/tensor.ts';
import { SGD, type SGDOptions } from '../../src/optim/sgd.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';
import { casesFor, replay } from './helpers/trajectory.ts';

for (const c of casesFor('SGD')) {
  test(`SGD ${JSON.stringify(c.options)} follows PyTorch's trajectory for ten steps`, () => {
    replay(c, (params, options) => new SGD(params, options as unknown as SGDOptions));
  });
}

test('plain SGD moves w by −lr·g', () => {
  const w = tensor([[1, -2]]);
  const opt = new SGD([w], { lr: 0.5 });
  w.grad = new Float64Array([4, -6]);
  opt.step();
  assert.equal(Array.from(w.data), [1 - 2, -2 + 3]);
});

test('the first momentum step uses the gradient itself as the buffer, dampening applies from the second', () => {
  // lr 0.1, μ 0.9, τ 0.5, constant g = 1: b₁ = 1, b₂ = 0.9·1 + 0.5·1 = 1.4, b₃ = 0.9·1.4 + 0.5 = 1.76
  const w = tensor([[0]]);
  const opt = new SGD([w], { lr: 0.1, momentum: 0.9, dampening: 0.5 });
  const expected = [-0.1, -0.1 - 0.14, -0.1 - 0.14 - 0.176];
  for (let t = 0; t < 3; t++) {
    w.grad = new Float64Array([1]);
    opt.step();
    assertClose(w.data, [expected[t]!], `w after step ${t + 1}`, { rtol: 1e-14 });
  }
  assertClose(opt.stateDict().params[0]!.buffers.momentumBuffer!, [1.76], 'momentum buffer', { rtol: 1e-14 });
});

test('Nesterov steps along g + μ·b', () => {
  // lr 1, μ 0.5, g = 2 twice: b₁ = 2, step −(2 + 1) = −3; b₂ = 0.5·2 + 2 = 3, step −(2 + 1.5) = −3.5
  const w = tensor([[10]]);
  const opt = new SGD([w], { lr: 1, momentum: 0.5, nesterov: true });
  w.grad = new Float64Array([2]);
  opt.step();
  assert.equal(w.data[0], 7);
  w.grad[0] = 2;
  opt.step();
  assert.equal(w.data[0], 3.5);
});

test('weight decay adds λ·w to the gradient', () => {
  const w = tensor([[2]]);
  const opt = new SGD([w], { lr: 0.5, weightDecay: 0.25 });
  w.grad = new Float64Array([1]);
  opt.step(); // g = 1 + 0.25·2 = 1.5, w = 2 − 0.75
  assert.equal(w.data[0], 1.25);
});

test('SGD without momentum keeps no buffer in its state dict', () => {
  const w = tensor([[1]]);
  const dict = new SGD([w], { lr: 0.1 }).stateDict();
  assert.equal(dict.params[0]!.buffers, {});
  assert.equal(dict.options, { lr: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0 });
});

test('SGD rejects invalid options with messages that name them', () => {
  const w = [tensor([[1]])];
  assertThrows(() => new SGD(w, { lr: -0.1 }), ['SGD', 'lr', '>= 0', '-0.1'], RangeError);
  assertThrows(() => new SGD(w, { lr: NaN }), ['lr', 'NaN'], RangeError);
  assertThrows(() => new SGD(w, { lr: Infinity }), ['lr', 'finite'], RangeError);
  assertThrows(() => new SGD(w, {} as SGDOptions), ['lr is required'], TypeError);
  assertThrows(() => new SGD(w, { lr: 0.1, momentum: -0.5 }), ['momentum', '-0.5'], RangeError);
  assertThrows(() => new SGD(w, { lr: 0.1, weightDecay: -1 }), ['weightDecay'], RangeError);
  assertThrows(() => new SGD(w, { lr: 0.1, dampening: NaN }), ['dampening', 'NaN'], RangeError);
  assertThrows(() => new SGD(w, { lr: 0.1, nesterov: true }), ['Nesterov', 'momentum > 0'], RangeError);
  assertThrows(() => new SGD(w, { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }), ['Nesterov', 'dampening = 0'], RangeError);
  assertThrows(() => new SGD(w, { lr: 0.1, weight_decay: 0.1 } as unknown as SGDOptions), ['unknown option "weight_decay"', 'did you mean "weightDecay"'], TypeError);
});

test.run();
