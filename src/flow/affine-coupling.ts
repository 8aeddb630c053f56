/**
 * The affine coupling layer of RealNVP (L. Dinh, J. Sohl-Dickstein & S. Bengio, Density estimation
 * using Real NVP, ICLR 2017).
 *
 * **Convention (the paper's), data -> latent:** with x split into a conditioning part x_A and a
 * transformed part x_B,
 *
 *     y_A = x_A,   y_B = x_B · exp(s(x_A)) + t(x_A),   log|det J| = Σ_j s_j(x_A).
 *
 * The post's layer is `z_B = exp(-s'(x_A)) · (x_B - b(x_A))`: the same family with s = -s' and
 * t = -b·exp(-s'). Its exact form, with its own parameter names, is {@link PostCoupling}.
 *
 * **Bounding the log-scale.** The conditioner outputs a raw value `a`; `scale` chooses s(a):
 * - `'exp'`: s = a (unbounded, as in the post); ds/da = 1. Large `a` can overflow exp and diverge.
 * - `'tanh'`: s = c·tanh(a), with c a learned factor per feature starting at 1 (the paper's choice);
 *   ds/da = c·(1 - tanh²a), ds/dc = tanh(a). |s| ≤ |c|.
 * - `'softclamp'` (default): s = a / (1 + |a|/B), a smooth bound to (-B, B) (zuko's soft clamp);
 *   ds/da = 1 / (1 + |a|/B)², which is 1 at a = 0 and continuous. B = `bound`, 3 by default, so one layer
 *   scales a feature by at most e³ ≈ 20.
 * With the conditioner's last layer at zero (the default), a = t = 0, so s = 0 and a fresh coupling is
 * exactly the identity.
 *
 * **Conditioning.** With `contextDim = c > 0` the conditioner reads the context beside x_A
 * (`conditioner.ts`): s and t are functions of [x_A | context], and forward/inverse take the context
 * (n×c). The log-det is still Σ s: the Jacobian with respect to x stays triangular.
 *
 * @module
 */

import { abs, add, addScalar, div, exp, mul, neg, scale as scaleBy, sub, tanh } from '../autograd/elementwise.ts';
import { sum } from '../autograd/reduce.ts';
import { sliceCols } from '../autograd/shape.ts';
import { formatShape, ShapeError, Tensor } from '../autograd/tensor.ts';
import { checkOptionKeys } from '../autograd/options.ts';
import type { RandomSource } from '../rng/rng.ts';
import type { ActivationName, Layer } from '../nn/layers.ts';
import { Bijection, checkContext, checkWidth, type FlowResult } from './bijection.ts';
import { conditionerInput, conditionerNet } from './conditioner.ts';
import { joinParts, makeSplit, splitParts, type MaskSpec, type Split } from './mask.ts';

/**
 * How the raw log-scale is bounded; see the module comment.
 * @example new AffineCoupling({ dim: 2, scale: 'tanh', rng: new Rng(0) });
 */
export type ScaleMode = 'exp' | 'tanh' | 'softclamp';

/**
 * Options of {@link AffineCoupling}.
 * @example new AffineCoupling({ dim: 4, mask: 'alternating', hidden: 32, depth: 1, rng: new Rng(0) });
 */
export interface AffineCouplingOptions {
  /** Number of features (>= 2). */
  dim: number;
  /** Which features condition (pass through); default `'half'`. */
  mask?: MaskSpec;
  /** Swap the roles of the two parts of the mask. */
  invertMask?: boolean;
  /** Width of the conditioning context read beside x_A (default 0: unconditional). */
  contextDim?: number;
  /** One conditioner with two heads: maps |A| (+ contextDim) features to 2·|B| columns, raw log-scales first, then shifts. */
  net?: Layer;
  /** Separate conditioners for the raw log-scale and the shift (both |A| (+ contextDim) -> |B|); give both or neither. */
  scaleNet?: Layer;
  shiftNet?: Layer;
  /** Bound of the log-scale; default `'softclamp'`. */
  scale?: ScaleMode;
  /** B of the soft clamp (default 3). */
  bound?: number;
  /** Hidden width of the default conditioner (default 32, as RealNVP's). */
  hidden?: number;
  /** Number of hidden layers of the default conditioner (default 1, as RealNVP's). */
  depth?: number;
  /** Activation of the default conditioner (default 'tanh': smooth s and t, hence a smooth density). */
  activation?: ActivationName;
  /** Zero the default conditioner's last layer so the coupling starts as the identity (default true). */
  zeroInit?: boolean;
  /** Seeded generator for the default conditioner's weights. */
  rng?: RandomSource;
}

