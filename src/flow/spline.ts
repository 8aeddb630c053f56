/**
 * The monotonic rational-quadratic spline (J. A. Gregory & R. Delbourgo, Piecewise rational quadratic
 * interpolation to monotonic data, IMA J. Numer. Anal. 1982), as the elementwise transform of neural
 * spline flows (C. Durkan, A. Bekasov, I. Murray & G. Papamakarios, Neural Spline Flows, NeurIPS 2019),
 * with linear (identity) tails outside [−B, B]. Two ops, one graph node each: {@link rqSpline} (x -> y)
 * and {@link rqSplineInverse} (y -> x), both with their readable references written with primitive ops.
 *
 * **Parameter layout.** `params` is n×(d·(3K−1)) (or 1×(d·(3K−1)), shared by every row), feature-major:
 * the 3K−1 columns of feature j start at column j·(3K−1) and hold
 *   - K width logits u_0..u_(K−1),
 *   - K height logits η_0..η_(K−1),
 *   - K−1 derivative logits v_1..v_(K−1) of the inner knots 1..K−1.
 *
 * **From logits to knots.** With m_w, m_h the minimum bin sizes (fractions of 2B) and m_d the minimum
 * derivative:
 *
 *     ŵ_k = m_w + (1 − K·m_w)·softmax(u)_k,   x_0 = −B,  x_k = −B + 2B·Σ_(j<k) ŵ_j,  x_K = B   (pinned)
 *     ĥ_k = m_h + (1 − K·m_h)·softmax(η)_k,   y_0 = −B,  y_k = −B + 2B·Σ_(j<k) ĥ_j,  y_K = B
 *     δ_0 = δ_K = 1,   δ_k = m_d + softplus(v_k + c),  c = log(e^(1−m_d) − 1)
 *
 * The boundary derivatives are 1, matching the identity tails, so the map is C¹ on the whole line. The
 * shift c makes a zero logit give derivative exactly 1 (softplus(c) = 1 − m_d), so all-zero parameters
 * (uniform bins, unit slopes) are the identity: a coupling whose conditioner ends in a zeroed layer
 * starts as the identity.
 *
 * **In bin k** (x_k ≤ x ≤ x_(k+1); w = x_(k+1) − x_k, h = y_(k+1) − y_k, s = h/w, δ₀ = δ_k, δ₁ = δ_(k+1)):
 *
 *     θ = (x − x_k)/w,  t = θ(1 − θ)
 *     y = y_k + h·(s·θ² + δ₀·t) / (s + (δ₀ + δ₁ − 2s)·t)
 *     dy/dx = s²·(δ₁θ² + 2s·t + δ₀(1 − θ)²) / (s + (δ₀ + δ₁ − 2s)·t)²
 *
 * The denominator is at least s/2 > 0 for θ in [0, 1] (t ≤ 1/4), and θ is in [0, 1] by construction
 * (the bin is found first; with monotone rounding fl(x − x_k) ≤ fl(x_(k+1) − x_k)), so no entry ever
 * divides by zero or takes the log of a non-positive number. Outside [−B, B], y = x and
 * log dy/dx = 0, and the spline's formulas are not evaluated at all for those entries (no masked NaN
 * can leak into a gradient).
 *
 * **Inverse.** In bin k (found among the y-knots), with Δ = y − y_k and q = δ₀ + δ₁ − 2s, θ is the root
 * in [0, 1] of a·θ² + b·θ + c = 0,
 *
 *     a = h(s − δ₀) + Δ·q,   b = h·δ₀ − Δ·q,   c = −s·Δ,
 *     θ = 2c / (−b − √(b² − 4ac)),
 *
 * the form without cancellation (the paper's appendix A), with the discriminant clamped at 0 (rounding can
 * make it slightly negative) and θ clamped to [0, 1].
 *
 * **Outputs.** Both ops return n×2d: columns 0..d−1 the transformed values, columns d..2d−1 the
 * log-derivative per entry (log dy/dx for `rqSpline`, log dx/dy = −log dy/dx for `rqSplineInverse`);
 * {@link splitSpline} turns that into `[values, logDet per row]`.
 *
 * @module
 */

import { add, addScalar, div, exp, log, mul, neg, scale, softplus, sqrt, square, sub } from '../autograd/elementwise.ts';
import { matmul } from '../autograd/matmul.ts';
import { defineOp } from '../autograd/op.ts';
import { checkOptionKeys } from '../autograd/options.ts';
import { sum } from '../autograd/reduce.ts';
import { concatCols, sliceCols } from '../autograd/shape.ts';
import { formatShape, ShapeError, Tensor } from '../autograd/tensor.ts';

/**
 * Options of {@link rqSpline} and {@link rqSplineInverse}.
 * @example rqSpline(x, params, { bins: 8, bound: 3 });
 */
