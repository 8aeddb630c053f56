/**
 * PCA whitening as part of the model: z = W (x − mean), a fixed linear map fitted to the training rows
 * whose outputs are the principal components of the data, each scaled to unit variance, so that z has
 * mean 0 and identity covariance (A. Kessy, A. Lewin & K. Strimmer, "Optimal whitening and
 * decorrelation", The American Statistician 2018: PCA whitening, W = Λ^{-1/2} Vᵀ up to the order of its
 * rows). log|det J| = log|det W| = −½ Σ log λ_k, the same for every row; like `Standardize`, it keeps
 * `logProb` in the data's own units.
 *
 * **The order of the components.** A coupling splits its input into a first half A (the conditioning
 * features) and a second half B. Component k (the k-th largest variance) goes to the k-th entry of
 * [A₀, B₀, A₁, B₁, …] (what is left of the longer half last), so that the leading components sit on
 * both sides of the split and the first coupling already conditions one on the other. Where the data's
 * structure lies in a few directions (a mixture whose means span a low-dimensional subspace), those
 * directions become the first few features and the rest is close to independent noise. In the order of
 * decreasing variance instead, the two leading components of mixture-16d both land in A and no coupling
 * with reverse permutations ever conditions one on the other (mean KL 1.43 against 0.82 interleaved,
 * bench/spline-quality-grid.txt).
 *
 * **Signs and ties.** Each component's direction is fixed up to sign; the sign is chosen so that its
 * entry of largest magnitude is positive. Equal variances leave the rotation within their subspace
 * arbitrary (as in any PCA): data with round covariance but axis-aligned structure (the checkerboard)
 * is turned by an angle the sample noise decides, and a coupling that could follow the axes no longer
 * can; standardise such data instead.
 *
 * @module
 */

import { linear } from '../autograd/matmul.ts';
import { sub } from '../autograd/elementwise.ts';
import { Tensor } from '../autograd/tensor.ts';
import { Bijection, checkContext, checkWidth, type FlowResult } from './bijection.ts';
import { logAbsDet } from './check.ts';

/**
 * Eigenvalues and eigenvectors of a symmetric d×d matrix (row-major) by cyclic Jacobi rotations (G. H.
 * Golub & C. F. Van Loan, Matrix Computations, 4th ed., §8.5): `values[k]` belongs to the column k of
 * `vectors` (row-major d×d, orthonormal columns). Unsorted. Deterministic: the same input gives the same
 * bits.
 *
 * @example symmetricEigen(new Float64Array([2, 1, 1, 2]), 2).values; // [1, 3] (in some order)
 */
