/**
 * fit: determinism, minibatching, the history it returns, early stopping with the best weights,
 * callbacks and aborts, divergence with the last good weights restored, option checks, weight averaging,
 * gradient clipping and noise regularisation. Every expected value is computed here from recorded
 * iterates or by hand, not read back from fit's own bookkeeping.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../src/autograd/tensor.ts';
import { Rng } from '../../src/rng/rng.ts';
import { nll, RealNVP } from '../../src/flow/real-nvp.ts';
import { Adam } from '../../src/optim/adam.ts';
import type { Optimizer } from '../../src/optim/optimizer.ts';
import { SGD } from '../../src/optim/sgd.ts';
import { evaluate } from '../../src/train/evaluate.ts';
import { fit, meanNll, TrainingDivergedError, type EpochInfo, type FitOptions } from '../../src/train/fit.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';
import { allFinite, assertSameWeights, gradNorm, load, maxAbsDiff, postData, smallFlow, snapshot } from './helpers/models.ts';

/** A RealNVP that records a copy of every training batch it sees (validation runs in eval mode). */
class SpyFlow extends RealNVP {
  batches: Float64Array[] = [];
  override logProb(x: Tensor): Tensor {
    if (this.training) this.batches.push(x.data.slice());
    return super.logProb(x);
  }
}

/** SGD that records the total gradient norm it is asked to apply at every step. */
class NormSpySGD extends SGD {
  norms: number[] = [];
  override step(): void {
    this.norms.push(gradNorm(this.params));
    super.step();
  }
}

/** The rows of a row-major n×d buffer as strings, sorted: a multiset to compare. */
function sortedRows(data: Float64Array, d: number): string[] {
  const rows: string[] = [];
  for (let i = 0; i < data.length; i += d) rows.push(Array.from(data.subarray(i, i + d)).join(','));
  return rows.sort();
}

