/**
 * TrainStep: the loss it returns, the update it applies (checked against an independent
 * `nll(...).backward()`), bit-identical results inside and outside its buffer arena, gradient clipping,
 * and NonFiniteStepError for a non-finite loss, gradient or update, with restoreLastGood.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { exp, sqrt, sub } from '../../src/autograd/elementwise.ts';
import { sliceCols } from '../../src/autograd/shape.ts';
import { type BufferArena, noGrad, RecycledTensorError, Tensor } from '../../src/autograd/tensor.ts';
import { Rng } from '../../src/rng/rng.ts';
import { nll, RealNVP } from '../../src/flow/real-nvp.ts';
import { Module } from '../../src/nn/module.ts';
import { Adam } from '../../src/optim/adam.ts';
import { SGD } from '../../src/optim/sgd.ts';
import { NonFiniteStepError, TrainStep } from '../../src/train/step.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';
import { allFinite, assertSameWeights, gradNorm, maxAbsDiff, postData, smallFlow, snapshot } from './helpers/models.ts';

/** A flow whose weights have been moved off their initial values (the default preset starts near the identity). */
function trainedFlow(seed: number) {
  const flow = smallFlow(seed);
  const step = new TrainStep(flow, new Adam(flow.parameters(), { lr: 0.05 }));
  for (let i = 0; i < 5; i++) step.run(postData(32, 100 + i));
  return flow;
}

test('run() returns the batch\'s mean NLL before the update, equal to nll(flow, batch)', () => {
  const flow = trainedFlow(0);
  const batch = postData(40, 1);
  const expected = nll(flow, batch).item();
  const before = snapshot(flow);
  const step = new TrainStep(flow, new SGD(flow.parameters(), { lr: 0.1 }));
  assertClose(step.run(batch), expected, 'loss returned by run()', { rtol: 1e-14 });
  const after = nll(flow, batch).item();
  assert.ok(after < expected, `the step lowered the loss (${expected} -> ${after})`);
  assert.ok(maxAbsDiff(snapshot(flow), before) > 1e-4, "the step moved the weights");
});

test('one SGD step moves every parameter to p - lr·grad, with the gradient from an independent nll(...).backward()', () => {
  const lr = 0.07;
  const stepped = trainedFlow(0), reference = trainedFlow(0);
  const batch = postData(40, 1);
  reference.zeroGrad(); // trainedFlow leaves its last gradients behind, and backward accumulates
  nll(reference, batch).backward();
  const expected = reference.parameters().map((p) => {
    assert.ok(p.grad !== null, 'every parameter gets a gradient');
    return p.data.map((w, i) => w - lr * p.grad![i]!);
  });
  assert.ok(gradNorm(reference.parameters()) > 1e-3, 'the gradient is not negligible');
  // No zeroGrad here: run() must clear the gradients trainedFlow left behind.
  new TrainStep(stepped, new SGD(stepped.parameters(), { lr })).run(batch);
  snapshot(stepped).forEach((w, k) => assertClose(w, expected[k]!, `parameter ${k}`, { rtol: 1e-13, atol: 1e-16 }));
  // The gradients left on the parameters are the ones applied.
  stepped.parameters().forEach((p, k) => assertClose(p.grad!, reference.parameters()[k]!.grad!, `gradient ${k}`, { rtol: 1e-13, atol: 1e-16 }));
});

test('gradients do not accumulate across steps: each step uses only its own batch\'s gradient', () => {
  const lr = 0.05;
  const stepped = trainedFlow(1), reference = trainedFlow(1);
  const step = new TrainStep(stepped, new SGD(stepped.parameters(), { lr }));
  for (let t = 0; t < 3; t++) {
    const batch = postData(24, 10 + t);
    reference.zeroGrad();
    nll(reference, batch).backward();
    for (const p of reference.parameters()) for (let i = 0; i < p.data.length; i++) p.data[i] = p.data[i]! - lr * p.grad![i]!;
    step.run(batch);
    snapshot(stepped).forEach((w, k) => assertClose(w, reference.parameters()[k]!.data, `step ${t + 1}, parameter ${k}`, { rtol: 1e-12, atol: 1e-15 }));
  }
});