export interface SplineOptions {
  /** Number of bins K (>= 1). */
  bins: number;
  /** The interval is [−bound, bound]; identity outside. */
  bound: number;
  /** Minimum bin width as a fraction of 2B (default 1e-3; bins·minBinWidth must be < 1). */
  minBinWidth?: number;
  /** Minimum bin height as a fraction of 2B (default 1e-3). */
  minBinHeight?: number;
  /** Minimum derivative at the inner knots (default 1e-3, < 1). */
  minDerivative?: number;
}

const OPTION_KEYS = ['bins', 'bound', 'minBinWidth', 'minBinHeight', 'minDerivative'] as const;

/** The options resolved and checked. */
interface Resolved {
  K: number;
  B: number;
  mw: number;
  mh: number;
  md: number;
  /** c = log(e^(1−m_d) − 1): softplus(0 + c) + m_d = 1. */
  shift: number;
}

/**
 * Number of parameter columns per feature: 3K − 1 (K width logits, K height logits, K − 1 inner derivative logits).
 * @example splineParamCount(8); // 23
 */
export function splineParamCount(bins: number): number {
  return 3 * bins - 1;
}

function resolve(where: string, options: SplineOptions): Resolved {
  if (options === null || typeof options !== 'object') throw new TypeError(`${where}: pass options { bins, bound }`);
  checkOptionKeys(where, options, OPTION_KEYS);
  const K = options.bins, B = options.bound;
  if (!Number.isInteger(K) || K < 1) throw new RangeError(`${where}: bins must be a positive integer, got ${K}`);
  if (!(B > 0) || !Number.isFinite(B)) throw new RangeError(`${where}: bound must be a positive finite number, got ${B}`);
  const mw = options.minBinWidth ?? 1e-3, mh = options.minBinHeight ?? 1e-3, md = options.minDerivative ?? 1e-3;
  for (const [name, m] of [['minBinWidth', mw], ['minBinHeight', mh]] as const) {
    if (!(m >= 0) || !(m * K < 1)) throw new RangeError(`${where}: ${name} must be >= 0 with bins·${name} < 1, got ${m} for ${K} bins`);
  }
  if (!(md > 0) || !(md < 1)) throw new RangeError(`${where}: minDerivative must be in (0, 1), got ${md}`);
  return { K, B, mw, mh, md, shift: Math.log(Math.expm1(1 - md)) };
}

