/**
 * What a coupling's conditioner reads, and the default conditioner network: the shared pieces every
 * coupling family (affine, the post's, splines) plugs into, so that conditioning works the same way in
 * each.
 *
 * A coupling splits x into a conditioning part x_A and a transformed part x_B. Its conditioner maps
 * x_A, and in a conditional flow the context c beside it, to the parameters of the map applied to x_B:
 *
 *     params = net([x_A | c])      (n × (|A| + contextDim) -> n × outFeatures)
 *
 * (nflows' `ConditionalTransform` concatenates the same way; zuko's `MaskedAutoregressiveTransform`
 * too.) The Jacobian of the coupling with respect to x stays triangular whatever the net does with c,
 * so the log-det is unchanged by conditioning; the context only changes which map is applied.
 *
 * A new coupling plugs in like this:
 *
 *     this.net = conditionerNet({ inFeatures: nA, contextDim, outFeatures: paramsPerFeature * nB, rng });
 *     ...
 *     checkContext('MyCoupling.forward', x, context, this.contextDim);
 *     const params = this.net.forward(conditionerInput(xa, context));
 *
 * @module
 */

import { concatCols } from '../autograd/shape.ts';
import type { Tensor } from '../autograd/tensor.ts';
import { checkOptionKeys } from '../autograd/options.ts';
import type { RandomSource } from '../rng/rng.ts';
import { zeros } from '../nn/init.ts';
import { MLP, type ActivationName } from '../nn/layers.ts';

/**
 * The conditioner's input: x_A alone (no context), or [x_A | context] (n × (|A| + c)).
 * @example conditionerInput(xa, context).cols; // xa.cols + context.cols
 */
export function conditionerInput(xa: Tensor, context: Tensor | undefined): Tensor {
  return context === undefined ? xa : concatCols([xa, context]);
}

/**
 * Options of {@link conditionerNet}.
 * @example conditionerNet({ inFeatures: 1, contextDim: 3, outFeatures: 2, hidden: 32, depth: 1, rng });
 */
export interface ConditionerNetOptions {
  /** |A|, the features the coupling passes through. */
  inFeatures: number;
  /** Width of the context read beside them (default 0). */
  contextDim?: number;
  /** Number of outputs (for an affine coupling 2·|B|: log-scales, then shifts). */
  outFeatures: number;
  /** Hidden width (default 32). */
  hidden?: number;
  /** Hidden layers (default 1). */
  depth?: number;
  /** Activation between layers (default 'tanh'). */
  activation?: ActivationName;
  /** Zero the last layer, so the coupling starts as the identity (default true). */
  zeroInit?: boolean;
  /** Seeded generator for the weights. */
  rng: RandomSource;
}

const CONDITIONER_KEYS = ['inFeatures', 'contextDim', 'outFeatures', 'hidden', 'depth', 'activation', 'zeroInit', 'rng'];

/**
 * The default conditioner: an MLP (|A| + contextDim) -> hidden ×depth -> outFeatures, with its last layer
 * zeroed unless `zeroInit` is false (a zero output makes every coupling family here the identity).
 *
 * @example
 * const net = conditionerNet({ inFeatures: 1, contextDim: 2, outFeatures: 2, rng: new Rng(0) });
 * net.forward(conditionerInput(xa, context)); // n×2
 */
export function conditionerNet(options: ConditionerNetOptions): MLP {
  checkOptionKeys('conditionerNet', options, CONDITIONER_KEYS);
  const contextDim = options.contextDim ?? 0, hidden = options.hidden ?? 32, depth = options.depth ?? 1;
  for (const [name, v, min] of [['inFeatures', options.inFeatures, 1], ['contextDim', contextDim, 0], ['outFeatures', options.outFeatures, 1], ['hidden', hidden, 1], ['depth', depth, 1]] as const) {
    if (!Number.isInteger(v) || v < min) throw new RangeError(`conditionerNet: ${name} must be an integer >= ${min}, got ${String(v)}`);
  }
  const sizes = [options.inFeatures + contextDim, ...Array.from({ length: depth }, () => hidden), options.outFeatures];
  const net = new MLP(sizes, { activation: options.activation ?? 'tanh', rng: options.rng });
  if (options.zeroInit !== false) {
    zeros(net.lastLinear.weight);
    if (net.lastLinear.bias !== null) zeros(net.lastLinear.bias);
  }
  return net;
}
