/**
 * The rational-quadratic spline coupling layer of neural spline flows (C. Durkan, A. Bekasov, I. Murray
 * & G. Papamakarios, Neural Spline Flows, NeurIPS 2019, sec. 3.1): the coupling of RealNVP (Dinh et al.
 * 2017) with the affine map replaced by a monotonic rational-quadratic spline per transformed feature.
 *
 * **Convention, data -> latent:** with x split into a conditioning part x_A and a transformed part x_B,
 *
 *     y_A = x_A,   y_B,j = RQS(x_B,j; θ_j(x_A, c)),   log|det J| = Σ_j log RQS'(x_B,j; θ_j),
 *
 * θ_j the 3K−1 logits of feature j (K widths, K heights, K−1 inner derivatives; the layout of
 * {@link rqSpline}), c the optional context. The spline acts on [−B, B] and is the identity outside,
 * with slope 1 at ±B (C¹), so data far out of the box passes through unchanged; standardise the data
 * (or choose B) so that most of it falls inside.
 *
 * With the conditioner's last layer at zero (the default), every logit is 0: uniform bins and unit
 * slopes, so a fresh coupling is the identity (to rounding).
 *
 * @module
 */

import { checkOptionKeys } from '../autograd/options.ts';
import { formatShape, ShapeError, type Tensor } from '../autograd/tensor.ts';
import type { RandomSource } from '../rng/rng.ts';
import type { ActivationName, Layer } from '../nn/layers.ts';
import { Bijection, checkContext, checkWidth, type FlowResult } from './bijection.ts';
import { conditionerInput, conditionerNet } from './conditioner.ts';
import { joinParts, makeSplit, splitParts, type MaskSpec, type Split } from './mask.ts';
import { rqSpline, rqSplineInverse, splineParamCount, splitSpline, type SplineOptions } from './spline.ts';

/**
 * Options of {@link SplineCoupling}.
 * @example new SplineCoupling({ dim: 2, bins: 8, bound: 3, hidden: 32, rng: new Rng(0) });
 */
export interface SplineCouplingOptions {
  /** Number of features (>= 2). */
  dim: number;
  /** Which features condition (pass through); default `'half'`. */
  mask?: MaskSpec;
  /** Swap the roles of the two parts of the mask. */
  invertMask?: boolean;
  /** Width of the conditioning context read beside x_A (default 0: unconditional). */
  contextDim?: number;
  /** Number of bins K (default 8). */
  bins?: number;
  /** The spline acts on [−bound, bound] (default 3); identity outside. */
  bound?: number;
  /** Minimum bin width, as a fraction of 2·bound (default 1e-3). */
  minBinWidth?: number;
  /** Minimum bin height, as a fraction of 2·bound (default 1e-3). */
  minBinHeight?: number;
  /** Minimum derivative at the inner knots (default 1e-3). */
  minDerivative?: number;
  /** Your own conditioner: maps |A| (+ contextDim) features to |B|·(3K−1) logits, feature by feature. */
  net?: Layer;
  /** Hidden width of the default conditioner (default 32). */
  hidden?: number;
  /** Number of hidden layers of the default conditioner (default 1). */
  depth?: number;
  /** Activation of the default conditioner (default 'tanh'). */
  activation?: ActivationName;
  /** Zero the default conditioner's last layer so the coupling starts as the identity (default true). */
  zeroInit?: boolean;
  /** Seeded generator for the default conditioner's weights. */
  rng?: RandomSource;
}

const OPTION_KEYS = ['dim', 'mask', 'invertMask', 'contextDim', 'bins', 'bound', 'minBinWidth', 'minBinHeight', 'minDerivative', 'net', 'hidden', 'depth', 'activation', 'zeroInit', 'rng'];

/**
 * A rational-quadratic spline coupling layer (see the module comment).
 *
 * @example
 * const layer = new SplineCoupling({ dim: 2, bins: 8, bound: 3, rng: new Rng(0) });
 * const [z, logDet] = layer.forward(x);  // identity at initialisation: z ≈ x, logDet ≈ 0
 * const [x2] = layer.inverse(z);         // x2 ≈ x
 * new SplineCoupling({ dim: 2, contextDim: 3, rng: new Rng(0) }).forward(x, context); // context n×3
 */
export class SplineCoupling extends Bijection {
  readonly dim: number;
  override readonly contextDim: number;
  readonly split: Split;
  /** The spline's options (bins, bound and the minimums), as passed to {@link rqSpline}. */
  readonly spline: Readonly<Required<SplineOptions>>;
  /** The conditioner: [x_A | context] -> |B|·(3K−1) logits. */
  net: Layer;