function checkShapes(where: string, x: Tensor, params: Tensor, K: number, inputName = 'x'): void {
  const P = x.cols * splineParamCount(K);
  if (params.cols !== P || (params.rows !== x.rows && params.rows !== 1)) {
    throw new ShapeError(`${where}: params must be ${formatShape(x.rows, P)} or ${formatShape(1, P)} for ${inputName} ${formatShape(x.rows, x.cols)} with ${K} bins (3K−1 = ${splineParamCount(K)} columns per feature), got ${formatShape(params.rows, params.cols)}`);
  }
  for (const [name, t] of [[inputName, x], ['params', params]] as const) {
    const v = t.data;
    for (let k = 0; k < v.length; k++) {
      if (!Number.isFinite(v[k]!)) throw new RangeError(`${where}: ${name}[${Math.floor(k / t.cols)}, ${k % t.cols}] is ${v[k]} (inputs must be finite)`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Per-feature knots. `soft` holds softmax(u) and softmax(η) (2K numbers per row of params and feature, at
// s0 = (row·d + j)·2K): computed once in the forward, read again by the backward. Only the two
// derivatives of an entry's own bin are computed (a softplus each), not all K − 1.

/** softmax(u) and softmax(η) of one feature's logits (at p0 in `params`) into `soft` at s0, shifted by the maximum. */
function squash(P: Float64Array, p0: number, K: number, soft: Float64Array, s0: number): void {
  for (const off of [0, K]) {
    let max = -Infinity;
    for (let k = 0; k < K; k++) max = Math.max(max, P[p0 + off + k]!);
    let total = 0;
    for (let k = 0; k < K; k++) {
      const e = Math.exp(P[p0 + off + k]! - max);
      soft[s0 + off + k] = e;
      total += e;
    }
    for (let k = 0; k < K; k++) soft[s0 + off + k]! /= total;
  }
}

/** Knots x_0..x_K and y_0..y_K from the softmaxes: cumulative sums of the floored sizes, ends pinned at ±B. */
function edges(soft: Float64Array, s0: number, r: Resolved, xs: Float64Array, ys: Float64Array): void {
  const { K, B, mw, mh } = r;
  let accW = 0, accH = 0;
  xs[0] = -B;
  ys[0] = -B;
  for (let k = 1; k < K; k++) {
    accW += mw + (1 - K * mw) * soft[s0 + k - 1]!;
    accH += mh + (1 - K * mh) * soft[s0 + K + k - 1]!;
    xs[k] = -B + 2 * B * accW;
    ys[k] = -B + 2 * B * accH;
  }
  xs[K] = B;
  ys[K] = B;
}

// δ = m_d + softplus(v + c) = m_d + max(z, 0) + log1p(e^(−|z|)),  z = v + c
// dδ/dv = sigmoid(z) = 1/(1 + e^(−|z|)) for z ≥ 0, e^(−|z|)/(1 + e^(−|z|)) below (one exp for both)
/** Writes δ at knot `knot` and dδ/dv (0 at the pinned ends, where δ = 1) into out[at], out[at + 2]. */
function derivativeAt(P: Float64Array, p0: number, r: Resolved, knot: number, out: Float64Array, at: number): void {
  const { K, md, shift } = r;
  if (knot === 0 || knot === K) {
    out[at] = 1;
    out[at + 2] = 0;
    return;
  }
  const z = P[p0 + 2 * K + knot - 1]! + shift, e = Math.exp(-Math.abs(z));
  out[at] = md + Math.max(z, 0) + Math.log1p(e);
  out[at + 2] = z >= 0 ? 1 / (1 + e) : e / (1 + e);
}

/** An entry's bin as the backward needs it: x_k, w, y_k, h, δ₀, δ₁, dδ₀/dv, dδ₁/dv, θ. */
const LOC = 9;

function binLocals(P: Float64Array, p0: number, r: Resolved, xs: Float64Array, ys: Float64Array, k: number, loc: Float64Array, at: number): void {
  loc[at] = xs[k]!;
  loc[at + 1] = xs[k + 1]! - xs[k]!;
  loc[at + 2] = ys[k]!;
  loc[at + 3] = ys[k + 1]! - ys[k]!;
  derivativeAt(P, p0, r, k, loc, at + 4);
  derivativeAt(P, p0, r, k + 1, loc, at + 5);
}

/** The bin k in 0..K−1 with knots[k] <= v (v in [knots[0], knots[K]]); v = knots[K] falls in bin K−1. */
function binOf(knotsOf: Float64Array, K: number, v: number): number {
  let k = 0;
  while (k + 1 < K && knotsOf[k + 1]! <= v) k++;
  return k;
}

/**
 * The knots of one entry's spline: x-positions, y-positions and derivatives (K + 1 each), for plots and
 * tests. `row` indexes the rows of `params` (0 for shared parameters), `feature` the feature.
 * @example splineKnots(Tensor.zeros(1, splineParamCount(4)), 0, 0, { bins: 4, bound: 2 }).x; // [-2, -1, 0, 1, 2]
 */
export function splineKnots(params: Tensor, row: number, feature: number, options: SplineOptions): { x: number[]; y: number[]; derivative: number[] } {
  const r = resolve('splineKnots', options);
  const per = splineParamCount(r.K);
  if (params.cols % per !== 0) throw new ShapeError(`splineKnots: params has ${params.cols} columns, not a multiple of 3K−1 = ${per} for ${r.K} bins`);
  if (!Number.isInteger(row) || row < 0 || row >= params.rows) throw new RangeError(`splineKnots: row ${row} is outside 0..${params.rows - 1}`);
  if (!Number.isInteger(feature) || feature < 0 || feature >= params.cols / per) throw new RangeError(`splineKnots: feature ${feature} is outside 0..${params.cols / per - 1}`);
  const p0 = row * params.cols + feature * per;
  const soft = new Float64Array(2 * r.K);
  squash(params.data, p0, r.K, soft, 0);
  const xs = new Float64Array(r.K + 1), ys = new Float64Array(r.K + 1), ds = new Float64Array(3 * (r.K + 1));
  edges(soft, 0, r, xs, ys);
  for (let k = 0; k <= r.K; k++) derivativeAt(params.data, p0, r, k, ds, 3 * k);
  return { x: Array.from(xs), y: Array.from(ys), derivative: Array.from({ length: r.K + 1 }, (_, k) => ds[3 * k]!) };
}

// ---------------------------------------------------------------------------------------------------
// One bin, one entry: the value, log-derivative and their local partials.

/** Local gradients, filled by {@link localBackward}: [gx, gx_k, gw, gy_k, gh, gδ₀, gδ₁]. */
const LOCAL = 7;

// y = y_k + N/D,  N = h(sθ² + δ₀t),  D = s + (δ₀ + δ₁ − 2s)t,  ℓ = log M − 2 log D,  M = s²(δ₁θ² + 2st + δ₀(1−θ)²)
// with θ = (x − x_k)/w, t = θ(1 − θ), s = h/w. The backward below runs these definitions in reverse:
//   gN = gy/D,  gD = −gy·N/D² − 2gℓ/D,  gM = gℓ/M,  then through M, D, N to s, θ, t, δ₀, δ₁, h, and
//   through s = h/w and θ = (x − x_k)/w to x, x_k, w.
/**
 * Adds the local gradients of (y, ℓ) seeded by (gy, gℓ) with respect to (x, x_k, w, y_k, h, δ₀, δ₁)
 * into `g` (length {@link LOCAL}), at θ in [0, 1].
 */
function localBackward(theta: number, w: number, h: number, d0: number, d1: number, gy: number, gl: number, g: Float64Array): void {
  const s = h / w, t = theta * (1 - theta), om = 1 - theta;
  const q = d0 + d1 - 2 * s;
  const D = s + q * t;
  const N = h * (s * theta * theta + d0 * t);
  const Pm = d1 * theta * theta + 2 * s * t + d0 * om * om;
  const M = s * s * Pm;
  const gN = gy / D;
  const gD = -gy * N / (D * D) - 2 * gl / D;
  const gM = gl / M;
  // M = s²·Pm
  let gs = gM * 2 * s * Pm;
  const gP = gM * s * s;
  // Pm = δ₁θ² + 2st + δ₀(1 − θ)²
  let gd1 = gP * theta * theta;
  gs += gP * 2 * t;
  let gt = gP * 2 * s;
  let gd0 = gP * om * om;
  let gth = gP * (2 * d1 * theta - 2 * d0 * om);
  // D = s + (δ₀ + δ₁ − 2s)t
  gs += gD * (1 - 2 * t);
  gd0 += gD * t;
  gd1 += gD * t;
  gt += gD * q;
  // N = h(sθ² + δ₀t)
  let gh = gN * (s * theta * theta + d0 * t);
  gs += gN * h * theta * theta;
  gth += gN * h * 2 * s * theta;
  gd0 += gN * h * t;
  gt += gN * h * d0;
  // t = θ(1 − θ)
  gth += gt * (1 - 2 * theta);
  // s = h/w
  gh += gs / w;
  let gw = -gs * s / w;
  // θ = (x − x_k)/w
  gw += -gth * theta / w;
  g[0]! += gth / w;
  g[1]! += -gth / w;
  g[2]! += gw;
  g[3]! += gy;
  g[4]! += gh;
  g[5]! += gd0;
  g[6]! += gd1;
}

/** log dy/dx in the bin at θ (θ in [0, 1]). */
function logDerivative(theta: number, w: number, h: number, d0: number, d1: number): number {
  const s = h / w, t = theta * (1 - theta), om = 1 - theta;
  const D = s + (d0 + d1 - 2 * s) * t;
  const M = s * s * (d1 * theta * theta + 2 * s * t + d0 * om * om);
  // one log: M/D² stays within about [1e-12, 1e12] (s, δ in [1e-3, 1e3], D ≥ s/2), far from under- or overflow
  return Math.log(M / (D * D));
}

/** ∂ℓ/∂x and dy/dx in the bin at θ into out[0], out[1], for the inverse's backward. */
function slopes(theta: number, w: number, h: number, d0: number, d1: number, out: Float64Array): void {
  const s = h / w, t = theta * (1 - theta), om = 1 - theta;
  const q = d0 + d1 - 2 * s;
  const D = s + q * t;
  const Pm = d1 * theta * theta + 2 * s * t + d0 * om * om;
  const M = s * s * Pm;
  // dM/dθ = s²(2δ₁θ + 2s(1 − 2θ) − 2δ₀(1 − θ)),  dD/dθ = q(1 − 2θ)
  const dM = s * s * (2 * d1 * theta + 2 * s * (1 - 2 * theta) - 2 * d0 * om);
  const dD = q * (1 - 2 * theta);
  out[0] = (dM / M - 2 * dD / D) / w;
  out[1] = M / (D * D);
}

/**
 * Scatters local gradients of bin k (gx_k, gw, gy_k, gh, gδ₀, gδ₁ in g[1..6]) into the gradient of
 * one feature's logits at `gp[p0..]`: through the cumulative sums (∂x_k/∂ŵ_j = 2B for j < k,
 * ∂w_k/∂ŵ_k = 2B), the affine floor (∂ŵ/∂σ = 1 − K·m), the softmax (gu_i = σ_i(gσ_i − Σ_j σ_j gσ_j),
 * σ read from `soft` at s0) and the softplus (∂δ/∂v = sigmoid(v + c), in loc[at + 6], loc[at + 7]).
 */
function scatter(k: number, g: Float64Array, r: Resolved, soft: Float64Array, s0: number, loc: Float64Array, at: number, p0: number, gp: Float64Array, tmp: Float64Array): void {
  const { K, B, mw, mh } = r;
  for (const [off, gCum, gWidth, m] of [[0, g[1]!, g[2]!, mw], [K, g[3]!, g[4]!, mh]] as const) {
    if (gCum === 0 && gWidth === 0) continue;
    const f = 2 * B * (1 - K * m);
    let dot = 0;
    for (let j = 0; j < K; j++) {
      const gs = f * ((j < k ? gCum : 0) + (j === k ? gWidth : 0));
      tmp[j] = gs;
      dot += gs * soft[s0 + off + j]!;
    }
    for (let j = 0; j < K; j++) gp[p0 + off + j]! += soft[s0 + off + j]! * (tmp[j]! - dot);
  }
  if (k >= 1) gp[p0 + 2 * K + k - 1]! += g[5]! * loc[at + 6]!;
  if (k + 1 <= K - 1) gp[p0 + 2 * K + k]! += g[6]! * loc[at + 7]!;
}

// θ = 2c / (−b − √max(b² − 4ac, 0)), clamped to [0, 1]
/**
 * The root in [0, 1] of a·θ² + b·θ + c = 0 (c ≤ 0) in the form without cancellation, 2c/(−b − √(b² − 4ac))
 * (Durkan et al. 2019, appendix A; no division by a, so a = 0 is fine). The discriminant is clamped at 0 (in
 * exact arithmetic it is positive; rounding can push it below, nflows #87), c = 0 gives θ = 0 (the knot),
 * and a zero denominator (−∞) is clamped to 0.
 * @example unitRoot(-0.5050037516997773, 0.576269885209913, -0.16439827401384866); // ≈ 0.57056: a double root whose b² − 4ac rounds to −5.6e-17
 */
export function unitRoot(a: number, b: number, c: number): number {
  if (c === 0) return 0;
  const disc = Math.max(b * b - 4 * a * c, 0);
  return Math.min(Math.max((2 * c) / (-b - Math.sqrt(disc)), 0), 1);
}

// ---------------------------------------------------------------------------------------------------
// The ops.

/**
 * `[values, log|det| per row]` from a spline op's n×2d output.
 * @example const [y, logDet] = splitSpline(rqSpline(x, params, { bins: 8, bound: 3 })); // n×d, n×1
 */
export function splitSpline(out: Tensor): [values: Tensor, logDet: Tensor] {
  const d = out.cols / 2;
  return [sliceCols(out, 0, d), sum(sliceCols(out, d, 2 * d), 1)];
}

// y = RQS(x; θ) in [−B, B] (Durkan et al. 2019, sec. 3.1), y = x outside; ℓ = log dy/dx, 0 outside
// dx = dOut_y·dy/dx + dOut_ℓ·∂ℓ/∂x;  dθ = dOut_y·∂y/∂θ + dOut_ℓ·∂ℓ/∂θ (chain rule through the knots; 0 in the tails)
/**
 * The rational-quadratic spline, data -> latent: x n×d, params as in the module comment. Returns n×2d,
 * [y | log dy/dx] per entry. Gradients with respect to x and every logit.
 *
 * @example
 * const params = Tensor.zeros(1, 2 * splineParamCount(8));          // zero logits: the identity
 * const out = rqSpline(tensor([[0.5, -4]]), params, { bins: 8, bound: 3 });
 * out.toArray(); // [[0.5, -4, 0, 0]] (to rounding): y, then log dy/dx
 */
export const rqSpline = defineOp({
  name: 'rqSpline',
  formula: 'out = [y | log dy/dx], y = y_k + h(sθ² + δ_k θ(1−θ)) / (s + (δ_k + δ_(k+1) − 2s)θ(1−θ)) in bin k of [−B, B], y = x outside',
  derivative: 'dx = dOut_y·dy/dx + dOut_ℓ·dℓ/dx; dparams through θ = (x − x_k)/w, s = h/w, the cumulative softmax knots and the softplus derivatives; 0 in the tails',
  forward(ctx, x: Tensor, params: Tensor, options: SplineOptions) {
    const r = resolve('rqSpline', options);
    checkShapes('rqSpline', x, params, r.K);
    const { K, B } = r;
    const n = x.rows, d = x.cols, per = splineParamCount(K), shared = params.rows === 1;
    const X = x.data, P = params.data;
    const soft = ctx.output(params.rows * d * 2 * K);
    for (let i = 0; i < params.rows; i++) for (let j = 0; j < d; j++) squash(P, (i * d + j) * per, K, soft, (i * d + j) * 2 * K);
    const o = ctx.output(n * 2 * d);
    const bins = ctx.output(n * d), loc = ctx.output(n * d * LOC); // bins: the bin of each entry, −1 in the tails
    const xs = new Float64Array(K + 1), ys = new Float64Array(K + 1);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        const e = i * d + j, v = X[e]!, out = i * 2 * d + j;
        if (!(v >= -B && v <= B)) {
          o[out] = v;
          o[out + d] = 0;
          bins[e] = -1;
          continue;
        }
        const q = (shared ? 0 : i) * d + j;
        edges(soft, q * 2 * K, r, xs, ys);
        const k = binOf(xs, K, v), at = e * LOC;
        bins[e] = k;
        binLocals(P, q * per, r, xs, ys, k, loc, at);
        const xk = loc[at]!, w = loc[at + 1]!, yk = loc[at + 2]!, h = loc[at + 3]!, d0 = loc[at + 4]!, d1 = loc[at + 5]!;
        const s = h / w;
        // in [0, 1] without a clamp: x_k ≤ v ≤ x_(k+1) and rounding is monotone, so fl(v − x_k) ≤ fl(x_(k+1) − x_k) = w
        const theta = (v - xk) / w, t = theta * (1 - theta);
        loc[at + 8] = theta;
        const y = yk + (h * (s * theta * theta + d0 * t)) / (s + (d0 + d1 - 2 * s) * t);
        o[out] = Math.min(Math.max(y, yk), ys[k + 1]!);
        o[out + d] = logDerivative(theta, w, h, d0, d1);
      }
    }
    return {
      rows: n, cols: 2 * d, data: o, inputs: [x, params],
      backward(dOut, grad) {
        const gx = grad(x), gp = grad(params);
        const g = new Float64Array(LOCAL), tmp = new Float64Array(K);
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < d; j++) {
            const e = i * d + j, k = bins[e]!;
            const gy = dOut[i * 2 * d + j]!, gl = dOut[i * 2 * d + j + d]!;
            if (k < 0) {
              // tails: y = x, ℓ = 0
              if (gx !== null) gx[e]! += gy;
              continue;
            }
            const at = e * LOC, q = (shared ? 0 : i) * d + j;
            g.fill(0);
            localBackward(loc[at + 8]!, loc[at + 1]!, loc[at + 3]!, loc[at + 4]!, loc[at + 5]!, gy, gl, g);
            if (gx !== null) gx[e]! += g[0]!;
            if (gp !== null) scatter(k, g, r, soft, q * 2 * K, loc, at, q * per, gp, tmp);
          }
        }
      },
      detail: () => `bins=${K}, bound=${B}`,
    };
  },
  reference: rqSplineReference,
});

// x = RQS⁻¹(y; θ): θ = 2c/(−b − √(b² − 4ac)) in bin k of [−B, B] (Durkan et al. 2019, appendix A), x = y outside; ℓ = −log dy/dx at x
// dy = (dOut_x − dOut_ℓ·∂ℓ/∂x)/(dy/dx);  dθ = −(dy)·∂y/∂θ − dOut_ℓ·∂ℓ/∂θ (implicit differentiation of y = RQS(x; θ))
/**
 * The inverse spline, latent -> data: y n×d, the same params and options as {@link rqSpline}. Returns
 * n×2d, [x | log dx/dy] per entry (log dx/dy = −log dy/dx at x). Gradients with respect to y and every
 * logit, by implicit differentiation of y = RQS(x).
 *
 * @example
 * const opts = { bins: 8, bound: 3 };
 * const [y] = splitSpline(rqSpline(x, params, opts));
 * const [x2] = splitSpline(rqSplineInverse(y, params, opts)); // x2 ≈ x (1e-12 inside, exactly outside)
 */
export const rqSplineInverse = defineOp({
  name: 'rqSplineInverse',
  formula: 'out = [x | log dx/dy], x = x_k + w·θ, θ = 2c/(−b − √max(b² − 4ac, 0)) in bin k of [−B, B], x = y outside',
  derivative: 'dy = (dOut_x − dOut_ℓ·∂ℓ/∂x)/(dy/dx); dparams = −dy·∂y/∂params − dOut_ℓ·∂ℓ/∂params (implicit differentiation); 0 in the tails',
  forward(ctx, y: Tensor, params: Tensor, options: SplineOptions) {
    const r = resolve('rqSplineInverse', options);
    checkShapes('rqSplineInverse', y, params, r.K, 'y');
    const { K, B } = r;
    const n = y.rows, d = y.cols, per = splineParamCount(K), shared = params.rows === 1;
    const Y = y.data, P = params.data;
    const soft = ctx.output(params.rows * d * 2 * K);
    for (let i = 0; i < params.rows; i++) for (let j = 0; j < d; j++) squash(P, (i * d + j) * per, K, soft, (i * d + j) * 2 * K);
    const o = ctx.output(n * 2 * d);
    const bins = ctx.output(n * d), loc = ctx.output(n * d * LOC); // bins: the bin of each entry, −1 in the tails
    const xs = new Float64Array(K + 1), ys = new Float64Array(K + 1);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        const e = i * d + j, v = Y[e]!, out = i * 2 * d + j;
        if (!(v >= -B && v <= B)) {
          o[out] = v;
          o[out + d] = 0;
          bins[e] = -1;
          continue;
        }
        const q = (shared ? 0 : i) * d + j;
        edges(soft, q * 2 * K, r, xs, ys);
        const k = binOf(ys, K, v), at = e * LOC;
        bins[e] = k;
        binLocals(P, q * per, r, xs, ys, k, loc, at);
        const xk = loc[at]!, w = loc[at + 1]!, yk = loc[at + 2]!, h = loc[at + 3]!, d0 = loc[at + 4]!, d1 = loc[at + 5]!;
        const s = h / w;
        const delta = v - yk; // in [0, h], as θ in the forward
        const qq = d0 + d1 - 2 * s;
        const a = h * (s - d0) + delta * qq;
        const b = h * d0 - delta * qq;
        const c = -s * delta;
        const theta = unitRoot(a, b, c);
        loc[at + 8] = theta;
        o[out] = Math.min(Math.max(xk + theta * w, xk), xs[k + 1]!);
        o[out + d] = -logDerivative(theta, w, h, d0, d1);
      }
    }
    return {
      rows: n, cols: 2 * d, data: o, inputs: [y, params],
      backward(dOut, grad) {
        const gy = grad(y), gp = grad(params);
        const g = new Float64Array(LOCAL), tmp = new Float64Array(K), sl = new Float64Array(2);
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < d; j++) {
            const e = i * d + j, k = bins[e]!;
            const gX = dOut[i * 2 * d + j]!, gL = dOut[i * 2 * d + j + d]!;
            if (k < 0) {
              if (gy !== null) gy[e]! += gX;
              continue;
            }
            const at = e * LOC, q = (shared ? 0 : i) * d + j;
            const theta = loc[at + 8]!, w = loc[at + 1]!, h = loc[at + 3]!, d0 = loc[at + 4]!, d1 = loc[at + 5]!;
            slopes(theta, w, h, d0, d1, sl);
            // ℓ_inv = −ℓ(x): the total gradient arriving at x, then through x = RQS⁻¹(y)
            const u = (gX - gL * sl[0]!) / sl[1]!;
            if (gy !== null) gy[e]! += u;
            if (gp !== null) {
              g.fill(0);
              localBackward(theta, w, h, d0, d1, -u, -gL, g);
              scatter(k, g, r, soft, q * 2 * K, loc, at, q * per, gp, tmp);
            }
          }
        }
      },
      detail: () => `bins=${K}, bound=${B}`,
    };
  },
  reference: rqSplineInverseReference,
});

