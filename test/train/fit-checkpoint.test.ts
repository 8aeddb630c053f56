/**
 * fit's checkpoints and resume: a run aborted at any step (inside an epoch or at its end) or "killed"
 * after a periodic checkpoint, saved through safetensors bytes and resumed, ends bit-identical to the
 * run that never stopped — weights, optimizer state, generator, history, early stopping and the weight
 * average included. Also: strict options, an optimizer over another model, an exploding finite loss.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Rng } from '../../src/rng/rng.ts';
import { RealNVP } from '../../src/flow/real-nvp.ts';
import { Adam } from '../../src/optim/adam.ts';
import { loadSafetensors, saveSafetensors } from '../../src/io/safetensors.ts';
import { checkpointFromDict, checkpointToDict, type FitState } from '../../src/train/checkpoint.ts';
import { fit, TrainingDivergedError, type FitOptions, type History } from '../../src/train/fit.ts';
import { assertThrows } from '../helpers/assert.ts';
import { assertSameWeights, postData, smallFlow, snapshot } from './helpers/models.ts';

const train = postData(150, 1);
const val = postData(40, 2);

/** The options of the reference run; `rng` is fresh each time. */
function options(extra: Partial<FitOptions> = {}): FitOptions {
  return { epochs: 12, batchSize: 32, lr: 3e-3, rng: new Rng(5), validation: val, patience: 4, ema: 0.9, noise: 0.05, ...extra };
}

/** Through the bytes, as the command line keeps it on disk. */
function roundTrip(state: FitState): FitState {
  const { tensors, metadata } = checkpointToDict(state, { note: 'kept' });
  const loaded = loadSafetensors(saveSafetensors(tensors, metadata));
  assert.is(loaded.metadata.note, 'kept');
  return checkpointFromDict(loaded.tensors, loaded.metadata);
}

function sameHistory(a: History, b: History, label: string): void {
  assert.equal(a.trainLoss, b.trainLoss, `${label}: train losses`);
  assert.equal(a.valNll, b.valNll, `${label}: validation NLLs`);
  assert.is(a.steps, b.steps, `${label}: steps`);
  assert.is(a.bestEpoch, b.bestEpoch, `${label}: best epoch`);
  assert.is(a.stopReason, b.stopReason, `${label}: stop reason`);
}

const reference = (() => {
  const flow = smallFlow(3);
  const history = fit(flow, train, options());
  return { weights: snapshot(flow), history };
})();

test('an aborted run resumed from its checkpoint ends bit-identical to the run that never stopped, at every kind of step', () => {
  const stepsPerEpoch = Math.ceil(150 / 32); // 5
  assert.ok(reference.history.steps > 3 * stepsPerEpoch, 'the reference runs several epochs');
  // Inside the first epoch, at an epoch's last step, inside a later epoch, and the step before the end.
  for (const stopAt of [2, stepsPerEpoch, 2 * stepsPerEpoch + 3, reference.history.steps - 1]) {
    const flow = smallFlow(3);
    const signal = { aborted: false };
    const saved: FitState[] = [];
    const first = fit(flow, train, { ...options(), signal, onStep: (step) => (signal.aborted = step === stopAt), checkpoint: { every: 1000, save: (s) => saved.push(s) } });
    assert.is(first.stopReason, 'aborted');
    assert.is(saved.length, 1, 'the abort writes one checkpoint');
    assert.is(saved[0]!.steps, stopAt);
    // A fresh process: a new model (other initial weights, even) and generator.
    const again = smallFlow(99);
    const rest = fit(again, train, { ...options({ rng: new Rng(12345) }), resume: roundTrip(saved[0]!) });
    assertSameWeights(snapshot(again), reference.weights, `stopped at step ${stopAt}`);
    sameHistory(rest, reference.history, `stopped at step ${stopAt}`);
  }
});

test('a run killed after a periodic checkpoint resumes from it bit-identical', () => {
  const saved: FitState[] = [];
  const flow = smallFlow(3);
  const history = fit(flow, train, { ...options(), checkpoint: { every: 3, save: (s) => saved.push(s) } });
  assertSameWeights(snapshot(flow), reference.weights, 'checkpointing does not change the run');
  assert.ok(saved.length >= 2, `checkpoints every 3 epochs (${saved.length})`);
  assert.equal(saved.map((s) => s.epoch), saved.map((_, k) => 3 * (k + 1)));
  const again = smallFlow(7);
  const rest = fit(again, train, { ...options({ rng: new Rng(0) }), resume: roundTrip(saved[0]!) });
  assertSameWeights(snapshot(again), reference.weights, 'resumed from epoch 3');
  sameHistory(rest, history, 'resumed from epoch 3');
});

test('a checkpoint written at the epoch where patience ran out resumes as stopped early', () => {
  const flow = smallFlow(3);
  const h = fit(flow, train, { ...options({ epochs: 200, patience: 2, lr: 3e-2 }) });
  assert.is(h.stopReason, 'early-stopped');
  const again = smallFlow(3);
  const rest = fit(again, train, { ...options({ epochs: 200, patience: 2, lr: 3e-2 }), resume: roundTrip(h.state!) });
  assert.is(rest.stopReason, 'early-stopped');
  assert.is(rest.steps, h.steps, 'no further step');
  assertSameWeights(snapshot(again), snapshot(flow), 'the best weights');
});

test('fit refuses an unknown option with a did-you-mean, and an optimizer over another model', () => {
  const flow = smallFlow(0);
  assertThrows(() => fit(flow, train, { ...options(), learningRate: 10 } as FitOptions), ['fit: unknown option "learningRate"', 'the options are'], TypeError);
  assertThrows(() => fit(flow, train, { ...options(), epoch: 3 } as FitOptions), ['did you mean "epochs"?'], TypeError);
  assertThrows(() => fit(flow, train, { ...options(), checkpoint: { evry: 2, save: () => {} } } as unknown as FitOptions), ['did you mean "every"?'], TypeError);
  const other = smallFlow(1);
  assertThrows(() => fit(flow, train, { ...options(), optimizer: new Adam(other.parameters(), { lr: 1e-3 }) }), ["optimizer's parameter 0", "not one of the model's parameters"], RangeError);
});

test('a loss that explodes without turning NaN is caught, with the last checkpoint kept and marked diverged', () => {
  const flow = new RealNVP({ dim: 2, layers: 2, hidden: 8, rng: new Rng(0) });
  const start = snapshot(flow);
  const saved: FitState[] = [];
  let error: unknown;
  try {
    fit(flow, train, { epochs: 50, batchSize: 32, lr: 0.3, rng: new Rng(0), maxLossRise: 0.05, checkpoint: { every: 1000, save: (s) => saved.push(s) } });
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof TrainingDivergedError, `diverged: ${String(error)}`);
  assert.match((error as Error).message, 'the loss exploded');
  assert.is(saved.length, 1);
  assert.match(saved[0]!.diverged ?? '', 'exploded');
  assert.is((error as TrainingDivergedError).state, saved[0]);
  assertSameWeights(snapshot(flow), start, 'no checkpoint yet: back to the starting weights');
});

test.run();
