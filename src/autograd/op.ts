/**
 * The op-definition API: every op in flowgrad, built in or yours, is defined once through
 * {@link defineOp}, with its name, its rule (formula and local derivative, as data that `explain()` and
 * `toDot()` print), its forward and, right below it, its backward (after tinygrad's `Function.apply` and
 * micrograd's `engine.py`). A fused op also names the readable composition of primitive ops it equals
 * (`reference`, the idea of JAX's `custom_vjp`): one generic test holds every fused op equal to it.
 *
 * The forward returns the output's values and shape, its inputs, and a `backward` closure that only
 * accumulates (`+=`) into the inputs' gradients; `grad(x)` hands it x's gradient buffer, or null when x
 * needs none. Write `backward` and `detail` as methods (`backward(dOut, grad) { ... }`): an arrow
 * function in the returned object costs a little more per call under tsx (esbuild names it).
 *
 * Buffers: `ctx.output(n)` for an output whose every entry the forward writes, `ctx.zeros(n)` for one it
 * accumulates into. Inside a `BufferArena`'s `run` both come from the arena; elsewhere they are fresh
 * arrays. In checking mode (`setBufferChecks(true)`, on in the tests) `ctx.output` is NaN-filled, so an
 * entry the forward forgot to write shows at once.
 *
 * @example
 * const cube = defineOp({
 *   name: 'cube',
 *   formula: 'out = x³',
 *   derivative: 'dx = dOut·3x²',
 *   forward(ctx, x: Tensor) {
 *     const o = ctx.output(x.size), v = x.data;
 *     for (let k = 0; k < o.length; k++) o[k] = v[k]! * v[k]! * v[k]!;
 *     return {
 *       rows: x.rows, cols: x.cols, data: o, inputs: [x],
 *       backward(dOut, grad) {
 *         const gx = grad(x);
 *         if (gx !== null) for (let k = 0; k < gx.length; k++) gx[k]! += dOut[k]! * 3 * v[k]! * v[k]!;
 *       },
 *     };
 *   },
 * });
 * gradcheck((x) => cube(x), [tensor([[0.5, -2]], { requiresGrad: true })]).ok; // true
 *
 * @module
 */

import { alloc, allocRaw, isGradEnabled, result, Tensor } from './tensor.ts';

/**
 * An op's rule as data: what it computes and what its backward accumulates into each input's gradient.
 * `dOut` is the gradient arriving at the output.
 * @example neg.rule; // { name: 'neg', formula: 'out = -x', derivative: 'dx = -dOut' }
 */
export interface OpRule {
  readonly name: string;
  readonly formula: string;
  readonly derivative: string;
}

/**
 * Gives a backward closure the gradient buffer of an input (zeros on first use, then accumulated into),
 * or null when that input does not require a gradient.
 * @example const gx = grad(x); if (gx !== null) gx[k] += dOut[k];
 */
export type GradOf = (t: Tensor) => Float64Array | null;

/**
 * What an op's forward returns.
 * @example return { rows: x.rows, cols: x.cols, data: o, inputs: [x], backward(dOut, grad) { ... } };
 */
export interface OpResult {
  /** Output rows. */
  readonly rows: number;
  /** Output columns. */
  readonly cols: number;
  /** Output values, row-major, rows·cols long (usually from `ctx.output`). */
  readonly data: Float64Array;
  /** The tensors the output depends on (its parents in the graph). */
  readonly inputs: readonly Tensor[];
  /**
   * Accumulates `dOut` (the output's gradient, same layout as `data`) into the inputs' gradients. Never
   * assigns: an input used twice (`x·x`) then just works. Omit it for an op with no gradient.
   */
  readonly backward?: (dOut: Float64Array, grad: GradOf) => void;
  /** The op's parameter as `explain()` shows it beside the name (`slope=0.01`); called only when printed. */
  readonly detail?: () => string;
}

/**
 * What the forward gets besides its arguments.
 * @example const o = ctx.output(x.size); // every entry will be written
 */
export interface OpContext {
  /** A buffer for the output (or a saved intermediate) whose every entry the op writes (not zeroed). */
  output(n: number): Float64Array;
  /** A zeroed buffer (for outputs accumulated into). */
  zeros(n: number): Float64Array;
  /** Whether a graph is being recorded (false under `noGrad`); a forward may skip saving values when false. */
  readonly recording: boolean;
}

/**
 * The definition of an op: its rule, its forward (with its backward inside), and for a fused op the
 * readable composition it must equal.
 * @example defineOp({ name: 'cube', formula: 'out = x³', derivative: 'dx = dOut·3x²', forward(ctx, x: Tensor) { ... } });
 */
export interface OpSpec<Args extends readonly unknown[]> extends OpRule {
  /** Computes the output and returns it with its backward. Checks its arguments' shapes first. */
  forward(ctx: OpContext, ...args: Args): OpResult;
  /**
   * For a fused op: the same function written with primitive ops (what a learner reads, what
   * `explain(out, { expand: true })` shows and what the generic fused-op test compares against).
   */
  readonly reference?: (...args: Args) => Tensor;
}

