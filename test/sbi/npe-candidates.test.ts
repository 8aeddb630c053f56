/**
 * trainNpe's `candidates`: the capacity chosen by validation. The main architecture trains first and
 * exactly as without candidates; each candidate trains on the same split; the kept posterior is the one
 * with the lowest best validation NLL (recomputed here from the returned posterior, not read back from
 * the bookkeeping); bad candidates are refused by name.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Rng } from '../../src/rng/rng.ts';
import { Tensor } from '../../src/autograd/tensor.ts';
import { MLPEmbedding } from '../../src/nn/embedding.ts';
import { loadSafetensors, saveSafetensors } from '../../src/io/safetensors.ts';
import { NPE_DEFAULTS, npeStateFromDict, npeStateToDict, trainNpe, type CandidateResult, type NpeOptions, type NpeState } from '../../src/sbi/npe.ts';
import { simulateDataset } from '../../src/sbi/simulator.ts';
import { getTask } from '../../src/sbi/tasks.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';

const task = getTask('two-moons');
const data = simulateDataset(task, 400, { seed: 2 });
const QUICK: Partial<NpeOptions> = { layers: 2, hidden: 8, depth: 1, bins: 4, batchSize: 64, epochs: 12, patience: 5, support: task.prior.support };

const weightsOf = (r: ReturnType<typeof trainNpe>): Uint8Array => r.posterior.save().weights;
const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

test('without candidates, and with candidates: [], the run is the same bit for bit; the result lists the main one as chosen', () => {
  const a = trainNpe(data.theta, data.x, { rng: new Rng(1), ...QUICK });
  const b = trainNpe(data.theta, data.x, { rng: new Rng(1), ...QUICK, candidates: [] });
  assert.ok(same(weightsOf(a), weightsOf(b)));
  assert.equal(a.candidates, [{ architecture: 'main', bestValNll: a.history.bestValNll, epochs: a.history.epochs, chosen: true, dropped: false }]);
});

test('a hopeless candidate leaves the main posterior exactly as it was; a better one replaces it', () => {
  const alone = trainNpe(data.theta, data.x, { rng: new Rng(1), ...QUICK });
  // One coupling with one hidden unit and two bins, one epoch: far worse than the main model.
  const worse = trainNpe(data.theta, data.x, { rng: new Rng(1), ...QUICK, candidates: [{ layers: 1, hidden: 1, bins: 2 }] });
  assert.is(worse.candidates.length, 2);
  assert.ok(worse.candidates[1]!.bestValNll > worse.candidates[0]!.bestValNll, `candidate ${worse.candidates[1]!.bestValNll} vs main ${worse.candidates[0]!.bestValNll}`);
  assert.ok(worse.candidates[0]!.chosen && !worse.candidates[1]!.chosen);
  assert.ok(same(weightsOf(worse), weightsOf(alone)), 'the main posterior is kept unchanged');
  // Now the main architecture is the poor one and the candidate the larger: the candidate is kept.
  const poorMain = { ...QUICK, layers: 1, hidden: 1, bins: 2 };
  const better = trainNpe(data.theta, data.x, { rng: new Rng(1), ...poorMain, candidates: [{ layers: 3, hidden: 16, bins: 6 }] });
  assert.ok(better.candidates[1]!.chosen && !better.candidates[0]!.chosen);
  assert.is(better.posterior.flow.config.layers, 3, 'the kept posterior is the candidate');
  assert.is(better.history.bestValNll, better.candidates[1]!.bestValNll);
  // The kept posterior's validation NLL, recomputed on the validation rows (the first 10 % of the
  // seeded shuffle trainNpe draws first), is the candidate's best and below the main one's.
  const order = new Rng(1).permutation(400), nVal = better.posterior.meta.validationRows;
  assert.is(nVal, 40);
  const rows = Array.from(order.subarray(0, nVal));
  const pick = (t: Tensor) => Tensor.from(nVal, t.cols, Float64Array.from(rows.flatMap((r) => Array.from(t.data.subarray(r * t.cols, (r + 1) * t.cols)))));
  const lp = better.posterior.logProb(pick(data.theta), pick(data.x));
  const valNll = -lp.reduce((acc, v) => acc + v, 0) / nVal;
  assertClose(valNll, better.candidates[1]!.bestValNll, 'validation NLL of the kept posterior', { rtol: 1e-9 });
  assert.ok(valNll < better.candidates[0]!.bestValNll);
});

test('bad candidates are refused by name, with a did-you-mean', () => {
  assertThrows(() => trainNpe(data.theta, data.x, { rng: new Rng(1), ...QUICK, candidates: [{ hiden: 4 } as never] }), ['candidates[0]', '"hiden"', 'did you mean "hidden"']);
  assertThrows(() => trainNpe(data.theta, data.x, { rng: new Rng(1), ...QUICK, candidates: {} as never }), ['candidates must be an array']);
  assertThrows(() => trainNpe(data.theta, data.x, { rng: new Rng(1), ...QUICK, candidates: [null as never] }), ['candidates[0] must be an object']);
  const embedding = new MLPEmbedding({ inFeatures: 2, hidden: [4], outFeatures: 2, rng: new Rng(0) });
  assertThrows(() => trainNpe(data.theta, data.x, { rng: new Rng(1), ...QUICK, embedding, candidates: [{ hidden: 4 }] }), ['embedding']);
});

// Two races on 400 two-moons simulations: a main flow that overfits (it stops after 3 epochs at a high
// rate and small batches) against a small candidate that is ahead by then and goes on; and one at a
// lower rate, where the candidate is still behind when it has trained as many epochs as the main flow.
const race = simulateDataset(task, 400, { seed: 2 });
const RACE: Partial<NpeOptions> = { support: task.prior.support, layers: 4, hidden: 64, depth: 2, bins: 10, patience: 2, candidates: [{ layers: 2, hidden: 8, depth: 1, bins: 4 }] };
const AHEAD: Partial<NpeOptions> = { ...RACE, lr: 1e-2, batchSize: 16 };
const BEHIND: Partial<NpeOptions> = { ...RACE, lr: 3e-3, batchSize: 64 };

test('a candidate races the main flow: stopped (dropped) when not ahead after as many epochs, else trained to its own early stop', () => {
  for (const [name, recipe, expectDropped] of [['ahead', AHEAD, false], ['behind', BEHIND, true]] as const) {
    const log: { phase: number; epoch: number; best: number }[] = [];
    let phase = -1;
    const r = trainNpe(race.theta, race.x, { rng: new Rng(1), ...recipe, onArchitecture: (k, count) => { assert.is(count, 2); phase = k; }, onEpoch: (e) => void log.push({ phase, epoch: e.epoch, best: e.bestValNll }) });
    const [main, cand] = r.candidates as [CandidateResult, CandidateResult];
    assert.is(cand.dropped, expectDropped, name);
    const mainBest = main.bestValNll;
    const atRace = log.find((l) => l.phase === 1 && l.epoch === main.epochs);
    assert.ok(atRace !== undefined, `${name}: the candidate reached the main flow's ${main.epochs} epochs`);
    if (expectDropped) {
      // Stopped exactly there, behind; the main posterior kept.
      assert.is(cand.epochs, main.epochs, name);
      assert.ok(atRace.best >= mainBest, `${name}: ${atRace.best} vs ${mainBest}`);
      assert.ok(main.chosen && !cand.chosen);
    } else {
      // Ahead there, so it trained on past the main flow's epochs, and is kept.
      assert.ok(atRace.best < mainBest, `${name}: ${atRace.best} vs ${mainBest}`);
      assert.ok(cand.epochs > main.epochs, `${name}: ${cand.epochs} epochs`);
      assert.ok(cand.chosen && !main.chosen);
      assert.is(r.posterior.flow.config.layers, 2);
    }
    assert.is(log.filter((l) => l.phase === 1).length, cand.epochs, `${name}: one onEpoch per candidate epoch`);
  }
});

test("onEpoch's 'stop' and the signal end the whole selection, the best flow so far kept", () => {
  // Stopped inside the main flow: no candidate trains.
  const early = trainNpe(race.theta, race.x, { rng: new Rng(1), ...AHEAD, onEpoch: (e) => (e.epoch === 2 ? 'stop' : undefined) });
  assert.is(early.candidates.length, 1);
  assert.is(early.history.stopReason, 'stopped-by-callback');
  assert.is(early.history.epochs, 2);
  // Stopped in the candidate's epoch 5 (it is ahead by then): it is compared and kept; not a dropped candidate.
  let phase = 0;
  const late = trainNpe(race.theta, race.x, { rng: new Rng(1), ...AHEAD, onArchitecture: (k) => void (phase = k), onEpoch: (e) => (phase === 1 && e.epoch === 5 ? 'stop' : undefined) });
  assert.is(late.candidates.length, 2);
  assert.is(late.candidates[1]!.epochs, 5);
  assert.not.ok(late.candidates[1]!.dropped, 'stopped by the caller, not by the race');
  assert.ok(late.candidates[1]!.chosen && late.candidates[1]!.bestValNll < late.candidates[0]!.bestValNll);
  assert.is(late.history.stopReason, 'stopped-by-callback');
  // The signal in the candidate: the same, marked aborted.
  let calls = 0;
  const aborted = trainNpe(race.theta, race.x, { rng: new Rng(1), ...AHEAD, onStep: () => void calls++, signal: { get aborted() { return calls >= 3 * 23 + 5 * 23; } } });
  assert.is(aborted.history.stopReason, 'aborted');
  assert.is(aborted.candidates.length, 2);
});

test('the default candidates go with the default architecture only: an architecture or candidates: [] trains one flow', () => {
  const small = simulateDataset(task, 200, { seed: 3 });
  const base = { rng: new Rng(1), support: task.prior.support, epochs: 1 };
  const dflt = trainNpe(small.theta, small.x, { ...base });
  assert.is(dflt.candidates.length, 1 + NPE_DEFAULTS.candidates.length);
  assert.equal(dflt.candidates[1]!.architecture, NPE_DEFAULTS.candidates[0]);
  assert.is(trainNpe(small.theta, small.x, { ...base, hidden: 8 }).candidates.length, 1);
  assert.is(trainNpe(small.theta, small.x, { ...base, candidates: [] }).candidates.length, 1);
});

/** A state written to safetensors bytes and read back, as `sbi train` keeps it. */
function roundTrip(state: NpeState): NpeState {
  const { tensors, metadata } = npeStateToDict(state, { run: 'test' });
  const loaded = loadSafetensors(saveSafetensors(tensors, metadata));
  assert.is(loaded.metadata.run, 'test');
  return npeStateFromDict(loaded.tensors, loaded.metadata);
}

