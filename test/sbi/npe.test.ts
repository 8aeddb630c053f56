import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../src/autograd/tensor.ts';
import { RealNVP } from '../../src/flow/real-nvp.ts';
import { DeepSetEmbedding } from '../../src/nn/embedding.ts';
import { saveModel } from '../../src/io/model.ts';
import { Rng } from '../../src/rng/rng.ts';
import { NeuralPosterior, ObservationError, trainNpe } from '../../src/sbi/npe.ts';
import { observation } from '../../src/sbi/observations.ts';
import { simulateDataset } from '../../src/sbi/simulator.ts';
import { getTask } from '../../src/sbi/tasks.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';

/** A small, quick recipe for tests. */
const QUICK = { layers: 4, hidden: 16, depth: 1, epochs: 30, patience: 5 };

function columnMean(t: Tensor, j: number): number {
  let s = 0;
  for (let i = 0; i < t.rows; i++) s += t.data[i * t.cols + j]!;
  return s / t.rows;
}

test('NPE learns the gaussian-linear posterior mean x/2 and shrinks the validation loss', () => {
  const task = getTask('gaussian-linear');
  const data = simulateDataset(task, 2000, { seed: 1 });
  const epochs: number[] = [];
  const { posterior, history } = trainNpe(data.theta, data.x, { rng: new Rng(0), ...QUICK, task: task.name, onEpoch: (e) => void epochs.push(e.epoch) });
  assert.ok(history.valNll[history.valNll.length - 1]! < history.valNll[0]!, 'validation NLL fell');
  assert.equal(epochs, Array.from({ length: history.epochs }, (_, i) => i + 1));
  assert.is(posterior.meta.trainRows + posterior.meta.validationRows, 2000);
  const x = observation(task, 1).x, s = posterior.sample(4000, x, new Rng(1));
  let err = 0;
  for (let j = 0; j < 10; j++) err += Math.abs(columnMean(s, j) - x[j]! / 2) / 10;
  assert.ok(err < 0.06, `mean absolute error of the posterior mean ${err} (posterior sd 0.22)`);
});

test('for a box prior every sample lies inside the support, even for an observation far outside the data', () => {
  const task = getTask('two-moons');
  const data = simulateDataset(task, 1000, { seed: 2 });
  const { posterior } = trainNpe(data.theta, data.x, { rng: new Rng(3), support: task.prior.support, ...QUICK, epochs: 5 });
  for (const x of [observation(task, 1).x, Float64Array.from([5, -7])]) {
    const s = posterior.sample(5000, x, new Rng(4));
    for (const v of s.data) assert.ok(v > -1 && v < 1, `sample ${v} outside (-1, 1)`);
  }
  // ... and without the support the same training leaks: the box is what keeps samples inside.
  const free = trainNpe(data.theta, data.x, { rng: new Rng(3), ...QUICK, epochs: 5 }).posterior.sample(5000, Float64Array.from([5, -7]), new Rng(4));
  assert.ok(free.data.some((v) => Math.abs(v) > 1), 'an unbounded flow puts mass outside the prior');
});

test('NPE takes spline couplings (coupling, bins, splineBound) and keeps every sample inside a box prior', () => {
  const task = getTask('two-moons');
  const data = simulateDataset(task, 400, { seed: 5 });
  const { posterior, history } = trainNpe(data.theta, data.x, { rng: new Rng(6), support: task.prior.support, ...QUICK, epochs: 3, coupling: 'spline', bins: 5, splineBound: 4 });
  assert.ok(history.valNll.every(Number.isFinite));
  assert.is(posterior.flow.config.coupling, 'spline');
  assert.is(posterior.flow.config.bins, 5);
  assert.is(posterior.flow.config.splineBound, 4);
  assert.is(posterior.flow.flows[0]!.constructor.name, 'SplineCoupling');
  for (const v of posterior.sample(500, observation(task, 1).x, new Rng(7)).data) assert.ok(v > -1 && v < 1, `sample ${v} outside (-1, 1)`);
  assertThrows(() => trainNpe(data.theta, data.x, { rng: new Rng(6), ...QUICK, coupling: 'spline', bin: 5 } as never), ['"bin"', 'did you mean "bins"']);
});

test('z-scoring lives in the model: saved and loaded, samples and densities are bit-identical', () => {
  const task = getTask('slcp');
  const data = simulateDataset(task, 600, { seed: 5 });
  const { posterior } = trainNpe(data.theta, data.x, { rng: new Rng(6), support: task.prior.support, ...QUICK, epochs: 3, task: 'slcp', parameterNames: task.parameterNames, dataNames: task.dataNames });
  assert.ok(posterior.flow.config.standardize && posterior.flow.config.standardizeContext, 'θ and x standardised inside the flow');
  const { configJson, weights } = posterior.save({ training: { note: 'test' } });
  const again = NeuralPosterior.load(configJson, weights);
  assert.equal(again.meta, posterior.meta);
  const x = observation(task, 2).x;
  assert.equal(Array.from(again.sample(50, x, new Rng(7)).data), Array.from(posterior.sample(50, x, new Rng(7)).data));
  const theta = task.prior.sample(20, new Rng(8));
  assert.equal(Array.from(again.logProb(theta, x)), Array.from(posterior.logProb(theta, x)));
  // Several observations at once: n samples for each, in order.
  const two = Tensor.from(2, 8, Float64Array.from([...observation(task, 1).x, ...x]));
  const both = posterior.sample(30, two, new Rng(9));
  assert.equal(both.shape, [60, 5]);
});

