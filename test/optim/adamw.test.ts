import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor } from '../../src/autograd/tensor.ts';
import { Adam } from '../../src/optim/adam.ts';
import { AdamW, type AdamWOptions } from '../../src/optim/adamw.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';
import { casesFor, replay } from './helpers/trajectory.ts';

for (const c of casesFor('AdamW')) {
  test(`AdamW ${JSON.stringify(c.options)} follows PyTorch's trajectory for ten steps`, () => {
    replay(c, (params, options) => new AdamW(params, options as AdamWOptions));
  });
}

test('AdamW decays the weights by 1 − lr·λ, independently of the gradient', () => {
  // With g = 0, m = v = 0 and the Adam part does nothing: only the decay acts.
  const w = tensor([[2, -4]]);
  const opt = new AdamW([w], { lr: 0.1, weightDecay: 0.5 });
  w.grad = new Float64Array(2);
  opt.step();
  assert.equal(Array.from(w.data), [2 * 0.95, -4 * 0.95]);
});

test('AdamW with zero weight decay is Adam', () => {
  const a = tensor([[0.3, -1.2]]), b = tensor([[0.3, -1.2]]);
  const adam = new Adam([a], { lr: 0.05 }), adamw = new AdamW([b], { lr: 0.05, weightDecay: 0 });
  for (let t = 0; t < 5; t++) {
    a.grad = new Float64Array([Math.sin(a.data[0]!), a.data[1]!]);
    b.grad = new Float64Array([Math.sin(b.data[0]!), b.data[1]!]);
    adam.step();
    adamw.step();
  }
  assert.equal(Array.from(b.data), Array.from(a.data));
});

test('AdamW defaults to weight decay 1e-2', () => {
  assert.equal(new AdamW([tensor([[1]])]).stateDict().options, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false });
});

test('AdamW rejects invalid options with messages that name them', () => {
  const w = [tensor([[1]])];
  assertThrows(() => new AdamW(w, { weightDecay: -1 }), ['AdamW', 'weightDecay'], RangeError);
  assertThrows(() => new AdamW(w, { betas: [0.9, 1] }), ['AdamW', 'beta2'], RangeError);
  assertThrows(() => new AdamW(w, { lr: NaN }), ['AdamW', 'lr', 'NaN'], RangeError);
});

test('AdamW with amsgrad matches the decoupled update by hand on one step', () => {
  const w = tensor([[1]]);
  const opt = new AdamW([w], { lr: 0.1, weightDecay: 0.2, amsgrad: true, eps: 0 });
  w.grad = new Float64Array([3]);
  opt.step(); // w·(1 − 0.02) − 0.1·sign(3)
  assertClose(w.data, [0.98 - 0.1], 'w', { rtol: 1e-14 });
});

test.run();
