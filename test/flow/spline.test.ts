/**
 * The rational-quadratic spline ops (Durkan et al., Neural Spline Flows, 2019): a hand-worked bin, the
 * fused ops against their readable references to 1e-12 (values and every gradient), gradcheck, and the
 * hardening properties: extreme logits, inputs on knots, at ±B, one ulp inside and outside, far out,
 * whole batches in the tails. One test per failure mode seen in other libraries' trackers, named after it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { explain, gradcheck, mul, ShapeError, sliceCols, sum, Tensor, tensor } from '../../src/autograd/index.ts';
import { rqSpline, rqSplineInverse, rqSplineInverseReference, rqSplineReference, splineKnots, splineParamCount, splitSpline, unitRoot, type SplineOptions } from '../../src/flow/spline.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';
import { check, fc } from '../helpers/fc.ts';
import { flowRuns } from './helpers/arb.ts';

// ---------------------------------------------------------------------------------------------------
// Helpers.

const bits = new DataView(new ArrayBuffer(8));

/** The next double above v (v finite, v ≠ 0). */
function nextUp(v: number): number {
  bits.setFloat64(0, v);
  const b = bits.getBigInt64(0);
  bits.setBigInt64(0, v > 0 ? b + 1n : b - 1n);
  return bits.getFloat64(0);
}

/** The next double below v (v finite, v ≠ 0). */
function nextDown(v: number): number {
  return -nextUp(-v);
}

interface Case {
  n: number;
  d: number;
  K: number;
  B: number;
  shared: boolean;
  logits: number[];
  upstream: number[];
}

/** Sizes, bins, bound, shared or per-row parameters, logits from `logit`, and an upstream-gradient pool. */
function caseOf(logit: fc.Arbitrary<number>, maxBins = 8): fc.Arbitrary<Case> {
  return fc
    .record({
      n: fc.integer({ min: 1, max: 4 }),
      d: fc.integer({ min: 1, max: 3 }),
      K: fc.integer({ min: 1, max: maxBins }),
      B: fc.double({ min: 0.5, max: 5, noNaN: true }),
      shared: fc.boolean(),
    })
    .chain((c) => {
      const P = (c.shared ? 1 : c.n) * c.d * splineParamCount(c.K);
      return fc.record({
        ...Object.fromEntries(Object.entries(c).map(([k, v]) => [k, fc.constant(v)])),
        logits: fc.array(logit, { minLength: P, maxLength: P }),
        upstream: fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 2 * c.n * c.d, maxLength: 2 * c.n * c.d }),
      }) as fc.Arbitrary<Case>;
    });
}

function paramsOf(c: Case, requiresGrad = false): Tensor {
  return Tensor.from(c.shared ? 1 : c.n, c.d * splineParamCount(c.K), Float64Array.from(c.logits), { requiresGrad });
}

const moderate = fc.double({ min: -4, max: 4, noNaN: true });
/** Logits as a conditioner gone wild might output: ±1e3, anything in between, or moderate. */
const extreme = fc.oneof(fc.constant(1e3), fc.constant(-1e3), fc.double({ min: -1e3, max: 1e3, noNaN: true }), moderate);

/**
 * Logits for the finite-difference checks: within ±2 the slopes stay within about [0.1, 10], so the
 * curvature of the inverse does not swamp a central difference with h = 1e-6.
 */
const gentle = fc.double({ min: -2, max: 2, noNaN: true });

/** Logits where the inverse's reference (differentiating the root formula) is itself accurate to 1e-13. */
const mild = fc.double({ min: -1, max: 1, noNaN: true });

/**
 * Moves every entry within 1e-4·B of a knot (where log dy/dx has a kink, and two implementations may
 * pick adjacent bins within rounding) 2e-4·B towards 0.
 */
function awayFromKnots(c: Case, params: Tensor, input: Tensor, axis: 'x' | 'y'): Tensor {
  const data = input.data.slice();
  for (let e = 0; e < data.length; e++) {
    const kn = splineKnots(params, c.shared ? 0 : Math.floor(e / c.d), e % c.d, { bins: c.K, bound: c.B })[axis];
    const v = data[e]!;
    if (Math.min(...kn.map((k) => Math.abs(k - v))) < 1e-4 * c.B) data[e] = v + (v < 0 ? 2e-4 : -2e-4) * c.B;
  }
  return Tensor.from(input.rows, input.cols, data);
}

