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
import { trainNpe, type NpeOptions } from '../../src/sbi/npe.ts';
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
  assert.equal(a.candidates, [{ architecture: 'main', bestValNll: a.history.bestValNll, epochs: a.history.epochs, chosen: true }]);
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
  assertThrows(() => trainNpe(data.theta, data.x, { rng: new Rng(1), ...QUICK, checkpoint: { save: () => {} }, candidates: [{ hidden: 4 }] }), ['checkpoint and resume cover one architecture']);
});

test.run();
