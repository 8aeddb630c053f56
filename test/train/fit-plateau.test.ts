/**
 * fit's `lrPlateau`: the rate is cut at every `patience`-th epoch since the best one (the epochs read
 * off the validation history here, not fit's bookkeeping), exactly as the same rule written by hand in
 * onEpoch; `restoreBest` puts the best weights back at each cut; a run aborted after a cut and resumed
 * from its checkpoint ends bit-identical; bad options are refused by name.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Rng } from '../../src/rng/rng.ts';
import { Adam } from '../../src/optim/adam.ts';
import { checkpointFromDict, checkpointToDict, type FitState } from '../../src/train/checkpoint.ts';
import { fit, type FitOptions } from '../../src/train/fit.ts';
import { loadSafetensors, saveSafetensors } from '../../src/io/safetensors.ts';
import { assertThrows } from '../helpers/assert.ts';
import { assertSameWeights, postData, smallFlow, snapshot } from './helpers/models.ts';

const train = postData(64, 1), val = postData(200, 5);
/** A high rate on little data: validation stalls within a few epochs, so there are cuts to see. */
const base = (extra: Partial<FitOptions> = {}): FitOptions => ({ epochs: 40, batchSize: 16, rng: new Rng(2), validation: val, ...extra });

/** The epochs at which the rule must cut: those whose count of epochs since the best (by the recorded validation NLLs) is a positive multiple of p. */
function expectedCuts(valNll: readonly number[], p: number): number[] {
  const cuts: number[] = [];
  let best = Infinity, bestEpoch = 0;
  valNll.forEach((v, i) => {
    if (v < best) {
      best = v;
      bestEpoch = i + 1;
    }
    const stale = i + 1 - bestEpoch;
    if (stale > 0 && stale % p === 0) cuts.push(i + 1);
  });
  return cuts;
}

test('the rate is cut by the factor at every patience-th epoch since the best one', () => {
  const flow = smallFlow(0);
  const optimizer = new Adam(flow.parameters(), { lr: 3e-2 });
  const rates: number[] = [];
  const history = fit(flow, train, { ...base(), optimizer, lrPlateau: { patience: 3, factor: 0.5 }, onEpoch: () => void rates.push(optimizer.lr) });
  const cuts = expectedCuts(history.valNll, 3);
  assert.ok(cuts.length >= 2, `the run has cuts to check (${cuts.join(', ')})`);
  let lr = 3e-2;
  rates.forEach((r, i) => {
    if (cuts.includes(i + 1)) lr *= 0.5;
    assert.is(r, lr, `rate after epoch ${i + 1}`);
  });
});

test('lrPlateau equals the same rule written by hand in onEpoch, bit for bit', () => {
  const a = smallFlow(0), b = smallFlow(0);
  const optA = new Adam(a.parameters(), { lr: 3e-2 }), optB = new Adam(b.parameters(), { lr: 3e-2 });
  const hA = fit(a, train, { ...base(), optimizer: optA, patience: 12, lrPlateau: { patience: 4, factor: 0.3 } });
  const hB = fit(b, train, {
    ...base(), optimizer: optB, patience: 12,
    onEpoch: (info) => {
      const stale = info.epoch - info.bestEpoch;
      if (stale > 0 && stale % 4 === 0) optB.lr *= 0.3;
    },
  });
  assert.equal(hA.valNll, hB.valNll);
  assert.is(optA.lr, optB.lr);
  assert.ok(optA.lr < 3e-2, 'the rate was cut');
  assertSameWeights(snapshot(a), snapshot(b), 'lrPlateau vs the hand-written rule');
});