/**
 * A place on the line for entry (i, j), given the knots of its spline: a knot, ±B, one ulp inside or
 * outside ±B, ±1e6, anywhere inside, or in a tail.
 */
type Place = { kind: 'knot'; k: number } | { kind: 'bound' | 'inside' | 'outside' | 'far'; negative: boolean } | { kind: 'interior'; u: number } | { kind: 'tail'; negative: boolean; u: number };

const place: fc.Arbitrary<Place> = fc.oneof(
  fc.record({ kind: fc.constant('knot' as const), k: fc.nat(8) }),
  fc.record({ kind: fc.constantFrom('bound' as const, 'inside' as const, 'outside' as const, 'far' as const), negative: fc.boolean() }),
  fc.record({ kind: fc.constant('interior' as const), u: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ kind: fc.constant('tail' as const), negative: fc.boolean(), u: fc.double({ min: 0, max: 1, noNaN: true }) }),
);

function placeValue(p: Place, knotsAt: readonly number[], B: number): number {
  const sign = 'negative' in p && p.negative ? -1 : 1;
  switch (p.kind) {
    case 'knot':
      return knotsAt[p.k % knotsAt.length]!;
    case 'bound':
      return sign * B;
    case 'inside':
      return sign * nextDown(B);
    case 'outside':
      return sign * nextUp(B);
    case 'far':
      return sign * 1e6;
    case 'interior':
      return -B + 2 * B * p.u;
    case 'tail':
      return sign * (nextUp(B) + p.u * 10 * B);
  }
}

/** Inputs at the given places (the knots of the x-positions, or of the y-positions for the inverse). */
function inputsAt(c: Case, params: Tensor, places: readonly Place[], axis: 'x' | 'y'): Tensor {
  const data = new Float64Array(c.n * c.d);
  for (let i = 0; i < c.n; i++) {
    for (let j = 0; j < c.d; j++) {
      const kn = splineKnots(params, c.shared ? 0 : i, j, { bins: c.K, bound: c.B });
      data[i * c.d + j] = placeValue(places[(i * c.d + j) % places.length]!, kn[axis], c.B);
    }
  }
  return Tensor.from(c.n, c.d, data);
}

function allFinite(label: string, ...arrays: (Float64Array | null)[]): void {
  for (const a of arrays) {
    if (a === null) continue;
    for (let k = 0; k < a.length; k++) if (!Number.isFinite(a[k]!)) assert.unreachable(`${label}: entry ${k} is ${a[k]}`);
  }
}

/** Values, gradients w.r.t. the input and the logits, for one op, under the upstream gradient of the case. */
function run(op: typeof rqSpline, c: Case, input: Tensor, params: Tensor) {
  const v = Tensor.from(input.rows, input.cols, input.data.slice(), { requiresGrad: true });
  const p = Tensor.from(params.rows, params.cols, params.data.slice(), { requiresGrad: true });
  const out = op(v, p, { bins: c.K, bound: c.B });
  sum(mul(out, Tensor.from(out.rows, out.cols, Float64Array.from(c.upstream)))).backward();
  return { out: out.data, gInput: v.grad ?? new Float64Array(v.size), gParams: p.grad ?? new Float64Array(p.size) };
}

function column(out: Float64Array, n: number, d: number, part: 0 | 1): Float64Array {
  const o = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) o[i * d + j] = out[i * 2 * d + part * d + j]!;
  return o;
}

// ---------------------------------------------------------------------------------------------------
// Hand-worked.

