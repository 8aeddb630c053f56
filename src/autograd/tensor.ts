/**
 * The tensor: a 2-D, row-major matrix of float64 values that remembers how it was made.
 *
 * Every op in `src/autograd` takes tensors and returns a new tensor whose `parents` are its inputs and
 * whose `backwardFn` pushes the output's gradient (`dOut`) into the parents' gradients. `backward()`
 * walks that graph in reverse topological order, iteratively (no recursion, so a chain of 100,000 ops
 * is fine), and then releases the closures so that a training loop does not keep old graphs alive.
 *
 * @module
 */

import type { GradOf, OpRule } from './op.ts';

/**
 * The shape of a tensor, `[rows, cols]`.
 * @example const s: Shape = tensor([[1, 2, 3]]).shape; // [1, 3]
 */
export type Shape = readonly [rows: number, cols: number];

/**
 * Options accepted when a tensor is created from values.
 * @example const w = tensor([[0.5]], { requiresGrad: true, name: 'w' });
 */
export interface TensorOptions {
  /** Record operations on this tensor so that `backward()` can compute its gradient. */
  requiresGrad?: boolean;
  /** A name shown by `explain()` and `toDot()`. */
  name?: string;
}

/**
 * Thrown when operands have shapes an op cannot combine. The message names the op and both shapes,
 * e.g. `matmul: cannot multiply 2×3 by 4×1`.
 *
 * @example
 * try { matmul(Tensor.zeros(2, 3), Tensor.zeros(4, 1)); } catch (e) { e instanceof ShapeError; } // true
 */
export class ShapeError extends Error {
  override readonly name = 'ShapeError';
}

/**
 * Thrown in anomaly mode (see {@link detectAnomaly}) when an op's forward or backward produces NaN or ±∞.
 *
 * @example
 * detectAnomaly(() => log(tensor([[-1]]))); // throws AnomalyError: log produced NaN ...
 */
export class AnomalyError extends Error {
  override readonly name = 'AnomalyError';
}

/**
 * Thrown when a tensor made inside `arena.run(...)` is read after that arena's next `reset()`: its
 * buffer was handed to a later step, so its values are gone. Copy what you keep inside `run`
 * (`Float64Array.from(t.data)`, or compute it under `noGrad` outside the arena).
 *
 * @example
 * const arena = new BufferArena();
 * const y = arena.run(() => exp(x));
 * arena.reset();
 * y.data; // throws RecycledTensorError: this exp output (1×2) was made inside a BufferArena's run ...
 */
export class RecycledTensorError extends Error {
  override readonly name = 'RecycledTensorError';
}

function recycled(t: Tensor, what: 'values' | 'gradient'): RecycledTensorError {
  return new RecycledTensorError(`this ${t.op} output (${formatShape(t.rows, t.cols)}) was made inside a BufferArena's run, and the arena has been reset since: its ${what} buffer now belongs to a later step. Copy what you keep inside run (Float64Array.from(t.data)), or compute it outside the arena`);
}

/**
 * Formats a shape as `rows×cols`, the form used in every error message.
 * @example formatShape(2, 3); // '2×3'
 */
export function formatShape(rows: number, cols: number): string {
  return `${rows}×${cols}`;
}

// ---------------------------------------------------------------------------------------------------
// Global modes: gradient recording and anomaly detection. Both are plain booleans read once per op.

let gradEnabled = true;
let anomalyEnabled = false;

/**
 * Runs `fn` without recording a graph: every tensor made inside has `requiresGrad = false`.
 * Use it for evaluation, sampling and optimizer updates.
 *
 * @example
 * const y = noGrad(() => mul(w, x)); // y.requiresGrad === false
 */
export function noGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

/**
 * Whether ops are currently recorded (false inside {@link noGrad}).
 * @example noGrad(() => isGradEnabled()); // false
 */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Runs `fn` in anomaly mode: any op whose forward output, or whose backward contribution to an input's
 * gradient, contains NaN or ±∞ throws an {@link AnomalyError} naming the op and its inputs' shapes.
 * Off by default; when off it costs one boolean test per op.
 *
 * @example
 * detectAnomaly(() => { const y = sqrt(x); sum(y).backward(); });
 */
