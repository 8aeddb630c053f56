/**
 * A trained NeuralPosterior is a PosteriorEstimate as it is: batched sampling lays out m rows per
 * observation in order, and checkPosterior runs on it. The checked-in gaussian-linear NPE
 * (test/fixtures/sbi-gaussian-linear, scripts/sbi-check-fixture.ts) is judged calibrated; a two-moons
 * NPE trained here in a second runs through every check with all its samples inside the prior box.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../src/autograd/tensor.ts';
import { Rng, type RandomSource } from '../../src/rng/rng.ts';
import { checkPosterior } from '../../src/sbi/diagnostics.ts';
import { simulateCalibrationSet, type PosteriorEstimate } from '../../src/sbi/diagnostics-set.ts';
import { NeuralPosterior, trainNpe } from '../../src/sbi/npe.ts';
import { simulateDataset } from '../../src/sbi/simulator.ts';
import { getTask } from '../../src/sbi/tasks.ts';
import { assertClose } from '../helpers/assert.ts';

const dir = fileURLToPath(new URL('../fixtures/sbi-gaussian-linear/', import.meta.url));
const fixture = NeuralPosterior.load(readFileSync(dir + 'config.json', 'utf8'), new Uint8Array(readFileSync(dir + 'model.safetensors')));

test('batched sampling: block i of sample(m, X) is the posterior of row i of X', () => {
  const posterior: PosteriorEstimate = fixture;
  const task = getTask('gaussian-linear'), rng = new Rng(1);
  const x = task.simulate(task.prior.sample(2, rng), rng);
  assert.ok(Math.abs(x.data[0]! - x.data[10]!) > 0.3, 'two observations far enough apart to tell the blocks apart');
  const m = 3000, s = posterior.sample(m, x, new Rng(2));
  assert.equal(s.shape, [2 * m, 10]);
  for (let i = 0; i < 2; i++) {
    let mean = 0;
    for (let r = i * m; r < (i + 1) * m; r++) mean += s.data[r * 10]! / m;
    assertClose(mean, x.data[i * 10]! / 2, `block ${i}: mean of θ₁ near the exact x/2`, { atol: 0.05 });
  }
});

test('the checked-in gaussian-linear NPE is judged calibrated', () => {
  const task = getTask('gaussian-linear');
  const report = checkPosterior({ prior: task.prior, simulate: (t, r) => task.simulate(t, r), posterior: fixture, rng: new Rng(8), pairs: 300, names: fixture.meta.parameterNames });
  assert.is(report.verdict, 'calibrated', report.summary.map((s) => `${s.name} ${s.verdict}`).join(', '));
  assert.ok(report.coverage.hpd !== null, 'logProb is used for the joint HPD coverage');
  assert.is(report.names[0], 'theta1');
});

test('a two-moons NPE trained in the test runs through every check, its samples inside the prior box', () => {
  const task = getTask('two-moons');
  const { theta, x } = simulateDataset(task, 400, { seed: 3 });
  const { posterior } = trainNpe(theta, x, { rng: new Rng(0), support: task.prior.support, task: task.name, layers: 2, hidden: 8, epochs: 5 });
  const options = { prior: task.prior, simulate: (t: Tensor, r: RandomSource) => task.simulate(t, r), posterior, pairs: 100, samples: 19 };
  const set = simulateCalibrationSet({ ...options, rng: new Rng(4) });
  assert.ok(set.samples.data.every((v) => v > -1 && v < 1), 'every sample inside (−1, 1)²');
  assert.ok(set.logProbSamples !== null && set.logProbSamples.every(Number.isFinite));
  const report = checkPosterior({ ...options, rng: new Rng(4) });
  assert.is(report.summary.length, 2);
  assert.is(report.sbc.samples, 19);
  assert.ok(['calibrated', 'overconfident', 'underconfident', 'biased'].includes(report.verdict));
});

test.run();