test('a hand-worked bin: B = 1, K = 2, heights 1.5 and 0.5, unit slopes; x = −0.5 goes to −0.25 with slope 1.8', () => {
  // widths softmax([0, 0]) = ½, ½ -> knots −1, 0, 1; heights softmax([log 3, 0]) = ¾, ¼ -> knots −1, 0.5, 1;
  // inner derivative logit 0 -> δ₁ = 1 (the shift makes zero logits unit slopes).
  // Bin 0: w = 1, h = 1.5, s = 1.5, δ₀ = δ₁ = 1; θ = 0.5, t = 0.25;
  // y = −1 + 1.5·(1.5·0.25 + 0.25)/(1.5 + (2 − 3)·0.25) = −1 + 1.5·0.625/1.25 = −0.25
  // dy/dx = 1.5²·(0.25 + 2·1.5·0.25 + 0.25)/1.25² = 2.25·1.25/1.5625 = 1.8
  const opts: SplineOptions = { bins: 2, bound: 1, minBinWidth: 0, minBinHeight: 0 };
  const params = tensor([[0, 0, Math.log(3), 0, 0]]);
  assertClose(splineKnots(params, 0, 0, opts).y, [-1, 0.5, 1], 'y-knots', { rtol: 1e-15, atol: 1e-15 });
  const out = rqSpline(tensor([[-0.5]]), params, opts).toArray();
  assertClose(out, [[-0.25, Math.log(1.8)]], 'y and log dy/dx', { rtol: 1e-14, atol: 1e-15 });
  const back = rqSplineInverse(tensor([[-0.25]]), params, opts).toArray();
  assertClose(back, [[-0.5, -Math.log(1.8)]], 'inverse', { rtol: 1e-14, atol: 1e-15 });
});

test('zero logits are the identity (uniform bins, unit slopes), inside and outside', () => {
  const opts = { bins: 8, bound: 3 };
  const params = Tensor.zeros(1, 3 * splineParamCount(8));
  const x = tensor([[-2.9, 0.1, 1.7], [-5, 3, 1e6]]);
  const out = rqSpline(x, params, opts).toArray();
  assertClose(out, [[-2.9, 0.1, 1.7, 0, 0, 0], [-5, 3, 1e6, 0, 0, 0]], 'identity', { rtol: 1e-14, atol: 1e-14 });
});

test('splitSpline gives the values and the per-row log-det', () => {
  const opts = { bins: 3, bound: 2 };
  const params = tensor([[0.3, -1, 2, 1, 0.5, -0.2, 0.7, -0.4, 0, 1, 0.2, 0.1, 0.3, -2, 0.6, 0.5]]);
  const x = tensor([[0.5, -1.5], [3, 0.2]]);
  const out = rqSpline(x, params, opts);
  const [y, logDet] = splitSpline(out);
  assert.equal([y.rows, y.cols, logDet.rows, logDet.cols], [2, 2, 2, 1]);
  const o = out.data;
  assertClose(logDet.data, [o[2]! + o[3]!, o[6]! + o[7]!], 'row sums', { rtol: 1e-15 });
});

// ---------------------------------------------------------------------------------------------------
// The fused ops against their references, and against finite differences.

for (const [op, ref] of [[rqSpline, rqSplineReference], [rqSplineInverse, rqSplineInverseReference]] as const) {
  test(`${op.rule.name} equals its primitive-op reference to 1e-12: values and gradients w.r.t. the input and every logit`, () => {
    assert.is(op.spec.reference, ref);
    check(
      // The inverse's reference differentiates through the root formula, whose √(b² − 4ac) amplifies the
      // rounding of b² − 4ac by b²/(b² − 4ac) (up to 4s²/δ², 1e8 and more at logits of ±4); within ±1 that
      // stays below 1e3. The inverse's gradients at ±4 are held to the implicit gradient below.
      fc.property(caseOf(op === rqSpline ? moderate : mild), fc.array(fc.double({ min: -1.3, max: 1.3, noNaN: true }), { minLength: 12, maxLength: 12 }), (c, us) => {
        const params = paramsOf(c);
        const input = awayFromKnots(c, params, Tensor.from(c.n, c.d, Float64Array.from({ length: c.n * c.d }, (_, k) => us[k % us.length]! * c.B)), op === rqSpline ? 'x' : 'y');
        const fused = run(op, c, input, params), plain = run(ref as typeof rqSpline, c, input, params);
        const tol = { rtol: 1e-12, atol: 1e-12 };
        assertClose(fused.out, plain.out, 'values', tol);
        assertClose(fused.gInput, plain.gInput, 'gradient w.r.t. the input', tol);
        assertClose(fused.gParams, plain.gParams, 'gradient w.r.t. the logits', tol);
      }),
      flowRuns(60),
    );
  });

  test(`${op.rule.name} passes gradcheck w.r.t. the input and every logit (inside and in the tails)`, () => {
    check(
      fc.property(caseOf(gentle, 5), fc.array(place.filter((p) => p.kind === 'interior' || p.kind === 'tail'), { minLength: 12, maxLength: 12 }), (c, places) => {
        const params = paramsOf(c);
        // away from the knots, where log dy/dx has a kink (the spline is C¹, not C²)
        const input = awayFromKnots(c, params, inputsAt(c, params, places, op === rqSpline ? 'x' : 'y'), op === rqSpline ? 'x' : 'y');
        const report = gradcheck((v, p) => op(v, p, { bins: c.K, bound: c.B }), [
          Tensor.from(input.rows, input.cols, input.data.slice(), { requiresGrad: true }),
          Tensor.from(params.rows, params.cols, params.data.slice(), { requiresGrad: true }),
        ], { raiseOnFailure: false, atol: 1e-5, rtol: 1e-3 });
        assert.ok(report.ok, report.summary);
      }),
      flowRuns(25),
    );
  });
}

