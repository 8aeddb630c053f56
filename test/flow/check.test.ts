/**
 * checkBijection must catch broken bijections (a test that cannot fail is a defect), and logAbsDet
 * must agree with determinants known in closed form.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { add, addScalar, concatCols, exp, mul, neg, sliceCols, sub, sum, Tensor, tensor } from '../../src/autograd/index.ts';
import { Rng } from '../../src/rng/rng.ts';
import { AffineCoupling } from '../../src/flow/affine-coupling.ts';
import { Bijection, type FlowResult } from '../../src/flow/bijection.ts';
import { BijectionCheckError, checkBijection, logAbsDet } from '../../src/flow/check.ts';
import { RealNVP } from '../../src/flow/real-nvp.ts';
import { Linear } from '../../src/nn/layers.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';
import { check, fc } from '../helpers/fc.ts';

// ---------------------------------------------------------------------------------------------------
// logAbsDet.

/** det by the Leibniz formula, Σ over permutations σ of sign(σ)·Π a[i, σ(i)]: no elimination at all. */
function leibniz(a: number[][]): number {
  const n = a.length;
  let total = 0;
  const walk = (row: number, used: boolean[], sign: number, prod: number, order: number[]) => {
    if (row === n) {
      total += sign * prod;
      return;
    }
    for (let c = 0; c < n; c++) {
      if (used[c]) continue;
      // each later row already placed in a column smaller than c is an inversion
      const inversions = order.filter((k) => k > c).length;
      used[c] = true;
      walk(row + 1, used, inversions % 2 === 0 ? sign : -sign, prod * a[row]![c]!, [...order, c]);
      used[c] = false;
    }
  };
  walk(0, new Array(n).fill(false), 1, 1, []);
  return total;
}

const flat = (a: number[][]) => Float64Array.from(a.flat());

test('logAbsDet of diagonal and 2×2 matrices, negative determinants included', () => {
  assertClose(logAbsDet(flat([[2, 0], [0, 3]]), 2), Math.log(6), 'diag(2, 3)', { rtol: 1e-15 });
  assertClose(logAbsDet(flat([[1, 2], [3, 4]]), 2), Math.log(2), 'det = 4 - 6 = -2', { rtol: 1e-15 });
  assertClose(logAbsDet(flat([[-0.5]]), 1), Math.log(0.5), '1×1', { rtol: 1e-15 });
  assertClose(logAbsDet(flat([[1e-3, 0, 0], [0, 1e-3, 0], [0, 0, 1e-3]]), 3), 3 * Math.log(1e-3), 'small but regular', { rtol: 1e-14 });
});

test('logAbsDet pivots: permutation matrices and a zero leading entry', () => {
  assert.is(logAbsDet(flat([[0, 1], [1, 0]]), 2), 0);
  assert.is(logAbsDet(flat([[0, 0, 1], [1, 0, 0], [0, 1, 0]]), 3), 0);
  // a scaled cyclic permutation: |det| = 2·3·4, every leading entry needs a row swap
  assertClose(logAbsDet(flat([[0, 2, 0], [0, 0, 3], [4, 0, 0]]), 3), Math.log(24), 'scaled cycle', { rtol: 1e-15 });
  // without pivoting, the tiny leading entry would wreck the result: det = 1e-20·1 - 1·1 ≈ -1
  assertClose(logAbsDet(flat([[1e-20, 1], [1, 1]]), 2), 0, 'tiny pivot', { atol: 1e-15 });
});

test('logAbsDet of a singular matrix is -Infinity', () => {
  assert.is(logAbsDet(flat([[1, 2], [2, 4]]), 2), -Infinity, 'proportional rows');
  assert.is(logAbsDet(flat([[0, 1], [0, 2]]), 2), -Infinity, 'zero column');
  assert.is(logAbsDet(flat([[1, 2, 3], [1, 2, 3], [0, 1, 1]]), 3), -Infinity, 'repeated row');
  assert.is(logAbsDet(flat([[0, 0], [0, 0]]), 2), -Infinity);
});

test('logAbsDet agrees with the Leibniz formula on random matrices and leaves its input alone', () => {
  // A + P: A has entries in [-3, 3], P is a permutation matrix with entries ±4n, so the matrix is regular
  // by construction (the rows of M·Pᵀ are strictly diagonally dominant) and elimination must pivot.
  const sized = fc.integer({ min: 1, max: 5 }).chain((n) =>
    fc.record({
      a: fc.array(fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: n, maxLength: n }), { minLength: n, maxLength: n }),
      perm: fc.shuffledSubarray(Array.from({ length: n }, (_, j) => j), { minLength: n, maxLength: n }),
      signs: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
    }),
  );
  check(
    fc.property(sized, ({ a, perm, signs }) => {
      const n = a.length;
      const m = a.map((row, i) => row.map((v, j) => (j === perm[i] ? v + (signs[i] ? 4 * n : -4 * n) : v)));
      const det = leibniz(m);
      const input = flat(m);
      const before = Array.from(input);
      assertClose(logAbsDet(input, n), Math.log(Math.abs(det)), 'log|det|', { rtol: 1e-12, atol: 1e-12 });
      assert.equal(Array.from(input), before, 'input not modified');
    }),
  );
});