export function detectAnomaly<T>(fn: () => T): T {
  const previous = anomalyEnabled;
  anomalyEnabled = true;
  try {
    return fn();
  } finally {
    anomalyEnabled = previous;
  }
}

/**
 * Whether anomaly mode is on.
 * @example detectAnomaly(() => isAnomalyEnabled()); // true
 */
export function isAnomalyEnabled(): boolean {
  return anomalyEnabled;
}

// ---------------------------------------------------------------------------------------------------

let nextId = 0;
let visitEpoch = 0;

/**
 * A 2-D row-major matrix of float64 values, with an optional gradient and the graph that made it.
 *
 * @example
 * const x = tensor([[1, 2], [3, 4]], { requiresGrad: true });
 * const loss = sum(mul(x, x));
 * loss.backward();
 * x.grad; // Float64Array [2, 4, 6, 8]
 */
export class Tensor {
  /** Number of rows. */
  readonly rows: number;
  /** Number of columns. */
  readonly cols: number;
  /** The values, row-major: entry (i, j) is `data[i * cols + j]` (see {@link Tensor.data}). */
  private values: Float64Array;
  private gradient: Float64Array | null = null;
  /** Whether ops on this tensor are recorded for `backward()`. */
  requiresGrad: boolean;
  /** The op that produced this tensor (`'leaf'` for tensors made from values). */
  readonly op: string;
  /** The inputs of the op that produced this tensor (empty for leaves). */
  parents: readonly Tensor[];
  /**
   * The op's backward: accumulates `dOut` (this node's gradient) into the parents' gradients, each got
   * through `grad`; null for leaves and after the graph is released.
   */
  backwardFn: ((dOut: Float64Array, grad: GradOf) => void) | null = null;
  /** A name given at creation (`{ name }`), shown by `explain()`. */
  name: string;
  /** The rule of the op that made this node (set by `defineOp`), or null for leaves. */
  rule: OpRule | null = null;
  /** The op's parameter as text (`slope=0.01`), computed only when `explain()` asks (set by `defineOp`). */
  detail: (() => string) | null = null;
  /** For a fused op's node: the op's readable reference (set by `defineOp`; see `referenceOn`, `explain`). */
  reference: ((...args: never[]) => Tensor) | null = null;
  /** For a fused op's node: the arguments it was called with (so that its reference can be rebuilt). */
  args: readonly unknown[] | null = null;
  /** The arena whose `run` made this tensor, or null: its buffers are that arena's until its next `reset()`. */
  private arena: BufferArena | null = null;
  /** The arena's generation when this tensor was made. */
  private generation = 0;
  /** A unique, increasing id (used by `explain()` and `toDot()`). */
  readonly id: number;
  /** Marks visits during the topological sort; internal. */
  visit = 0;

  constructor(rows: number, cols: number, data: Float64Array, requiresGrad = false, op = 'leaf', parents: readonly Tensor[] = []) {
    checkShape(rows, cols);
    if (data.length !== rows * cols) {
      throw new ShapeError(`tensor: ${formatShape(rows, cols)} needs ${rows * cols} values, got ${data.length}`);
    }
    this.rows = rows;
    this.cols = cols;
    this.values = data;
    this.requiresGrad = requiresGrad;
    this.op = op;
    this.parents = parents;
    this.name = '';
    this.id = nextId++;
  }

  /**
   * The values, row-major: entry (i, j) is `data[i * cols + j]`. Throws {@link RecycledTensorError}
   * when the tensor was made inside `arena.run` and that arena has been reset since (its buffer now
   * belongs to a later step).
   * @example tensor([[1, 2]]).data; // Float64Array [1, 2]
   */
  get data(): Float64Array {
    if (this.arena !== null && this.arena.generation !== this.generation) throw recycled(this, 'values');
    return this.values;
  }
  set data(values: Float64Array) {
    if (values.length !== this.rows * this.cols) throw new ShapeError(`tensor: ${formatShape(this.rows, this.cols)} needs ${this.rows * this.cols} values, got ${values.length}`);
    this.values = values;
  }