const OPTION_KEYS = ['dim', 'mask', 'invertMask', 'contextDim', 'net', 'scaleNet', 'shiftNet', 'scale', 'bound', 'hidden', 'depth', 'activation', 'zeroInit', 'rng'];

// s = a / (1 + |a|/B)
// ds/da = 1 / (1 + |a|/B)²
function softclamp(a: Tensor, bound: number): Tensor {
  return div(a, addScalar(scaleBy(abs(a), 1 / bound), 1));
}

/**
 * An affine coupling layer in the paper's convention (see the module comment).
 *
 * @example
 * const layer = new AffineCoupling({ dim: 2, hidden: 64, rng: new Rng(0) });
 * const [z, logDet] = layer.forward(x);  // identity at initialisation: z = x, logDet = 0
 * const [x2] = layer.inverse(z);         // x2 ≈ x
 * const cond = new AffineCoupling({ dim: 2, contextDim: 3, rng: new Rng(0) });
 * cond.forward(x, context);              // context n×3
 */
export class AffineCoupling extends Bijection {
  readonly dim: number;
  override readonly contextDim: number;
  readonly split: Split;
  readonly scaleMode: ScaleMode;
  readonly bound: number;
  /** The conditioner (two heads), or null when separate nets are used. */
  net: Layer | null;
  scaleNet: Layer | null;
  shiftNet: Layer | null;
  /** The learned factor c of the `'tanh'` mode (1×|B|), else null. */
  scaleFactor: Tensor | null;

  constructor(options: AffineCouplingOptions) {
    super();
    checkOptionKeys('AffineCoupling', options, OPTION_KEYS);
    const split = makeSplit(options.dim, options.mask ?? 'half', options.invertMask ?? false);
    this.dim = options.dim;
    const contextDim = options.contextDim ?? 0;
    if (!Number.isInteger(contextDim) || contextDim < 0) throw new RangeError(`AffineCoupling: contextDim must be a non-negative integer, got ${String(options.contextDim)}`);
    this.contextDim = contextDim;
    this.split = split;
    this.scaleMode = options.scale ?? 'softclamp';
    if (!['exp', 'tanh', 'softclamp'].includes(this.scaleMode)) throw new RangeError(`AffineCoupling: scale must be 'exp', 'tanh' or 'softclamp', got ${String(this.scaleMode)}`);
    this.bound = options.bound ?? 3;
    if (!(this.bound > 0) || !Number.isFinite(this.bound)) throw new RangeError(`AffineCoupling: bound must be a positive finite number, got ${options.bound}`);
    const nA = split.a.length, nB = split.b.length;
    if ((options.scaleNet === undefined) !== (options.shiftNet === undefined)) throw new TypeError('AffineCoupling: give both scaleNet and shiftNet, or neither');
    if (options.scaleNet !== undefined && options.net !== undefined) throw new TypeError('AffineCoupling: give either net or scaleNet/shiftNet, not both');
    this.scaleNet = options.scaleNet ?? null;
    this.shiftNet = options.shiftNet ?? null;
    if (options.net !== undefined) this.net = options.net;
    else if (this.scaleNet !== null) this.net = null;
    else {
      if (options.rng === undefined) throw new TypeError('AffineCoupling: pass { rng } (a seeded Rng) to initialise the default conditioner, or give your own net');
      const depth = options.depth ?? 1;
      if (!Number.isInteger(depth) || depth < 1) throw new RangeError(`AffineCoupling: depth must be a positive integer, got ${depth}`);
      this.net = conditionerNet({
        inFeatures: nA, contextDim, outFeatures: 2 * nB, hidden: options.hidden ?? 32, depth,
        activation: options.activation ?? 'tanh', zeroInit: options.zeroInit !== false, rng: options.rng,
      });
    }
    this.scaleFactor = this.scaleMode === 'tanh' ? Tensor.ones(1, nB, { requiresGrad: true }) : null;
  }

