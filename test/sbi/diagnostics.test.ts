import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../src/autograd/tensor.ts';
import { Rng, type RandomSource } from '../../src/rng/rng.ts';
import { checkPosterior, formatReport } from '../../src/sbi/diagnostics.ts';
import { repeatRows } from '../../src/autograd/shape.ts';
import { simulateCalibrationSet } from '../../src/sbi/diagnostics-set.ts';
import { assertThrows } from '../helpers/assert.ts';
import { gaussianPosterior, gaussianPrior, gaussianSimulate, VARIANTS } from '../helpers/gaussian-linear.ts';

const base = { prior: gaussianPrior(3), simulate: gaussianSimulate, pairs: 1000 };

for (const v of VARIANTS) {
  test(`checkPosterior: the ${v.name} posterior gets the overall verdict ${v.verdict}, per dimension and in total`, () => {
    const report = checkPosterior({ ...base, posterior: gaussianPosterior(v.posterior), rng: new Rng(6000) });
    assert.is(report.verdict, v.verdict);
    for (const s of report.summary) {
      assert.is(s.verdict, v.verdict, `${s.name}: sbc ${s.sbc}, coverage ${s.coverage}, recovery ${s.recovery}`);
      assert.is(s.direction, 'direction' in v ? v.direction : undefined);
    }
    if (v.verdict === 'calibrated') {
      // The exact posterior passes every single check.
      assert.is(report.coverage.hpd!.verdict, 'calibrated');
      for (const d of [...report.sbc.dimensions, ...report.coverage.central, ...report.recovery.dimensions, ...report.ppc.dimensions]) assert.is(d.verdict, 'calibrated');
      assert.is(report.ppc.joint.verdict, 'calibrated');
    }
  });
}

test('the report is plain data: JSON round-trips it unchanged, and the same seed gives the same report', () => {
  const options = { ...base, pairs: 300, samples: 39, posterior: gaussianPosterior(), names: ['a', 'b', 'c'] };
  const report = checkPosterior({ ...options, rng: new Rng(1) });
  const json = JSON.stringify(report);
  assert.equal(JSON.parse(json), report);
  assert.is(JSON.stringify(checkPosterior({ ...options, rng: new Rng(1) })), json);
  assert.is.not(JSON.stringify(checkPosterior({ ...options, rng: new Rng(2) })), json);
  assert.equal(report.names, ['a', 'b', 'c']);
});

test('formatReport prints one line per check and dimension, with the verdict and its numbers', () => {
  const report = checkPosterior({ ...base, pairs: 500, posterior: gaussianPosterior({ shift: 0.5 }), rng: new Rng(3) });
  const lines = formatReport(report);
  // Header, 3 SBC, HPD + 3 central, 3 recovery, 3 + 1 predictive, 3 + 1 verdicts.
  assert.is(lines.length, 1 + 3 + 4 + 3 + 4 + 4);
  assert.ok(lines[0]!.startsWith('500 pairs × 99 posterior samples'));
  assert.ok(lines.some((l) => /^SBC +θ₁ +biased \(above\) +χ² p /.test(l)), lines.join('\n'));
  assert.ok(lines.some((l) => /^recovery +θ₃ +biased \(above\) +median z 0\.\d\d/.test(l)), lines.join('\n'));
  assert.is(lines[lines.length - 1], 'verdict    all    biased');
});

test('simulations that come back non-finite are dropped and counted', () => {
  const simulate = (theta: Tensor, rng: RandomSource) => {
    const x = gaussianSimulate(theta, rng);
    for (let i = 0; i < x.rows; i += 4) x.data[i * x.cols + 1] = Infinity;
    return x;
  };
  const set = simulateCalibrationSet({ prior: gaussianPrior(2), simulate, posterior: gaussianPosterior(), rng: new Rng(0), pairs: 100, samples: 9 });
  assert.is(set.dropped, 25);
  assert.is(set.theta.rows, 75);
  assert.is(set.samples.rows, 75 * 9);
  assert.is(set.logProbSamples!.length, 75 * 9);
});

test('a posterior or prior of the wrong shape, and bad options, get a clear error', () => {
  const posterior = { sample: (m: number, x: Tensor) => Tensor.zeros(x.rows * m, 5) };
  assertThrows(() => checkPosterior({ ...base, posterior, rng: new Rng(0) }), ['posterior.sample(99, x 1000×3) returned 99000×5, expected 99000×3']);
  assertThrows(() => checkPosterior({ ...base, prior: { sample: () => Tensor.zeros(2, 3) }, posterior: gaussianPosterior(), rng: new Rng(0) }), ['prior.sample(1000) returned 2×3']);
  const badLogProb = { ...gaussianPosterior(), logProb: () => new Float64Array(3) };
  assertThrows(() => checkPosterior({ ...base, pairs: 10, samples: 9, posterior: badLogProb, rng: new Rng(0) }), ['logProb(θ*, x*) returned 3 values, expected 10']);
  assertThrows(() => checkPosterior({ ...base, posterior: gaussianPosterior(), rng: new Rng(0), names: ['a'] }), ['1 names for 3 parameters']);
  assertThrows(() => checkPosterior({ ...base, posterior: gaussianPosterior(), rng: new Rng(0), pair: 10 } as never), ['unknown option "pair"', 'did you mean "pairs"']);
  assertThrows(() => checkPosterior({ ...base, posterior: gaussianPosterior(), rng: new Rng(0), pairs: 1 }), ['pairs must be an integer ≥ 2']);
});

test('repeatRows lays a context out like batched samples', () => {
  assert.equal(repeatRows(Tensor.from(2, 2, new Float64Array([1, 2, 3, 4])), 3).toArray(), [[1, 2], [1, 2], [1, 2], [3, 4], [3, 4], [3, 4]]);
});

test.run();