/** Every op defined with a `reference` (the fused ops), in definition order. */
const fused: Op<readonly any[]>[] = [];

/**
 * The ops defined with a readable `reference` (fused kernels), built-in and yours: what the generic
 * fused-op test holds equal to their references.
 * @example fusedOps().map((op) => op.rule.name); // ['linear', 'mlp']
 */
export function fusedOps(): readonly Op<readonly any[]>[] {
  return fused;
}

/**
 * A fused node's readable reference rebuilt on other inputs: the op's `reference` called with the node's
 * arguments, each of its inputs (`node.parents`) replaced by the tensor at the same position in
 * `inputs`. `explain(out, { expand: true })` and the generic fused-op test use it.
 *
 * @example
 * const out = mlp(x, layers);
 * const copies = out.parents.map((t) => Tensor.from(t.rows, t.cols, t.data.slice(), { requiresGrad: true }));
 * referenceOn(out, copies); // linear -> leakyRelu -> linear ... on the copies
 */
export function referenceOn(node: Tensor, inputs: readonly Tensor[]): Tensor {
  if (node.reference === null || node.args === null) throw new TypeError(`referenceOn: this ${node.op} node was not made by a fused op (an op defined with a reference)`);
  if (inputs.length !== node.parents.length) throw new RangeError(`referenceOn: the ${node.op} node has ${node.parents.length} inputs, got ${inputs.length}`);
  const args = substitute(node.args, node.parents, inputs) as never[];
  return node.reference(...args);
}

/** `args` with every tensor that is `from[k]` replaced by `to[k]`, through arrays and plain objects. */
function substitute(value: unknown, from: readonly Tensor[], to: readonly Tensor[]): unknown {
  if (value instanceof Tensor) {
    const k = from.indexOf(value);
    return k >= 0 ? to[k] : value;
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, from, to));
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) out[key] = substitute(v, from, to);
    return out;
  }
  return value;
}

/**
 * A defined op: call it like a function; its rule and definition travel with it.
 * @example cube(x); cube.rule.formula; // 'out = x³'
 */
export interface Op<Args extends readonly unknown[]> {
  (...args: Args): Tensor;
  /** Name, formula and derivative (also attached to every node the op makes). */
  readonly rule: OpRule;
  /** The whole definition (forward, reference). */
  readonly spec: OpSpec<Args>;
}

const context: OpContext = {
  output: allocRaw,
  zeros: alloc,
  get recording() {
    return isGradEnabled();
  },
};

/**
 * Defines an op once: name, rule, forward and backward. The returned function builds graph nodes that
 * carry the rule (for `explain`/`toDot`) and, when any input requires a gradient, the backward.
 *
 * @example
 * const double = defineOp({
 *   name: 'double', formula: 'out = 2x', derivative: 'dx = 2·dOut',
 *   forward(ctx, x: Tensor) {
 *     const o = ctx.output(x.size);
 *     for (let k = 0; k < o.length; k++) o[k] = 2 * x.data[k]!;
 *     return { rows: x.rows, cols: x.cols, data: o, inputs: [x],
 *       backward(dOut, grad) { const g = grad(x); if (g !== null) for (let k = 0; k < g.length; k++) g[k]! += 2 * dOut[k]!; } };
 *   },
 * });
 */
export function defineOp<Args extends readonly unknown[]>(spec: OpSpec<Args>): Op<Args> {
  const rule: OpRule = { name: spec.name, formula: spec.formula, derivative: spec.derivative };
  const reference = spec.reference;
  const direct = spec as unknown as { forward(ctx: OpContext, ...args: unknown[]): OpResult };
  const finish = (r: OpResult, args: readonly unknown[] | null): Tensor => {
    const out = result(rule.name, r.rows, r.cols, r.data, r.inputs);
    out.rule = rule;
    if (r.detail !== undefined) out.detail = r.detail;
    if (reference !== undefined) {
      out.reference = reference as unknown as (...args: never[]) => Tensor;
      out.args = args;
    }
    if (out.requiresGrad && r.backward !== undefined) out.backwardFn = r.backward;
    return out;
  };
  // Up to four arguments are passed on directly (a call with spread arguments costs more than the
  // arithmetic of a small op); more go through the general path.
  const op = function (this: unknown, a?: unknown, b?: unknown, c?: unknown, d?: unknown): Tensor {
    const count = arguments.length;
    if (count > 4) {
      const all = Array.from(arguments);
      return finish(direct.forward(context, ...all), all);
    }
    const r = direct.forward(context, a, b, c, d);
    return finish(r, reference !== undefined ? [a, b, c, d].slice(0, count) : null);
  } as unknown as (...args: Args) => Tensor;
  const defined = Object.assign(op, { rule, spec });
  if (reference !== undefined) fused.push(defined as unknown as Op<readonly any[]>);
  return defined;
}