test('restoreBest puts the best weights back at each cut, and only then', () => {
  const flow = smallFlow(0);
  const optimizer = new Adam(flow.parameters(), { lr: 3e-2 });
  let best: Float64Array[] = [];
  const after: { epoch: number; isBest: boolean; weights: Float64Array[]; best: Float64Array[] }[] = [];
  const history = fit(flow, train, {
    ...base(), optimizer, lrPlateau: { patience: 3, factor: 0.5, restoreBest: true },
    onEpoch: (info) => {
      if (info.bestEpoch === info.epoch) best = snapshot(flow);
      after.push({ epoch: info.epoch, isBest: info.bestEpoch === info.epoch, weights: snapshot(flow), best });
    },
  });
  const cuts = expectedCuts(history.valNll, 3);
  assert.ok(cuts.length >= 1, 'there is a cut');
  for (const { epoch, isBest, weights, best: b } of after) {
    if (cuts.includes(epoch)) assertSameWeights(weights, b, `weights right after the cut at epoch ${epoch}`);
    else if (!isBest) {
      let same = true;
      weights.forEach((w, k) => w.forEach((v, i) => (same &&= Object.is(v, b[k]![i]))));
      assert.not.ok(same, `epoch ${epoch} (no cut, not a best epoch) is not back at the best weights`);
    }
  }
  // Without restoreBest the weights after a cut are wherever the run had drifted.
  const drift = smallFlow(0);
  const opt2 = new Adam(drift.parameters(), { lr: 3e-2 });
  let bestD: Float64Array[] = [];
  const seen: { weights: Float64Array[]; best: Float64Array[] }[] = [];
  const h2 = fit(drift, train, {
    ...base(), optimizer: opt2, lrPlateau: { patience: 3, factor: 0.5 },
    onEpoch: (info) => {
      if (info.bestEpoch === info.epoch) bestD = snapshot(drift);
      seen.push({ weights: snapshot(drift), best: bestD });
    },
  });
  const cut = expectedCuts(h2.valNll, 3)[0]!;
  assert.ok(cut !== undefined, 'the run without restoreBest has a cut');
  const { weights, best: b } = seen[cut - 1]!;
  assert.ok(weights.some((w, k) => w.some((v, i) => !Object.is(v, b[k]![i]))), 'without restoreBest the cut leaves the weights where they were');
});

test('a run aborted after a cut and resumed from its checkpoint ends bit-identical to the uninterrupted one', () => {
  const opts = (rng: Rng): FitOptions => ({ ...base({ rng }), lr: 3e-2, patience: 10, ema: 0.9, lrPlateau: { patience: 3, factor: 0.5, restoreBest: true } });
  const ref = smallFlow(3);
  const refHistory = fit(ref, train, opts(new Rng(2)));
  const cuts = expectedCuts(refHistory.valNll, 3);
  assert.ok(cuts.length >= 1 && cuts[0]! < refHistory.epochs, 'the reference has a cut before its end');
  const stepsPerEpoch = Math.ceil(64 / 16);
  const stopAt = (cuts[0]! + 1) * stepsPerEpoch + 1; // one step into the epoch after the first cut's
  const first = smallFlow(3);
  const signal = { aborted: false };
  const saved: FitState[] = [];
  fit(first, train, { ...opts(new Rng(2)), signal, onStep: (s) => (signal.aborted = s === stopAt), checkpoint: { every: 1000, save: (s) => saved.push(s) } });
  assert.is(saved.length, 1);
  const { tensors, metadata } = checkpointToDict(saved[0]!, {});
  const state = checkpointFromDict(...((l) => [l.tensors, l.metadata] as const)(loadSafetensors(saveSafetensors(tensors, metadata))));
  const again = smallFlow(42);
  const rest = fit(again, train, { ...opts(new Rng(777)), resume: state });
  assert.equal(rest.valNll, refHistory.valNll);
  assertSameWeights(snapshot(again), snapshot(ref), 'resumed after a cut');
});

test('bad lrPlateau options are refused by name', () => {
  const flow = smallFlow(0);
  assertThrows(() => fit(flow, train, { ...base(), lrPlateau: { patience: 3, factor: 0.5, restorebest: true } as never }), [/lrPlateau.*restorebest.*restoreBest/s], TypeError);
  assertThrows(() => fit(flow, train, { ...base(), lrPlateau: { patience: 0, factor: 0.5 } }), [/lrPlateau\.patience/], RangeError);
  assertThrows(() => fit(flow, train, { ...base(), lrPlateau: { patience: 2, factor: 1 } }), [/lrPlateau\.factor must be in \(0, 1\), got 1/], RangeError);
  assertThrows(() => fit(flow, train, { ...base(), lrPlateau: { patience: 2, factor: 0.5, restoreBest: 1 as never } }), [/restoreBest must be true or false/], TypeError);
  const { validation: _v, ...noVal } = base();
  assertThrows(() => fit(flow, train, { ...noVal, lrPlateau: { patience: 2, factor: 0.5 } }), [/lrPlateau.*needs validation data/], RangeError);
});

test.run();
