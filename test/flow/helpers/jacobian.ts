/**
 * An independent Jacobian check for the flow tests, written here and not taken from
 * `src/flow/check.ts`, so that a bug in `checkBijection` or `logAbsDet` cannot hide a bug in a flow (and
 * the other way round):
 * - the Jacobian by reverse-mode autodiff (one `backward` per output column, every row of the batch at
 *   once, since the rows of a flow are independent) and by central differences;
 * - log |det J| by modified Gram–Schmidt QR (log |det J| = Σ log R_kk), not by LU.
 */
import { sliceCols, sum, Tensor, tensor } from '../../../src/autograd/index.ts';
import type { Rng } from '../../../src/rng/rng.ts';
import type { Bijection } from '../../../src/flow/bijection.ts';
import type { Module } from '../../../src/nn/module.ts';

/**
 * A map from an n×d batch to an n×d batch (e.g. `(x) => flow.forward(x)[0]`). `row`, when given, says
 * that x is the single row `row` of the batch (so that a conditional map can pick that row's context).
 */
export type BatchMap = (x: Tensor, row?: number) => Tensor;

/** J[i] (d×d, row-major, J[r·d + c] = ∂out_r/∂x_c) for every row i of x, by autodiff. */
export function autogradJacobians(f: BatchMap, x: readonly (readonly number[])[]): Float64Array[] {
  const n = x.length, d = x[0]!.length;
  const out = x.map(() => new Float64Array(d * d));
  for (let r = 0; r < d; r++) {
    const input = tensor(x, { requiresGrad: true });
    const y = f(input);
    // Σ_i y[i, r]: its gradient with respect to row i of the input is row r of J[i].
    sum(sliceCols(y, r, r + 1)).backward();
    const g = input.grad;
    for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) out[i]![r * d + c] = g === null ? 0 : g[i * d + c]!;
  }
  return out;
}

/** The same Jacobians by central differences with step h, one row and one input column at a time. */
export function centralJacobians(f: BatchMap, x: readonly (readonly number[])[], h = 1e-6): Float64Array[] {
  const d = x[0]!.length;
  return x.map((row, i) => {
    const J = new Float64Array(d * d);
    for (let c = 0; c < d; c++) {
      const plus = Float64Array.from(row), minus = Float64Array.from(row);
      plus[c]! += h;
      minus[c]! -= h;
      const yp = f(Tensor.from(1, d, plus), i).data, ym = f(Tensor.from(1, d, minus), i).data;
      for (let r = 0; r < d; r++) J[r * d + c] = (yp[r]! - ym[r]!) / (2 * h);
    }
    return J;
  });
}

/** log |det A| of a d×d row-major matrix by modified Gram–Schmidt on its columns; -Infinity when singular. */
export function logAbsDetQR(a: Float64Array, d: number): number {
  const cols: Float64Array[] = [];
  for (let c = 0; c < d; c++) {
    const v = new Float64Array(d);
    for (let r = 0; r < d; r++) v[r] = a[r * d + c]!;
    cols.push(v);
  }
  let logDet = 0;
  for (let k = 0; k < d; k++) {
    const v = cols[k]!;
    let norm = 0;
    for (let r = 0; r < d; r++) norm += v[r]! * v[r]!;
    norm = Math.sqrt(norm);
    if (norm === 0) return -Infinity;
    logDet += Math.log(norm);
    for (let r = 0; r < d; r++) v[r]! /= norm;
    // remove the q_k component from the later columns (modified Gram–Schmidt)
    for (let j = k + 1; j < d; j++) {
      const w = cols[j]!;
      let dot = 0;
      for (let r = 0; r < d; r++) dot += v[r]! * w[r]!;
      for (let r = 0; r < d; r++) w[r]! -= dot * v[r]!;
    }
  }
  return logDet;
}

/** Adds N(0, sd²) noise to every parameter of a module, so that a fresh (identity) coupling becomes a real warp. */
export function perturbParameters(module: Module, rng: Rng, sd: number): void {
  for (const p of module.parameters()) for (let i = 0; i < p.data.length; i++) p.data[i]! += sd * rng.normal();
}

/** n rows of d values from N(0, scale²) as plain arrays. */
export function randomRows(rng: Rng, n: number, d: number, scale = 1): number[][] {
  return Array.from({ length: n }, () => Array.from({ length: d }, () => scale * rng.normal()));
}

/**
 * Checks a bijection against the independent Jacobians: autodiff and central differences agree
 * entry by entry, and the forward log-det equals log |det J| by QR. Returns the worst log-det error
 * (relative to 1 + |log det|). A conditional bijection gets `context` (one row per row of x), held
 * fixed: the Jacobian is that of x -> z at each row's context.
 */
export function independentLogDetError(bijection: Bijection, x: readonly (readonly number[])[], context?: readonly (readonly number[])[]): { jacobianError: number; logDetError: number } {
  const contextOf = (row?: number) => (context === undefined ? undefined : row === undefined ? tensor(context) : tensor([context[row]!]));
  const f: BatchMap = (t, row) => bijection.forward(t, contextOf(row))[0];
  const d = x[0]!.length;
  const exact = autogradJacobians(f, x);
  const numeric = centralJacobians(f, x);
  const logDet = bijection.forward(tensor(x), contextOf())[1].data;
  let jacobianError = 0, logDetError = 0;
  exact.forEach((J, i) => {
    const Jn = numeric[i]!;
    let scale = 1;
    for (let k = 0; k < d * d; k++) scale = Math.max(scale, Math.abs(J[k]!));
    for (let k = 0; k < d * d; k++) jacobianError = Math.max(jacobianError, Math.abs(J[k]! - Jn[k]!) / scale);
    const qr = logAbsDetQR(J, d);
    logDetError = Math.max(logDetError, Math.abs(logDet[i]! - qr) / (1 + Math.abs(qr)));
  });
  return { jacobianError, logDetError };
}