// ---------------------------------------------------------------------------------------------------
// The readable references: the same maps written with primitive ops. Softmax as exp/sum/div (shifted by
// the row maximum, a constant: softmax does not change under a shift), the cumulative sums as a matmul
// by a constant triangular matrix, every bin's candidate evaluated with θ masked by a constant bin
// indicator (so out-of-bin candidates sit at θ = 0, where every formula is finite), then masked and
// summed over the bins; the tails as a constant indicator.

interface ReferenceKnots {
  left: Tensor;
  width: Tensor;
  bottom: Tensor;
  height: Tensor;
  d0: Tensor;
  d1: Tensor;
}

function constant(rows: number, cols: number, f: (i: number, k: number) => number): Tensor {
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let k = 0; k < cols; k++) data[i * cols + k] = f(i, k);
  return Tensor.from(rows, cols, data);
}

/** softmax over the columns, then the floor m + (1 − K·m)·softmax, then pinned cumulative knots −B..B (rows×(K+1)). */
function referenceKnotRow(logits: Tensor, K: number, B: number, m: number): Tensor {
  const maxima = constant(logits.rows, 1, (i) => Math.max(...Array.from(logits.data.subarray(i * K, (i + 1) * K))));
  const e = exp(sub(logits, maxima));
  const soft = div(e, sum(e, 1));
  const sizes = addScalar(scale(soft, 1 - K * m), m);
  const parts = [constant(logits.rows, 1, () => -B)];
  if (K > 1) {
    // inner knot k (1..K−1) = −B + 2B·Σ_(j<k) size_j: matmul by T (K×(K−1)), T[j][k−1] = [j < k]
    const T = constant(K, K - 1, (j, c) => (j <= c ? 1 : 0));
    parts.push(addScalar(scale(matmul(sizes, T), 2 * B), -B));
  }
  parts.push(constant(logits.rows, 1, () => B));
  return concatCols(parts);
}