test('rqSplineInverse has the implicit gradients of the forward reference at x = inverse(y): dx/dy = 1/(dy/dx), dx/dθ = −(∂y/∂θ)/(dy/dx), and those of −log dy/dx (to 1e-10: x is rounded to the ulp of its knot before the reference sees it)', () => {
  check(
    fc.property(caseOf(moderate), fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 12, maxLength: 12 }), (c, us) => {
      const params = paramsOf(c), opts = { bins: c.K, bound: c.B }, n = c.n, d = c.d;
      const y = awayFromKnots(c, params, Tensor.from(n, d, Float64Array.from({ length: n * d }, (_, k) => us[k % us.length]! * c.B)), 'y');
      const inv = run(rqSplineInverse, c, y, params);
      const x = Tensor.from(n, d, column(inv.out, n, d, 0));
      // the forward reference's gradients at x: of y (upstream on the value columns) and of ℓ (on the log columns)
      const grads = (part: 0 | 1, e: number) => {
        const v = Tensor.from(n, d, x.data.slice(), { requiresGrad: true }), p = Tensor.from(params.rows, params.cols, params.data.slice(), { requiresGrad: true });
        const seed = new Float64Array(2 * n * d);
        seed[Math.floor(e / d) * 2 * d + part * d + (e % d)] = 1;
        rqSplineReference(v, p, opts).backward(seed);
        return { dx: v.grad?.[e] ?? 0, dp: p.grad ?? new Float64Array(p.size) };
      };
      const gInput = new Float64Array(n * d), gParams = new Float64Array(params.size);
      for (let e = 0; e < n * d; e++) {
        const gX = c.upstream[Math.floor(e / d) * 2 * d + (e % d)]!, gL = c.upstream[Math.floor(e / d) * 2 * d + d + (e % d)]!;
        const Y = grads(0, e), L = grads(1, e);
        // x = g⁻¹(y; θ): dx/dy = 1/g', dx/dθ = −g_θ/g'; ℓ_inv = −ℓ(x; θ): dℓ_inv/dy = −ℓ_x/g', dℓ_inv/dθ = −ℓ_θ + ℓ_x·g_θ/g'
        gInput[e] = (gX - gL * L.dx) / Y.dx;
        for (let k = 0; k < params.size; k++) gParams[k]! += -((gX - gL * L.dx) / Y.dx) * Y.dp[k]! - gL * L.dp[k]!;
      }
      const scale = Math.max(1, ...Array.from(gParams, Math.abs), ...Array.from(gInput, Math.abs));
      assertClose(inv.gInput, gInput, 'dy', { rtol: 1e-10, atol: 1e-10 * scale });
      assertClose(inv.gParams, gParams, 'dparams', { rtol: 1e-10, atol: 1e-10 * scale });
    }),
    flowRuns(60),
  );
});