test('steps inside the arena give bit-identical losses and weights to the same steps computed without an arena', () => {
  // Different batch sizes in turn, so that the arena hands back buffers of earlier, other-shaped steps.
  const inArena = trainedFlow(2), plain = trainedFlow(2);
  const step = new TrainStep(inArena, new Adam(inArena.parameters(), { lr: 1e-2 }));
  const optimizer = new Adam(plain.parameters(), { lr: 1e-2 });
  const sizes = [32, 32, 7, 32, 7, 1, 32];
  sizes.forEach((rows, t) => {
    const batch = postData(rows, 20 + t);
    const loss = step.run(batch);
    // The same step by hand: fresh gradients, forward, backward of the mean NLL, update.
    plain.zeroGrad();
    const lp = plain.logProb(batch);
    let total = 0;
    for (let i = 0; i < rows; i++) total -= lp.data[i]!;
    lp.backward(new Float64Array(rows).fill(-1 / rows));
    optimizer.step();
    assert.ok(Object.is(loss, total / rows), `step ${t + 1}: loss ${loss} vs ${total / rows}`);
    assertSameWeights(snapshot(inArena), snapshot(plain), `step ${t + 1} (batch of ${rows})`);
  });
});

test('the step reuses its arena: after the first steps of each batch size it holds no more memory', () => {
  const flow = smallFlow(4);
  const step = new TrainStep(flow, new Adam(flow.parameters(), { lr: 1e-3 }));
  const arena: BufferArena = step.arena;
  step.run(postData(32, 1));
  step.run(postData(5, 2));
  const held = arena.bytes;
  assert.ok(held > 0, 'the graph was built in the arena');
  for (let t = 0; t < 10; t++) step.run(postData(t % 2 === 0 ? 32 : 5, 3 + t));
  assert.is(arena.bytes, held);
});

/** A model that keeps a tensor made in its forward, as the example did. */
class Keeper extends Module {
  kept: Tensor | null = null;
  constructor(readonly flow: RealNVP) {
    super();
  }
  logProb(x: Tensor): Tensor {
    const lp = this.flow.logProb(x);
    this.kept = noGrad(() => exp(lp));
    return lp;
  }
}

test('a model that keeps a tensor made inside run (even under noGrad) cannot read it at the next step: RecycledTensorError, not a silently overwritten value', () => {
  const model = new Keeper(smallFlow(4));
  const step = new TrainStep(model, new SGD(model.parameters(), { lr: 0 }));
  step.run(postData(8, 1));
  const fromFirst = model.kept!;
  assert.ok(Array.from(fromFirst.data).every(Number.isFinite), 'readable during its own step');
  step.run(postData(8, 2));
  assertThrows(() => fromFirst.data, ['was made inside a BufferArena'], RecycledTensorError);
  assert.ok(Array.from(model.kept!.data).every(Number.isFinite), 'the current step\'s tensor is readable');
});

test('with clipGradNorm the applied gradient has the requested norm', () => {
  const flow = trainedFlow(3), reference = trainedFlow(3);
  const batch = postData(32, 1), lr = 0.1, maxNorm = 1e-3;
  reference.zeroGrad();
  nll(reference, batch).backward();
  const norm = gradNorm(reference.parameters());
  assert.ok(norm > 10 * maxNorm, `gradient norm ${norm}`);
  new TrainStep(flow, new SGD(flow.parameters(), { lr }), { clipGradNorm: maxNorm }).run(batch);
  assertClose(gradNorm(flow.parameters()), maxNorm, 'norm of the clipped gradient', { rtol: 1e-3 });
  const c = maxNorm / (norm + 1e-6);
  snapshot(flow).forEach((w, k) => {
    const p = reference.parameters()[k]!;
    assertClose(w, p.data.map((v, i) => v - lr * c * p.grad![i]!), `parameter ${k}`, { rtol: 1e-12, atol: 1e-16 });
  });
});

