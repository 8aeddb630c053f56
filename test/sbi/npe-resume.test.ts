/**
 * trainNpe's checkpoint and resume: a run stopped inside an epoch after a learning-rate cut, and
 * resumed from its checkpoint, ends bit-identical to one that never stopped (weights, z-scoring,
 * validation split, history); the rate comes back from Adam's state, not from the recipe.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Rng } from '../../src/rng/rng.ts';
import { trainNpe, type NpeOptions, type NpeState } from '../../src/sbi/npe.ts';
import { simulateDataset } from '../../src/sbi/simulator.ts';
import { getTask } from '../../src/sbi/tasks.ts';
import type { FitState } from '../../src/train/checkpoint.ts';
import { assertThrows } from '../helpers/assert.ts';

const task = getTask('two-moons');
const data = simulateDataset(task, 300, { seed: 1 });
// A cut after every stale epoch, so that one happens within a few epochs.
const options = (): NpeOptions => ({ rng: new Rng(2), support: task.prior.support, layers: 2, hidden: 8, batchSize: 32, lr: 3e-2, epochs: 8, patience: 100, lrPlateau: { patience: 1, factor: 0.5 }, task: task.name });

function weights(result: ReturnType<typeof trainNpe>): Uint8Array {
  return result.posterior.save().weights;
}

test('a run stopped after a rate cut and resumed from its checkpoint ends bit-identical to one that never stopped', () => {
  const states: FitState[] = [];
  const whole = trainNpe(data.theta, data.x, { ...options(), checkpoint: { every: 1, save: (s) => void states.push(s.fit) } });
  const cut = states.find((s) => (s.optimizer.options.lr as number) < 3e-2);
  assert.ok(cut !== undefined && cut.epoch < 7, `a rate cut within the first epochs (rates ${states.map((s) => s.optimizer.options.lr).join(', ')})`);
  // Stop in the middle of the epoch after the cut.
  const stepsPerEpoch = Math.ceil(whole.posterior.meta.trainRows / 32);
  const stopAt = cut.steps + Math.floor(stepsPerEpoch / 2);
  let step = 0, saved: NpeState | null = null;
  const stopped = trainNpe(data.theta, data.x, {
    ...options(),
    signal: { get aborted() { return step >= stopAt; } },
    onStep: (s) => void (step = s),
    checkpoint: { seconds: 1e9, save: (s) => void (saved = s) },
  });
  assert.is(stopped.history.stopReason, 'aborted');
  const state = (saved as NpeState | null)?.fit ?? null;
  assert.ok(state !== null && state.partial !== null, 'the checkpoint stands inside an epoch');
  assert.is(state.optimizer.options.lr, cut.optimizer.options.lr, 'the checkpoint holds the cut rate');
  const resumed = trainNpe(data.theta, data.x, { ...options(), resume: state });
  assert.equal(weights(resumed), weights(whole), 'the same weights, bit for bit');
  assert.equal(resumed.history.valNll, whole.history.valNll);
  assert.equal(resumed.posterior.meta, whole.posterior.meta, 'the same split');
  for (const name of ['standardize.mean', 'standardize.std', 'standardizeContext.mean', 'standardizeContext.std']) {
    assert.equal(Array.from(resumed.posterior.flow.stateDict()[name]!.data), Array.from(whole.posterior.flow.stateDict()[name]!.data), `the same z-scoring (${name})`);
  }
  // The rate matters: the same checkpoint resumed at the recipe's rate ends elsewhere.
  const reset = { ...state, optimizer: { ...state.optimizer, options: { ...state.optimizer.options, lr: 3e-2 } } };
  assert.not.equal(weights(trainNpe(data.theta, data.x, { ...options(), resume: reset })), weights(whole), 'a resume at the uncut rate differs');
});

test('trainNpe refuses a misspelt checkpoint option by name', () => {
  assertThrows(() => trainNpe(data.theta, data.x, { ...options(), checkpoints: {} } as never), ['"checkpoints"', 'did you mean "checkpoint"']);
});

test.run();
