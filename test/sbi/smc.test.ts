import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../src/autograd/tensor.ts';
import { Rng } from '../../src/rng/rng.ts';
import { observation } from '../../src/sbi/observations.ts';
import { referencePosterior } from '../../src/sbi/reference.ts';
import { temperedSmc } from '../../src/sbi/smc.ts';
import { getTask } from '../../src/sbi/tasks.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';

function meanStd(x: Tensor, j: number): [number, number] {
  let m = 0, v = 0;
  for (let i = 0; i < x.rows; i++) m += x.data[i * x.cols + j]! / x.rows;
  for (let i = 0; i < x.rows; i++) v += (x.data[i * x.cols + j]! - m) ** 2 / (x.rows - 1);
  return [m, Math.sqrt(v)];
}

test('SMC recovers a known posterior (gaussian-linear-uniform) and its evidence', () => {
  const task = getTask('gaussian-linear-uniform'), x = observation(task, 1).x;
  const { samples, temperatures, logEvidence } = temperedSmc(task.prior, (t) => task.logLikelihood(t, x), { particles: 2000, rng: new Rng(1), moves: 10, finalMoves: 20 });
  assert.is(temperatures[temperatures.length - 1], 1);
  const exact = referencePosterior(task, x), ref = exact.sample(20000, new Rng(2));
  for (let j = 0; j < 10; j++) {
    const [m, s] = meanStd(samples, j), [me, se] = meanStd(ref, j);
    assertClose(m, me, `mean ${j}`, { atol: 0.03 });
    assertClose(s, se, `std ${j}`, { rtol: 0.1 });
  }
  // log p(x) = log p(θ) + log p(x | θ) − log p(θ | x) at any θ.
  const theta = Tensor.from(1, 10, ref.data.slice(0, 10));
  const exactEvidence = task.prior.logProb(theta)[0]! + task.logLikelihood(theta, x)[0]! - exact.logProb!(theta)[0]!;
  assertClose(logEvidence, exactEvidence, 'log evidence', { atol: 0.15 });
});

test('SMC on slcp: samples in the box, the mirror modes of θ₃ and θ₄ equally weighted, likelihood far above the prior', () => {
  const task = getTask('slcp'), x = observation(task, 1).x;
  const { samples } = temperedSmc(task.prior, (t) => task.logLikelihood(t, x), { particles: 2000, rng: new Rng(3), moves: 5, finalMoves: 10, signSymmetric: [2, 3] });
  for (const v of samples.data) assert.ok(v >= -3 && v <= 3);
  for (const j of [2, 3]) {
    let positive = 0;
    for (let i = 0; i < samples.rows; i++) if (samples.data[i * 5 + j]! > 0) positive++;
    assertClose(positive / samples.rows, 0.5, `share of θ${j + 1} > 0`, { atol: 0.05 });
  }
  const llPost = task.logLikelihood(samples, x), llPrior = task.logLikelihood(task.prior.sample(2000, new Rng(4)), x);
  const median = (v: Float64Array): number => Float64Array.from(v).sort()[v.length >> 1]!;
  assert.ok(median(llPost) > median(llPrior) + 20, `median log-likelihood ${median(llPost)} vs ${median(llPrior)} under the prior`);
  // The observation's true θ lies within the samples' range on the unfolded coordinates.
  const truth = observation(task, 1).theta;
  for (const j of [0, 1]) {
    const [m, s] = meanStd(samples, j);
    assert.ok(Math.abs(truth[j]! - m) < 4 * s + 0.05, `θ${j + 1}: truth ${truth[j]} vs ${m} ± ${s}`);
  }
});

test('SMC refuses bad options', () => {
  const task = getTask('slcp');
  assertThrows(() => temperedSmc(task.prior, () => new Float64Array(1), { particles: 1, rng: new Rng(0) }), ['particles']);
  assertThrows(() => temperedSmc(task.prior, () => new Float64Array(1), { particles: 10, rng: new Rng(0), signSymmetric: [5] }), ['index 5']);
});

test.run();