function referenceKnots(params: Tensor, j: number, r: Resolved): ReferenceKnots {
  const { K, B, mw, mh, md, shift } = r;
  const p0 = j * splineParamCount(K);
  const xk = referenceKnotRow(sliceCols(params, p0, p0 + K), K, B, mw);
  const yk = referenceKnotRow(sliceCols(params, p0 + K, p0 + 2 * K), K, B, mh);
  const ones = constant(params.rows, 1, () => 1);
  const inner = K > 1 ? [addScalar(softplus(addScalar(sliceCols(params, p0 + 2 * K, p0 + 3 * K - 1), shift)), md)] : [];
  const derivs = concatCols([ones, ...inner, ones]);
  const left = sliceCols(xk, 0, K), bottom = sliceCols(yk, 0, K);
  return {
    left,
    width: sub(sliceCols(xk, 1, K + 1), left),
    bottom,
    height: sub(sliceCols(yk, 1, K + 1), bottom),
    d0: sliceCols(derivs, 0, K),
    d1: sliceCols(derivs, 1, K + 1),
  };
}

/** Constant indicators from the values: mask[i][k] = [v_i in bin k of edges], inside[i] = [v_i in [−B, B]]. */
function binMask(v: Tensor, edges: Tensor, K: number, B: number): [mask: Tensor, inside: Tensor, outside: Tensor] {
  const rows = v.rows, shared = edges.rows === 1;
  const inside = (i: number) => v.data[i]! >= -B && v.data[i]! <= B;
  const mask = constant(rows, K, (i, k) => {
    if (!inside(i)) return 0;
    const e = (c: number) => edges.data[(shared ? 0 : i) * (K + 1) + c]!;
    let bin = 0;
    while (bin + 1 < K && e(bin + 1) <= v.data[i]!) bin++;
    return bin === k ? 1 : 0;
  });
  return [mask, constant(rows, 1, (i) => (inside(i) ? 1 : 0)), constant(rows, 1, (i) => (inside(i) ? 0 : 1))];
}