test('checkpoint and resume across the architectures: stopped in the main flow, between them or inside the candidate, the resumed run ends bit-identical', () => {
  const states: NpeState[] = [];
  const whole = trainNpe(race.theta, race.x, { rng: new Rng(1), ...AHEAD, checkpoint: { every: 1, save: (s) => void states.push(s) } });
  assert.ok(whole.candidates[1]!.chosen, 'the candidate is kept, so its resume decides the result');
  const phase1 = states.filter((s) => s.phase === 1);
  assert.ok(phase1.length >= 3 && phase1[0]!.leader !== null && phase1[0]!.leader.index === 0, 'the candidate\'s checkpoints carry the main flow as the best so far');
  assert.equal(phase1[0]!.done.map((d) => d.architecture), ['main']);
  // Compared as text: a diff of the raw weights would take uvu minutes to print.
  const ends = (r: ReturnType<typeof trainNpe>) => JSON.stringify({ weights: Buffer.from(weightsOf(r)).toString('base64'), candidates: r.candidates, valNll: r.history.valNll, epochs: r.history.epochs });
  // From an epoch boundary in each phase.
  for (const s of [states.find((t) => t.phase === 0)!, phase1[1]!]) {
    assert.ok(ends(trainNpe(race.theta, race.x, { rng: new Rng(1), ...AHEAD, resume: roundTrip(s) })) === ends(whole), `resumed from phase ${s.phase}, epoch ${s.fit.epoch}`);
  }
  // Where the main flow is kept, the resumed run gets it back from the checkpoint's copy of its weights.
  const behindStates: NpeState[] = [];
  const behind = trainNpe(race.theta, race.x, { rng: new Rng(1), ...BEHIND, checkpoint: { every: 1, save: (s) => void behindStates.push(s) } });
  assert.ok(behind.candidates[0]!.chosen);
  const late = behindStates.filter((s) => s.phase === 1).at(-1)!;
  assert.ok(ends(trainNpe(race.theta, race.x, { rng: new Rng(1), ...BEHIND, resume: roundTrip(late) })) === ends(behind), 'resumed inside the losing candidate');
  // Stopped inside an epoch: in the main flow (step 30 of its 3 × 23) and in the candidate (its 5th epoch).
  const stepsPerEpoch = Math.ceil(whole.posterior.meta.trainRows / 16);
  for (const stopAt of [30, whole.candidates[0]!.epochs * stepsPerEpoch + 4 * stepsPerEpoch + 7]) {
    let calls = 0, saved: NpeState | null = null;
    const stopped = trainNpe(race.theta, race.x, { rng: new Rng(1), ...AHEAD, onStep: () => void calls++, signal: { get aborted() { return calls >= stopAt; } }, checkpoint: { seconds: 1e9, save: (s) => void (saved = s) } });
    assert.is(stopped.history.stopReason, 'aborted');
    const state = saved as NpeState | null;
    assert.ok(state !== null && state.fit.partial !== null, `the checkpoint at step ${stopAt} stands inside an epoch`);
    assert.is(state.phase, stopAt === 30 ? 0 : 1);
    assert.ok(ends(trainNpe(race.theta, race.x, { rng: new Rng(1), ...AHEAD, resume: roundTrip(state) })) === ends(whole), `resumed from step ${stopAt}`);
  }
  // A resume must have the candidates of the run that wrote it.
  assertThrows(() => trainNpe(race.theta, race.x, { rng: new Rng(1), ...AHEAD, candidates: [], resume: phase1[1]! }), ['architecture 2', 'this run has 1']);
  assertThrows(() => trainNpe(race.theta, race.x, { rng: new Rng(1), ...AHEAD, candidates: [{ layers: 2, hidden: 9 }], resume: phase1[1]! }), ['architecture 2 is {"layers":2,"hidden":8,"depth":1,"bins":4}', '{"layers":2,"hidden":9}']);
});