  /**
   * The gradient of the last `backward()` with respect to this tensor (same layout), or null. Throws
   * {@link RecycledTensorError} like {@link Tensor.data} for a tensor of a reset arena.
   * @example x.grad; // Float64Array [2, 4] after sum(mul(x, x)).backward() with x = [[1, 2]]
   */
  get grad(): Float64Array | null {
    if (this.arena !== null && this.gradient !== null && this.arena.generation !== this.generation) throw recycled(this, 'gradient');
    return this.gradient;
  }
  set grad(g: Float64Array | null) {
    this.gradient = g;
  }

  /**
   * Marks this tensor as made inside `arena.run` (called by `defineOp` for every op output).
   * @example out.leaseFrom(currentArena);
   */
  leaseFrom(arena: BufferArena): void {
    this.arena = arena;
    this.generation = arena.generation;
  }

  /**
   * A rows×cols tensor of zeros.
   * @example Tensor.zeros(2, 3).toArray(); // [[0, 0, 0], [0, 0, 0]]
   */
  static zeros(rows: number, cols: number, options: TensorOptions = {}): Tensor {
    checkShape(rows, cols);
    return leaf(rows, cols, new Float64Array(rows * cols), options);
  }

  /**
   * A rows×cols tensor of ones.
   * @example Tensor.ones(1, 2).toArray(); // [[1, 1]]
   */
  static ones(rows: number, cols: number, options: TensorOptions = {}): Tensor {
    checkShape(rows, cols);
    return leaf(rows, cols, new Float64Array(rows * cols).fill(1), options);
  }

  /**
   * A tensor over an existing row-major buffer (not copied).
   * @example Tensor.from(1, 2, new Float64Array([3, 4])).toArray(); // [[3, 4]]
   */
  static from(rows: number, cols: number, data: Float64Array, options: TensorOptions = {}): Tensor {
    return leaf(rows, cols, data, options);
  }

  /**
   * `[rows, cols]`.
   * @example Tensor.zeros(2, 3).shape; // [2, 3]
   */
  get shape(): Shape {
    return [this.rows, this.cols];
  }

  /**
   * Number of entries, rows·cols.
   * @example Tensor.zeros(2, 3).size; // 6
   */
  get size(): number {
    return this.data.length;
  }

  /**
   * The values as nested arrays (a copy).
   * @example tensor([[1, 2]]).toArray(); // [[1, 2]]
   */
  toArray(): number[][] {
    const out: number[][] = [];
    for (let i = 0; i < this.rows; i++) {
      out.push(Array.from(this.data.subarray(i * this.cols, (i + 1) * this.cols)));
    }
    return out;
  }

  /**
   * The gradient as nested arrays, or null.
   * @example x.gradArray(); // [[2, 4]]
   */
  gradArray(): number[][] | null {
    if (this.grad === null) return null;
    return Tensor.from(this.rows, this.cols, this.grad).toArray();
  }

  /**
   * The single value of a 1×1 tensor.
   * @example sum(tensor([[1, 2]])).item(); // 3
   */
  item(): number {
    if (this.rows !== 1 || this.cols !== 1) {
      throw new ShapeError(`item: only a 1×1 tensor has a single value, this one is ${formatShape(this.rows, this.cols)}`);
    }
    return this.data[0]!;
  }

  /**
   * The name, or the op's parameter as text (`slope=0.01`, `1:3`, `[2, 0]`), as `explain()` shows it.
   * @example leakyRelu(x, 0.2).label; // 'slope=0.2'
   */
  get label(): string {
    if (this.name !== '') return this.name;
    return this.detail !== null ? this.detail() : '';
  }

  /**
   * Clears this tensor's gradient (sets it to null).
   * @example w.zeroGrad();
   */
  zeroGrad(): void {
    this.gradient = null;
  }

  /**
   * A leaf tensor sharing this tensor's values, cut from the graph (`requiresGrad = false`).
   * @example const c = x.detach(); // gradients do not flow through c
   */
  detach(): Tensor {
    return new Tensor(this.rows, this.cols, this.data, false);
  }

