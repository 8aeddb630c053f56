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
 * **Conditioning.** Every bijection takes an optional context (n×c, one row per row of x): `forward(x,
 * context)`, `inverse(z, context)`. A bijection's `contextDim` says how wide a context it reads (0: none,
 * and passing one is an error). In a composition the context is handed to the steps that read one and
 * nothing else; coupling conditioners read it beside their half of the features (see `conditioner.ts`).
 *
 * **Composition.** One routine, {@link cascade} (nflows' `_cascade`, zuko's `ComposedTransform`), runs a
 * list of steps: forward in order, inverse in reverse order, log-dets added. A volume-preserving step
 * (`volumePreserving = true`, e.g. a permutation) adds no log-det work at all. {@link Chain} and
 * `RealNVP` are both compositions through it, and so are their step-by-step views.
 *
 * The contract follows nflows' `Transform` and zuko's `call_and_ladj`.
 *
 * @module
 */

import { add } from '../autograd/elementwise.ts';
import { formatShape, noGrad, ShapeError, Tensor } from '../autograd/tensor.ts';
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
 * and `inverse` (latent -> data); both return `[output, logDet]` with logDet n×1. Both take an optional
 * context (n×`contextDim`) that conditions the map; a bijection with `contextDim = 0` takes none.
 *
 * @example
 * const [z, logDet] = bijection.forward(x);   // data -> latent
 * const [x2, logDetInv] = bijection.inverse(z); // latent -> data; logDetInv = -logDet
 * const [zc] = conditional.forward(x, context); // context n×conditional.contextDim
 */
