/**
 * PCA whitening as part of the model, for the directions that stand out: z = W (x − mean), a fixed
 * linear map fitted to the training rows. Every clearly dominant direction of variance becomes a
 * feature of its own (its principal component over its standard deviation: PCA whitening, A. Kessy, A.
 * Lewin & K. Strimmer, "Optimal whitening and decorrelation", The American Statistician 2018); where
 * variances are alike the features keep to the coordinate axes, standardised. log|det J| = log|det W|,
 * the same for every row; like `Standardize`, it keeps `logProb` in the data's own units. Every output
 * feature has mean 0 and variance 1 on the training rows; features of different groups (below) are
 * uncorrelated.
 *
 * **Groups.** The principal variances λ₁ ≥ λ₂ ≥ … are cut into groups wherever one exceeds the next by
 * more than a factor {@link GROUP_RATIO} = 2 (and by more than 1 + 4·√(2/n), four times the relative
 * sampling error of a variance from n rows). Within a group the principal directions are not
 * identifiable (equal variances leave any rotation of their subspace as good), and plain PCA turns data
 * with roundish covariance but axis-aligned structure (the checkerboard, variances 1.6 and 1.1) by an
 * angle of no meaning, after which a coupling can no longer follow the axes (mean KL 0.37 against 0.28
 * standardised, bench/spline-quality-grid.txt). So each group gets the orthonormal basis of its
 * subspace closest to the coordinate axes it leans on most (an orthogonal Procrustes rotation), each
 * direction over its standard deviation. A group of one is its principal component, signed so that its
 * largest entry is positive; a group spanning everything is exactly a standardisation. The post's
 * target (variances 9 and 1) is turned onto its diagonal; mixture-16d's two leading directions
 * (variances 20 and 18 against at most 1.3) become two features and the rest stays near the axes.
 *
 * **The order of the features.** A coupling splits its input into a first half A (the conditioning
 * features) and a second half B. The k-th feature in the order of decreasing variance (within a group,
 * by axis) goes to the k-th entry of [A₀, B₀, A₁, B₁, …] (what is left of the longer half last), so that
 * the leading directions sit on both sides of the split and the first coupling already conditions one
 * on the other. In plain order of decreasing variance, mixture-16d's two leading directions both land
 * in A and no coupling with reverse permutations ever conditions one on the other (mean KL 1.43 against
 * 0.82 interleaved, bench/spline-quality-grid.txt).
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

/**
 * Consecutive principal variances closer than this factor are one group, kept to the axes (see the
 * module comment): only clearly dominant directions are rotated onto. The checkerboard's two variances
 * differ by a factor 1.4 and stay on the axes; the post's target's (9) and mixture-16d's leading pair
 * against the rest (14) are split off.
 * @example GROUP_RATIO; // 2
 */
export const GROUP_RATIO = 2;

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
 * Rows [start, end) of `out` for a group of components of near-equal variance (rows [start, end) of
 * `pca`, Λ^{-1/2} Vᵀ): the orthonormal basis u_c of the group's subspace closest to the coordinate
 * axes it leans on most, each over its standard deviation. With M = V_Gᵀ (g×d) and S the g axes that lean most on the group's subspace
 * (column-pivoted Gram-Schmidt on M, ties by index), A = M[:, S] and Q = A (AᵀA)^{-1/2}, the orthogonal polar factor of A (the
 * solution of the orthogonal Procrustes problem min ‖AᵀQ − I‖): u_c = Σ_i Q[i, c] v_i, ordered by the
 * index of their axis. For one component, Q = the sign of its largest entry, and the row is the PCA
 * row. For a group spanning the whole space, u_c = e_c: the rows are exactly a standardisation.
 */
