/**
 * `checkBijection`: a test any bijection can be put through. It checks, on random points and with the
 * weights pushed away from their initial values (a fresh coupling is often the identity, which hides
 * bugs):
 * - round trips: inverse(forward(x)) ≈ x and forward(inverse(z)) ≈ z;
 * - the two directions' log-dets cancel: logDet_forward(x) + logDet_inverse(forward(x)) ≈ 0;
 * - the log-det against log |det J| of a central-difference Jacobian (LU with partial pivoting, float64).
 * Non-finite values along the way (e.g. an overflowing exp) fail the check too.
 *
 * A conditional bijection (`contextDim > 0`) is checked with a random context (one row per point) held
 * fixed while x moves: the round trips and the Jacobian are those of x -> z at that context. Then the
 * context's gradient: for L = Σ w⊙z + Σ logDet (random w), ∂L/∂context by autodiff must match central
 * differences in the context, and must not be zero everywhere (a conditioner that ignores its context).
 * Nflows, zuko and friends test this internally; here users get it for their own bijections.
 *
 * @module
 */

import { add, mul } from '../autograd/elementwise.ts';
import { sum } from '../autograd/reduce.ts';
import { noGrad, Tensor } from '../autograd/tensor.ts';
import type { RandomSource } from '../rng/rng.ts';
import { FlowInputError, type Bijection } from './bijection.ts';

/**
 * Options of {@link checkBijection}.
 * @example checkBijection(layer, { rng: new Rng(1), samples: 16, tolerance: { logDet: 1e-5 } });
 */
export interface CheckBijectionOptions {
  /** Number of features (default: `bijection.dim`). */
  dim?: number;
  /** Number of random points (default 8). */
  samples?: number;
  /** Seeded generator for the points and the weight perturbation. */
  rng: RandomSource;
  /** Tolerances: round trip (default 1e-9, relative to 1 + |x|), log-det against the Jacobian (default 1e-6). */
  tolerance?: { roundTrip?: number; logDet?: number };
  /** Standard deviation of the noise added to every parameter before checking (default 0.3; 0 to skip). Restored after. */
  perturb?: number;
  /** Scale of the random points, x ~ N(0, scale²) (default 1.5). */
  scale?: number;
  /** The context for a conditional bijection (samples×contextDim, held fixed); default: drawn N(0, scale²). */
  context?: Tensor;
  /** Finite-difference step for the Jacobian (default 1e-6). */
  eps?: number;
  /** Throw a {@link BijectionCheckError} on failure (default true); false returns the failing report instead. */
  raiseOnFailure?: boolean;
}

/**
 * What {@link checkBijection} measured (worst over the points).
 * @example const report = checkBijection(layer, { rng, raiseOnFailure: false }); if (!report.ok) console.log(report.summary);
 */
export interface BijectionReport {
  ok: boolean;
  /** max |inverse(forward(x)) - x| / (1 + |x|). */
  roundTripForward: number;
  /** max |forward(inverse(z)) - z| / (1 + |z|). */
  roundTripInverse: number;
  /** max |logDet_forward + logDet_inverse|. */
  logDetCancel: number;
  /** max |logDet_forward - log|det J_numeric|| / (1 + |log|det J||). */
  logDetVsJacobian: number;
  /** Row index of the worst log-det disagreement. */
  worstRow: number;
  /**
   * Conditional bijections: max |∂L/∂c autodiff - central difference| / (1 + |∂L/∂c|) over the context
   * entries, for L = Σ w⊙z + Σ logDet; 0 for an unconditional one.
   */
  contextGradient: number;
  /** Conditional bijections: max |∂L/∂c| (0 means the output ignores the context, a failure); NaN when unconditional. */
  contextSensitivity: number;
  summary: string;
}

/**
 * Thrown by {@link checkBijection} on failure; carries the report.
 * @example try { checkBijection(layer, { rng }); } catch (e) { if (e instanceof BijectionCheckError) console.log(e.report.summary); }
 */
export class BijectionCheckError extends Error {
  override readonly name = 'BijectionCheckError';
  constructor(readonly report: BijectionReport) {
    super(`checkBijection failed:\n${report.summary}`);
  }
}

/**
 * log |det A| of a square matrix (row-major, n×n) by LU with partial pivoting. Returns -Infinity for a
 * singular matrix.
 * @example logAbsDet(new Float64Array([2, 0, 0, 3]), 2); // log 6
 */