export abstract class Bijection extends Module {
  /** Number of features. */
  abstract readonly dim: number;
  /** Width of the conditioning input this bijection reads (0: it takes no context). */
  readonly contextDim: number = 0;
  /**
   * True when |det J| = 1 everywhere (a permutation): a composition then calls only
   * {@link Bijection.forwardPoints}/{@link Bijection.inversePoints} and adds no log-det.
   */
  readonly volumePreserving: boolean = false;
  /**
   * Data -> latent: `[z, log|det ∂z/∂x|]`.
   * @example const [z, logDet] = bijection.forward(x);
   */
  abstract forward(x: Tensor, context?: Tensor): FlowResult;
  /**
   * Latent -> data: `[x, log|det ∂x/∂z|]`.
   * @example const [x, logDet] = bijection.inverse(z);
   */
  abstract inverse(z: Tensor, context?: Tensor): FlowResult;
  /**
   * Data -> latent, the points only: `forward(x, context)[0]`. A volume-preserving bijection overrides it
   * to skip its (zero) log-det.
   * @example const z = permutation.forwardPoints(x);
   */
  forwardPoints(x: Tensor, context?: Tensor): Tensor {
    return this.forward(x, context)[0];
  }
  /**
   * Latent -> data, the points only: `inverse(z, context)[0]`.
   * @example const x = permutation.inversePoints(z);
   */
  inversePoints(z: Tensor, context?: Tensor): Tensor {
    return this.inverse(z, context)[0];
  }
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
 * Thrown when a context is missing where one is needed, or given where none is read.
 * @example flow.logProb(theta); // ContextError: RealNVP.logProb: this flow is conditional (contextDim 3); pass a context (n×3)
 */
export class ContextError extends TypeError {
  override readonly name = 'ContextError';
}

/**
 * Refuses a context that does not fit: missing when `contextDim > 0`, given when `contextDim = 0`, not
 * one row per row of x, or of the wrong width.
 * @example checkContext('MyCoupling.forward', x, context, this.contextDim);
 */
export function checkContext(where: string, x: Tensor, context: Tensor | undefined, contextDim: number): void {
  if (contextDim === 0) {
    if (context !== undefined) throw new ContextError(`${where}: got a context (${context instanceof Tensor ? formatShape(context.rows, context.cols) : typeof context}) but this bijection takes none (build it with contextDim to condition it)`);
    return;
  }
  if (context === undefined) throw new ContextError(`${where}: this bijection is conditional (contextDim ${contextDim}); pass a context (n×${contextDim}, one row per row of the input)`);
  if (!(context instanceof Tensor)) throw new ContextError(`${where}: the context must be a Tensor (n×${contextDim}), got ${typeof context}`);
  if (context.cols !== contextDim || context.rows !== x.rows) {
    throw new ShapeError(`${where}: expected a context of ${formatShape(x.rows, contextDim)} (one row per row of the ${formatShape(x.rows, x.cols)} input), got ${formatShape(context.rows, context.cols)}`);
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
 * Which way a composition runs: `'forward'` (data -> latent, the steps in order) or `'inverse'`
 * (latent -> data, each step's inverse in reverse order).
 * @example cascade(steps, z, undefined, 'inverse');
 */
export type Direction = 'forward' | 'inverse';

/**
 * The one composition routine (nflows' `_cascade`, zuko's `ComposedTransform`): runs `steps` forward
 * in order, or their inverses in reverse order, and adds their log-dets. A volume-preserving step only
 * moves the points (no log-det is made or added); the result's log-det is a zero column only when every
 * step is volume-preserving. The context goes to the steps that read one (`contextDim > 0`).
 * `visit(h, k)`, if given, sees the points after the k-th step run (k = 0, 1, ... in running order).
 *
 * @example
 * const [z, logDet] = cascade([coupling, Permutation.reverse(2)], x, undefined, 'forward');
 */
export function cascade(steps: readonly Bijection[], x: Tensor, context: Tensor | undefined, direction: Direction, visit?: (h: Tensor, k: number) => void): FlowResult {
  let h = x;
  let logDet: Tensor | null = null;
  const n = steps.length;
  for (let k = 0; k < n; k++) {
    const step = steps[direction === 'forward' ? k : n - 1 - k]!;
    const c = step.contextDim > 0 ? context : undefined;
    if (step.volumePreserving) {
      h = direction === 'forward' ? step.forwardPoints(h, c) : step.inversePoints(h, c);
    } else {
      const [y, ld] = direction === 'forward' ? step.forward(h, c) : step.inverse(h, c);
      h = y;
      logDet = logDet === null ? ld : add(logDet, ld);
    }
    if (visit !== undefined) visit(h, k);
  }
  return [h, logDet ?? zeroLogDet(x.rows)];
}

/**
 * The context width shared by the conditional steps of a composition (0 when none is conditional);
 * refuses steps that read contexts of different widths.
 * @example sharedContextDim('Chain', steps); // 3
 */
export function sharedContextDim(where: string, steps: readonly Bijection[]): number {
  let c = 0, first = -1;
  steps.forEach((s, i) => {
    const ci = s.contextDim;
    if (ci === 0) return;
    if (c === 0) {
      c = ci;
      first = i;
    } else if (ci !== c) throw new ShapeError(`${where}: step ${i} reads a context of ${ci} columns, step ${first} one of ${c}`);
  });
  return c;
}

/**
 * Bijections applied in order; log-dets add up, and the inverse runs the reversed list (through
 * {@link cascade}). The context, if the chain has conditional steps, is handed to each of them.
 *
 * @example
 * const flow = new Chain([new AffineCoupling({ dim: 2, rng }), Permutation.reverse(2)]);
 * const [z, logDet] = flow.forward(x);
 */
export class Chain extends Bijection {
  readonly dim: number;
  readonly steps: Bijection[];
  override readonly contextDim: number;
  override readonly volumePreserving: boolean;

  constructor(steps: readonly Bijection[]) {
    super();
    if (!Array.isArray(steps) || steps.length === 0) throw new RangeError('Chain: needs at least one bijection');
    const dim = steps[0]!.dim;
    steps.forEach((s, i) => {
      if (!(s instanceof Bijection)) throw new TypeError(`Chain: step ${i} is not a Bijection`);
      if (s.dim !== dim) throw new ShapeError(`Chain: step ${i} has dim ${s.dim}, step 0 has dim ${dim}`);
    });
    this.dim = dim;
    this.steps = [...steps];
    this.contextDim = sharedContextDim('Chain', steps);
    this.volumePreserving = steps.every((s) => s.volumePreserving);
  }

  /**
   * Data -> latent: runs the steps in order and sums their log-dets.
   * @example const [z, logDet] = chain.forward(x);
   */
  forward(x: Tensor, context?: Tensor): FlowResult {
    checkWidth('Chain.forward', x, this.dim);
    checkContext('Chain.forward', x, context, this.contextDim);
    return cascade(this.steps, x, context, 'forward');
  }

  /**
   * Latent -> data: runs each step's inverse in reverse order and sums their log-dets.
   * @example const [x, logDet] = chain.inverse(z);
   */
  inverse(z: Tensor, context?: Tensor): FlowResult {
    checkWidth('Chain.inverse', z, this.dim);
    checkContext('Chain.inverse', z, context, this.contextDim);
    return cascade(this.steps, z, context, 'inverse');
  }

  /**
   * The points after each step, data -> latent (no graph is recorded); the last is `forward(x)[0]`.
   * @example chain.forwardSteps(x).length; // chain.steps.length
   */
  forwardSteps(x: Tensor, context?: Tensor): Tensor[] {
    checkWidth('Chain.forwardSteps', x, this.dim);
    checkContext('Chain.forwardSteps', x, context, this.contextDim);
    const out: Tensor[] = [];
    noGrad(() => cascade(this.steps, x, context, 'forward', (h) => out.push(h)));
    return out;
  }

  /**
   * The points after undoing each step, latent -> data (no graph is recorded); the last is `inverse(z)[0]`.
   * @example chain.inverseSteps(z).at(-1); // x
   */
  inverseSteps(z: Tensor, context?: Tensor): Tensor[] {
    checkWidth('Chain.inverseSteps', z, this.dim);
    checkContext('Chain.inverseSteps', z, context, this.contextDim);
    const out: Tensor[] = [];
    noGrad(() => cascade(this.steps, z, context, 'inverse', (h) => out.push(h)));
    return out;
  }
}