test('a batch whose loss overflows throws NonFiniteStepError before any update; restoreLastGood then undoes the previous update', () => {
  const flow = smallFlow(0);
  const step = new TrainStep(flow, new SGD(flow.parameters(), { lr: 0.1 }));
  const initial = snapshot(flow);
  step.run(postData(32, 1));
  const afterGood = snapshot(flow);
  assert.ok(afterGood.some((a, k) => a.some((v, i) => v !== initial[k]![i])), 'the good step changed the weights');
  // Finite inputs, but z² overflows in the base density: log q = -∞ (or NaN).
  const bad = Tensor.from(2, 2, new Float64Array([1e200, -1e200, 0.5, 0.5]));
  assertThrows(() => step.run(bad), [/the loss is (Infinity|NaN)/], NonFiniteStepError);
  assertSameWeights(snapshot(flow), afterGood, 'weights right after the failed step');
  step.restoreLastGood();
  assertSameWeights(snapshot(flow), initial, 'weights after restoreLastGood');
  // The step is usable again.
  assert.ok(Number.isFinite(step.run(postData(32, 2))));
});

test('an update that overflows throws NonFiniteStepError naming the parameter; restoreLastGood puts back the weights from before it', () => {
  const flow = trainedFlow(0);
  const step = new TrainStep(flow, new SGD(flow.parameters(), { lr: 1e308 }));
  const before = snapshot(flow);
  const far = Tensor.from(3, 2, new Float64Array([40, -30, 35, 50, -45, 20]));
  const err = assertThrows(() => step.run(far), [/the update made \S+ non-finite/], NonFiniteStepError);
  assert.is(err.name, 'NonFiniteStepError');
  assert.not.ok(allFinite(snapshot(flow)), 'the overflowing update was applied');
  step.restoreLastGood();
  assertSameWeights(snapshot(flow), before, 'weights after restoreLastGood');
});

/** log q(x) = x₀ - √w with w = 0: a finite loss whose gradient d√w/dw = 1/(2√w) is infinite. */
class SqrtAtZero extends Module {
  w = Tensor.zeros(1, 1, { requiresGrad: true });
  logProb(x: Tensor): Tensor {
    return sub(sliceCols(x, 0, 1), sqrt(this.w));
  }
}

test('a finite loss with an infinite gradient throws NonFiniteStepError naming the parameter, before any update', () => {
  const model = new SqrtAtZero();
  const step = new TrainStep(model, new SGD(model.parameters(), { lr: 0.1 }));
  assertThrows(() => step.run(Tensor.from(2, 2, new Float64Array([1, 2, 3, 4]))), ['the gradient of w is not finite'], NonFiniteStepError);
  assert.is(model.w.data[0], 0, 'w was not updated');
});

test('the loss is the mean over the batch rows (a hand-worked case)', () => {
  // log q(x) = x₀ - √w with w = 4: rows x₀ = 1, 2, 6 give log q = -1, 0, 4, mean NLL = -1;
  // d(mean NLL)/dw = 1/(2√w) = 0.25, so SGD with lr 2 moves w to 3.5.
  const model = new SqrtAtZero();
  model.w.data[0] = 4;
  const step = new TrainStep(model, new SGD(model.parameters(), { lr: 2 }));
  assert.is(step.run(Tensor.from(3, 2, new Float64Array([1, 9, 2, 9, 6, 9]))), -1);
  assertClose(model.w.data, [3.5], 'w after one step', { rtol: 1e-15 });
});

test('a first step that fails restores the weights after the first forward, so an ActNorm set up from data stays consistent', () => {
  const rng = new Rng(9);
  const flow = new RealNVP({ dim: 2, layers: 1, hidden: 4, depth: 1, actNorm: true, rng: new Rng(10) });
  const step = new TrainStep(flow, new SGD(flow.parameters(), { lr: 1e-3 }));
  // Finite data with one enormous row: ActNorm initialises from it, then the loss overflows.
  const data = Tensor.from(8, 2, Float64Array.from({ length: 16 }, (_, k) => (k === 0 ? 1e300 : rng.normal())));
  assert.throws(() => step.run(data), (e: Error) => e instanceof NonFiniteStepError);
  step.restoreLastGood();
  const norm = flow.norms[0]!;
  assert.ok(norm.initialised, 'ActNorm initialised itself in the first forward');
  assert.ok(Array.from(norm.logScale.data).some((v) => v !== 0), 'and its values were kept, not reset to the placeholders');
});

test.run();