export function logAbsDet(a: Float64Array, n: number): number {
  const m = a.slice();
  let logDet = 0;
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(m[i * n + k]!) > Math.abs(m[p * n + k]!)) p = i;
    const pivot = m[p * n + k]!;
    if (pivot === 0) return -Infinity;
    if (p !== k) for (let j = 0; j < n; j++) [m[k * n + j], m[p * n + j]] = [m[p * n + j]!, m[k * n + j]!];
    logDet += Math.log(Math.abs(pivot));
    for (let i = k + 1; i < n; i++) {
      const f = m[i * n + k]! / pivot;
      for (let j = k; j < n; j++) m[i * n + j]! -= f * m[k * n + j]!;
    }
  }
  return logDet;
}

/**
 * Checks a bijection's round trips and log-determinants (see the module comment). Throws a
 * {@link BijectionCheckError} with the report on failure.
 *
 * @example
 * const report = checkBijection(new AffineCoupling({ dim: 3, rng }), { rng: new Rng(1) });
 * report.logDetVsJacobian; // ~1e-9
 */
export function checkBijection(bijection: Bijection, options: CheckBijectionOptions): BijectionReport {
  const dim = options.dim ?? bijection.dim;
  const n = options.samples ?? 8;
  const rng = options.rng;
  const tolRoundTrip = options.tolerance?.roundTrip ?? 1e-9, tolLogDet = options.tolerance?.logDet ?? 1e-6;
  const perturb = options.perturb ?? 0.3, scale = options.scale ?? 1.5, eps = options.eps ?? 1e-6;
  const params = bijection.parameters();
  const state = Object.values(bijection.stateDict()); // parameters and buffers, restored afterwards
  const saved = state.map((t) => t.data.slice());
  try {
    for (const p of params) for (let i = 0; i < p.data.length; i++) p.data[i]! += perturb * rng.normal();
    const c = bijection.contextDim;
    let context: Tensor | undefined;
    if (c > 0) {
      if (options.context !== undefined) {
        if (options.context.rows !== n || options.context.cols !== c) throw new RangeError(`checkBijection: context must be ${n}×${c} (samples×contextDim), got ${options.context.rows}×${options.context.cols}`);
        context = options.context;
      } else {
        const cData = new Float64Array(n * c);
        for (let i = 0; i < cData.length; i++) cData[i] = scale * rng.normal();
        context = Tensor.from(n, c, cData);
      }
    }
    const contextRow = (i: number) => (context === undefined ? undefined : Tensor.from(1, c, context.data.slice(i * c, (i + 1) * c)));
    // Round trips and log-dets on random points, x and z ~ N(0, scale²), at a fixed context.
    function measure(): Omit<BijectionReport, 'contextGradient' | 'contextSensitivity'> {
      const xData = new Float64Array(n * dim);
      for (let i = 0; i < xData.length; i++) xData[i] = scale * rng.normal();
      const x = Tensor.from(n, dim, xData);
      const [z, ldF] = bijection.forward(x, context);
      const [xBack, ldI] = bijection.inverse(z, context);
      const zData = new Float64Array(n * dim);
      for (let i = 0; i < zData.length; i++) zData[i] = scale * rng.normal();
      const z2 = Tensor.from(n, dim, zData);
      const [x2] = bijection.inverse(z2, context);
      const [z2Back] = bijection.forward(x2, context);
      const rel = (a: Float64Array, b: Float64Array) => {
        let w = 0;
        for (let i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
        return Number.isNaN(w) ? Infinity : w;
      };
      const roundTripForward = rel(xBack.data, x.data);
      const roundTripInverse = rel(z2Back.data, z2.data);
      let logDetCancel = 0;
      for (let i = 0; i < n; i++) logDetCancel = Math.max(logDetCancel, Math.abs(ldF.data[i]! + ldI.data[i]!));
      if (Number.isNaN(logDetCancel)) logDetCancel = Infinity;

      // Central-difference Jacobian, one row of x at a time: J[r][c] = ∂z_r/∂x_c.
      let logDetVsJacobian = 0, worstRow = 0;
      const J = new Float64Array(dim * dim);
      for (let i = 0; i < n; i++) {
        const row = x.data.slice(i * dim, (i + 1) * dim);
        const ci = contextRow(i);
        for (let col = 0; col < dim; col++) {
          const plus = row.slice(), minus = row.slice();
          plus[col]! += eps;
          minus[col]! -= eps;
          const zp = bijection.forward(Tensor.from(1, dim, plus), ci)[0].data;
          const zm = bijection.forward(Tensor.from(1, dim, minus), ci)[0].data;
          for (let r = 0; r < dim; r++) J[r * dim + col] = (zp[r]! - zm[r]!) / (2 * eps);
        }
        const numeric = logAbsDet(J, dim);
        const err = Math.abs(ldF.data[i]! - numeric) / (1 + Math.abs(numeric));
        if (!(err <= logDetVsJacobian)) {
          logDetVsJacobian = Number.isNaN(err) ? Infinity : err;
          worstRow = i;
        }
      }
      const ok = roundTripForward <= tolRoundTrip && roundTripInverse <= tolRoundTrip && logDetCancel <= tolRoundTrip * 10 * (1 + dim) && logDetVsJacobian <= tolLogDet;
      const summary = [
        `round trip inverse(forward(x)) - x: ${roundTripForward.toExponential(3)} (tolerance ${tolRoundTrip})`,
        `round trip forward(inverse(z)) - z: ${roundTripInverse.toExponential(3)} (tolerance ${tolRoundTrip})`,
        `logDet forward + logDet inverse: ${logDetCancel.toExponential(3)}`,
        `logDet vs finite-difference Jacobian: ${logDetVsJacobian.toExponential(3)} at row ${worstRow} (tolerance ${tolLogDet})`,
      ].join('\n');
      return { ok, roundTripForward, roundTripInverse, logDetCancel, logDetVsJacobian, worstRow, summary };
    }
    // ∂L/∂context by autodiff against central differences, L = Σ w⊙z + Σ logDet at random x.
    function measureContext(ctx: Tensor): { contextGradient: number; contextSensitivity: number } {
      const xData = new Float64Array(n * dim), wData = new Float64Array(n * dim);
      for (let i = 0; i < xData.length; i++) {
        xData[i] = scale * rng.normal();
        wData[i] = rng.normal();
      }
      const w = Tensor.from(n, dim, wData);
      const loss = (cData: Float64Array, grad: boolean): [number, Float64Array | null] => {
        const cT = Tensor.from(n, c, cData, { requiresGrad: grad });
        const [z, ld] = bijection.forward(Tensor.from(n, dim, xData), cT);
        const L = add(sum(mul(z, w)), sum(ld));
        if (!grad) return [L.item(), null];
        L.backward();
        return [L.item(), cT.grad === null ? new Float64Array(n * c) : cT.grad.slice()];
      };
      const savedGrads = params.map((p) => p.grad);
      for (const p of params) p.grad = null; // the backward below must not add into the caller's gradients
      const [, exact] = loss(ctx.data.slice(), true);
      params.forEach((p, k) => (p.grad = savedGrads[k]!));
      let contextGradient = 0, contextSensitivity = 0;
      for (let k = 0; k < n * c; k++) {
        const plus = ctx.data.slice(), minus = ctx.data.slice();
        plus[k]! += eps;
        minus[k]! -= eps;
        const numeric = noGrad(() => (loss(plus, false)[0] - loss(minus, false)[0]) / (2 * eps));
        const g = exact![k]!;
        contextGradient = Math.max(contextGradient, Math.abs(g - numeric) / (1 + Math.abs(numeric)));
        contextSensitivity = Math.max(contextSensitivity, Math.abs(g));
      }
      return { contextGradient: Number.isNaN(contextGradient) ? Infinity : contextGradient, contextSensitivity };
    }
    let report: BijectionReport;
    try {
      const base = noGrad(() => measure());
      if (context === undefined) report = { ...base, contextGradient: 0, contextSensitivity: NaN };
      else {
        const { contextGradient, contextSensitivity } = measureContext(context);
        const ok = base.ok && contextGradient <= tolLogDet && contextSensitivity > 0;
        const summary = `${base.summary}\ncontext gradient vs central differences: ${contextGradient.toExponential(3)} (tolerance ${tolLogDet})` +
          `\nlargest |∂L/∂context|: ${contextSensitivity.toExponential(3)}${contextSensitivity > 0 ? '' : ' (the output does not depend on the context)'}`;
        report = { ...base, ok, summary, contextGradient, contextSensitivity };
      }
    } catch (e) {
      // A bijection that checks its inputs (RealNVP) refuses the NaN or ±∞ that another step produced
      // (e.g. an overflowing exp): that is a failed check, reported like any other.
      if (!(e instanceof FlowInputError)) throw e;
      const summary = `non-finite values during the check: ${e.message}`;
      report = { ok: false, roundTripForward: Infinity, roundTripInverse: Infinity, logDetCancel: Infinity, logDetVsJacobian: Infinity, worstRow: 0, contextGradient: Infinity, contextSensitivity: NaN, summary };
    }
    if (!report.ok && options.raiseOnFailure !== false) throw new BijectionCheckError(report);
    return report;
  } finally {
    state.forEach((t, k) => t.data.set(saved[k]!));
  }
}