function concat(parts: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Determinism and progress

test('the same seeds, data and options give bit-identical weights and identical histories', () => {
  const data = postData(200, 1), validation = postData(100, 2);
  const run = (shuffleSeed: number) => {
    const flow = smallFlow(0);
    const history = fit(flow, data, { epochs: 4, batchSize: 32, lr: 1e-2, rng: new Rng(shuffleSeed), validation, noise: 0.05, ema: 0.9 });
    return { weights: snapshot(flow), history };
  };
  const a = run(7), b = run(7), c = run(8);
  assertSameWeights(b.weights, a.weights, 'second run with the same seeds');
  assert.equal(b.history.trainLoss, a.history.trainLoss, 'training losses');
  assert.equal(b.history.valNll, a.history.valNll, 'validation NLLs');
  assert.is(b.history.bestEpoch, a.history.bestEpoch);
  // Another shuffle seed: other batches, other noise, other weights.
  const moved = maxAbsDiff(c.weights, a.weights);
  assert.ok(moved > 1e-4, `a different shuffle seed moved the weights by only ${moved}`);
  assert.not.equal(c.history.trainLoss, a.history.trainLoss);
});

test('the loss goes down over 20 epochs on post-mixture data, and the history has one entry per epoch', () => {
  const data = postData(300, 1), validation = postData(200, 2), testSet = postData(2000, 3);
  const flow = smallFlow(0);
  const before = evaluate(flow, testSet).nll;
  const losses: number[] = [];
  const history = fit(flow, data, { epochs: 20, batchSize: 32, lr: 1e-2, rng: new Rng(4), validation, onStep: (_, loss) => losses.push(loss) });
  const after = evaluate(flow, testSet).nll;
  assert.is(history.stopReason, 'completed');
  assert.is(history.epochs, 20);
  assert.is(history.trainLoss.length, 20);
  assert.is(history.valNll.length, 20);
  assert.is(history.stepsPerSecond.length, 20);
  assert.is(history.steps, 20 * Math.ceil(300 / 32));
  assert.is(losses.length, history.steps);
  assert.ok(history.stepsPerSecond.every((s) => s > 0), `steps per second ${history.stepsPerSecond}`);
  assert.ok(history.seconds > 0);
  // Each epoch's training loss is the mean of its steps' losses (10 steps per epoch here).
  for (let e = 0; e < 20; e++) {
    const own = losses.slice(e * 10, e * 10 + 10);
    assertClose(history.trainLoss[e]!, own.reduce((s, v) => s + v, 0) / own.length, `train loss of epoch ${e + 1}`, { rtol: 1e-12 });
  }
  assert.ok(history.trainLoss[19]! < history.trainLoss[0]! - 1, `train loss ${history.trainLoss[0]} -> ${history.trainLoss[19]}`);
  assert.ok(history.valNll[19]! < history.valNll[0]! - 0.5, `validation NLL ${history.valNll[0]} -> ${history.valNll[19]}`);
  // The entropy of the target is 3.524 nats; the untrained flow (a standard normal) is near 5.9.
  assert.ok(after < before - 1.5 && after < 4, `test NLL ${before} -> ${after}`);
  assert.is(history.bestValNll, Math.min(...history.valNll));
});

test('without validation the history has no validation NLL, best epoch 0 and best NLL NaN', () => {
  const history = fit(smallFlow(0), postData(50, 1), { epochs: 2, batchSize: 16, rng: new Rng(0) });
  assert.equal(history.valNll, []);
  assert.is(history.bestEpoch, 0);
  assert.ok(Number.isNaN(history.bestValNll));
  assert.is(history.steps, 2 * 4);
});

test('steps per second, elapsed and seconds are read off the injected clock', () => {
  // The clock moves 10 ms per step and nowhere else: every epoch runs at exactly 100 steps per second.
  let clock = 1000;
  const infos: EpochInfo[] = [];
  const history = fit(smallFlow(0), postData(40, 1), {
    epochs: 3, batchSize: 16, rng: new Rng(0), now: () => clock,
    onStep: () => (clock += 10), onEpoch: (info) => void infos.push(info),
  });
  assertClose(history.stepsPerSecond, [100, 100, 100], 'steps per second', { rtol: 1e-12 });
  assertClose(infos.map((i) => i.elapsed), [0.03, 0.06, 0.09], 'elapsed', { rtol: 1e-12 });
  assertClose(history.seconds, 0.09, 'seconds', { rtol: 1e-12 });
  assert.equal(infos.map((i) => [i.epoch, i.epochs, i.step]), [[1, 3, 3], [2, 3, 6], [3, 3, 9]]);
});

// ---------------------------------------------------------------------------------------------------
// Minibatches

test('the last batch of an epoch holds the remainder when n is not a multiple of the batch size', () => {
  const cases: [n: number, batchSize: number, sizes: number[]][] = [
    [100, 32, [32, 32, 32, 4]],
    [96, 32, [32, 32, 32]],
    [20, 32, [20]],
    [33, 32, [32, 1]],
  ];
  for (const [n, batchSize, sizes] of cases) {
    const flow = new SpyFlow({ dim: 2, layers: 2, hidden: 8, rng: new Rng(0) });
    const history = fit(flow, postData(n, 1), { epochs: 2, batchSize, rng: new Rng(0) });
    assert.equal(flow.batches.map((b) => b.length / 2), [...sizes, ...sizes], `n ${n}, batch size ${batchSize}`);
    assert.is(history.steps, 2 * Math.ceil(n / batchSize), `steps for n ${n}, batch size ${batchSize}`);
  }
});

test('every epoch visits every training row exactly once, in a new shuffled order', () => {
  const n = 70, data = postData(n, 1);
  const flow = new SpyFlow({ dim: 2, layers: 2, hidden: 8, rng: new Rng(0) });
  fit(flow, data, { epochs: 3, batchSize: 16, rng: new Rng(5) });
  const perEpoch = Math.ceil(n / 16);
  const epochs = [0, 1, 2].map((e) => concat(flow.batches.slice(e * perEpoch, (e + 1) * perEpoch)));
  const expected = sortedRows(data.data, 2);
  epochs.forEach((rows, e) => assert.equal(sortedRows(rows, 2), expected, `rows of epoch ${e + 1}`));
  assert.not.equal(Array.from(epochs[0]!), Array.from(data.data), 'epoch 1 is shuffled');
  assert.not.equal(Array.from(epochs[1]!), Array.from(epochs[0]!), 'epoch 2 has a new order');
});

test('noise regularisation perturbs each batch with the requested fraction of each feature\'s standard deviation, and leaves the data alone', () => {
  // Rows on a coarse grid (spacing 10 in x, 7 in y), noise 0.005·sd ≈ 0.7 and 0.5: each noisy row is
  // nearest to its own source row by more than 9 noise standard deviations.
  const n = 60, rows: number[][] = [];
  for (let i = 0; i < n; i++) rows.push([10 * i, -7 * i]);
  const data = Tensor.from(n, 2, new Float64Array(rows.flat()));
  const original = data.data.slice();
  const sd = [0, 1].map((j) => {
    const col = rows.map((r) => r[j]!), m = col.reduce((s, v) => s + v, 0) / n;
    return Math.sqrt(col.reduce((s, v) => s + (v - m) ** 2, 0) / (n - 1));
  });
  const flow = new SpyFlow({ dim: 2, layers: 2, hidden: 8, rng: new Rng(0) });
  fit(flow, data, { epochs: 10, batchSize: 20, optimizer: new SGD(flow.parameters(), { lr: 0 }), rng: new Rng(1), noise: 0.005 });
  assert.equal(Array.from(data.data), Array.from(original), 'the training data is unchanged');
  const residuals: number[][] = [[], []];
  for (const b of flow.batches) {
    for (let r = 0; r < b.length; r += 2) {
      const i = Math.min(n - 1, Math.max(0, Math.round(b[r]! / 10)));
      residuals[0]!.push(b[r]! - rows[i]![0]!);
      residuals[1]!.push(b[r + 1]! - rows[i]![1]!);
    }
  }
  for (const j of [0, 1]) {
    const e = residuals[j]!, m = e.reduce((s, v) => s + v, 0) / e.length;
    const s = Math.sqrt(e.reduce((acc, v) => acc + v * v, 0) / e.length);
    // 600 draws: the sample sd is within 10% (3.5 standard errors) and the mean within 4 standard errors.
    assertClose(s, 0.005 * sd[j]!, `noise sd of feature ${j}`, { rtol: 0.1 });
    assert.ok(Math.abs(m) < (4 * 0.005 * sd[j]!) / Math.sqrt(e.length), `noise mean of feature ${j} is ${m}`);
  }
});

// ---------------------------------------------------------------------------------------------------
// Early stopping and stops

test('early stopping ends patience epochs after the best epoch and returns exactly the best epoch\'s weights', () => {
  const data = postData(64, 1), validation = postData(200, 5);
  const flow = smallFlow(0);
  let bestWeights: Float64Array[] | null = null;
  const history = fit(flow, data, {
    epochs: 60, batchSize: 16, lr: 3e-2, rng: new Rng(2), validation, patience: 3,
    onEpoch: (info) => {
      if (info.bestEpoch === info.epoch) bestWeights = snapshot(flow);
    },
  });
  assert.is(history.stopReason, 'early-stopped');
  assert.ok(history.epochs < 60);
  assert.ok(history.bestEpoch >= 1 && history.bestEpoch < history.epochs, `best epoch ${history.bestEpoch} of ${history.epochs}`);
  assert.is(history.epochs, history.bestEpoch + 3, 'stopped after 3 epochs without improvement');
  assert.is(history.valNll.length, history.epochs);
  assert.is(history.bestValNll, Math.min(...history.valNll));
  assert.is(history.valNll[history.bestEpoch - 1], history.bestValNll);
  assert.ok(history.valNll.slice(history.bestEpoch).every((v) => v >= history.bestValNll));
  assert.ok(bestWeights !== null);
  assertSameWeights(snapshot(flow), bestWeights!, 'returned weights vs the best epoch\'s');
  assert.is(meanNll(flow, validation), history.bestValNll, 'validation NLL of the returned model');
  // The last iterate is not the best one, so restoring did something.
  assert.ok(history.valNll.at(-1)! > history.bestValNll);
});

test('with restoreBest false early stopping keeps the last iterate', () => {
  const data = postData(64, 1), validation = postData(200, 5);
  const flow = smallFlow(0);
  let last: Float64Array[] = [];
  const history = fit(flow, data, { epochs: 60, batchSize: 16, lr: 3e-2, rng: new Rng(2), validation, patience: 3, restoreBest: false, onStep: () => (last = snapshot(flow)) });
  assert.is(history.stopReason, 'early-stopped');
  assertSameWeights(snapshot(flow), last, 'returned weights vs the last step\'s');
  assert.is(meanNll(flow, validation), history.valNll.at(-1));
});

test('onEpoch returning \'stop\' ends training after that epoch', () => {
  let calls = 0;
  const history = fit(smallFlow(0), postData(50, 1), {
    epochs: 10, batchSize: 16, rng: new Rng(0),
    onEpoch: (info) => {
      calls++;
      return info.epoch === 2 ? 'stop' : undefined;
    },
  });
  assert.is(history.stopReason, 'stopped-by-callback');
  assert.is(calls, 2);
  assert.is(history.epochs, 2);
  assert.is(history.trainLoss.length, 2);
  assert.is(history.steps, 2 * 4);
});

test('an AbortSignal aborted after step 13 stops right there, recording the partial epoch', () => {
  const flow = smallFlow(0);
  const controller = new AbortController();
  const losses: number[] = [];
  let atAbort: Float64Array[] = [];
  const history = fit(flow, postData(300, 1), {
    epochs: 10, batchSize: 32, rng: new Rng(0), signal: controller.signal,
    onStep: (step, loss) => {
      losses.push(loss);
      if (step === 13) {
        atAbort = snapshot(flow);
        controller.abort();
      }
    },
  });
  assert.is(history.stopReason, 'aborted');
  assert.is(history.steps, 13);
  assert.is(losses.length, 13);
  assert.is(history.epochs, 2);
  assert.is(history.trainLoss.length, 2);
  assertClose(history.trainLoss[1]!, (losses[10]! + losses[11]! + losses[12]!) / 3, 'loss of the partial epoch', { rtol: 1e-12 });
  assertSameWeights(snapshot(flow), atAbort, 'weights after the abort');
});

// ---------------------------------------------------------------------------------------------------
// Divergence

/** Runs fit until it throws a TrainingDivergedError, recording the weights after every step (index 0: before training). */
function divergingRun(flow: RealNVP, data: Tensor, options: Omit<FitOptions, 'onStep'>, onStep?: (step: number) => void) {
  const after: Float64Array[][] = [snapshot(flow)];
  let error: unknown = null;
  try {
    fit(flow, data, { ...options, onStep: (step) => {
      after[step] = snapshot(flow);
      onStep?.(step);
    } });
  } catch (e) {
    error = e;
  }
  if (!(error instanceof TrainingDivergedError)) assert.unreachable(`expected a TrainingDivergedError, got ${String(error)}`);
  return { error: error as TrainingDivergedError, after };
}

/**
 * The documented state after divergence: the last weights that gave a finite loss and gradients. A step
 * whose update overflows is undone (the weights before it); a step whose loss or gradient is non-finite
 * was reached by the previous update, which is undone too.
 */
function expectedRestore(error: TrainingDivergedError, after: readonly Float64Array[][]): Float64Array[] {
  return /update made/.test(error.message) ? after[error.step - 1]! : after[Math.max(0, error.step - 2)]!;
}

test('a learning rate that blows up throws TrainingDivergedError with the epoch and step, and restores the last good weights', () => {
  // The post's model (raw exp scale) with Adam at lr 10, and the default model with SGD at lr 1e6.
  const data = postData(300, 1);
  const runs: [label: string, make: () => { flow: RealNVP; optimizer: Optimizer }][] = [0, 1, 2].map((seed) => [
    `post preset, Adam lr 10, seed ${seed}`,
    () => {
      const flow = RealNVP.post({ dim: 2, layers: 2, hidden: 8, rng: new Rng(seed) });
      return { flow, optimizer: new Adam(flow.parameters(), { lr: 10 }) };
    },
  ]);
  runs.push(['default preset, SGD lr 1e6', () => {
    const flow = smallFlow(0);
    return { flow, optimizer: new SGD(flow.parameters(), { lr: 1e6 }) };
  }]);
  for (const [label, make] of runs) {
    const { flow, optimizer } = make();
    const { error, after } = divergingRun(flow, data, { epochs: 10, batchSize: 32, optimizer, rng: new Rng(2), maxLossRise: Infinity });
    assert.is(error.name, 'TrainingDivergedError');
    assert.is(error.step, after.length, `${label}: the failing step is the one after the last completed step`);
    assert.is(error.epoch, Math.ceil(error.step / 10), `${label}: 10 steps per epoch`);
    assert.match(error.message, `epoch ${error.epoch}, step ${error.step}`);
    assert.match(error.message, /the loss is|the gradient of|the update made/);
    const now = snapshot(flow);
    assert.ok(allFinite(now), `${label}: every parameter is finite`);
    assertSameWeights(now, expectedRestore(error, after), `${label}: restored weights`);
  }
});

test('an update that overflows the weights on the first step is undone, back to the initial weights', () => {
  const flow = smallFlow(0);
  const data = Tensor.from(4, 2, new Float64Array([50, -50, 40, 60, -30, 45, 55, 35]));
  const { error, after } = divergingRun(flow, data, { epochs: 1, batchSize: 4, optimizer: new SGD(flow.parameters(), { lr: 1e308 }), rng: new Rng(0) });
  assert.match(error.message, /update made .* non-finite/);
  assert.is(error.step, 1);
  assert.is(error.epoch, 1);
  assertSameWeights(snapshot(flow), after[0]!, 'weights after the failed first step');
});

test('data poisoned during training make the loss non-finite in epoch 2; the weights go back to the last finite state', () => {
  const data = postData(300, 1);
  const flow = smallFlow(0);
  const { error, after } = divergingRun(flow, data, { epochs: 5, batchSize: 32, lr: 1e-2, rng: new Rng(2) }, (step) => {
    if (step === 12) data.data.fill(1e200); // the next batch overflows z² in the base density
  });
  assert.is(error.step, 13);
  assert.is(error.epoch, 2);
  assert.match(error.message, /epoch 2, step 13: the loss is (Infinity|NaN)/);
  assert.ok(allFinite(snapshot(flow)));
  assertSameWeights(snapshot(flow), after[11]!, 'weights from before the last update');
});

test('NaN in the training or validation data is refused up front with its row and column', () => {
  const flow = smallFlow(0);
  const before = snapshot(flow);
  const data = postData(20, 1);
  data.data[2 * 7 + 1] = NaN;
  let steps = 0;
  assertThrows(() => fit(flow, data, { epochs: 1, batchSize: 8, rng: new Rng(0), onStep: () => steps++ }), ['training data row 7, column 1 is NaN'], RangeError);
  const validation = postData(10, 2);
  validation.data[2 * 4] = -Infinity;
  assertThrows(() => fit(flow, postData(20, 1), { epochs: 1, batchSize: 8, rng: new Rng(0), validation, onStep: () => steps++ }), ['validation row 4, column 0 is -Infinity'], RangeError);
  assert.is(steps, 0, 'no step was taken');
  assertSameWeights(snapshot(flow), before, 'weights after the refused calls');
});

// ---------------------------------------------------------------------------------------------------
// Options

test('bad options are refused with a message naming the option and the value', () => {
  const flow = smallFlow(0), data = postData(20, 1), validation = postData(10, 2);
  const base: FitOptions = { epochs: 1, batchSize: 8, rng: new Rng(0) };
  const cases: [change: Partial<FitOptions>, message: string | RegExp, type: new (...args: never[]) => Error][] = [
    [{ epochs: 2.5 }, 'fit: epochs must be an integer >= 0, got 2.5', RangeError],
    [{ epochs: -1 }, 'fit: epochs must be an integer >= 0, got -1', RangeError],
    [{ epochs: NaN }, 'fit: epochs must be an integer >= 0, got NaN', RangeError],
    [{ batchSize: 0 }, 'fit: batchSize must be an integer >= 1, got 0', RangeError],
    [{ batchSize: 7.5 }, 'fit: batchSize must be an integer >= 1, got 7.5', RangeError],
    [{ patience: 1.5, validation }, 'fit: patience must be an integer >= 1, got 1.5', RangeError],
    [{ patience: 0, validation }, 'fit: patience must be an integer >= 1, got 0', RangeError],
    [{ patience: 3 }, 'fit: patience (early stopping) needs validation data', RangeError],
    [{ ema: 1 }, 'fit: ema must be in [0, 1), got 1', RangeError],
    [{ ema: -0.1 }, 'fit: ema must be in [0, 1), got -0.1', RangeError],
    [{ ema: NaN }, 'fit: ema must be in [0, 1), got NaN', RangeError],
    [{ noise: -0.01 }, 'fit: noise must be a finite number >= 0, got -0.01', RangeError],
    [{ noise: Infinity }, 'fit: noise must be a finite number >= 0, got Infinity', RangeError],
    [{ clipGradNorm: 0 }, 'fit: clipGradNorm must be > 0, got 0', RangeError],
    [{ clipGradNorm: -1 }, 'fit: clipGradNorm must be > 0, got -1', RangeError],
    [{ validation: Tensor.from(4, 5, new Float64Array(20)) }, 'fit: validation data has 5 columns, the model expects 2', RangeError],
    [{ lr: -1 }, /Adam: lr/, RangeError],
  ];
  for (const [change, message, type] of cases) assertThrows(() => fit(flow, data, { ...base, ...change }), [message], type);
  const { rng: _, ...noRng } = base;
  assertThrows(() => fit(flow, data, noRng as FitOptions), ['fit: pass { rng } (a seeded Rng) for the shuffles'], TypeError);
  assertThrows(() => fit(flow, Tensor.from(4, 3, new Float64Array(12)), base), ['fit: data has 3 columns, the model expects 2'], RangeError);
  assertThrows(() => fit(flow, Tensor.from(0, 2, new Float64Array(0)), base), ['fit: no training rows'], RangeError);
  // An empty validation set used to give NaN validation NLLs and a silent early stop after `patience` epochs.
  assertThrows(() => fit(flow, data, { ...base, validation: Tensor.from(0, 2, new Float64Array(0)), patience: 2 }), ['fit: no validation rows'], RangeError);
});

test('zero epochs train nothing and report completion', () => {
  const flow = smallFlow(0);
  const before = snapshot(flow);
  const history = fit(flow, postData(20, 1), { epochs: 0, batchSize: 8, rng: new Rng(0) });
  assert.is(history.steps, 0);
  assert.is(history.stopReason, 'completed');
  assertSameWeights(snapshot(flow), before, 'weights');
});

// ---------------------------------------------------------------------------------------------------
// Weight averaging

test('with ema the final weights are the exponential average of the iterates, not the last iterate', () => {
  // 24 rows, batches of 8: three SGD steps. The average starts from the weights after the first step
  // (so that data-initialised values such as ActNorm's are not mixed with placeholders): shadow₁ = w₁ and
  // shadowₖ = e·shadowₖ₋₁ + (1 - e)·wₖ, so shadow₃ = e²·w₁ + e(1 - e)·w₂ + (1 - e)·w₃.
  const e = 0.9;
  const flow = smallFlow(0);
  const w: Float64Array[][] = [snapshot(flow)];
  fit(flow, postData(24, 1), { epochs: 1, batchSize: 8, optimizer: new SGD(flow.parameters(), { lr: 0.1 }), rng: new Rng(0), ema: e, onStep: (step) => (w[step] = snapshot(flow)) });
  assert.is(w.length, 4);
  const coefficients = [0, e ** 2, e * (1 - e), 1 - e];
  const expected = w[0]!.map((_, k) => w[0]![k]!.map((_, i) => coefficients.reduce((s, c, t) => s + c * w[t]![k]![i]!, 0)));
  const final = snapshot(flow);
  final.forEach((f, k) => assertClose(f, expected[k]!, `averaged parameter ${k}`, { rtol: 1e-12, atol: 1e-15 }));
  const fromLast = maxAbsDiff(final, w[3]!);
  assert.ok(fromLast > 1e-3, `the averaged weights are only ${fromLast} from the last iterate`);
});

test('with ema, an ActNorm initialised from the first batch is averaged from its data-set values, not from its placeholders', () => {
  // Data far from the origin: ActNorm's bias starts at 0 and is set to about -50 by the first forward.
  const rng = new Rng(5);
  const data = Tensor.from(64, 2, Float64Array.from({ length: 128 }, (_, k) => (k % 2 === 0 ? 50 : -30) + 10 * rng.normal()));
  const flow = new RealNVP({ dim: 2, layers: 2, hidden: 4, depth: 1, actNorm: true, rng: new Rng(6) });
  fit(flow, data, { epochs: 1, batchSize: 16, lr: 1e-3, rng: new Rng(7), ema: 0.99 });
  const bias = flow.norms[0]!.bias.data;
  assert.ok(bias[0]! < -40 && bias[1]! > 20, `the averaged ActNorm bias is [${Array.from(bias)}], not near the data-set values`);
});

test('ema 0 is no averaging: the last iterate is returned', () => {
  const flow = smallFlow(0);
  let last: Float64Array[] = [];
  fit(flow, postData(24, 1), { epochs: 1, batchSize: 8, optimizer: new SGD(flow.parameters(), { lr: 0.1 }), rng: new Rng(0), ema: 0, onStep: () => (last = snapshot(flow)) });
  assertSameWeights(snapshot(flow), last, 'weights');
});

test('with ema and validation, the validation NLL and the best weights are those of the averaged model', () => {
  const e = 0.8;
  const data = postData(48, 1), validation = postData(100, 2);
  const flow = smallFlow(0), twin = smallFlow(0);
  let shadow = snapshot(flow);
  const averagedAtEpoch: Float64Array[][] = [];
  let checked = 0;
  const history = fit(flow, data, {
    epochs: 4, batchSize: 16, lr: 3e-2, rng: new Rng(3), validation, ema: e,
    onStep: (step) => {
      const w = snapshot(flow);
      // the average starts from the weights after the first step
      shadow = step === 1 ? w : shadow.map((s, k) => s.map((v, i) => e * v + (1 - e) * w[k]![i]!));
    },
    onEpoch: (info) => {
      load(twin, shadow);
      assertClose(info.valNll, meanNll(twin, validation), `validation NLL of epoch ${info.epoch} vs the averaged weights`, { rtol: 1e-12 });
      const raw = meanNll(flow, validation); // during callbacks the model holds the last iterate
      assert.ok(Math.abs(raw - info.valNll) > 1e-6, `epoch ${info.epoch}: the raw iterate gives the same NLL ${raw}`);
      averagedAtEpoch[info.epoch] = shadow.map((s) => s.slice());
      checked++;
    },
  });
  assert.is(checked, 4);
  const best = averagedAtEpoch[history.bestEpoch]!;
  snapshot(flow).forEach((f, k) => assertClose(f, best[k]!, `returned parameter ${k} vs the averaged weights of epoch ${history.bestEpoch}`, { rtol: 1e-12, atol: 1e-15 }));
});

// ---------------------------------------------------------------------------------------------------
// Gradient clipping

test('clipGradNorm caps the norm of every gradient the optimizer applies', () => {
  const data = postData(64, 1), maxNorm = 0.05;
  const raw = smallFlow(0), clipped = smallFlow(0);
  const rawOpt = new NormSpySGD(raw.parameters(), { lr: 1e-2 }), clippedOpt = new NormSpySGD(clipped.parameters(), { lr: 1e-2 });
  fit(raw, data, { epochs: 2, batchSize: 16, optimizer: rawOpt, rng: new Rng(0) });
  fit(clipped, data, { epochs: 2, batchSize: 16, optimizer: clippedOpt, rng: new Rng(0), clipGradNorm: maxNorm });
  assert.ok(rawOpt.norms.every((g) => g > 2 * maxNorm), `unclipped norms ${rawOpt.norms} should exceed ${2 * maxNorm} for this test to mean anything`);
  assert.is(clippedOpt.norms.length, 8);
  for (const g of clippedOpt.norms) assertClose(g, maxNorm, 'clipped gradient norm', { rtol: 1e-4 });
});

test('one clipped step of fit equals the step computed by hand: g·max/(‖g‖ + 1e-6), then w - lr·g', () => {
  const data = postData(32, 1), maxNorm = 0.1, lr = 0.05;
  const trained = smallFlow(0), byHand = smallFlow(0);
  fit(trained, data, { epochs: 1, batchSize: 32, optimizer: new SGD(trained.parameters(), { lr }), rng: new Rng(0), clipGradNorm: maxNorm });
  nll(byHand, data).backward();
  const params = byHand.parameters(), norm = gradNorm(params);
  assert.ok(norm > 2 * maxNorm, `gradient norm ${norm} is not clipped by ${maxNorm}`);
  const expected = params.map((p) => p.data.map((w, i) => w - lr * p.grad![i]! * (maxNorm / (norm + 1e-6))));
  // The batch is the whole data set in shuffled order: the mean gradient agrees to rounding.
  snapshot(trained).forEach((w, k) => assertClose(w, expected[k]!, `parameter ${k}`, { rtol: 1e-10, atol: 1e-14 }));
});

test.run();
