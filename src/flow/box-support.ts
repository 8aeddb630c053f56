/**
 * The box-to-R^d bijection for bounded priors: a flow composed with it puts every sample inside the box
 * (sbi issue #741: a posterior flow trained in θ space leaks mass outside a uniform prior's support).
 * Data -> latent, feature by feature, with u = (x - lo)/(hi - lo):
 *
 *     z = logit(u) = log(x - lo) - log(hi - x),
 *     log|det ∂z/∂x| = Σ_j [log(hi_j - lo_j) - log(x_j - lo_j) - log(hi_j - x_j)].
 *
 * Latent -> data: x = lo + (hi - lo)·σ(z), log|det ∂x/∂z| = Σ_j [log(hi_j - lo_j) - softplus(z_j) -
 * softplus(-z_j)] (log σ(z) = -softplus(-z), log(1 - σ(z)) = -softplus(z)).
 *
 * Numerically: the forward takes the logs of the distances to each edge, x - lo and hi - x, which are
 * exact for x near an edge (no 1 - u cancellation), so points within one ulp of an edge map to finite z.
 * The inverse ({@link boxSigmoid}) measures from the nearer edge, x = hi - (hi - lo)·σ(-z) for z ≥ 0
 * (and lo + (hi - lo)·σ(z) below), so rounding never carries x past an edge, and a point that would
 * round onto the edge (|z| beyond ~37 for a unit box) is put one step inside: any finite z (±1e308 too)
 * gives a point strictly inside the box and a finite log-det. A point on or outside an edge has no
 * preimage: the forward refuses it (FlowInputError).
 *
 * (sbi and zuko do the same with `biject_to(constraint)`: torch's `SigmoidTransform` after an affine map.)
 *
 * @module
 */

import { add, addScalar, log, neg, scale, softplus, sub } from '../autograd/elementwise.ts';
import { sum } from '../autograd/reduce.ts';
import { defineOp } from '../autograd/op.ts';
import { formatShape, ShapeError, Tensor } from '../autograd/tensor.ts';
import { Bijection, checkContext, checkWidth, FlowInputError, type FlowResult } from './bijection.ts';

/** The largest double below v (v finite). */
function below(v: number): number {
  return v === 0 ? -Number.MIN_VALUE : v - Math.abs(v) * 2 ** -52;
}

/** The smallest double above v (v finite). */
function above(v: number): number {
  return v === 0 ? Number.MIN_VALUE : v + Math.abs(v) * 2 ** -52;
}

// out = lo + (hi - lo)·σ(z), from the nearer edge, strictly inside (lo, hi)
// dz = dOut·(hi - lo)·σ(z)·σ(-z)
/**
 * The box's inverse map, per column j of z: lo_j + (hi_j - lo_j)·σ(z), computed from the nearer edge
 * and kept strictly inside (lo_j, hi_j) (see the module comment). `lo` and `hi` are 1×d constants.
 * @example boxSigmoid(tensor([[0, 800]]), tensor([[0, 0]]), tensor([[1, 1]])).toArray(); // [[0.5, 0.9999999999999998]]
 */
export const boxSigmoid = defineOp({
  name: 'boxSigmoid',
  formula: 'out = lo + (hi - lo)·σ(z), from the nearer edge, strictly inside (lo, hi)',
  derivative: 'dz = dOut·(hi - lo)·σ(z)·σ(-z)',
  forward(ctx, z: Tensor, lo: Tensor, hi: Tensor) {
    const n = z.rows, d = z.cols;
    if (lo.rows !== 1 || hi.rows !== 1 || lo.cols !== d || hi.cols !== d) throw new ShapeError(`boxSigmoid: lo and hi must be 1×${d} for z of ${formatShape(n, d)}, got ${formatShape(lo.rows, lo.cols)} and ${formatShape(hi.rows, hi.cols)}`);
    const o = ctx.output(n * d), v = z.data, a = lo.data, b = hi.data;
    for (let i = 0, k = 0; i < n; i++) {
      for (let j = 0; j < d; j++, k++) {
        const t = v[k]!, w = b[j]! - a[j]!;
        let x: number;
        if (t >= 0) {
          x = b[j]! - w * (1 / (1 + Math.exp(t)));
          if (x >= b[j]!) x = below(b[j]!);
        } else {
          x = a[j]! + w * (1 / (1 + Math.exp(-t)));
          if (x <= a[j]!) x = above(a[j]!);
        }
        o[k] = x;
      }
    }
    return {
      rows: n, cols: d, data: o, inputs: [z],
      backward(dOut, grad) {
        const gz = grad(z);
        if (gz === null) return;
        for (let i = 0, k = 0; i < n; i++) {
          for (let j = 0; j < d; j++, k++) {
            const t = v[k]!, e = Math.exp(-Math.abs(t));
            // σ(z)·σ(-z) = e^-|z| / (1 + e^-|z|)²
            gz[k]! += dOut[k]! * (b[j]! - a[j]!) * (e / ((1 + e) * (1 + e)));
          }
        }
      },
    };
  },
});