// ---------------------------------------------------------------------------------------------------
// checkBijection on correct and on broken bijections.

/**
 * A small affine coupling on d = 2 written in the test, with one optional bug: y₁ = x₁·exp(s(x₀)) + t(x₀),
 * s and t Linear(1, 1) starting at zero (so the fresh layer is the identity).
 */
class HandCoupling extends Bijection {
  readonly dim = 2;
  s: Linear;
  t: Linear;
  constructor(readonly bug: 'none' | 'logDetOffset' | 'inverseSlightlyWrong' | 'logDetSameSign' | 'inverseAddsShift' | 'logDetOnlyForward') {
    super();
    const rng = new Rng(0);
    this.s = new Linear(1, 1, { rng });
    this.t = new Linear(1, 1, { rng });
    for (const p of this.parameters()) p.data.fill(0);
  }
  forward(x: Tensor): FlowResult {
    const x0 = sliceCols(x, 0, 1), x1 = sliceCols(x, 1, 2);
    const s = this.s.forward(x0), t = this.t.forward(x0);
    let ld = sum(s, 1);
    if (this.bug === 'logDetOffset' || this.bug === 'logDetOnlyForward') ld = addScalar(ld, 0.01);
    return [concatCols([x0, add(mul(x1, exp(s)), t)]), ld];
  }
  inverse(y: Tensor): FlowResult {
    const y0 = sliceCols(y, 0, 1), y1 = sliceCols(y, 1, 2);
    const s = this.s.forward(y0), t = this.t.forward(y0);
    const shifted = this.bug === 'inverseAddsShift' ? add(y1, t) : sub(y1, t);
    let x1 = mul(shifted, exp(neg(s)));
    if (this.bug === 'inverseSlightlyWrong') x1 = addScalar(x1, 1e-7);
    let ld = neg(sum(s, 1));
    if (this.bug === 'logDetOffset') ld = addScalar(ld, -0.01); // consistent with the forward's offset
    if (this.bug === 'logDetSameSign') ld = sum(s, 1);
    return [concatCols([y0, x1]), ld];
  }
}

test('a correct bijection passes, with small errors in its report', () => {
  const report = checkBijection(new HandCoupling('none'), { rng: new Rng(1) });
  assert.ok(report.ok);
  assert.ok(report.roundTripForward < 1e-12 && report.roundTripInverse < 1e-12);
  assert.ok(report.logDetCancel < 1e-12);
  assert.ok(report.logDetVsJacobian < 1e-7);
  assert.match(report.summary, 'logDet vs finite-difference Jacobian');
});

test('a log-det off by a constant is caught by the Jacobian comparison', () => {
  // forward and inverse are off by opposite amounts, so round trips and cancellation still pass
  const err = assertThrows(() => checkBijection(new HandCoupling('logDetOffset'), { rng: new Rng(2) }), ['checkBijection failed', 'logDet vs finite-difference Jacobian'], BijectionCheckError) as BijectionCheckError;
  assert.ok(err.report.logDetVsJacobian > 1e-3, `${err.report.logDetVsJacobian}`);
  assert.ok(err.report.roundTripForward < 1e-12 && err.report.logDetCancel < 1e-12);
});

test('an inverse that is slightly wrong fails the round trip', () => {
  const err = assertThrows(() => checkBijection(new HandCoupling('inverseSlightlyWrong'), { rng: new Rng(3) }), ['round trip'], BijectionCheckError) as BijectionCheckError;
  assert.ok(err.report.roundTripForward > 1e-9 && err.report.roundTripInverse > 1e-9);
  assert.ok(err.report.logDetVsJacobian < 1e-6, 'the forward itself is right');
});

test('log-dets that do not cancel are caught', () => {
  const both = assertThrows(() => checkBijection(new HandCoupling('logDetSameSign'), { rng: new Rng(4) }), ['logDet forward + logDet inverse'], BijectionCheckError) as BijectionCheckError;
  assert.ok(both.report.logDetCancel > 1e-3);
  const one = assertThrows(() => checkBijection(new HandCoupling('logDetOnlyForward'), { rng: new Rng(5) }), [], BijectionCheckError) as BijectionCheckError;
  assert.ok(one.report.logDetCancel > 1e-3 && one.report.logDetVsJacobian > 1e-3);
});