  constructor(options: SplineCouplingOptions) {
    super();
    checkOptionKeys('SplineCoupling', options, OPTION_KEYS);
    const split = makeSplit(options.dim, options.mask ?? 'half', options.invertMask ?? false);
    this.dim = options.dim;
    const contextDim = options.contextDim ?? 0;
    if (!Number.isInteger(contextDim) || contextDim < 0) throw new RangeError(`SplineCoupling: contextDim must be a non-negative integer, got ${String(options.contextDim)}`);
    this.contextDim = contextDim;
    this.split = split;
    const bins = options.bins ?? 8, bound = options.bound ?? 3;
    if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`SplineCoupling: bins must be a positive integer, got ${String(options.bins)}`);
    if (!(bound > 0) || !Number.isFinite(bound)) throw new RangeError(`SplineCoupling: bound must be a positive finite number, got ${String(options.bound)}`);
    this.spline = { bins, bound, minBinWidth: options.minBinWidth ?? 1e-3, minBinHeight: options.minBinHeight ?? 1e-3, minDerivative: options.minDerivative ?? 1e-3 };
    const nA = split.a.length, nB = split.b.length;
    if (options.net !== undefined) this.net = options.net;
    else {
      if (options.rng === undefined) throw new TypeError('SplineCoupling: pass { rng } (a seeded Rng) to initialise the default conditioner, or give your own net');
      this.net = conditionerNet({
        inFeatures: nA, contextDim, outFeatures: nB * splineParamCount(bins), hidden: options.hidden ?? 32, depth: options.depth ?? 1,
        activation: options.activation ?? 'tanh', zeroInit: options.zeroInit !== false, rng: options.rng,
      });
    }
  }

  /** The spline logits, n×(|B|·(3K−1)), from the conditioning part (and the context). */
  private logits(xa: Tensor, context: Tensor | undefined): Tensor {
    const input = conditionerInput(xa, context);
    const out = this.net.forward(input);
    const want = this.split.b.length * splineParamCount(this.spline.bins);
    if (out.cols !== want || out.rows !== input.rows) {
      throw new ShapeError(`SplineCoupling: the conditioner must map ${formatShape(input.rows, input.cols)} to ${formatShape(input.rows, want)} (3K−1 = ${splineParamCount(this.spline.bins)} logits for each of the ${this.split.b.length} transformed features), got ${formatShape(out.rows, out.cols)}`);
    }
    return out;
  }

  /**
   * Data -> latent: y_B = RQS(x_B; θ(x_A, c)), y_A = x_A; log|det| = Σ log RQS' per row.
   * @example const [y, logDet] = layer.forward(x); // y n×dim, logDet n×1
   */
  forward(x: Tensor, context?: Tensor): FlowResult {
    checkWidth('SplineCoupling.forward', x, this.dim);
    checkContext('SplineCoupling.forward', x, context, this.contextDim);
    const [xa, xb] = splitParts(x, this.split);
    const [yb, logDet] = splitSpline(rqSpline(xb, this.logits(xa, context), this.spline));
    return [joinParts(xa, yb, this.split), logDet];
  }

  /**
   * Latent -> data: x_B = RQS⁻¹(y_B; θ(y_A, c)), x_A = y_A; log|det| = −Σ log RQS' per row.
   * @example const [x, logDet] = layer.inverse(y); // undoes forward
   */
  inverse(y: Tensor, context?: Tensor): FlowResult {
    checkWidth('SplineCoupling.inverse', y, this.dim);
    checkContext('SplineCoupling.inverse', y, context, this.contextDim);
    const [ya, yb] = splitParts(y, this.split);
    const [xb, logDet] = splitSpline(rqSplineInverse(yb, this.logits(ya, context), this.spline));
    return [joinParts(ya, xb, this.split), logDet];
  }

  /**
   * One line: the width, the conditioning features A, the context, bins and bound.
   * @example new SplineCoupling({ dim: 2, rng: new Rng(0) }).describe(); // 'SplineCoupling(dim=2, A=[0], bins=8, bound=3)'
   */
  override describe(): string {
    return `SplineCoupling(dim=${this.dim}, A=[${Array.from(this.split.a).join(',')}]${this.contextDim > 0 ? `, context=${this.contextDim}` : ''}, bins=${this.spline.bins}, bound=${this.spline.bound})`;
  }
}