/**
 * Maps the open box (lo, hi)^d to R^d by an affine map to (0, 1) and the logit (see the module comment).
 *
 * @example
 * const box = new BoxSupport([-1, -1], [1, 1]);  // the prior U(-1, 1)²
 * const [z, logDet] = box.forward(tensor([[0, 0.5]])); // z = [[0, log 3]]
 * const [x] = box.inverse(tensor([[40, -1e6]]));  // inside [-1, 1]²
 */
export class BoxSupport extends Bijection {
  readonly dim: number;
  /** 1×dim buffer: the lower edges. */
  lo: Tensor;
  /** 1×dim buffer: the upper edges. */
  hi: Tensor;
  /** Σ_j log(hi_j - lo_j). */
  readonly #logWidth: number;

  constructor(lo: ArrayLike<number>, hi: ArrayLike<number>) {
    super();
    if (lo.length !== hi.length || lo.length < 1) throw new RangeError(`BoxSupport: lo and hi need the same positive length, got ${lo.length} and ${hi.length}`);
    let logWidth = 0;
    for (let j = 0; j < lo.length; j++) {
      const a = lo[j]!, b = hi[j]!;
      if (!Number.isFinite(a) || !Number.isFinite(b) || !(b > a) || !Number.isFinite(b - a)) throw new RangeError(`BoxSupport: feature ${j} needs finite lo < hi, got lo ${a}, hi ${b}`);
      logWidth += Math.log(b - a);
    }
    this.dim = lo.length;
    this.lo = this.registerBuffer('lo', Tensor.from(1, this.dim, Float64Array.from(lo)));
    this.hi = this.registerBuffer('hi', Tensor.from(1, this.dim, Float64Array.from(hi)));
    this.#logWidth = logWidth;
  }

  /** Refuses a point on or outside the box, naming the row, column and edges. */
  #checkInside(x: Tensor): void {
    const d = this.dim, v = x.data, lo = this.lo.data, hi = this.hi.data;
    for (let k = 0; k < v.length; k++) {
      const j = k % d;
      if (!(v[k]! > lo[j]! && v[k]! < hi[j]!)) {
        throw new FlowInputError(`BoxSupport.forward: row ${Math.floor(k / d)}, column ${j} is ${v[k]}, not inside the box (${lo[j]}, ${hi[j]}) (it has zero density under the prior)`);
      }
    }
  }

  /**
   * Data (inside the box) -> R^d: z = log(x - lo) - log(hi - x); log|det| per row as in the module comment.
   * @example new BoxSupport([0], [1]).forward(tensor([[0.5]]))[0].item(); // 0
   */
  forward(x: Tensor, context?: Tensor): FlowResult {
    checkWidth('BoxSupport.forward', x, this.dim);
    checkContext('BoxSupport.forward', x, context, 0);
    this.#checkInside(x);
    // z = log(x - lo) - log(hi - x)
    const logBelow = log(sub(x, this.lo)), logAbove = log(sub(this.hi, x));
    // log|det| = Σ log(hi - lo) - log(x - lo) - log(hi - x)
    const logDet = addScalar(neg(sum(add(logBelow, logAbove), 1)), this.#logWidth);
    return [sub(logBelow, logAbove), logDet];
  }

  /**
   * R^d -> data: x = lo + (hi - lo)·σ(z), strictly inside the box for any finite z.
   * @example new BoxSupport([0], [1]).inverse(tensor([[0]]))[0].item(); // 0.5
   */
  inverse(z: Tensor, context?: Tensor): FlowResult {
    checkWidth('BoxSupport.inverse', z, this.dim);
    checkContext('BoxSupport.inverse', z, context, 0);
    // x = lo + (hi - lo)·σ(z)
    const x = boxSigmoid(z, this.lo, this.hi);
    // log|det| = Σ log(hi - lo) - softplus(z) - softplus(-z)
    const logDet = addScalar(scale(sum(add(softplus(z), softplus(neg(z))), 1), -1), this.#logWidth);
    return [x, logDet];
  }

  /**
   * One line with the edges.
   * @example new BoxSupport([-1, 0], [1, 2]).describe(); // 'BoxSupport([-1, 1] × [0, 2])'
   */
  override describe(): string {
    return `BoxSupport(${Array.from(this.lo.data, (a, j) => `[${a}, ${this.hi.data[j]}]`).join(' × ')})`;
  }
}
