/**
 * The flow contract. **Direction, once and for all:** `forward` goes from data to latent (x -> z) and
 * `inverse` from latent to data (z -> x). Each returns `[output, logDet]` where `logDet` is n×1: the
 * log |det J| of *that* direction, per row. So `forward(x)[1] = log |det ∂z/∂x|`, the term that enters
 * the log-density: log p(x) = log p_Z(z) + forward(x)[1].
 *
 * The blog post this project grew from (`realnvp-post.txt`, after Bishop & Bishop 2024, ch. 18) uses the
 * same direction: its `forward` is data -> latent (our `forward`), its `reverse` is latent -> data (our
 * `inverse`). Unlike the post, the output and its log-det come from one pass; the post recomputes the
 * whole forward pass in `ln_det_jacobian`.
 *
 * The contract follows nflows' `Transform` and zuko's `call_and_ladj`.
 *
 * @module
 */

import { add } from '../autograd/elementwise.ts';
import { formatShape, ShapeError, Tensor } from '../autograd/tensor.ts';
import { Module } from '../nn/module.ts';

/**
 * `[output, logDet]`: the transformed batch (n×dim) and log |det J| per row (n×1).
 * @example const [z, logDet]: FlowResult = flow.forward(x);
 */
export type FlowResult = [out: Tensor, logDet: Tensor];

/**
 * Thrown when an input is unfit for a bijection: NaN or infinite values, naming the row.
 * @example flow.forward(tensor([[NaN, 0]])); // FlowInputError: RealNVP.forward: row 0, column 0 is NaN (inputs must be finite)
 */
export class FlowInputError extends Error {
  override readonly name = 'FlowInputError';
}

/**
 * An invertible map with tractable log-determinant. Subclasses implement `forward` (data -> latent)
 * and `inverse` (latent -> data); both return `[output, logDet]` with logDet n×1.
 *
 * @example
 * const [z, logDet] = bijection.forward(x);   // data -> latent
 * const [x2, logDetInv] = bijection.inverse(z); // latent -> data; logDetInv = -logDet
 */
export abstract class Bijection extends Module {
  /** Number of features. */
  abstract readonly dim: number;
  /**
   * Data -> latent: `[z, log|det ∂z/∂x|]`.
   * @example const [z, logDet] = bijection.forward(x);
   */
  abstract forward(x: Tensor): FlowResult;
  /**
   * Latent -> data: `[x, log|det ∂x/∂z|]`.
   * @example const [x, logDet] = bijection.inverse(z);
   */
  abstract inverse(z: Tensor): FlowResult;
}

/**
 * A zero log-det column for n rows (shares no graph).
 * @example zeroLogDet(3).toArray(); // [[0], [0], [0]]
 */
export function zeroLogDet(n: number): Tensor {
  return Tensor.zeros(n, 1);
}

/**
 * Refuses an input of the wrong width.
 * @example checkWidth('MyFlow.forward', x, this.dim); // ShapeError unless x has dim columns
 */
export function checkWidth(where: string, x: Tensor, dim: number): void {
  if (x.cols !== dim) {
    throw new ShapeError(`${where}: expected input with ${dim} columns (n×${dim}), got ${formatShape(x.rows, x.cols)}`);
  }
}

/**
 * Refuses NaN or infinite input, naming the first bad row and column.
 * @example checkFinite('MyFlow.forward', x); // FlowInputError at the first NaN or ±∞
 */
export function checkFinite(where: string, x: Tensor): void {
  const d = x.data;
  for (let k = 0; k < d.length; k++) {
    if (!Number.isFinite(d[k]!)) {
      const row = Math.floor(k / x.cols), col = k % x.cols;
      throw new FlowInputError(`${where}: row ${row}, column ${col} is ${d[k]} (inputs must be finite)`);
    }
  }
}

/**
 * Bijections applied in order; log-dets add up, and the inverse runs the reversed list.
 *
 * @example
 * const flow = new Chain([new AffineCoupling({ dim: 2, rng }), Permutation.reverse(2)]);
 * const [z, logDet] = flow.forward(x);
 */
export class Chain extends Bijection {
  readonly dim: number;
  readonly steps: Bijection[];

  constructor(steps: readonly Bijection[]) {
    super();
    if (steps.length === 0) throw new RangeError('Chain: needs at least one bijection');
    const dim = steps[0]!.dim;
    steps.forEach((s, i) => {
      if (s.dim !== dim) throw new ShapeError(`Chain: step ${i} has dim ${s.dim}, step 0 has dim ${dim}`);
    });
    this.dim = dim;
    this.steps = [...steps];
  }

  /**
   * Data -> latent: runs the steps in order and sums their log-dets.
   * @example const [z, logDet] = chain.forward(x);
   */
  forward(x: Tensor): FlowResult {
    checkWidth('Chain.forward', x, this.dim);
    let h = x;
    let logDet: Tensor | null = null;
    for (const step of this.steps) {
      const [y, ld] = step.forward(h);
      h = y;
      logDet = logDet === null ? ld : add(logDet, ld);
    }
    return [h, logDet!];
  }

  /**
   * Latent -> data: runs each step's inverse in reverse order and sums their log-dets.
   * @example const [x, logDet] = chain.inverse(z);
   */
  inverse(z: Tensor): FlowResult {
    checkWidth('Chain.inverse', z, this.dim);
    let h = z;
    let logDet: Tensor | null = null;
    for (let i = this.steps.length - 1; i >= 0; i--) {
      const [x, ld] = this.steps[i]!.inverse(h);
      h = x;
      logDet = logDet === null ? ld : add(logDet, ld);
    }
    return [h, logDet!];
  }
}