test('log dy/dx matches finite differences of y (five-point stencil), and the inverse log-det is its negative at x', () => {
  check(
    fc.property(caseOf(moderate), fc.array(place.filter((p) => p.kind === 'interior'), { minLength: 12, maxLength: 12 }), (c, places) => {
      const params = paramsOf(c), opts = { bins: c.K, bound: c.B };
      const x = inputsAt(c, params, places, 'x');
      const h = 1e-6;
      const shifted = (delta: number) => column(rqSpline(Tensor.from(c.n, c.d, x.data.map((v) => v + delta)), params, opts).data, c.n, c.d, 0);
      // the five-point stencil (error O(h⁴)): in a narrow bin between very different slopes y''' is
      // large enough for the plain central difference's h²·y'''/6 to show at 1e-5
      const p1 = shifted(h), m1 = shifted(-h), p2 = shifted(2 * h), m2 = shifted(-2 * h);
      const out = rqSpline(x, params, opts).data;
      const logDeriv = column(out, c.n, c.d, 1);
      const y = Tensor.from(c.n, c.d, column(out, c.n, c.d, 0));
      const inverseLog = column(rqSplineInverse(y, params, opts).data, c.n, c.d, 1);
      for (let e = 0; e < x.size; e++) {
        const fd = (8 * (p1[e]! - m1[e]!) - (p2[e]! - m2[e]!)) / (12 * h);
        // a knot within 2h spoils the difference (dy/dx is continuous, its derivative is not)
        const gap = Math.min(...splineKnots(params, c.shared ? 0 : Math.floor(e / c.d), e % c.d, opts).x.map((k) => Math.abs(k - x.data[e]!)));
        if (gap > 20 * h) assertClose(Math.exp(logDeriv[e]!), fd, `dy/dx at entry ${e}`, { rtol: 1e-5, atol: 1e-7 });
        assertClose(inverseLog[e]!, -logDeriv[e]!, `inverse log-det at entry ${e}`, { rtol: 1e-9, atol: 1e-9 });
      }
    }),
    flowRuns(60),
  );
});

// ---------------------------------------------------------------------------------------------------
// Hardened: no NaN or ∞ anywhere, exact tails, round trips, monotonicity.

test('extreme logits (±1e3) and inputs on knots, at ±B, one ulp inside and outside, at ±1e6: every value, log-det and gradient is finite, both ways', () => {
  check(
    fc.property(caseOf(extreme), fc.array(place, { minLength: 12, maxLength: 12 }), (c, places) => {
      const params = paramsOf(c);
      for (const [op, axis] of [[rqSpline, 'x'], [rqSplineInverse, 'y']] as const) {
        const input = inputsAt(c, params, places, axis);
        const r = run(op, c, input, params);
        allFinite(`${op.rule.name} values and log-dets`, r.out);
        allFinite(`${op.rule.name} gradient w.r.t. the input`, r.gInput);
        allFinite(`${op.rule.name} gradient w.r.t. the logits`, r.gParams);
      }
    }),
    flowRuns(300),
  );
});

test('inverse(forward(x)) is within 1e-12 inside [−B, B] (moderate logits) and exactly x outside; log-dets cancel', () => {
  check(
    fc.property(caseOf(moderate), fc.array(place, { minLength: 12, maxLength: 12 }), (c, places) => {
      const params = paramsOf(c), opts = { bins: c.K, bound: c.B };
      const x = inputsAt(c, params, places, 'x');
      const fwd = rqSpline(x, params, opts).data;
      const y = Tensor.from(c.n, c.d, column(fwd, c.n, c.d, 0));
      const back = rqSplineInverse(y, params, opts).data;
      const x2 = column(back, c.n, c.d, 0), l1 = column(fwd, c.n, c.d, 1), l2 = column(back, c.n, c.d, 1);
      for (let e = 0; e < x.size; e++) {
        const v = x.data[e]!;
        if (v >= -c.B && v <= c.B) {
          assert.ok(Math.abs(x2[e]! - v) <= 1e-12, `entry ${e}: x = ${v}, inverse(forward(x)) = ${x2[e]} (|diff| ${Math.abs(x2[e]! - v)})`);
          assert.ok(Math.abs(l1[e]! + l2[e]!) <= 1e-9, `entry ${e}: log-dets ${l1[e]} and ${l2[e]} do not cancel`);
        } else {
          assert.is(y.data[e], v, `forward is the identity outside: entry ${e}`);
          assert.is(x2[e], v, `inverse is the identity outside: entry ${e}`);
          assert.is(l1[e], 0);
          assert.is(l2[e], 0);
        }
      }
    }),
    flowRuns(200),
  );
});