/** ℓ = log M − 2 log D at θ, per bin (rows×K). */
function referenceLogDerivative(theta: Tensor, kn: ReferenceKnots): Tensor {
  const s = div(kn.height, kn.width);
  const t = mul(theta, addScalar(neg(theta), 1));
  const D = add(s, mul(sub(add(kn.d0, kn.d1), scale(s, 2)), t));
  const M = mul(square(s), add(add(mul(kn.d1, square(theta)), scale(mul(s, t), 2)), mul(kn.d0, square(addScalar(neg(theta), 1)))));
  return sub(log(M), scale(log(D), 2));
}

function knotEdges(kn: ReferenceKnots, K: number, cumulative: 'x' | 'y'): Tensor {
  const lo = cumulative === 'x' ? kn.left : kn.bottom, size = cumulative === 'x' ? kn.width : kn.height;
  return concatCols([lo, add(sliceCols(lo, K - 1, K), sliceCols(size, K - 1, K))]);
}

/**
 * {@link rqSpline} written with primitive ops (the readable form the op must equal).
 * @example rqSplineReference(x, params, { bins: 4, bound: 3 }); // same values and gradients as rqSpline
 */
export function rqSplineReference(x: Tensor, params: Tensor, options: SplineOptions): Tensor {
  const r = resolve('rqSplineReference', options);
  checkShapes('rqSplineReference', x, params, r.K);
  const { K, B } = r;
  const ys: Tensor[] = [], ls: Tensor[] = [];
  for (let j = 0; j < x.cols; j++) {
    const kn = referenceKnots(params, j, r);
    const xj = sliceCols(x, j, j + 1);
    const [mask, , outside] = binMask(xj, knotEdges(kn, K, 'x'), K, B);
    // θ = (x − x_k)/w, masked: 0 in every bin but x's own
    const theta = mul(div(sub(xj, kn.left), kn.width), mask);
    const s = div(kn.height, kn.width);
    const t = mul(theta, addScalar(neg(theta), 1));
    const D = add(s, mul(sub(add(kn.d0, kn.d1), scale(s, 2)), t));
    const N = mul(kn.height, add(mul(s, square(theta)), mul(kn.d0, t)));
    const candidates = add(kn.bottom, div(N, D));
    ys.push(add(sum(mul(candidates, mask), 1), mul(xj, outside)));
    ls.push(sum(mul(referenceLogDerivative(theta, kn), mask), 1));
  }
  return concatCols([...ys, ...ls]);
}

