/**
 * Fixed permutations of the features: zero log-det, exact inverse. Volume-preserving: a composition
 * only moves the points through it and adds no log-det. The post swaps halves after every
 * coupling layer (`torch.cat([x[:, dim_a:], x[:, :dim_a]], dim=1)`).
 *
 * @module
 */

import { gatherCols } from '../autograd/shape.ts';
import type { Tensor } from '../autograd/tensor.ts';
import type { Rng } from '../rng/rng.ts';
import { Bijection, checkContext, checkWidth, zeroLogDet, type FlowResult } from './bijection.ts';

/**
 * Reorders features: `forward(x)[:, j] = x[:, indices[j]]`; the inverse uses the inverse permutation.
 *
 * @example
 * const p = Permutation.swapHalves(5); // [2, 3, 4, 0, 1], the post's swap for dim 5
 * const [y] = p.forward(x);
 */
export class Permutation extends Bijection {
  readonly dim: number;
  readonly indices: Int32Array;
  readonly inverseIndices: Int32Array;
  override readonly volumePreserving = true;

  constructor(indices: ArrayLike<number>) {
    super();
    const n = indices.length;
    const inv = new Int32Array(n).fill(-1);
    for (let j = 0; j < n; j++) {
      const k = indices[j]!;
      if (!Number.isInteger(k) || k < 0 || k >= n || inv[k] !== -1) {
        throw new RangeError(`Permutation: [${Array.from(indices).join(', ')}] is not a permutation of 0..${n - 1}`);
      }
      inv[k] = j;
    }
    this.dim = n;
    this.indices = Int32Array.from(indices);
    this.inverseIndices = inv;
  }

  /**
   * The post's swap: the last `dim - dimA` features first, then the first `dimA`.
   * @example Permutation.swapHalves(4).indices; // Int32Array [2, 3, 0, 1]
   */
  static swapHalves(dim: number, dimA: number = Math.floor(dim / 2)): Permutation {
    const idx: number[] = [];
    for (let j = dimA; j < dim; j++) idx.push(j);
    for (let j = 0; j < dimA; j++) idx.push(j);
    return new Permutation(idx);
  }

  /**
   * Reverses the feature order.
   * @example Permutation.reverse(3).indices; // Int32Array [2, 1, 0]
   */
  static reverse(dim: number): Permutation {
    return new Permutation(Array.from({ length: dim }, (_, j) => dim - 1 - j));
  }

  /**
   * A fixed random permutation drawn from `rng`.
   * @example Permutation.random(4, new Rng(0));
   */
  static random(dim: number, rng: Rng): Permutation {
    return new Permutation(rng.permutation(dim));
  }

  /**
   * Data -> latent: output column j is input column `indices[j]`; log-det 0.
   * @example Permutation.reverse(2).forward(tensor([[1, 2]]))[0].toArray(); // [[2, 1]]
   */
  forward(x: Tensor, context?: Tensor): FlowResult {
    return [this.forwardPoints(x, context), zeroLogDet(x.rows)];
  }

  /**
   * Data -> latent, the points only (what a composition calls: no log-det is made).
   * @example Permutation.reverse(2).forwardPoints(tensor([[1, 2]])).toArray(); // [[2, 1]]
   */
  override forwardPoints(x: Tensor, context?: Tensor): Tensor {
    checkWidth('Permutation.forward', x, this.dim);
    checkContext('Permutation.forward', x, context, 0);
    return gatherCols(x, this.indices);
  }

  /**
   * Latent -> data: puts every column back; log-det 0.
   * @example const [x2] = perm.inverse(perm.forward(x)[0]); // x2 equals x
   */
  inverse(z: Tensor, context?: Tensor): FlowResult {
    return [this.inversePoints(z, context), zeroLogDet(z.rows)];
  }

  /**
   * Latent -> data, the points only.
   * @example perm.inversePoints(perm.forwardPoints(x)); // x
   */
  override inversePoints(z: Tensor, context?: Tensor): Tensor {
    checkWidth('Permutation.inverse', z, this.dim);
    checkContext('Permutation.inverse', z, context, 0);
    return gatherCols(z, this.inverseIndices);
  }

  /**
   * The indices, e.g. `Permutation([2, 1, 0])`.
   * @example Permutation.reverse(3).describe(); // 'Permutation([2, 1, 0])'
   */
  override describe(): string {
    return `Permutation([${Array.from(this.indices).join(', ')}])`;
  }
}