test('with extreme logits the round trip still holds to the conditioning of the map (1e-12·B/min slope), and y and inverse(y) stay in [−B, B]', () => {
  check(
    fc.property(caseOf(extreme), fc.array(place, { minLength: 12, maxLength: 12 }), (c, places) => {
      const params = paramsOf(c), opts = { bins: c.K, bound: c.B };
      const x = inputsAt(c, params, places, 'x');
      const fwd = rqSpline(x, params, opts).data;
      const y = Tensor.from(c.n, c.d, column(fwd, c.n, c.d, 0)), slope = column(fwd, c.n, c.d, 1).map(Math.exp);
      const x2 = column(rqSplineInverse(y, params, opts).data, c.n, c.d, 0);
      for (let e = 0; e < x.size; e++) {
        const v = x.data[e]!;
        if (!(v >= -c.B && v <= c.B)) continue;
        assert.ok(y.data[e]! >= -c.B && y.data[e]! <= c.B, `y = ${y.data[e]} leaves [−B, B]`);
        assert.ok(x2[e]! >= -c.B && x2[e]! <= c.B, `inverse(y) = ${x2[e]} leaves [−B, B]`);
        const tol = 1e-12 * (1 + c.B) * Math.max(1, 1 / slope[e]!);
        assert.ok(Math.abs(x2[e]! - v) <= tol, `entry ${e}: x = ${v}, back ${x2[e]}, slope ${slope[e]}, |diff| ${Math.abs(x2[e]! - v)} > ${tol}`);
      }
    }),
    flowRuns(200),
  );
});

test('monotone: sorted inputs give sorted outputs (to rounding, a few ulps of y), strictly where the gap exceeds the rounding of the knots (1e-14·B) and slope × gap exceeds 1e-12, even with extreme logits', () => {
  check(
    fc.property(caseOf(extreme), fc.array(fc.double({ min: -1.5, max: 1.5, noNaN: true }), { minLength: 2, maxLength: 40 }), (c, us) => {
      const params = Tensor.from(1, splineParamCount(c.K), Float64Array.from(c.logits.slice(0, splineParamCount(c.K))));
      const xs = us.map((u) => u * c.B).sort((a, b) => a - b);
      const out = rqSpline(Tensor.from(xs.length, 1, Float64Array.from(xs)), params, { bins: c.K, bound: c.B }).data;
      for (let i = 1; i < xs.length; i++) {
        const prev = out[2 * (i - 1)]!, cur = out[2 * i]!;
        assert.ok(cur >= prev - 4 * Number.EPSILON * (c.B + Math.abs(prev)), `x ${xs[i - 1]} -> ${prev}, x ${xs[i]} -> ${cur}: decreasing beyond rounding`);
        const rise = Math.min(Math.exp(out[2 * (i - 1) + 1]!), Math.exp(out[2 * i + 1]!)) * (xs[i]! - xs[i - 1]!);
        // θ = (x − x_k)/w resolves x only to the ulp of the knot x_k (≤ B), so smaller gaps may not register
        if (xs[i]! - xs[i - 1]! > 1e-14 * c.B && rise > 1e-12) assert.ok(cur > prev, `x ${xs[i - 1]} and ${xs[i]} (slope × gap ${rise}) map to ${prev} and ${cur}`);
      }
    }),
    flowRuns(200),
  );
});

// ---------------------------------------------------------------------------------------------------
// One test per failure mode reported against other spline implementations.

test('nflows #23: a whole batch in the tails is the identity, log-det 0, no error; logit gradients exactly 0, input gradient exactly the upstream', () => {
  const opts = { bins: 8, bound: 3 };
  const params = Tensor.from(2, 2 * splineParamCount(8), Float64Array.from({ length: 2 * 2 * splineParamCount(8) }, (_, k) => Math.sin(k) * 3), { requiresGrad: true });
  const x = tensor([[5, -6], [3.0000001, -1e6]], { requiresGrad: true });
  for (const op of [rqSpline, rqSplineInverse]) {
    params.grad = null;
    x.grad = null;
    const out = op(x, params, opts);
    assert.equal(out.toArray(), [[5, -6, 0, 0], [3.0000001, -1e6, 0, 0]]);
    sum(mul(out, tensor([[2, 3, 5, 7], [11, 13, 17, 19]]))).backward();
    assert.equal(Array.from(x.grad!), [2, 3, 11, 13], `${op.rule.name}: dx`);
    assert.ok(params.grad!.every((g) => g === 0), `${op.rule.name}: dparams all 0`);
  }
});

