/**
 * referenceEstimate: the tasks' reference posteriors as PosteriorEstimates. The batched layout (m rows
 * per observation, in order), log-densities equal to the per-observation reference's (also for x with
 * repeated and interleaved rows), the exact gaussian-linear posterior judged calibrated by every check,
 * and the same posterior made wrong (shifted) flagged; slcp refused.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../src/autograd/tensor.ts';
import { Rng, type RandomSource } from '../../src/rng/rng.ts';
import { checkPosterior } from '../../src/sbi/diagnostics.ts';
import type { PosteriorEstimate } from '../../src/sbi/diagnostics-set.ts';
import { referencePosterior } from '../../src/sbi/reference.ts';
import { referenceEstimate } from '../../src/sbi/reference-estimate.ts';
import { getTask } from '../../src/sbi/tasks.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';

const rows = (k: number, c: number, f: (i: number, j: number) => number) => {
  const data = new Float64Array(k * c);
  for (let i = 0; i < k; i++) for (let j = 0; j < c; j++) data[i * c + j] = f(i, j);
  return Tensor.from(k, c, data);
};

test('gaussian-linear: m samples per observation in order, each block N(x/2, 0.05·I)', () => {
  const task = getTask('gaussian-linear'), post = referenceEstimate(task);
  const x = rows(3, 10, (i) => [0.6, -0.4, 0][i]!), m = 4000;
  const s = post.sample(m, x, new Rng(1));
  assert.equal(s.shape, [3 * m, 10]);
  for (let i = 0; i < 3; i++) {
    let mean = 0, sq = 0;
    for (let r = i * m; r < (i + 1) * m; r++) {
      mean += s.data[r * 10 + 3]! / m;
      sq += s.data[r * 10 + 3]! ** 2 / m;
    }
    assertClose(mean, x.data[i * 10]! / 2, `mean of block ${i}`, { atol: 0.015 });
    assertClose(sq - mean * mean, 0.05, `variance of block ${i}`, { atol: 0.005 });
  }
});

test('log-densities equal the per-observation reference, for interleaved and repeated rows of x', () => {
  for (const name of ['gaussian-linear', 'gaussian-linear-uniform', 'gaussian-mixture', 'two-moons']) {
    const task = getTask(name), rng = new Rng(5);
    const xs = task.simulate(task.prior.sample(2, rng), rng);
    // Rows a, a, b, a: three runs of equal rows.
    const pick = [0, 0, 1, 0], c = task.xDim;
    const x = rows(4, c, (i, j) => xs.data[pick[i]! * c + j]!);
    const theta = task.prior.sample(4, rng);
    const got = referenceEstimate(task).logProb!(theta, x) as Float64Array;
    for (let i = 0; i < 4; i++) {
      const one = referencePosterior(task, x.data.subarray(i * c, (i + 1) * c)).logProb!(Tensor.from(1, task.thetaDim, theta.data.slice(i * task.thetaDim, (i + 1) * task.thetaDim)))[0]!;
      assertClose(got[i]!, one, `${name}: row ${i}`, { rtol: 1e-12, atol: 1e-12 });
    }
    const s = referenceEstimate(task).sample(3, x, new Rng(2));
    assert.equal(s.shape, [12, task.thetaDim], `${name}: sample shape`);
  }
});

test('the exact gaussian-linear posterior is judged calibrated by every check', () => {
  const task = getTask('gaussian-linear');
  const report = checkPosterior({ prior: task.prior, simulate: (t, r) => task.simulate(t, r), posterior: referenceEstimate(task), rng: new Rng(11), pairs: 500 });
  assert.is(report.verdict, 'calibrated');
  assert.ok(report.summary.every((s) => s.verdict === 'calibrated' && s.sbc === 'calibrated' && s.coverage === 'calibrated' && s.recovery === 'calibrated'));
  assert.is(report.coverage.hpd?.verdict, 'calibrated', 'the joint HPD coverage uses logProb');
});

test('the same posterior shifted by half an sd is flagged biased, the right way', () => {
  const task = getTask('gaussian-linear'), exact = referenceEstimate(task), shift = 0.5 * Math.sqrt(0.05);
  const shifted: PosteriorEstimate = {
    sample: (m: number, x: Tensor, rng: RandomSource) => {
      const s = exact.sample(m, x, rng);
      return Tensor.from(s.rows, s.cols, s.data.map((v) => v + shift));
    },
  };
  const report = checkPosterior({ prior: task.prior, simulate: (t, r) => task.simulate(t, r), posterior: shifted, rng: new Rng(11), pairs: 500 });
  assert.is(report.verdict, 'biased');
  assert.ok(report.summary.every((s) => s.verdict === 'biased' && s.direction === 'above'));
});

test('slcp is refused; a wrong width of x is a clear error', () => {
  assertThrows(() => referenceEstimate(getTask('slcp')), ['slcp', 'no closed-form']);
  assertThrows(() => referenceEstimate(getTask('two-moons')).sample(2, rows(1, 3, () => 0), new Rng(0)), ['two-moons', '2 columns', '1×3']);
  assertThrows(() => referenceEstimate(getTask('gaussian-linear')).logProb!(rows(2, 10, () => 0), rows(3, 10, () => 0)), ['θ has 2 rows, x 3']);
});

test.run();
