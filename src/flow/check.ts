/**
 * `checkBijection`: a test any bijection can be put through. It checks, on random points and with the
 * weights pushed away from their initial values (a fresh coupling is often the identity, which hides
 * bugs):
 * - round trips: inverse(forward(x)) ≈ x and forward(inverse(z)) ≈ z;
 * - the two directions' log-dets cancel: logDet_forward(x) + logDet_inverse(forward(x)) ≈ 0;
 * - the log-det against log |det J| of a central-difference Jacobian (LU with partial pivoting, float64).
 * Non-finite values along the way (e.g. an overflowing exp) fail the check too.
 * Nflows, zuko and friends test this internally; here users get it for their own bijections.
 *
 * @module
 */

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
    // Round trips and log-dets on random points, x and z ~ N(0, scale²).
    function measure(): BijectionReport {
      const xData = new Float64Array(n * dim);
      for (let i = 0; i < xData.length; i++) xData[i] = scale * rng.normal();
      const x = Tensor.from(n, dim, xData);
      const [z, ldF] = bijection.forward(x);
      const [xBack, ldI] = bijection.inverse(z);
      const zData = new Float64Array(n * dim);
      for (let i = 0; i < zData.length; i++) zData[i] = scale * rng.normal();
      const z2 = Tensor.from(n, dim, zData);
      const [x2] = bijection.inverse(z2);
      const [z2Back] = bijection.forward(x2);
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
        for (let c = 0; c < dim; c++) {
          const plus = row.slice(), minus = row.slice();
          plus[c]! += eps;
          minus[c]! -= eps;
          const zp = bijection.forward(Tensor.from(1, dim, plus))[0].data;
          const zm = bijection.forward(Tensor.from(1, dim, minus))[0].data;
          for (let r = 0; r < dim; r++) J[r * dim + c] = (zp[r]! - zm[r]!) / (2 * eps);
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
    let report: BijectionReport;
    try {
      report = noGrad(() => measure());
    } catch (e) {
      // A bijection that checks its inputs (RealNVP) refuses the NaN or ±∞ that another step produced
      // (e.g. an overflowing exp): that is a failed check, reported like any other.
      if (!(e instanceof FlowInputError)) throw e;
      const summary = `non-finite values during the check: ${e.message}`;
      report = { ok: false, roundTripForward: Infinity, roundTripInverse: Infinity, logDetCancel: Infinity, logDetVsJacobian: Infinity, worstRow: 0, summary };
    }
    if (!report.ok && options.raiseOnFailure !== false) throw new BijectionCheckError(report);
    return report;
  } finally {
    state.forEach((t, k) => t.data.set(saved[k]!));
  }
}