test('perturbing the weights exposes a bug the identity at initialisation hides', () => {
  // the inverse adds the shift instead of subtracting it: invisible while t = 0
  const buggy = new HandCoupling('inverseAddsShift');
  assert.ok(checkBijection(buggy, { rng: new Rng(6), perturb: 0 }).ok, 'at t = 0 the bug is invisible');
  assertThrows(() => checkBijection(buggy, { rng: new Rng(6) }), ['round trip'], BijectionCheckError);
});

test('raiseOnFailure: false returns the failing report instead of throwing', () => {
  const report = checkBijection(new HandCoupling('logDetOffset'), { rng: new Rng(7), raiseOnFailure: false });
  assert.is(report.ok, false);
  assert.ok(report.worstRow >= 0 && report.worstRow < 8);
});

test('non-finite values fail the check instead of escaping as another error', () => {
  // exp overflows with huge weights; RealNVP then refuses the NaN in its inverse
  const flow = new RealNVP({ dim: 2, layers: 4, hidden: 8, scale: 'exp', activation: 'relu', rng: new Rng(0) });
  const report = checkBijection(flow, { rng: new Rng(1), perturb: 30, raiseOnFailure: false });
  assert.is(report.ok, false);
  assert.match(report.summary, 'non-finite');
  assertThrows(() => checkBijection(flow, { rng: new Rng(1), perturb: 30 }), ['checkBijection failed', 'is NaN'], BijectionCheckError);
});

test('the weights and buffers are restored after the check, passing or failing', () => {
  const layer = new AffineCoupling({ dim: 3, hidden: 4, rng: new Rng(8) });
  const snapshot = () => Object.values(layer.stateDict()).map((t) => Array.from(t.data));
  const before = snapshot();
  checkBijection(layer, { rng: new Rng(9), perturb: 0.5 });
  assert.equal(snapshot(), before);
  const broken = new HandCoupling('logDetOffset');
  assertThrows(() => checkBijection(broken, { rng: new Rng(10) }), [], BijectionCheckError);
  assert.ok(broken.parameters().every((p) => p.data.every((v) => v === 0)), 'restored after a failure');
  const flow = new RealNVP({ dim: 2, layers: 2, hidden: 3, actNorm: true, rng: new Rng(11) });
  checkBijection(flow, { rng: new Rng(12) });
  assert.not.ok(flow.norms[0]!.initialised, "ActNorm's flag is a buffer and is restored too");
});

test('a conditional bijection is checked at a given fixed context; the report carries the context gradient and sensitivity; the caller\'s gradients are untouched', () => {
  const layer = new AffineCoupling({ dim: 3, contextDim: 2, hidden: 4, rng: new Rng(13) });
  const context = tensor(Array.from({ length: 8 }, (_, i) => [i / 4, -i / 8]));
  const p0 = layer.parameters()[0]!;
  p0.grad = new Float64Array(p0.size).fill(7);
  const report = checkBijection(layer, { rng: new Rng(14), context });
  assert.ok(report.ok, report.summary);
  assert.ok(report.contextGradient < 1e-6 && report.contextSensitivity > 0);
  assert.match(report.summary, 'context gradient vs central differences');
  assert.ok(p0.grad.every((v) => v === 7), "the check's backward does not add into the caller's gradients");
  assertThrows(() => checkBijection(layer, { rng: new Rng(14), context: Tensor.zeros(3, 2) }), ['checkBijection: context must be 8×2 (samples×contextDim), got 3×2'], RangeError);
  const plain = checkBijection(new AffineCoupling({ dim: 2, hidden: 3, rng: new Rng(1) }), { rng: new Rng(2) });
  assert.is(plain.contextGradient, 0);
  assert.ok(Number.isNaN(plain.contextSensitivity));
});

test('checkBijection and ActNorm refuse unknown option names with a did-you-mean', () => {
  assertThrows(() => checkBijection(new AffineCoupling({ dim: 2, hidden: 3, rng: new Rng(3) }), { rng: new Rng(4), sample: 4 } as never), ['checkBijection: unknown option "sample" (did you mean "samples"?)'], TypeError);
});

test('sampleX draws the points where forward is checked (for bijections defined on part of R^d)', () => {
  let calls = 0;
  const report = checkBijection(new AffineCoupling({ dim: 2, hidden: 3, rng: new Rng(3) }), {
    rng: new Rng(4),
    sampleX: (n) => {
      calls++;
      return Tensor.from(n, 2, new Float64Array(2 * n).fill(0.25));
    },
  });
  assert.ok(report.ok);
  assert.is(calls, 1);
  assertThrows(() => checkBijection(new AffineCoupling({ dim: 2, hidden: 3, rng: new Rng(3) }), { rng: new Rng(4), sampleX: () => Tensor.zeros(2, 2) }), ['sampleX must return 8×2, got 2×2'], RangeError);
});

test.run();
