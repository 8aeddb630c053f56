/**
 * Adam (D. P. Kingma & J. Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015), with the
 * AMSGrad variant (S. J. Reddi, S. Kale & S. Kumar, "On the Convergence of Adam and Beyond",
 * ICLR 2018) and L2 weight decay, reproducing PyTorch's `torch.optim.Adam` operation for operation so
 * that trajectories agree to rounding (1e-12 relative).
 *
 * @module
 */
import type { Tensor } from '../autograd/tensor.ts';
import { checkBoolean, checkNumber, checkOptionKeys, Optimizer } from './optimizer.ts';

/**
 * Options of {@link Adam}; the names are PyTorch's in camelCase.
 * @example { lr: 3e-4, betas: [0.9, 0.99], amsgrad: true }
 */
export interface AdamOptions {
  /** Learning rate, ≥ 0. Default 1e-3. */
  lr?: number;
  /** Decay rates `[beta1, beta2]` of the first and second moment estimates, each in [0, 1). Default [0.9, 0.999]. */
  betas?: readonly [beta1: number, beta2: number];
  /** Added to the denominator √v̂ for numerical stability, ≥ 0. Default 1e-8. */
  eps?: number;
  /** L2 penalty λ ≥ 0: λ·w is added to the gradient before the moments (coupled; see AdamW). Default 0. */
  weightDecay?: number;
  /** Use AMSGrad: divide by the running maximum of v instead of v. Default false. */
  amsgrad?: boolean;
}

/**
 * The hyperparameters of one Adam update, checked; shared by {@link Adam} and AdamW.
 * @example { beta1: 0.9, beta2: 0.999, eps: 1e-8, amsgrad: false }
 */
export interface AdamHyper {
  beta1: number;
  beta2: number;
  eps: number;
  amsgrad: boolean;
}

/**
 * The option names accepted by Adam and AdamW.
 * @example ADAM_OPTIONS.includes('eps'); // true
 */
export const ADAM_OPTIONS = ['lr', 'betas', 'eps', 'weightDecay', 'amsgrad'] as const;

/**
 * Checks Adam-family options (`owner` names the optimizer in errors) and returns the hyperparameters.
 *
 * @example
 * const { beta1, beta2, eps, amsgrad } = checkAdamOptions('Adam', { betas: [0.9, 0.99] });
 */
export function checkAdamOptions(owner: string, options: AdamOptions): AdamHyper {
  checkOptionKeys(owner, options, ADAM_OPTIONS);
  const betas = options.betas ?? [0.9, 0.999];
  if (!Array.isArray(betas) || betas.length !== 2) {
    throw new RangeError(`${owner}: betas must be an array of two numbers [beta1, beta2], got ${JSON.stringify(betas)}`);
  }
  return {
    beta1: checkNumber(owner, 'betas[0] (beta1)', betas[0], 0, 1),
    beta2: checkNumber(owner, 'betas[1] (beta2)', betas[1], 0, 1),
    eps: checkNumber(owner, 'eps', options.eps ?? 1e-8, 0),
    amsgrad: checkBoolean(owner, 'amsgrad', options.amsgrad ?? false),
  };
}

/**
 * One Adam update of one parameter `w` with gradient `g`, in place, at step `t` (1 for the first
 * update). `l2` is the coupled weight decay λ (AdamW passes 0 and decays `w` itself). `vMax` is the
 * AMSGrad running maximum, or null. Allocates nothing.
 *
 * The operations and their order are PyTorch's (1.13, single-tensor path), for agreement to rounding:
 * ```
 * g ← g + λ·w
 * m ← m·β₁ + (1 − β₁)·g
 * v ← v·β₂ + ((1 − β₂)·g)·g
 * vMax ← max(vMax, v)                        (AMSGrad; v below then means vMax)
 * denom ← √v / √(1 − β₂ᵗ) + ε                (= √v̂ + ε, ε added after the square root)
 * w ← w + (−(lr / (1 − β₁ᵗ))·m) / denom      (= w − lr·m̂ / (√v̂ + ε))
 * ```
 *
 * @example
 * adamUpdate(w.data, w.grad!, m, v, null, 1, 1e-3, 0.9, 0.999, 1e-8, 0);
 */