  /**
   * Computes the gradient of this tensor with respect to every tensor in its graph that requires one,
   * accumulating (`+=`) into their `grad`. A 1×1 tensor seeds `dOut = 1`; a larger one needs `dOut`
   * of its own shape. After the pass the graph's closures are released (pass `{ retainGraph: true }` to
   * run backward through the same graph again).
   *
   * @example
   * const x = tensor([[3]], { requiresGrad: true });
   * mul(x, x).backward();
   * x.grad; // Float64Array [6]
   */
  backward(dOut?: Float64Array | Tensor | number[][], options: { retainGraph?: boolean } = {}): void {
    if (!this.requiresGrad) {
      throw new Error(`backward: this ${formatShape(this.rows, this.cols)} tensor does not require grad (no input requires grad, or it was made inside noGrad)`);
    }
    let seed: Float64Array;
    if (dOut === undefined) {
      if (this.rows !== 1 || this.cols !== 1) {
        throw new ShapeError(`backward: a ${formatShape(this.rows, this.cols)} output needs an explicit dOut of the same shape (only a 1×1 output seeds dOut = 1)`);
      }
      seed = new Float64Array([1]);
    } else {
      seed = dOut instanceof Float64Array ? dOut : dOut instanceof Tensor ? dOut.data : tensor(dOut).data;
      const [r, c] = dOut instanceof Tensor ? dOut.shape : dOut instanceof Float64Array ? [this.rows, this.cols] : [dOut.length, dOut[0]?.length ?? 0];
      if (seed.length !== this.data.length || r !== this.rows || c !== this.cols) {
        throw new ShapeError(`backward: dOut must have the output's shape ${formatShape(this.rows, this.cols)}, got ${dOut instanceof Float64Array ? `${seed.length} values` : formatShape(r, c)}`);
      }
    }
    const order = topologicalOrder(this);
    // A recorded node without its closure was released by an earlier backward(): going on would
    // silently stop the gradient there (the root, or an intermediate shared with an earlier loss).
    for (let k = 0; k < order.length; k++) {
      const node = order[k]!;
      if (node.op !== 'leaf' && node.requiresGrad && node.backwardFn === null) {
        throw new Error(`backward: the graph behind ${node === this ? 'this' : 'an intermediate'} ${node.op} output (${formatShape(node.rows, node.cols)}) was already released by an earlier backward(); pass { retainGraph: true } to the first call to run backward twice`);
      }
    }
    // Intermediate gradients start from zero on every pass; leaves accumulate across passes.
    for (let k = 0; k < order.length; k++) {
      const node = order[k]!;
      if (node.backwardFn !== null) node.grad = null;
    }
    const g = gradBuffer(this);
    for (let i = 0; i < g.length; i++) g[i]! += seed[i]!;
    for (let k = order.length - 1; k >= 0; k--) {
      const node = order[k]!;
      const fn = node.backwardFn, g = node.grad;
      if (fn === null || g === null) continue;
      fn(g, gradOf);
      if (anomalyEnabled) checkBackward(node);
    }
    if (options.retainGraph !== true) {
      for (let k = 0; k < order.length; k++) order[k]!.backwardFn = null;
    }
  }