export function symmetricEigen(matrix: Float64Array, d: number): { values: Float64Array; vectors: Float64Array } {
  if (matrix.length !== d * d) throw new RangeError(`symmetricEigen: a ${d}×${d} matrix needs ${d * d} entries, got ${matrix.length}`);
  const a = matrix.slice(), v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  let scale = 0;
  for (let i = 0; i < d * d; i++) scale += a[i]! * a[i]!;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += a[p * d + q]! * a[p * d + q]!;
    if (off <= 1e-30 * scale) break;
    for (let p = 0; p < d; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = a[p * d + q]!;
        if (apq === 0) continue;
        // The rotation by θ in the (p, q) plane that zeroes a_pq: t = tan θ, the smaller root of t² + 2τt − 1 = 0.
        const tau = (a[q * d + q]! - a[p * d + p]!) / (2 * apq);
        const t = (tau >= 0 ? 1 : -1) / (Math.abs(tau) + Math.sqrt(tau * tau + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < d; k++) {
          const akp = a[k * d + p]!, akq = a[k * d + q]!;
          a[k * d + p] = c * akp - s * akq;
          a[k * d + q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          const apk = a[p * d + k]!, aqk = a[q * d + k]!;
          a[p * d + k] = c * apk - s * aqk;
          a[q * d + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < d; k++) {
          const vkp = v[k * d + p]!, vkq = v[k * d + q]!;
          v[k * d + p] = c * vkp - s * vkq;
          v[k * d + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: Float64Array.from({ length: d }, (_, i) => a[i * d + i]!), vectors: v };
}

/** The inverse of a square matrix (row-major) by Gauss-Jordan elimination with partial pivoting; null when singular. */
function invert(m: Float64Array, d: number): Float64Array | null {
  const a = m.slice(), inv = new Float64Array(d * d);
  for (let i = 0; i < d; i++) inv[i * d + i] = 1;
  for (let k = 0; k < d; k++) {
    let p = k;
    for (let i = k + 1; i < d; i++) if (Math.abs(a[i * d + k]!) > Math.abs(a[p * d + k]!)) p = i;
    const pivot = a[p * d + k]!;
    if (pivot === 0 || !Number.isFinite(pivot)) return null;
    if (p !== k) {
      for (let j = 0; j < d; j++) {
        [a[k * d + j], a[p * d + j]] = [a[p * d + j]!, a[k * d + j]!];
        [inv[k * d + j], inv[p * d + j]] = [inv[p * d + j]!, inv[k * d + j]!];
      }
    }
    for (let j = 0; j < d; j++) {
      a[k * d + j]! /= pivot;
      inv[k * d + j]! /= pivot;
    }
    for (let i = 0; i < d; i++) {
      if (i === k) continue;
      const f = a[i * d + k]!;
      if (f === 0) continue;
      for (let j = 0; j < d; j++) {
        a[i * d + j]! -= f * a[k * d + j]!;
        inv[i * d + j]! -= f * inv[k * d + j]!;
      }
    }
  }
  return inv;
}

/**
 * The output position of each principal component: component k (k-th largest variance) goes to the
 * k-th entry of [A₀, B₀, A₁, B₁, …] for the coupling split A = [0, ⌊d/2⌋), B = [⌊d/2⌋, d).
 * @example interleavedPositions(4); // [0, 2, 1, 3]
 */
export function interleavedPositions(d: number): number[] {
  const h = Math.floor(d / 2), out: number[] = [];
  for (let i = 0; i < d - h; i++) {
    if (i < h) out.push(i);
    out.push(h + i);
  }
  return out;
}

/**
 * A fixed whitening map z = W (x − mean) (non-trainable; `mean`, 1×d, and `matrix`, W as d×d with one
 * output feature per row, are buffers saved in the state dict). {@link Whiten.fit} fits PCA whitening
 * to data (see the module comment); the constructor takes any invertible W.
 *
 * @example
 * const wh = Whiten.fit(train);          // principal components, unit variance, interleaved
 * const [z, logDet] = wh.forward(train); // mean 0, identity covariance; logDet = log|det W|
 * const [x] = wh.inverse(z);             // back in the data's units
 */
export class Whiten extends Bijection {
  readonly dim: number;
  /** 1×dim buffer. */
  mean: Tensor;
  /** dim×dim buffer: W, row k gives output feature k. */
  matrix: Tensor;
  /** W's inverse and log|det W|, recomputed whenever the buffer's values change (e.g. after loadStateDict). */
  #cache: { key: Float64Array; inverse: Tensor; logDet: number } | null = null;

  constructor(mean: ArrayLike<number>, matrix: ArrayLike<number>) {
    super();
    const d = mean.length;
    if (d < 1 || matrix.length !== d * d) throw new RangeError(`Whiten: mean of length ${d} needs a ${d}×${d} matrix (${d * d} entries, row-major), got ${matrix.length} entries`);
    for (let j = 0; j < d; j++) if (!Number.isFinite(mean[j]!)) throw new RangeError(`Whiten: mean of feature ${j} is ${mean[j]}`);
    for (let i = 0; i < d * d; i++) {
      if (!Number.isFinite(matrix[i]!)) throw new RangeError(`Whiten: matrix entry (${Math.floor(i / d)}, ${i % d}) is ${matrix[i]}`);
    }
    this.dim = d;
    this.mean = this.registerBuffer('mean', Tensor.from(1, d, Float64Array.from(mean)));
    this.matrix = this.registerBuffer('matrix', Tensor.from(d, d, Float64Array.from(matrix)));
    this.#prepared();
  }

  /**
   * PCA whitening of the rows of `data` (population covariance, n in the denominator), components
   * interleaved between the coupling halves. Refuses data whose columns are linearly dependent (a
   * direction of variance ≤ 1e-12 of the largest) or that has fewer rows than columns.
   * @example Whiten.fit(tensor([[0, 0], [2, 2], [1, 0], [1, 2]])).forward(x);
   */
  static fit(data: Tensor): Whiten {
    const n = data.rows, d = data.cols, x = data.data;
    if (n <= d) throw new RangeError(`Whiten.fit: needs more rows than columns to estimate a ${d}×${d} covariance, got ${n} rows`);
    const mean = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += x[i * d + j]!;
    for (let j = 0; j < d; j++) mean[j]! /= n;
    const cov = new Float64Array(d * d), row = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) row[j] = x[i * d + j]! - mean[j]!;
      for (let j = 0; j < d; j++) for (let k = j; k < d; k++) cov[j * d + k]! += row[j]! * row[k]!;
    }
    for (let j = 0; j < d; j++) {
      for (let k = j; k < d; k++) {
        cov[j * d + k]! /= n;
        cov[k * d + j] = cov[j * d + k]!;
      }
    }
    const { values, vectors } = symmetricEigen(cov, d);
    const order = Array.from({ length: d }, (_, k) => k).sort((p, q) => values[q]! - values[p]! || p - q);
    const largest = values[order[0]!]!;
    const smallest = values[order[d - 1]!]!;
    if (!(largest > 0) || !Number.isFinite(largest) || !(smallest > 1e-12 * largest)) {
      throw new RangeError(`Whiten.fit: the columns are linearly dependent or constant (covariance eigenvalues from ${largest.toPrecision(3)} down to ${smallest.toPrecision(3)}); drop a redundant column, or standardise instead`);
    }
    const positions = interleavedPositions(d);
    const W = new Float64Array(d * d);
    order.forEach((c, k) => {
      let sign = 1, big = -1;
      for (let j = 0; j < d; j++) {
        const e = vectors[j * d + c]!;
        if (Math.abs(e) > big) {
          big = Math.abs(e);
          sign = e < 0 ? -1 : 1;
        }
      }
      const r = positions[k]!, s = sign / Math.sqrt(values[c]!);
      for (let j = 0; j < d; j++) W[r * d + j] = vectors[j * d + c]! * s;
    });
    return new Whiten(mean, W);
  }

  /** W⁻¹ and log|det W| for the current buffer values. */
  #prepared(): { inverse: Tensor; logDet: number } {
    const w = this.matrix.data, d = this.dim;
    const c = this.#cache;
    if (c !== null && c.key.every((v, i) => v === w[i])) return c;
    const inv = invert(w, d);
    const logDet = logAbsDet(w, d);
    if (inv === null || !Number.isFinite(logDet) || inv.some((v) => !Number.isFinite(v))) throw new RangeError(`Whiten: the ${d}×${d} matrix is singular (log|det| ${logDet})`);
    this.#cache = { key: w.slice(), inverse: Tensor.from(d, d, inv), logDet };
    return this.#cache;
  }

  /**
   * Data -> whitened: z = W (x − mean); log|det| = log|det W| per row.
   * @example const [z] = Whiten.fit(data).forward(data); // identity covariance
   */
  forward(x: Tensor, context?: Tensor): FlowResult {
    checkWidth('Whiten.forward', x, this.dim);
    checkContext('Whiten.forward', x, context, 0);
    const { logDet } = this.#prepared();
    // z = (x − mean)·Wᵀ, log|det| = log|det W|
    return [linear(sub(x, this.mean), this.matrix), Tensor.from(x.rows, 1, new Float64Array(x.rows).fill(logDet))];
  }

  /**
   * Whitened -> data: x = W⁻¹ z + mean; log|det| = −log|det W| per row.
   * @example const [x] = wh.inverse(z); // back in the data's units
   */
  inverse(z: Tensor, context?: Tensor): FlowResult {
    checkWidth('Whiten.inverse', z, this.dim);
    checkContext('Whiten.inverse', z, context, 0);
    const { inverse, logDet } = this.#prepared();
    // x = z·W⁻ᵀ + mean, log|det| = −log|det W|
    return [linear(z, inverse, this.mean), Tensor.from(z.rows, 1, new Float64Array(z.rows).fill(-logDet))];
  }

  /**
   * One line: the width.
   * @example Whiten.fit(data).describe(); // 'Whiten(dim=2)'
   */
  override describe(): string {
    return `Whiten(dim=${this.dim})`;
  }
}