export function adamUpdate(
  w: Float64Array,
  g: Float64Array,
  m: Float64Array,
  v: Float64Array,
  vMax: Float64Array | null,
  t: number,
  lr: number,
  beta1: number,
  beta2: number,
  eps: number,
  l2: number,
): void {
  // m̂ = m / (1 − β₁ᵗ) and v̂ = v / (1 − β₂ᵗ) are folded into stepSize and bias2Sqrt.
  const bias1 = 1 - beta1 ** t;
  const bias2 = 1 - beta2 ** t;
  const stepSize = lr / bias1;
  const bias2Sqrt = Math.sqrt(bias2);
  for (let i = 0; i < w.length; i++) {
    let gi = g[i]!;
    if (l2 !== 0) gi = gi + l2 * w[i]!;
    const mi = m[i]! * beta1 + (1 - beta1) * gi;
    let vi = v[i]! * beta2 + ((1 - beta2) * gi) * gi;
    m[i] = mi;
    v[i] = vi;
    if (vMax !== null) {
      vi = Math.max(vMax[i]!, vi);
      vMax[i] = vi;
    }
    const denom = Math.sqrt(vi) / bias2Sqrt + eps;
    w[i] = w[i]! + (-stepSize * mi) / denom;
  }
}

/**
 * Adam (Kingma & Ba, Adam, ICLR 2015), as PyTorch's `torch.optim.Adam`:
 *
 * ```
 * g ← ∇f(w) + λ·w                       (λ = weightDecay, an L2 penalty)
 * m ← β₁·m + (1 − β₁)·g,   v ← β₂·v + (1 − β₂)·g²
 * m̂ = m / (1 − β₁ᵗ),       v̂ = v / (1 − β₂ᵗ)        (v̂ uses max of all v so far with amsgrad)
 * w ← w − lr·m̂ / (√v̂ + ε)
 * ```
 *
 * With weight decay this is Adam with an L2 penalty, whose decay is scaled down by √v̂; for decay
 * independent of the gradient scale use {@link AdamW}. The state dict holds buffers `m`, `v` (and
 * `vMax` with amsgrad) and each parameter's step count t.
 *
 * @example
 * const opt = new Adam(model.parameters(), { lr: 1e-3 });
 * opt.zeroGrad();
 * loss.backward();
 * opt.step();
 */
export class Adam extends Optimizer<Required<AdamOptions>> {
  /** Decay rate β₁ of the first moment m. */
  readonly beta1: number;
  /** Decay rate β₂ of the second moment v. */
  readonly beta2: number;
  /** ε, added to √v̂. */
  readonly eps: number;
  /** Weight decay λ: added to the gradient (L2) in Adam, applied to the weights directly in AdamW. */
  readonly weightDecay: number;
  /** Whether AMSGrad's running maximum of v is used. */
  readonly amsgrad: boolean;
  protected readonly m: Float64Array[];
  protected readonly v: Float64Array[];
  protected readonly vMax: Float64Array[] | null;

  /**
   * @throws RangeError for a negative or non-finite lr, eps or weight decay, or a beta outside [0, 1);
   *   TypeError for an unknown option.
   */
  constructor(params: Iterable<Tensor>, options: AdamOptions = {}, variant: { label: string; defaultWeightDecay: number } = { label: 'Adam', defaultWeightDecay: 0 }) {
    const hyper = checkAdamOptions(variant.label, options);
    super(variant.label, params, options.lr ?? 1e-3);
    this.beta1 = hyper.beta1;
    this.beta2 = hyper.beta2;
    this.eps = hyper.eps;
    this.amsgrad = hyper.amsgrad;
    this.weightDecay = checkNumber(variant.label, 'weightDecay', options.weightDecay ?? variant.defaultWeightDecay, 0);
    this.m = this.addBuffer('m');
    this.v = this.addBuffer('v');
    this.vMax = this.amsgrad ? this.addBuffer('vMax') : null;
  }

  /**
   * One Adam update of every parameter whose grad is not null. Does not allocate.
   * @example loss.backward(); opt.step();
   */
  step(): void {
    for (let k = 0; k < this.params.length; k++) {
      const g = this.gradOf(k);
      if (g === null) continue;
      const t = (this.steps[k]! += 1);
      const vMax = this.vMax === null ? null : this.vMax[k]!;
      adamUpdate(this.params[k]!.data, g, this.m[k]!, this.v[k]!, vMax, t, this.lr, this.beta1, this.beta2, this.eps, this.weightDecay);
    }
  }

  protected options(): Required<AdamOptions> {
    return { lr: this.lr, betas: [this.beta1, this.beta2], eps: this.eps, weightDecay: this.weightDecay, amsgrad: this.amsgrad };
  }
}
