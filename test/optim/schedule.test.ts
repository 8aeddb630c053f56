import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor } from '../../src/autograd/tensor.ts';
import { CosineAnnealingLR, ExponentialLR, StepLR } from '../../src/optim/schedule.ts';
import { SGD } from '../../src/optim/sgd.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';

const optimizer = (lr: number) => new SGD([tensor([[0]])], { lr });

/** The lr after each of `epochs` calls to step(), starting with the lr at epoch 0. */
function trace(schedule: { step(): number }, opt: { lr: number }, epochs: number): number[] {
  const lrs = [opt.lr];
  for (let e = 0; e < epochs; e++) {
    schedule.step();
    lrs.push(opt.lr);
  }
  return lrs;
}

test('StepLR multiplies the lr by gamma every stepSize epochs', () => {
  const opt = optimizer(0.1);
  const lrs = trace(new StepLR(opt, { stepSize: 3, gamma: 0.5 }), opt, 9);
  assertClose(lrs, [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125], 'lr by epoch', { rtol: 1e-15 });
});

test('StepLR decays by 0.1 by default', () => {
  const opt = optimizer(1);
  const schedule = new StepLR(opt, { stepSize: 1 });
  schedule.step();
  assertClose(opt.lr, 0.1, 'lr', { rtol: 1e-15 });
});

test('ExponentialLR multiplies the lr by gamma every epoch', () => {
  const opt = optimizer(2);
  const lrs = trace(new ExponentialLR(opt, { gamma: 0.5 }), opt, 4);
  assert.equal(lrs, [2, 1, 0.5, 0.25, 0.125]);
});

test('CosineAnnealingLR follows half a cosine from the base lr to etaMin, then back up', () => {
  // tMax 4, base 0.1, etaMin 0.01: lr = 0.01 + 0.09·(1 + cos(π·e/4))/2
  const opt = optimizer(0.1);
  const lrs = trace(new CosineAnnealingLR(opt, { tMax: 4, etaMin: 0.01 }), opt, 8);
  const r = Math.SQRT1_2;
  const expected = [0.1, 0.01 + 0.045 * (1 + r), 0.055, 0.01 + 0.045 * (1 - r), 0.01, 0.01 + 0.045 * (1 - r), 0.055, 0.01 + 0.045 * (1 + r), 0.1];
  assertClose(lrs, expected, 'lr by epoch', { rtol: 1e-14 });
});

test("the closed forms agree with PyTorch's recursive (chainable) StepLR, ExponentialLR and CosineAnnealingLR", () => {
  // PyTorch's get_lr(), applied to the previous epoch's lr, for 50 epochs.
  const base = 0.3, etaMin = 0.002, tMax = 7, gamma = 0.9, stepSize = 4;
  let stepLr = base, expLr = base, cosLr = base;
  const opts = [optimizer(base), optimizer(base), optimizer(base)] as const;
  const schedules = [new StepLR(opts[0], { stepSize, gamma }), new ExponentialLR(opts[1], { gamma }), new CosineAnnealingLR(opts[2], { tMax, etaMin })] as const;
  for (let e = 1; e <= 50; e++) {
    if (e % stepSize === 0) stepLr *= gamma;
    expLr *= gamma;
    if ((e - 1 - tMax) % (2 * tMax) === 0) cosLr = cosLr + ((base - etaMin) * (1 - Math.cos(Math.PI / tMax))) / 2;
    else cosLr = ((1 + Math.cos((Math.PI * e) / tMax)) / (1 + Math.cos((Math.PI * (e - 1)) / tMax))) * (cosLr - etaMin) + etaMin;
    for (const s of schedules) s.step();
    assertClose(opts[0].lr, stepLr, `StepLR at epoch ${e}`, { rtol: 1e-13 });
    assertClose(opts[1].lr, expLr, `ExponentialLR at epoch ${e}`, { rtol: 1e-13 });
    assertClose(opts[2].lr, cosLr, `CosineAnnealingLR at epoch ${e}`, { rtol: 1e-12, atol: 1e-16 });
  }
});

test('a schedule starts at the optimizer lr, and lrAt / lr report without stepping', () => {
  const opt = optimizer(0.4);
  const schedule = new CosineAnnealingLR(opt, { tMax: 10 });
  assert.is(schedule.baseLr, 0.4);
  assert.is(schedule.epoch, 0);
  assert.is(opt.lr, 0.4);
  assertClose(schedule.lrAt(5), 0.2, 'lrAt(5)', { rtol: 1e-15 });
  assert.is(schedule.step(), opt.lr);
  assert.is(schedule.lr, opt.lr);
  assert.is(schedule.epoch, 1);
});

test('a schedule resumes from its state dict and sets the optimizer lr', () => {
  const opt = optimizer(1);
  const schedule = new StepLR(opt, { stepSize: 2, gamma: 0.5 });
  for (let e = 0; e < 5; e++) schedule.step();
  const saved = JSON.parse(JSON.stringify(schedule.stateDict()));
  assert.equal(saved, { scheduler: 'StepLR', epoch: 5, baseLr: 1 });
  const opt2 = optimizer(123);
  const resumed = new StepLR(opt2, { stepSize: 2, gamma: 0.5 });
  resumed.loadStateDict(saved);
  assert.is(opt2.lr, 0.25);
  resumed.step();
  schedule.step();
  assert.is(opt2.lr, opt.lr);
  assertThrows(() => new ExponentialLR(opt2, { gamma: 0.5 }).loadStateDict(saved), ['state of "StepLR", not ExponentialLR']);
  assertThrows(() => resumed.loadStateDict({ ...saved, epoch: -1 }), ['epoch', '-1'], RangeError);
});

test('schedules reject invalid options with messages that name them', () => {
  const opt = optimizer(0.1);
  assertThrows(() => new StepLR(opt, { stepSize: 0 }), ['StepLR', 'stepSize', 'positive integer', 'got 0'], RangeError);
  assertThrows(() => new StepLR(opt, { stepSize: 2.5 }), ['stepSize', '2.5'], RangeError);
  assertThrows(() => new StepLR(opt, { stepSize: 2, gamma: -0.1 }), ['gamma', '-0.1'], RangeError);
  assertThrows(() => new ExponentialLR(opt, { gamma: NaN }), ['ExponentialLR', 'gamma', 'NaN'], RangeError);
  assertThrows(() => new CosineAnnealingLR(opt, { tMax: -3 }), ['CosineAnnealingLR', 'tMax', '-3'], RangeError);
  assertThrows(() => new CosineAnnealingLR(opt, { tMax: 3, etaMin: -1 }), ['etaMin', '-1'], RangeError);
  assertThrows(() => new CosineAnnealingLR(opt, { T_max: 3 } as never), ['unknown option "T_max"', 'did you mean "tMax"'], TypeError);
  assertThrows(() => new StepLR({} as never, { stepSize: 1 }), ['StepLR', 'optimizer with a numeric lr'], TypeError);
});

test.run();