test('nflows #62, sbi #373: an input just outside the bound (3.01, one ulp past B) is the identity, never an "outside the domain" error', () => {
  const opts = { bins: 5, bound: 3 };
  const params = Tensor.from(1, splineParamCount(5), Float64Array.from({ length: splineParamCount(5) }, (_, k) => Math.cos(3 * k) * 2));
  for (const v of [3.01, -3.01, nextUp(3), nextDown(-3)]) {
    assert.equal(rqSpline(tensor([[v]]), params, opts).toArray(), [[v, 0]], `forward at ${v}`);
    assert.equal(rqSplineInverse(tensor([[v]]), params, opts).toArray(), [[v, 0]], `inverse at ${v}`);
  }
});

test('nflows #79: an input exactly at ±B (the last knot) falls in the last bin: y = ±B, log-det 0, finite gradients, no index out of range', () => {
  const K = 6, opts = { bins: K, bound: 2.5 };
  const params = Tensor.from(1, splineParamCount(K), Float64Array.from({ length: splineParamCount(K) }, (_, k) => Math.sin(7 * k) * 4), { requiresGrad: true });
  for (const op of [rqSpline, rqSplineInverse]) {
    const x = tensor([[2.5], [-2.5]], { requiresGrad: true });
    params.grad = null;
    const out = op(x, params, opts);
    assertClose(out.toArray(), [[2.5, 0], [-2.5, 0]], `${op.rule.name} at ±B`, { atol: 1e-14 });
    sum(mul(out, tensor([[1, 1], [1, 1]]))).backward();
    allFinite(`${op.rule.name} gradients`, x.grad, params.grad);
    x.grad = null;
    sum(sliceCols(op(x, params, opts), 0, 1)).backward();
    // dy/dx = 1 at both ends (the boundary derivatives), so the map is C¹ with the tails
    assertClose(x.grad!, [1, 1], `${op.rule.name}: slope 1 at ±B`, { rtol: 1e-12 });
  }
});

test('nflows #87, Pyro #3139: the inverse never takes the root of a negative discriminant: a rounded-negative b² − 4ac is clamped (the double root is found), and y outside [−B, B] never reaches the quadratic', () => {
  // a double root at r = 0.57056… whose discriminant b² − 4ac rounds to −5.6e-17 in float64
  const a = -0.5050037516997773, b = 0.576269885209913, c = -0.16439827401384866;
  assert.ok(b * b - 4 * a * c < 0, 'the case really has a negative rounded discriminant');
  assertClose(unitRoot(a, b, c), 0.5705600040299336, 'the double root', { rtol: 1e-7 });
  assert.is(unitRoot(1, 2, 0), 0, 'c = 0 is the knot');
  // Pyro #3139: y beyond the bound in the inverse is the identity (its discriminant would be negative)
  const params = Tensor.from(1, splineParamCount(4), Float64Array.from({ length: splineParamCount(4) }, (_, k) => (k % 3) - 1));
  assert.equal(rqSplineInverse(tensor([[4], [-1e6]]), params, { bins: 4, bound: 3 }).toArray(), [[4, 0], [-1e6, 0]]);
});

test('FlowJAX #239, BayesFlow #721: entries in the tails put no NaN, ∞ or stray gradient into the batch: the logit gradient equals that of the inside entries alone', () => {
  const K = 4, opts = { bins: K, bound: 3 }, P = splineParamCount(K);
  const logits = Float64Array.from({ length: P }, (_, k) => Math.sin(5 * k) * 6);
  for (const op of [rqSpline, rqSplineInverse]) {
    const grads = (rows: number[][]) => {
      const p = Tensor.from(1, P, logits.slice(), { requiresGrad: true });
      sum(op(tensor(rows), p, opts)).backward();
      return p.grad!;
    };
    const mixed = grads([[0.7], [1e6], [-3.5], [-1.2], [3.2]]), inside = grads([[0.7], [-1.2]]);
    allFinite(`${op.rule.name}: mixed batch`, mixed);
    assertClose(mixed, inside, `${op.rule.name}: tails add nothing`, { rtol: 0, atol: 0 });
  }
});

