/**
 * The base distribution of a flow.
 *
 * @module
 */

import { addScalar, scale, square } from '../autograd/elementwise.ts';
import { sum } from '../autograd/reduce.ts';
import { Tensor } from '../autograd/tensor.ts';
import type { RandomSource } from '../rng/rng.ts';
import { checkWidth } from './bijection.ts';

const LOG_2PI = Math.log(2 * Math.PI);

/**
 * The standard normal N(0, I_d), with the full normalising constant:
 * log p(z) = -½‖z‖² - (d/2)·log 2π. (The post leaves the constant out of its loss.)
 *
 * @example
 * const base = new StandardNormal(2);
 * base.logProb(tensor([[0, 0]])).item(); // -1.8378770664093453
 * const z = base.sample(100, new Rng(0)); // 100×2
 */
export class StandardNormal {
  constructor(readonly dim: number) {
    if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`StandardNormal: dim must be a positive integer, got ${dim}`);
  }

  /**
   * log p(z) per row, n×1 (differentiable).
   * @example new StandardNormal(1).logProb(tensor([[0]])).item(); // -0.9189385332046727
   */
  logProb(z: Tensor): Tensor {
    checkWidth('StandardNormal.logProb', z, this.dim);
    return addScalar(scale(sum(square(z), 1), -0.5), -0.5 * this.dim * LOG_2PI);
  }

  /**
   * n independent draws, n×dim.
   * @example new StandardNormal(2).sample(100, new Rng(0)).shape; // [100, 2]
   */
  sample(n: number, rng: RandomSource): Tensor {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`StandardNormal.sample: n must be a non-negative integer, got ${n}`);
    const data = new Float64Array(n * this.dim);
    for (let i = 0; i < data.length; i++) data[i] = rng.normal();
    return Tensor.from(n, this.dim, data);
  }

  /**
   * Differential entropy in nats, (d/2)(1 + log 2π).
   * @example new StandardNormal(2).entropy(); // 2.8378770664093453
   */
  entropy(): number {
    return 0.5 * this.dim * (1 + LOG_2PI);
  }
}