  /**
   * A short description, e.g. `Tensor(2×3, op=matmul)`.
   * @example String(Tensor.zeros(2, 3)); // 'Tensor(2×3, op=leaf)'
   */
  toString(): string {
    return `Tensor(${formatShape(this.rows, this.cols)}, op=${this.op}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }
}

/** Refuses a shape that is not two non-negative integers (before any buffer of that size is allocated). */
function checkShape(rows: number, cols: number): void {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
    throw new ShapeError(`tensor: shape must be two non-negative integers, got ${rows}×${cols}`);
  }
}

function leaf(rows: number, cols: number, data: Float64Array, options: TensorOptions): Tensor {
  const t = new Tensor(rows, cols, data, options.requiresGrad === true);
  if (options.name !== undefined) t.name = options.name;
  return t;
}

/**
 * Makes a tensor from nested arrays (rows of equal length). Values are copied. Anything but an array of
 * arrays of numbers is refused with a TypeError naming the row and column: a string, `null`, a boolean,
 * a nested array (`[[[1]]]` is rank 3, not a matrix); ragged rows are a ShapeError. NaN and ±∞ are
 * numbers and are kept.
 *
 * @example
 * const x = tensor([[1, 2, 3], [4, 5, 6]], { requiresGrad: true }); // 2×3
 * tensor([[1, 'a']] as any); // TypeError: tensor: row 0, column 1 is "a", not a number
 */
export function tensor(values: readonly (readonly number[])[], options: TensorOptions = {}): Tensor {
  if (!Array.isArray(values)) throw new TypeError(`tensor: expected an array of rows (arrays of numbers), got ${describeValue(values)}`);
  const rows = values.length;
  const first: unknown = rows === 0 ? [] : values[0];
  if (!Array.isArray(first)) throw new TypeError(`tensor: row 0 is ${describeValue(first)}, not an array of numbers (write [[1, 2]] for a 1×2 tensor)`);
  const cols = first.length;
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const row: unknown = values[i];
    if (!Array.isArray(row)) throw new TypeError(`tensor: row ${i} is ${describeValue(row)}, not an array of numbers`);
    if (row.length !== cols) {
      throw new ShapeError(`tensor: ragged rows, row 0 has ${cols} values but row ${i} has ${row.length}`);
    }
    for (let j = 0; j < cols; j++) {
      const v: unknown = row[j];
      if (typeof v !== 'number') {
        const why = Array.isArray(v) ? ' (a tensor is a matrix: rows of numbers, not deeper nesting)' : '';
        throw new TypeError(`tensor: row ${i}, column ${j} is ${describeValue(v)}, not a number${why}`);
      }
      data[i * cols + j] = v;
    }
  }
  return leaf(rows, cols, data, options);
}

/** A value as it reads in an error message. */
function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined (a hole or a missing value)';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

/**
 * The gradient buffer of `t`, allocated (zeros) on first use. Backward closures accumulate into it
 * (through the `grad` function `defineOp` hands them). A leaf's gradient is its own array (it outlives
 * the step); an intermediate's comes from the current {@link BufferArena}, if any. Internal.
 *
 * @example
 * const g = gradBuffer(x);
 * for (let i = 0; i < g.length; i++) g[i] += dOut[i]; // accumulate, never assign
 */
export function gradBuffer(t: Tensor): Float64Array {
  let g = t.grad;
  if (g === null) {
    g = t.op === 'leaf' ? fresh(t.data.length) : alloc(t.data.length);
    t.grad = g;
  }
  return g;
}

// ---------------------------------------------------------------------------------------------------
// Buffer reuse, explicit and owned. A training step builds the same graph every time; allocating its
// float arrays anew each step costs more than the arithmetic on them at small sizes (V8 keeps
// typed-array memory outside its heap and must track and collect it). An arena is an object you create
// and own (`TrainStep` owns one): inside `arena.run(fn)` op outputs and intermediate gradients come from
// it, and `arena.reset()` takes them all back. Misuse is loud: every tensor made inside `run` remembers
// the arena's generation, and reading its `data` or `grad` after a reset throws RecycledTensorError.
// Outside any arena (a user's own loop) every buffer is a fresh array: nothing is ever shared.

let currentArena: BufferArena | null = null;
let poisonRecycled = false;

/**
 * Checking mode for buffer reuse: when on, `BufferArena.reset()` fills every buffer it takes back with
 * NaN, so that a raw `Float64Array` kept from inside `run` (which no generation check can see) turns
 * into NaN at once instead of silently holding a later step's values. The tests run with it on.
 *
 * Returns the previous setting.
 *
 * @example const previous = setBufferChecks(true); // ... setBufferChecks(previous);
 */
export function setBufferChecks(on: boolean): boolean {
  const previous = poisonRecycled;
  poisonRecycled = on;
  return previous;
}

/**
 * A pool of float64 buffers reused from one training step to the next, owned by whoever creates it.
 * Inside `arena.run(fn)`, every op's output and every intermediate gradient is taken from the arena;
 * `arena.reset()` makes all of them free again. Tensors made inside `run` belong to the arena: after the
 * next `reset()` reading their `data` or `grad` throws {@link RecycledTensorError} (leaf tensors and
 * their gradients are never taken from the arena).
 *
 * @example
 * const arena = new BufferArena();
 * for (const batch of batches) {
 *   arena.reset();
 *   const loss = arena.run(() => { const l = nll(flow, batch); l.backward(); return l.item(); });
 *   optimizer.step();
 * }
 */
export class BufferArena {
  private readonly pools = new Map<number, { buffers: Float64Array[]; next: number }>();
  /** Increases at every `reset()`; tensors made before it are then unreadable. */
  generation = 0;

  /**
   * A buffer of length n (zeroed unless `zero` is false): a free one from the pool, or a new one that joins the pool.
   * @example new BufferArena().take(6).length; // 6
   */
  take(n: number, zero = true): Float64Array {
    let pool = this.pools.get(n);
    if (pool === undefined) {
      pool = { buffers: [], next: 0 };
      this.pools.set(n, pool);
    }
    if (pool.next < pool.buffers.length) {
      const b = pool.buffers[pool.next++]!;
      if (zero) b.fill(0);
      return b;
    }
    const b = new Float64Array(n);
    pool.buffers.push(b);
    pool.next++;
    return b;
  }

  /**
   * Takes every buffer back: the tensors made inside earlier `run` calls become unreadable (their
   * buffers are NaN-filled in checking mode, see {@link setBufferChecks}).
   * @example arena.reset(); // at the start of each training step
   */
  reset(): void {
    this.generation++;
    for (const pool of this.pools.values()) {
      if (poisonRecycled) for (let k = 0; k < pool.next; k++) pool.buffers[k]!.fill(NaN);
      pool.next = 0;
    }
  }

  /**
   * Runs `fn` with this arena as the source of op buffers.
   * @example const value = arena.run(() => { const l = nll(flow, batch); l.backward(); return l.item(); });
   */
  run<T>(fn: () => T): T {
    const previous = currentArena;
    currentArena = this;
    try {
      return fn();
    } finally {
      currentArena = previous;
    }
  }

  /**
   * Total bytes held by the arena.
   * @example new BufferArena().bytes; // 0
   */
  get bytes(): number {
    let total = 0;
    for (const pool of this.pools.values()) total += pool.buffers.length * 8 * (pool.buffers[0]?.length ?? 0);
    return total;
  }
}

// ---------------------------------------------------------------------------------------------------
// Fresh buffers outside an arena (a user's own loop). A `new Float64Array(n)` of 64 values costs ~600 ns
// of CPU in V8 (its own zeroed backing store, registered with the garbage collector), more than the
// arithmetic of most ops on it; a view into a larger zeroed ArrayBuffer costs ~100 ns. So small buffers are carved, one after the other, out of
// slabs of SLAB_VALUES values, and never reused: a slab is only ever handed out once, front to back, and
// is collected when no view into it is left. No tensor can see another's values; what a kept tensor
// costs is at most its slab's memory (SLAB_VALUES·8 bytes) until it is dropped. Larger buffers are
// their own arrays (the zeroing dominates their cost anyway).

/** Values per slab: 32 KiB. */
const SLAB_VALUES = 4096;
/** Buffers of more values than this get their own array. */
const SLAB_MAX_REQUEST = 1024;
let slab = new ArrayBuffer(0);
let slabAt = 0;

/** A zeroed buffer of n values that no other tensor shares (a view into the current slab when small). */
function fresh(n: number): Float64Array {
  if (n > SLAB_MAX_REQUEST) return new Float64Array(n);
  const bytes = 8 * n;
  if (slabAt + bytes > slab.byteLength) {
    slab = new ArrayBuffer(8 * SLAB_VALUES);
    slabAt = 0;
  }
  const b = new Float64Array(slab, slabAt, n);
  slabAt += bytes;
  return b;
}

/**
 * A zeroed float64 buffer for an op's output: from the current arena inside `arena.run`, else fresh
 * (never shared with any other tensor).
 * @example const o = alloc(x.rows * x.cols); // all zeros
 */
export function alloc(n: number): Float64Array {
  return currentArena === null ? fresh(n) : currentArena.take(n);
}

/**
 * Like {@link alloc} but not zeroed when it comes from the arena: for outputs whose every entry the op writes.
 * @example const o = allocRaw(x.size); for (let i = 0; i < o.length; i++) o[i] = -x.data[i];
 */
export function allocRaw(n: number): Float64Array {
  const b = currentArena === null ? fresh(n) : currentArena.take(n, false);
  // checking mode: an op that promised to write every entry and did not leaves NaN behind
  if (poisonRecycled) b.fill(NaN);
  return b;
}

/**
 * What `backward()` hands an op's backward: the gradient buffer of an input (zeros on first use), or
 * null when that input needs none.
 * @example const gx = gradOf(x); if (gx !== null) gx[0] += 1;
 */
export const gradOf: GradOf = (t) => (t.requiresGrad ? gradBuffer(t) : null);

/**
 * Creates the output node of an op. It records `parents` only when recording is on and some parent
 * requires grad; the op then attaches its backward closure when `out.requiresGrad` is true.
 * In anomaly mode the forward values are checked here, so an op calls it once `data` is computed.
 *
 * @example
 * const out = result('neg', x.rows, x.cols, o, [x]); // defineOp then sets out.backwardFn
 */
export function result(op: string, rows: number, cols: number, data: Float64Array, parents: readonly Tensor[]): Tensor {
  let needs = false;
  if (gradEnabled) {
    for (let k = 0; k < parents.length; k++) {
      if (parents[k]!.requiresGrad) {
        needs = true;
        break;
      }
    }
  }
  const out = new Tensor(rows, cols, data, needs, op, needs ? parents : NO_PARENTS);
  if (currentArena !== null) out.leaseFrom(currentArena);
  if (anomalyEnabled) checkForward(out, parents);
  return out;
}

const NO_PARENTS: readonly Tensor[] = [];

/**
 * All nodes reachable from `root`, parents before children (root last). Iterative depth-first search
 * with an explicit stack, so that very deep graphs do not overflow the call stack.
 *
 * @example topologicalOrder(loss).at(-1) === loss; // true
 */
export function topologicalOrder(root: Tensor): Tensor[] {
  const epoch = ++visitEpoch;
  const order: Tensor[] = [];
  const nodes: Tensor[] = [root];
  const next: number[] = [0];
  root.visit = epoch;
  while (nodes.length > 0) {
    const top = nodes.length - 1;
    const node = nodes[top]!;
    const k = next[top]!;
    if (k < node.parents.length) {
      next[top] = k + 1;
      const parent = node.parents[k]!;
      if (parent.visit !== epoch) {
        parent.visit = epoch;
        nodes.push(parent);
        next.push(0);
      }
    } else {
      order.push(node);
      nodes.pop();
      next.pop();
    }
  }
  return order;
}

function shapesOf(ts: readonly Tensor[]): string {
  return ts.map((t) => formatShape(t.rows, t.cols)).join(', ');
}

/**
 * The index of the first NaN or ±∞ in `a`, or -1 when every entry is finite.
 * @example firstNonFinite(new Float64Array([1, NaN, Infinity])); // 1
 */
export function firstNonFinite(a: ArrayLike<number>): number {
  // a branch-free pass first: x·0 is 0 for every finite x and NaN for NaN and ±∞
  let probe = 0;
  for (let i = 0; i < a.length; i++) probe += a[i]! * 0;
  if (probe === 0) return -1;
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return i;
  return -1;
}

function checkForward(out: Tensor, parents: readonly Tensor[]): void {
  const i = firstNonFinite(out.data);
  if (i >= 0) {
    throw new AnomalyError(`anomaly: ${out.op} produced ${out.data[i]} at entry (${Math.floor(i / out.cols)}, ${i % out.cols}) of its ${formatShape(out.rows, out.cols)} output in the forward pass; inputs: ${shapesOf(parents)}`);
  }
}

function checkBackward(node: Tensor): void {
  for (const p of node.parents) {
    if (p.grad === null) continue;
    const i = firstNonFinite(p.grad);
    if (i >= 0) {
      throw new AnomalyError(`anomaly: the backward of ${node.op} produced ${p.grad[i]} in the gradient of its ${formatShape(p.rows, p.cols)} input at entry (${Math.floor(i / p.cols)}, ${i % p.cols}); inputs: ${shapesOf(node.parents)}`);
    }
  }
}