test('softmax and softplus of ±1e3 logits neither overflow nor collapse a bin: widths and heights ≥ min·2B, inner slopes ≥ the minimum derivative', () => {
  const K = 5, B = 3, opts = { bins: K, bound: B };
  const logits = [1e3, -1e3, -1e3, 1e3, -1e3, -1e3, -1e3, 1e3, -1e3, -1e3, 1e3, -1e3, 1e3, -1e3];
  const params = Tensor.from(1, logits.length, Float64Array.from(logits));
  const kn = splineKnots(params, 0, 0, opts);
  allFinite('knots', Float64Array.from(kn.x), Float64Array.from(kn.y), Float64Array.from(kn.derivative));
  for (let k = 0; k < K; k++) {
    assert.ok(kn.x[k + 1]! - kn.x[k]! >= 1e-3 * 2 * B * (1 - 1e-12), `width of bin ${k}: ${kn.x[k + 1]! - kn.x[k]!}`);
    assert.ok(kn.y[k + 1]! - kn.y[k]! >= 1e-3 * 2 * B * (1 - 1e-12), `height of bin ${k}`);
  }
  assert.equal([kn.x[0], kn.x[K], kn.y[0], kn.y[K], kn.derivative[0], kn.derivative[K]], [-B, B, -B, B, 1, 1], 'pinned ends, unit end slopes');
  assert.ok(kn.derivative.every((d) => d >= 1e-3 && Number.isFinite(d)), `derivatives ${kn.derivative}`);
  assertClose(kn.derivative[1]!, 1e3 + Math.log(Math.expm1(1 - 1e-3)) + 1e-3, 'softplus(1e3 + c) + m_d, no overflow', { rtol: 1e-12 });
  assertClose(kn.derivative[2]!, 1e-3, 'softplus(−1e3 + c) + m_d = m_d', { rtol: 1e-12 });
  // on every knot: log dy/dx = log δ_k, finite
  const at = rqSpline(Tensor.from(K + 1, 1, Float64Array.from(kn.x)), params, opts).data;
  for (let k = 0; k <= K; k++) assertClose(at[2 * k + 1]!, Math.log(kn.derivative[k]!), `log-derivative at knot ${k}`, { rtol: 1e-9, atol: 1e-12 });
});

// ---------------------------------------------------------------------------------------------------
// Errors and the rule.

test('bad shapes, options and non-finite inputs are refused, naming the op and the shapes', () => {
  const x = tensor([[0.5, 1]]);
  assertThrows(() => rqSpline(x, Tensor.zeros(1, 10), { bins: 4, bound: 3 }), ['rqSpline', '1×22', '1×10', '3K−1 = 11'], ShapeError);
  assertThrows(() => rqSpline(x, Tensor.zeros(2, 22), { bins: 4, bound: 3 }), ['2×22'], ShapeError);
  assertThrows(() => rqSpline(x, Tensor.zeros(1, 22), { bins: 4, bound: 3, minBinWidht: 0.1 } as SplineOptions), ['minBinWidht', 'minBinWidth']);
  assertThrows(() => rqSpline(x, Tensor.zeros(1, 22), { bins: 0, bound: 3 }), ['bins must be a positive integer']);
  assertThrows(() => rqSpline(x, Tensor.zeros(1, 22), { bins: 4, bound: -1 }), ['bound']);
  assertThrows(() => rqSpline(x, Tensor.zeros(1, 22), { bins: 4, bound: 3, minBinWidth: 0.25 }), ['bins·minBinWidth < 1']);
  assertThrows(() => rqSpline(x, Tensor.zeros(1, 22), { bins: 4, bound: 3, minDerivative: 1 }), ['minDerivative']);
  assertThrows(() => rqSplineInverse(tensor([[NaN, 0]]), Tensor.zeros(1, 22), { bins: 4, bound: 3 }), ['rqSplineInverse', 'y[0, 0] is NaN']);
  assertThrows(() => rqSpline(x, Tensor.from(1, 22, new Float64Array(22).fill(Infinity)), { bins: 4, bound: 3 }), ['params[0, 0] is Infinity']);
});

test('the rule travels with the node and explain prints it with the bins and bound', () => {
  const out = rqSpline(tensor([[0.1]], { requiresGrad: true }), Tensor.zeros(1, splineParamCount(3)), { bins: 3, bound: 2 });
  assert.is(out.rule, rqSpline.rule);
  assert.match(explain(out), 'rqSpline');
  assert.match(explain(out), 'bins=3, bound=2');
});

test.run();