  /** Log-scale s and shift t from the conditioning part (and the context). */
  private conditioner(xa0: Tensor, context: Tensor | undefined): [s: Tensor, t: Tensor] {
    const nB = this.split.b.length;
    const xa = conditionerInput(xa0, context);
    let a: Tensor, t: Tensor;
    if (this.net !== null) {
      const h = this.net.forward(xa);
      if (h.cols !== 2 * nB || h.rows !== xa.rows) throw new ShapeError(`AffineCoupling: the conditioner must map ${formatShape(xa.rows, xa.cols)} to ${formatShape(xa.rows, 2 * nB)} (raw log-scales, then shifts), got ${formatShape(h.rows, h.cols)}`);
      a = sliceCols(h, 0, nB);
      t = sliceCols(h, nB, 2 * nB);
    } else {
      a = this.scaleNet!.forward(xa);
      t = this.shiftNet!.forward(xa);
      for (const [name, v] of [['scaleNet', a], ['shiftNet', t]] as const) {
        if (v.cols !== nB || v.rows !== xa.rows) throw new ShapeError(`AffineCoupling: ${name} must map ${formatShape(xa.rows, xa.cols)} to ${formatShape(xa.rows, nB)}, got ${formatShape(v.rows, v.cols)}`);
      }
    }
    let s: Tensor;
    if (this.scaleMode === 'exp') s = a;
    else if (this.scaleMode === 'tanh') s = mul(tanh(a), this.scaleFactor!);
    else s = softclamp(a, this.bound);
    return [s, t];
  }

  /**
   * Data -> latent: y_B = x_B·exp(s(x_A)) + t(x_A), y_A = x_A; log|det| = Σ s per row.
   * @example const [y, logDet] = layer.forward(x); // y n×dim, logDet n×1
   */
  forward(x: Tensor, context?: Tensor): FlowResult {
    checkWidth('AffineCoupling.forward', x, this.dim);
    checkContext('AffineCoupling.forward', x, context, this.contextDim);
    const [xa, xb] = splitParts(x, this.split);
    const [s, t] = this.conditioner(xa, context);
    // y_B = x_B·exp(s) + t, log|det| = Σ s
    const yb = add(mul(xb, exp(s)), t);
    return [joinParts(xa, yb, this.split), sum(s, 1)];
  }

  /**
   * Latent -> data: x_B = (y_B - t(y_A))·exp(-s(y_A)), x_A = y_A; log|det| = -Σ s per row.
   * @example const [x, logDet] = layer.inverse(y); // undoes forward
   */
  inverse(y: Tensor, context?: Tensor): FlowResult {
    checkWidth('AffineCoupling.inverse', y, this.dim);
    checkContext('AffineCoupling.inverse', y, context, this.contextDim);
    const [ya, yb] = splitParts(y, this.split);
    const [s, t] = this.conditioner(ya, context);
    // x_B = (y_B - t)·exp(-s), log|det| = -Σ s
    const xb = mul(sub(yb, t), exp(neg(s)));
    return [joinParts(ya, xb, this.split), neg(sum(s, 1))];
  }

  /**
   * One line: the width, the conditioning features A, the scale mode (and bound).
   * @example new AffineCoupling({ dim: 2, rng: new Rng(0) }).describe(); // 'AffineCoupling(dim=2, A=[0], scale=softclamp, bound=3)'
   */
  override describe(): string {
    return `AffineCoupling(dim=${this.dim}, A=[${Array.from(this.split.a).join(',')}]${this.contextDim > 0 ? `, context=${this.contextDim}` : ''}, scale=${this.scaleMode}${this.scaleMode === 'softclamp' ? `, bound=${this.bound}` : ''})`;
  }
}
