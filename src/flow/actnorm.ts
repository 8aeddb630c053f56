/**
 * Activation normalisation (D. P. Kingma & P. Dhariwal, Glow, NeurIPS 2018): a per-feature affine map
 * y = (x + bias)·exp(logScale), initialised from the first batch it sees in training mode so that the
 * output has zero mean and unit variance per feature. log|det J| = Σ_j logScale_j for every row.
 *
 * The "initialised" flag is a buffer saved in the state dict, so a loaded model is never initialised
 * again from data (a recurring bug in Python flow libraries).
 *
 * @module
 */

import { add, exp, mul, neg, sub } from '../autograd/elementwise.ts';
import { sum } from '../autograd/reduce.ts';
import { columnMeanStd } from '../autograd/stats.ts';
import { noGrad, Tensor } from '../autograd/tensor.ts';
import { Bijection, checkContext, checkWidth, type FlowResult } from './bijection.ts';

/**
 * ActNorm with data-dependent initialisation.
 *
 * @example
 * const norm = new ActNorm(2);
 * const [z] = norm.forward(batch); // first call in training mode: initialises from batch
 * norm.initialised; // true, and saved in norm.stateDict() as 'initialisedFlag'
 */
export class ActNorm extends Bijection {
  readonly dim: number;
  /** 1×dim, added before scaling. */
  bias: Tensor;
  /** 1×dim, log of the per-feature scale. */
  logScale: Tensor;
  /** 1×1 buffer: 1 once initialised (from data or from a loaded state dict). */
  initialisedFlag: Tensor;
  /** Small number added to the standard deviation at initialisation. */
  readonly eps: number;

  constructor(dim: number, options: { eps?: number } = {}) {
    super();
    if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`ActNorm: dim must be a positive integer, got ${dim}`);
    this.dim = dim;
    this.eps = options.eps ?? 1e-6;
    this.bias = Tensor.zeros(1, dim, { requiresGrad: true });
    this.logScale = Tensor.zeros(1, dim, { requiresGrad: true });
    this.initialisedFlag = this.registerBuffer('initialisedFlag', Tensor.zeros(1, 1));
  }

  /**
   * Whether the data-dependent initialisation has happened (or a state dict was loaded).
   * @example new ActNorm(2).initialised; // false
   */
  get initialised(): boolean {
    return this.initialisedFlag.data[0] === 1;
  }

  /**
   * Sets bias = -mean and logScale = -log(std + eps) from a batch.
   * @example norm.initialiseFrom(batch); // norm.forward(batch)[0] now has mean 0, std ≈ 1 per column
   */
  initialiseFrom(x: Tensor): void {
    const n = x.rows, d = this.dim;
    if (n < 2) throw new RangeError(`ActNorm: data-dependent initialisation needs at least 2 rows, got ${n}`);
    const { mean, std } = columnMeanStd(x);
    for (let j = 0; j < d; j++) {
      this.bias.data[j] = -mean[j]!;
      this.logScale.data[j] = -Math.log(std[j]! + this.eps);
    }
    this.initialisedFlag.data[0] = 1;
  }

  /**
   * Data -> latent: y = (x + bias)·exp(logScale); log|det| = Σ logScale per row. Initialises from `x` first if needed (training mode).
   * @example const [y, logDet] = norm.forward(batch);
   */
  forward(x: Tensor, context?: Tensor): FlowResult {
    checkWidth('ActNorm.forward', x, this.dim);
    checkContext('ActNorm.forward', x, context, 0);
    if (!this.initialised && this.training) noGrad(() => this.initialiseFrom(x));
    // y = (x + bias)·exp(logScale), log|det| = Σ logScale
    const y = mul(add(x, this.bias), exp(this.logScale));
    return [y, add(Tensor.zeros(x.rows, 1), sum(this.logScale))];
  }

  /**
   * Latent -> data: x = y·exp(-logScale) - bias; log|det| = -Σ logScale per row.
   * @example const [x] = norm.inverse(y);
   */
  inverse(y: Tensor, context?: Tensor): FlowResult {
    checkWidth('ActNorm.inverse', y, this.dim);
    checkContext('ActNorm.inverse', y, context, 0);
    // x = y·exp(-logScale) - bias, log|det| = -Σ logScale
    const x = sub(mul(y, exp(neg(this.logScale))), this.bias);
    return [x, neg(add(Tensor.zeros(y.rows, 1), sum(this.logScale)))];
  }

  /**
   * One line: the width, and whether it still awaits initialisation.
   * @example new ActNorm(2).describe(); // 'ActNorm(dim=2, not initialised)'
   */
  override describe(): string {
    return `ActNorm(dim=${this.dim}${this.initialised ? '' : ', not initialised'})`;
  }
}