test('a malformed selection state is refused by field', () => {
  const states: NpeState[] = [];
  trainNpe(race.theta, race.x, { rng: new Rng(1), ...BEHIND, epochs: 2, checkpoint: { every: 1, save: (s) => void states.push(s) } });
  const s = states.find((t) => t.phase === 1)!;
  const { tensors, metadata } = npeStateToDict(s);
  const withState = (own: unknown) => ({ ...metadata, 'npe-state': JSON.stringify(own) });
  const good = JSON.parse(metadata['npe-state']!) as Record<string, unknown>;
  assertThrows(() => npeStateFromDict(tensors, withState({ ...good, phase: -1 })), ['phase must be an integer']);
  assertThrows(() => npeStateFromDict(tensors, withState({ ...good, architectures: ['main'] })), ['architectures must list']);
  assertThrows(() => npeStateFromDict(tensors, withState({ ...good, done: [] })), ['done must list the 1 architectures']);
  assertThrows(() => npeStateFromDict(tensors, withState({ ...good, leader: null })), ['leader is missing for phase 1']);
  assertThrows(() => npeStateFromDict(tensors, withState({ ...good, leader: { index: 1, history: {} } })), ['leader must be null or']);
  const noLeader = Object.fromEntries(Object.entries(tensors).filter(([k]) => !k.startsWith('leader.')));
  assertThrows(() => npeStateFromDict(noLeader, metadata), ['"leader.*"', 'missing']);
  assertThrows(() => npeStateFromDict(tensors, { ...metadata, 'npe-state': '{' }), ['not valid JSON']);
  // fit's state alone is the main flow's.
  const bare = npeStateFromDict(tensors, Object.fromEntries(Object.entries(metadata).filter(([k]) => k !== 'npe-state')));
  assert.is(bare.phase, 0);
  assert.is(bare.leader, null);
});

test.run();