test('an embedding network (a DeepSet over slcp\'s four points) trains with the flow and saves with it', () => {
  const task = getTask('slcp');
  const data = simulateDataset(task, 400, { seed: 12 });
  const embedding = new DeepSetEmbedding({ items: 4, itemDim: 2, phiHidden: [16], pooledDim: 16, rhoHidden: [16], outFeatures: 6, rng: new Rng(13) });
  const before = embedding.parameters().map((p) => p.data.slice());
  const { posterior } = trainNpe(data.theta, data.x, { rng: new Rng(14), support: task.prior.support, ...QUICK, epochs: 2, embedding });
  assert.ok(embedding.parameters().some((p, k) => p.data.some((v, i) => v !== before[k]![i])), 'the embedding was trained');
  const { configJson, weights } = posterior.save();
  const again = NeuralPosterior.load(configJson, weights);
  const x = observation(task, 1).x;
  assert.equal(Array.from(again.sample(20, x, new Rng(15)).data), Array.from(posterior.sample(20, x, new Rng(15)).data));
});

test('the default couplings are splines; affine ones on request (spline options refused); lrPlateau lowers the rate on a plateau', () => {
  const task = getTask('two-moons');
  const data = simulateDataset(task, 400, { seed: 12 });
  const spline = trainNpe(data.theta, data.x, { rng: new Rng(13), support: task.prior.support, ...QUICK, epochs: 1 }).posterior.flow;
  assert.is(spline.config.coupling, 'spline');
  assert.is(spline.config.bins, 10);
  const affine = trainNpe(data.theta, data.x, { rng: new Rng(13), support: task.prior.support, ...QUICK, epochs: 1, coupling: 'affine' }).posterior.flow;
  assert.is(affine.flows[0]!.constructor.name, 'AffineCoupling');
  assertThrows(() => trainNpe(data.theta, data.x, { rng: new Rng(13), ...QUICK, coupling: 'affine', bins: 4 }), ['bins applies to spline couplings']);
  assertThrows(() => trainNpe(data.theta, data.x, { rng: new Rng(13), ...QUICK, lrPlateau: { patience: 2, factor: 1 } }), ['lrPlateau.factor must be in (0, 1), got 1']);
  assertThrows(() => trainNpe(data.theta, data.x, { rng: new Rng(13), ...QUICK, lrPlateau: { patience: 2, fact: 0.5 } as never }), ['"fact"', 'did you mean "factor"']);
  // A factor of 1e-300 freezes the weights after the first epoch without a better validation loss:
  // every later validation loss is that epoch's, to the last bit.
  const { history } = trainNpe(data.theta, data.x, { rng: new Rng(14), support: task.prior.support, ...QUICK, epochs: 60, lrPlateau: { patience: 1, factor: 1e-300 } });
  let best = Infinity, stale = -1;
  for (let e = 0; e < history.valNll.length && stale < 0; e++) {
    if (history.valNll[e]! < best) best = history.valNll[e]!;
    else stale = e;
  }
  assert.ok(stale > 0 && stale < history.valNll.length - 1, `a plateau epoch (${stale}) before the last (${history.valNll.length})`);
  for (let e = stale + 1; e < history.valNll.length; e++) assert.is(history.valNll[e], history.valNll[stale], `epoch ${e + 1}`);
  assert.is(history.stopReason, 'early-stopped');
});

test('a wrong observation or a model without a posterior gets a clear error', () => {
  const task = getTask('two-moons');
  const data = simulateDataset(task, 300, { seed: 10 });
  const { posterior } = trainNpe(data.theta, data.x, { rng: new Rng(11), support: task.prior.support, ...QUICK, epochs: 1, task: task.name });
  assertThrows(() => posterior.sample(5, [1, 2, 3], new Rng(0)), ['has 3 numbers', '(task two-moons) expects 2 (x1, x2)'], ObservationError);
  assertThrows(() => posterior.sample(5, [1, NaN], new Rng(0)), ['observation 1, column x2 is NaN'], ObservationError);
  const plain = saveModel(new RealNVP({ dim: 2, rng: new Rng(0) }));
  assertThrows(() => NeuralPosterior.load(plain.configJson, plain.weights), ['holds no posterior']);
  assertThrows(() => trainNpe(data.theta, Tensor.zeros(5, 2), { rng: new Rng(0) }), ['θ has 300 rows and x 5']);
  assertThrows(() => trainNpe(data.theta, data.x, { rng: new Rng(0), layer: 3 } as never), ['unknown option "layer"', 'did you mean "layers"']);
  assertClose(posterior.logProb(Tensor.from(1, 2, Float64Array.from([0, 0])), [0.1, 0.1]).length, 1, 'one density');
});

test.run();