/**
 * {@link rqSplineInverse} written with primitive ops (the readable form the op must equal).
 * @example rqSplineInverseReference(y, params, { bins: 4, bound: 3 }); // same values and gradients as rqSplineInverse
 */
export function rqSplineInverseReference(y: Tensor, params: Tensor, options: SplineOptions): Tensor {
  const r = resolve('rqSplineInverseReference', options);
  checkShapes('rqSplineInverseReference', y, params, r.K, 'y');
  const { K, B } = r;
  const xs: Tensor[] = [], ls: Tensor[] = [];
  for (let j = 0; j < y.cols; j++) {
    const kn = referenceKnots(params, j, r);
    const yj = sliceCols(y, j, j + 1);
    const [mask, , outside] = binMask(yj, knotEdges(kn, K, 'y'), K, B);
    // Δ = y − y_k, masked: 0 (so c = 0 and θ = 0) in every bin but y's own
    const delta = mul(sub(yj, kn.bottom), mask);
    const s = div(kn.height, kn.width);
    const q = sub(add(kn.d0, kn.d1), scale(s, 2));
    const a = add(mul(kn.height, sub(s, kn.d0)), mul(delta, q));
    const b = sub(mul(kn.height, kn.d0), mul(delta, q));
    const c = neg(mul(s, delta));
    const disc = sub(square(b), scale(mul(a, c), 4));
    const theta = div(scale(c, 2), sub(neg(b), sqrt(disc)));
    xs.push(add(sum(mul(add(kn.left, mul(theta, kn.width)), mask), 1), mul(yj, outside)));
    ls.push(neg(sum(mul(referenceLogDerivative(theta, kn), mask), 1)));
  }
  return concatCols([...xs, ...ls]);
}