function alignGroup(pca: Float64Array, out: Float64Array, d: number, start: number, end: number, variances: number[]): void {
  const g = end - start;
  // M (g×d): the unit eigenvectors of the group, one per row (the PCA rows times √λ).
  const m = new Float64Array(g * d);
  for (let i = 0; i < g; i++) for (let j = 0; j < d; j++) m[i * d + j] = pca[(start + i) * d + j]! * Math.sqrt(variances[start + i]!);
  // S by column-pivoted Gram-Schmidt on M's columns (the axes' coordinates in the subspace): each time
  // the axis with the largest part not yet spanned (the first on ties), so that A = M[:, S] is invertible.
  const residual = m.slice(), chosen: number[] = [];
  for (let step = 0; step < g; step++) {
    let best = -1, bestNorm = 0;
    for (let j = 0; j < d; j++) {
      if (chosen.includes(j)) continue;
      let s = 0;
      for (let i = 0; i < g; i++) s += residual[i * d + j]! ** 2;
      if (s > bestNorm * (1 + 1e-12)) {
        best = j;
        bestNorm = s;
      }
    }
    chosen.push(best);
    const norm = Math.sqrt(bestNorm), u = Array.from({ length: g }, (_, i) => residual[i * d + best]! / norm);
    for (let j = 0; j < d; j++) {
      let dot = 0;
      for (let i = 0; i < g; i++) dot += u[i]! * residual[i * d + j]!;
      for (let i = 0; i < g; i++) residual[i * d + j]! -= dot * u[i]!;
    }
  }
  const axes = chosen.sort((p, q) => p - q);
  // A = M[:, S] (g×g); AᵀA = Σ μ q qᵀ; Q = A (AᵀA)^{-1/2}.
  const a = new Float64Array(g * g);
  for (let i = 0; i < g; i++) for (let c = 0; c < g; c++) a[i * g + c] = m[i * d + axes[c]!]!;
  const ata = new Float64Array(g * g);
  for (let r = 0; r < g; r++) for (let c = 0; c < g; c++) { let s = 0; for (let i = 0; i < g; i++) s += a[i * g + r]! * a[i * g + c]!; ata[r * g + c] = s; }
  const { values: mu, vectors: qv } = symmetricEigen(ata, g);
  const invSqrt = new Float64Array(g * g);
  for (let r = 0; r < g; r++) {
    for (let c = 0; c < g; c++) {
      let s = 0;
      for (let k = 0; k < g; k++) s += (qv[r * g + k]! * qv[c * g + k]!) / Math.sqrt(Math.max(mu[k]!, 1e-300));
      invSqrt[r * g + c] = s;
    }
  }
  const q = new Float64Array(g * g);
  for (let r = 0; r < g; r++) for (let c = 0; c < g; c++) { let s = 0; for (let k = 0; k < g; k++) s += a[r * g + k]! * invSqrt[k * g + c]!; q[r * g + c] = s; }
  // Output row c, aligned with axis S[c]: u_c = Σ_i Q[i, c] v_i over its standard deviation
  // √(u_cᵀ Σ u_c) = √(Σ_i Q[i, c]² λ_i).
  for (let c = 0; c < g; c++) {
    let variance = 0;
    for (let i = 0; i < g; i++) variance += q[i * g + c]! ** 2 * variances[start + i]!;
    const o = (start + c) * d, scale = 1 / Math.sqrt(variance);
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let i = 0; i < g; i++) s += q[i * g + c]! * m[i * d + j]!;
      out[o + j] = s * scale;
    }
  }
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
 * A fixed linear map z = W (x − mean) (non-trainable; `mean`, 1×d, and `matrix`, W as d×d with one
 * output feature per row, are buffers saved in the state dict). {@link Whiten.fit} fits it to data (see
 * the module comment); the constructor takes any invertible W.
 *
 * @example
 * const wh = Whiten.fit(train);          // dominant principal directions, unit variance, interleaved
 * const [z, logDet] = wh.forward(train); // mean 0, variance 1; logDet = log|det W|
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
   * The whitening of the rows of `data` (population covariance, n in the denominator): groups of
   * dominant principal directions, features interleaved between the coupling halves (module comment). Refuses data whose columns are linearly dependent (a
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
    // The PCA rows Λ^{-1/2} Vᵀ, by decreasing variance, then each group of near-equal variances turned
    // to the basis of its subspace closest to the coordinate axes (see alignGroup).
    const pca = new Float64Array(d * d);
    order.forEach((c, k) => {
      const s = 1 / Math.sqrt(values[c]!);
      for (let j = 0; j < d; j++) pca[k * d + j] = vectors[j * d + c]! * s;
    });
    const ratio = Math.max(GROUP_RATIO, 1 + 4 * Math.sqrt(2 / n));
    const rows = new Float64Array(d * d);
    for (let start = 0; start < d;) {
      let end = start + 1;
      while (end < d && values[order[end - 1]!]! <= ratio * values[order[end]!]!) end++;
      alignGroup(pca, rows, d, start, end, order.map((c) => values[c]!));
      start = end;
    }
    const positions = interleavedPositions(d);
    const W = new Float64Array(d * d);
    for (let k = 0; k < d; k++) W.set(rows.subarray(k * d, (k + 1) * d), positions[k]! * d);
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
   * @example const [z] = Whiten.fit(data).forward(data); // mean 0, variance 1 per feature
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
