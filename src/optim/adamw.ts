/**
 * AdamW: Adam with decoupled weight decay (I. Loshchilov & F. Hutter, "Decoupled Weight Decay
 * Regularization", ICLR 2019), as PyTorch's `torch.optim.AdamW`.
 *
 * @module
 */
import type { Tensor } from '../autograd/tensor.ts';
import { Adam, adamUpdate, type AdamOptions } from './adam.ts';

/**
 * Options of {@link AdamW}: those of Adam, with weightDecay defaulting to 1e-2 and decoupled.
 * @example { lr: 1e-3, weightDecay: 0.05 }
 */
export type AdamWOptions = AdamOptions;

/**
 * AdamW (Loshchilov & Hutter, Decoupled Weight Decay Regularization, ICLR 2019): the weights decay
 * directly, by a factor that does not depend on the gradient, then Adam (Kingma & Ba, ICLR 2015)
 * updates them with the plain gradient:
 *
 * ```
 * w ← w·(1 − lr·λ)                      (λ = weightDecay, default 1e-2)
 * m ← β₁·m + (1 − β₁)·g,   v ← β₂·v + (1 − β₂)·g²
 * w ← w − lr·m̂ / (√v̂ + ε)
 * ```
 *
 * The decay is scaled by the current lr, as in PyTorch (the paper scales it by the schedule
 * multiplier only). The state dict holds buffers `m`, `v` (and `vMax` with amsgrad).
 *
 * @example
 * const opt = new AdamW(model.parameters(), { lr: 1e-3, weightDecay: 0.01 });
 * loss.backward();
 * opt.step();
 */
export class AdamW extends Adam {
  /**
   * @throws RangeError for a negative or non-finite lr, eps or weight decay, or a beta outside [0, 1);
   *   TypeError for an unknown option.
   */
  constructor(params: Iterable<Tensor>, options: AdamWOptions = {}) {
    super(params, options, { label: 'AdamW', defaultWeightDecay: 1e-2 });
  }

  /**
   * One AdamW update of every parameter whose grad is not null. Does not allocate.
   * @example loss.backward(); opt.step();
   */
  override step(): void {
    const lr = this.lr;
    const decay = 1 - lr * this.weightDecay;
    for (let k = 0; k < this.params.length; k++) {
      const g = this.gradOf(k);
      if (g === null) continue;
      const w = this.params[k]!.data;
      const t = (this.steps[k]! += 1);
      // w ← w·(1 − lr·λ), before and independent of the Adam step
      if (this.weightDecay !== 0) for (let i = 0; i < w.length; i++) w[i] = w[i]! * decay;
      const vMax = this.vMax === null ? null : this.vMax[k]!;
      adamUpdate(w, g, this.m[k]!, this.v[k]!, vMax, t, lr, this.beta1, this.beta2, this.eps, 0);
    }
  }
}
