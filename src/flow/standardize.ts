/**
 * Standardisation as part of the model: z = (x - mean) / std per feature, with log|det J| = -Σ log std.
 * Putting it inside the flow (rather than preprocessing the data) keeps `logProb` in the user's original
 * units: the Jacobian of the scaling is included.
 *
 * @module
 */

import { add, div, mul, sub } from '../autograd/elementwise.ts';
import { columnMeanStd } from '../autograd/stats.ts';
import { Tensor } from '../autograd/tensor.ts';
import { Bijection, checkContext, checkWidth, type FlowResult } from './bijection.ts';

/**
 * A fixed per-feature affine map (non-trainable; its mean and std are buffers saved in the state dict).
 *
 * @example
 * const st = Standardize.fit(data);    // mean and std of each column
 * const [z, logDet] = st.forward(data); // columns with mean 0, std 1; logDet = -Σ log std
 */
export class Standardize extends Bijection {
  readonly dim: number;
  /** 1×dim buffer. */
  mean: Tensor;
  /** 1×dim buffer. */
  std: Tensor;

  constructor(mean: ArrayLike<number>, std: ArrayLike<number>) {
    super();
    if (mean.length !== std.length || mean.length < 1) throw new RangeError(`Standardize: mean and std need the same positive length, got ${mean.length} and ${std.length}`);
    for (let j = 0; j < std.length; j++) {
      if (!Number.isFinite(mean[j]!)) throw new RangeError(`Standardize: mean of feature ${j} is ${mean[j]}`);
      if (!(std[j]! > 0) || !Number.isFinite(std[j]!)) throw new RangeError(`Standardize: std of feature ${j} must be positive and finite, got ${std[j]} (a constant column cannot be standardised)`);
    }
    this.dim = mean.length;
    this.mean = this.registerBuffer('mean', Tensor.from(1, this.dim, Float64Array.from(mean)));
    this.std = this.registerBuffer('std', Tensor.from(1, this.dim, Float64Array.from(std)));
  }

  /**
   * Mean and standard deviation (population, n in the denominator) of each column of `data`.
   * @example Standardize.fit(tensor([[0, 1], [2, 3]])).mean.toArray(); // [[1, 2]]
   */
  static fit(data: Tensor): Standardize {
    const n = data.rows, d = data.cols;
    if (n < 2) throw new RangeError(`Standardize.fit: needs at least 2 rows, got ${n}`);
    const { mean, std } = columnMeanStd(data);
    for (let j = 0; j < d; j++) {
      if (!(std[j]! > 0)) throw new RangeError(`Standardize.fit: column ${j} is constant (std 0); drop it or add noise`);
    }
    return new Standardize(mean, std);
  }

  private logDet(n: number, sign: number): Tensor {
    let s = 0;
    for (let j = 0; j < this.dim; j++) s += Math.log(this.std.data[j]!);
    return Tensor.from(n, 1, new Float64Array(n).fill(sign * s));
  }

  /**
   * Data -> standardised: z = (x - mean) / std; log|det| = -Σ log std per row.
   * @example const [z] = Standardize.fit(data).forward(data); // each column: mean 0, std 1
   */
  forward(x: Tensor, context?: Tensor): FlowResult {
    checkWidth('Standardize.forward', x, this.dim);
    checkContext('Standardize.forward', x, context, 0);
    // z = (x - mean) / std, log|det| = -Σ log std
    return [div(sub(x, this.mean), this.std), this.logDet(x.rows, -1)];
  }

  /**
   * Standardised -> data: x = z·std + mean; log|det| = Σ log std per row.
   * @example const [x] = st.inverse(z); // back in the data's units
   */
  inverse(z: Tensor, context?: Tensor): FlowResult {
    checkWidth('Standardize.inverse', z, this.dim);
    checkContext('Standardize.inverse', z, context, 0);
    // x = z·std + mean, log|det| = Σ log std
    return [add(mul(z, this.std), this.mean), this.logDet(z.rows, 1)];
  }

  /**
   * One line: the width.
   * @example Standardize.fit(tensor([[0, 1], [2, 3]])).describe(); // 'Standardize(dim=2)'
   */
  override describe(): string {
    return `Standardize(dim=${this.dim})`;
  }
}
