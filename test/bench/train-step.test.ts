import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compareTrainStep, runPeerProblem } from '../../bench/train-step.ts';
import { summarize } from '../../bench/stats.ts';

test('the ported peer problem ends 3 epochs at the peers\' loss 2.3594, through the engine and the ceiling', () => {
  for (const impl of ['engine', 'ceiling'] as const) {
    const r = runPeerProblem({ epochs: 3, impl });
    assert.is(r.steps, 48, `${impl}: 16 steps per epoch`);
    assert.is(r.final_loss.toFixed(4), '2.3594', `${impl}: final loss ${r.final_loss}`);
    assert.is(r.flops_step, 2_060_160);
    assert.ok(Number.isFinite(r.test_nll) && r.test_nll > r.final_loss, `${impl}: test NLL ${r.test_nll} includes log 2π`);
  }
});

test('an interleaved comparison trains engine and ceiling in lockstep (same losses step by step)', () => {
  const c = compareTrainStep({ dim: 3, hidden: 8, layers: 2, batch: 16 }, { warmupSteps: 2, rounds: 3, stepsPerBlock: 4 });
  assert.is(c.stepsEach, 12);
  assert.is(c.rounds, 3);
  assert.is(c.diverged, null);
  assert.ok(c.lossAgreement < 1e-12, `losses differ by ${c.lossAgreement}`);
  assert.ok(c.ratio > 0 && Number.isFinite(c.ratio));
});

test('summarize gives median and interpolated quantiles', () => {
  const s = summarize([5, 1, 4, 2, 3]);
  assert.equal([s.median, s.min, s.max, s.p10, s.p90], [3, 1, 5, 1.4, 4.6]);
});

test.run();
