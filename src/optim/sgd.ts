/**
 * Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and L2 weight
 * decay, with PyTorch's `torch.optim.SGD` semantics, operation for operation.
 *
 * @module
 */
import type { Tensor } from '../autograd/tensor.ts';
import { checkBoolean, checkNumber, checkOptionKeys, Optimizer } from './optimizer.ts';

/**
 * Options of {@link SGD}; the names are PyTorch's in camelCase.
 * @example { lr: 0.1, momentum: 0.9, nesterov: true }
 */
export interface SGDOptions {
  /** Learning rate (required), ≥ 0. */
  lr: number;
  /** Momentum factor μ ≥ 0; 0 (the default) is plain gradient descent. */
  momentum?: number;
  /** Dampening τ of the momentum: the gradient enters the buffer with weight 1 − τ. Default 0. */
  dampening?: number;
  /** Nesterov momentum (Sutskever et al., ICML 2013); needs momentum > 0 and dampening 0. Default false. */
  nesterov?: boolean;
  /** L2 penalty λ ≥ 0: λ·w is added to the gradient. Default 0. */
  weightDecay?: number;
}

const SGD_OPTIONS = ['lr', 'momentum', 'dampening', 'nesterov', 'weightDecay'] as const;

/**
 * Stochastic gradient descent, exactly as PyTorch's `torch.optim.SGD`. For each parameter w with
 * gradient g, at step t:
 *
 * ```
 * g ← g + λ·w                          (if weightDecay λ ≠ 0)
 * b ← g                                (t = 1, if momentum μ ≠ 0)
 * b ← μ·b + (1 − τ)·g                  (t > 1)
 * g ← nesterov ? g + μ·b : b           (if μ ≠ 0)
 * w ← w − lr·g
 * ```
 *
 * On the first step the momentum buffer is the gradient itself, not (1 − τ)·g, as in PyTorch.
 * The state dict holds one buffer, `momentumBuffer`, when momentum ≠ 0 (none otherwise).
 *
 * @example
 * const opt = new SGD([w], { lr: 0.1, momentum: 0.9 });
 * for (let epoch = 0; epoch < 100; epoch++) {
 *   opt.zeroGrad();
 *   lossOf(w).backward();
 *   opt.step();
 * }
 */
export class SGD extends Optimizer<Required<SGDOptions>> {
  /** Momentum factor μ. */
  readonly momentum: number;
  /** Dampening τ. */
  readonly dampening: number;
  /** Whether Nesterov momentum is used. */
  readonly nesterov: boolean;
  /** L2 weight decay λ. */
  readonly weightDecay: number;
  /** One momentum buffer b per parameter (empty when momentum is 0). */
  private readonly momentumBuffer: Float64Array[];

  /**
   * @throws RangeError for a negative or non-finite lr, momentum or weight decay, a non-finite
   *   dampening, or Nesterov without momentum or with dampening; TypeError for an unknown option.
   */
  constructor(params: Iterable<Tensor>, options: SGDOptions) {
    checkOptionKeys('SGD', options, SGD_OPTIONS);
    if (options.lr === undefined) throw new TypeError('SGD: lr is required, e.g. new SGD(params, { lr: 0.01 })');
    super('SGD', params, options.lr);
    this.momentum = checkNumber('SGD', 'momentum', options.momentum ?? 0, 0);
    this.dampening = checkNumber('SGD', 'dampening', options.dampening ?? 0, -Infinity);
    this.nesterov = checkBoolean('SGD', 'nesterov', options.nesterov ?? false);
    this.weightDecay = checkNumber('SGD', 'weightDecay', options.weightDecay ?? 0, 0);
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new RangeError(`SGD: Nesterov momentum needs momentum > 0 and dampening = 0, got momentum ${this.momentum} and dampening ${this.dampening}`);
    }
    this.momentumBuffer = this.momentum !== 0 ? this.addBuffer('momentumBuffer') : [];
  }

  /**
   * One SGD update of every parameter whose grad is not null. Does not allocate.
   * @example loss.backward(); opt.step();
   */
  step(): void {
    const lr = this.lr, mu = this.momentum, tau = this.dampening, lambda = this.weightDecay, nesterov = this.nesterov;
    for (let k = 0; k < this.params.length; k++) {
      const g = this.gradOf(k);
      if (g === null) continue;
      const w = this.params[k]!.data;
      const first = this.steps[k] === 0;
      this.steps[k]! += 1;
      if (mu === 0) {
        for (let i = 0; i < w.length; i++) {
          let d = g[i]!;
          if (lambda !== 0) d = d + lambda * w[i]!;
          w[i] = w[i]! + -lr * d;
        }
        continue;
      }
      const b = this.momentumBuffer[k]!;
      for (let i = 0; i < w.length; i++) {
        let d = g[i]!;
        if (lambda !== 0) d = d + lambda * w[i]!;
        if (first) b[i] = d;
        else b[i] = b[i]! * mu + (1 - tau) * d;
        if (nesterov) d = d + mu * b[i]!;
        else d = b[i]!;
        w[i] = w[i]! + -lr * d;
      }
    }
  }

  protected options(): Required<SGDOptions> {
    return { lr: this.lr, momentum: this.momentum, dampening: this.dampening, nesterov: this.nesterov, weightDecay: this.weightDecay };
  }
}
