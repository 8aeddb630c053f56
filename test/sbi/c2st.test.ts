import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../src/autograd/tensor.ts';
import { Rng } from '../../src/rng/rng.ts';
import { c2st, c2stCombine, c2stDetailed, c2stFold, c2stPlan } from '../../src/sbi/c2st.ts';
import { DiagonalNormal } from '../../src/sbi/prior.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';
import { standardNormalCdf } from '../../src/sbi/special.ts';

const normal = (d: number, shift: number): DiagonalNormal => new DiagonalNormal(new Array(d).fill(shift), new Array(d).fill(1));
/** Tests cap the epochs to stay fast (the default is sklearn's 10000 with its stall rule). */
const FAST = { maxEpochs: 40 };

test('two samples of one distribution give about 0.5', () => {
  const rng = new Rng(1);
  const acc = c2st(normal(2, 0).sample(600, rng), normal(2, 0).sample(600, rng), { rng: new Rng(2), ...FAST });
  assertClose(acc, 0.5, 'accuracy', { atol: 0.05 });
});

test('clearly different distributions give about 1, and a small shift about the Bayes accuracy', () => {
  const rng = new Rng(3);
  assert.ok(c2st(normal(2, 0).sample(600, rng), normal(2, 4).sample(600, rng), { rng: new Rng(4), ...FAST }) > 0.98);
  // Means 0 and (0.6, 0.6): the best classifier's accuracy is Φ(‖Δ‖/2) = Φ(0.424) ≈ 0.664.
  const acc = c2st(normal(2, 0).sample(1000, rng), normal(2, 0.6).sample(1000, rng), { rng: new Rng(5), ...FAST });
  assertClose(acc, standardNormalCdf((0.6 * Math.SQRT2) / 2), 'accuracy for a small shift', { atol: 0.04 });
});

test('z-scoring by the first sample makes the test blind to units', () => {
  const rng = new Rng(6);
  const a = normal(2, 0).sample(400, rng), b = normal(2, 0.5).sample(400, rng);
  const scaled = (t: Tensor): Tensor => Tensor.from(t.rows, t.cols, t.data.map((v) => 1000 * v + 7));
  assert.is(c2st(a, b, { rng: new Rng(7), ...FAST }), c2st(scaled(a), scaled(b), { rng: new Rng(7), ...FAST }));
});

test('the same generator gives the same accuracy; each fold reports its epochs', () => {
  const rng = new Rng(8);
  const a = normal(3, 0).sample(300, rng), b = normal(3, 0.3).sample(300, rng);
  const r1 = c2stDetailed(a, b, { rng: new Rng(9), ...FAST }), r2 = c2stDetailed(a, b, { rng: new Rng(9), ...FAST });
  assert.equal(r1, r2);
  assert.is(r1.folds.length, 5);
  assert.equal(r1.folds.map((f) => f.epochs), [40, 40, 40, 40, 40]);
});

test('the folds are independent jobs: run in any order on a structured clone of the plan, they give c2stDetailed\'s report', () => {
  const rng = new Rng(12);
  const a = normal(2, 0).sample(200, rng), b = normal(2, 0.4).sample(200, rng);
  const plan = c2stPlan(a, b, { rng: new Rng(13), ...FAST });
  const backwards = plan.folds.map((_, f) => plan.folds.length - 1 - f).map((f) => c2stFold(plan, plan.folds[f]!)).reverse();
  const report = c2stCombine(backwards);
  assert.equal(report, c2stDetailed(a, b, { rng: new Rng(13), ...FAST }));
  const copy = structuredClone(plan); // what a worker thread receives
  assert.equal(c2stFold(copy, copy.folds[2]!), report.folds[2]);
  assert.equal(plan, c2stPlan(a, b, { rng: new Rng(13), ...FAST }), 'running the folds leaves the plan as it was');
});

test('training stops after more than 10 epochs without an improvement of tol (sklearn\'s n_iter_no_change)', () => {
  const rng = new Rng(10);
  const a = normal(2, 0).sample(100, rng), b = normal(2, 0).sample(100, rng);
  // tol = 1: the first epoch sets the best loss, no later epoch beats it by 1, so epoch 12 is the last.
  assert.equal(c2stDetailed(a, b, { rng: new Rng(11), tol: 1 }).folds.map((f) => f.epochs), [12, 12, 12, 12, 12]);
  assert.equal(c2stDetailed(a, b, { rng: new Rng(11), tol: 1, patience: 3 }).folds.map((f) => f.epochs), [5, 5, 5, 5, 5]);
});

test('c2st refuses a typo, mismatched widths and non-finite values', () => {
  const a = normal(2, 0).sample(20, new Rng(0));
  assertThrows(() => c2st(a, a, { rng: new Rng(0), fold: 5 } as never), ['unknown option "fold"', 'did you mean "folds"']);
  assertThrows(() => c2st(a, normal(3, 0).sample(20, new Rng(0)), { rng: new Rng(0) }), ['one dimension', '20×2 and 20×3']);
  const bad = Tensor.from(2, 2, new Float64Array([0, 1, NaN, 2]));
  assertThrows(() => c2st(a, bad, { rng: new Rng(0) }), ['second sample', 'row 1, column 0']);
});

test.run();
