/**
 * The optimizer contract shared by {@link SGD}, {@link Adam} and {@link AdamW}: a list of parameters,
 * a learning rate that schedules may change, `step()`, `zeroGrad()`, and a plain-JSON state dict from
 * which training resumes bit for bit.
 *
 * Per-parameter state (moment buffers, step counts) is allocated once, in the constructor, so that
 * `step()` never allocates.
 *
 * @module
 */
import { describe } from '../autograd/options.ts';
import { formatShape, ShapeError, type Tensor } from '../autograd/tensor.ts';

/**
 * A JSON value allowed in an optimizer's options.
 * @example const betas: OptionValue = [0.9, 0.999];
 */
export type OptionValue = number | boolean | readonly number[];

/**
 * One parameter's entry in an {@link OptimizerStateDict}.
 *
 * @example
 * { shape: [3, 2], step: 5, buffers: { m: [...6 numbers], v: [...6 numbers] } }
 */
export interface ParamStateDict {
  /** The parameter's shape `[rows, cols]`, checked on load. */
  shape: [rows: number, cols: number];
  /** How many updates this parameter has received (0: never stepped, buffers are then all zero). */
  step: number;
  /** The optimizer's buffers for this parameter, row-major, each of length rows·cols. */
  buffers: { [name: string]: number[] };
}

/**
 * The saved state of an optimizer: plain JSON (numbers, booleans, arrays), so
 * `JSON.parse(JSON.stringify(opt.stateDict()))` loads back to the same state.
 * `options` has the constructor's option names, so `new Adam(params, dict.options)` rebuilds the
 * optimizer before `loadStateDict(dict)`.
 *
 * @example
 * {
 *   optimizer: 'Adam',
 *   options: { lr: 0.001, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false },
 *   params: [{ shape: [3, 2], step: 5, buffers: { m: [...], v: [...] } }]
 * }
 */
export interface OptimizerStateDict<O extends { lr: number } = { lr: number }> {
  /** The optimizer's class name (`'SGD'`, `'Adam'`, `'AdamW'`), checked on load. */
  optimizer: string;
  /** Every option in effect, defaults filled in. */
  options: O;
  /** One entry per parameter, in the order the parameters were given to the constructor. */
  params: ParamStateDict[];
}

/**
 * Thrown by `loadStateDict` when a saved state does not fit the optimizer: another optimizer, other
 * options, another number or shape of parameters, or a malformed buffer. Nothing is changed then.
 *
 * @example
 * try { sgd.loadStateDict(adam.stateDict()); } catch (e) { e instanceof OptimizerStateDictError; } // true
 */
export class OptimizerStateDictError extends Error {
  override readonly name = 'OptimizerStateDictError';
}

/**
 * The base class of every optimizer. A subclass declares its buffers with `addBuffer` in its
 * constructor and implements `step()`, which must skip parameters whose `grad` is null (as PyTorch
 * does) and increment `steps[k]` for each parameter it updates.
 *
 * @example
 * class PlainGD extends Optimizer<{ lr: number }> {
 *   constructor(params: Iterable<Tensor>, lr: number) { super('PlainGD', params, lr); }
 *   step(): void {
 *     for (let k = 0; k < this.params.length; k++) {
 *       const w = this.params[k]!.data, g = this.gradOf(k);
 *       if (g === null) continue;
 *       this.steps[k]!++;
 *       for (let i = 0; i < w.length; i++) w[i]! -= this.lr * g[i]!;
 *     }
 *   }
 *   protected options() { return { lr: this.lr }; }
 * }
 */
export abstract class Optimizer<O extends { lr: number } = { lr: number }> {
  /** The parameters, in the order given; updated in place by `step()`. */
  readonly params: readonly Tensor[];
  /** Updates applied to each parameter so far (parameters with a null grad are not counted). */
  protected readonly steps: Float64Array;
  private readonly label: string;
  private readonly buffers: { name: string; arrays: Float64Array[] }[] = [];
  private learningRate: number;

  /**
   * @param label the optimizer's name, used in error messages and in the state dict.
   * @param params the tensors to optimize (each at most once).
   * @param lr the initial learning rate, a finite number ≥ 0.
   */
  protected constructor(label: string, params: Iterable<Tensor>, lr: number) {
    this.label = label;
    const list = Array.from(params);
    if (list.length === 0) throw new RangeError(`${label}: got an empty parameter list`);
    const seen = new Set<Tensor>();
    for (let k = 0; k < list.length; k++) {
      const p = list[k]!;
      if (p === null || typeof p !== 'object' || !(p.data instanceof Float64Array)) {
        throw new TypeError(`${label}: parameter ${k} is not a Tensor`);
      }
      if (p.op !== 'leaf') throw new TypeError(`${label}: parameter ${k} is the output of ${p.op}, not a leaf tensor; optimize the leaves it was computed from`);
      if (seen.has(p)) throw new RangeError(`${label}: parameter ${k} appears more than once in the parameter list (it would be updated twice per step)`);
      seen.add(p);
    }
    this.params = list;
    this.steps = new Float64Array(list.length);
    this.learningRate = checkNumber(label, 'lr', lr, 0);
  }

  /**
   * The learning rate used by the next `step()`. Schedules set it; a new value must be a finite
   * number ≥ 0.
   * @example opt.lr = 0.5 * opt.lr;
   */
  get lr(): number {
    return this.learningRate;
  }

  /**
   * Sets the learning rate of the next steps (checked: a finite number ≥ 0).
   * @example opt.lr = 1e-4;
   */
  set lr(value: number) {
    this.learningRate = checkNumber(this.label, 'lr', value, 0);
  }

  /**
   * Applies one update to every parameter whose `grad` is not null. Does not allocate.
   * @example loss.backward(); opt.step(); opt.zeroGrad();
   */
  abstract step(): void;

  /** Every option in effect, `lr` included, with the constructor's names. */
  protected abstract options(): O;

  /**
   * Clears the parameters' gradients before the next `backward()`.
   *
   * By default each `grad` is set to null, as `Tensor.zeroGrad()` and PyTorch ≥ 2.0 do: a parameter
   * that the next loss does not reach then keeps a null grad and is skipped by `step()` (no weight
   * decay, no momentum). With `{ setToNone: false }` existing gradient buffers are filled with 0
   * instead and reused by the next `backward()`, which then allocates nothing; such a parameter is
   * then updated with a zero gradient (weight decay and momentum still act on it).
   *
   * @example
   * opt.zeroGrad();                       // grads become null
   * opt.zeroGrad({ setToNone: false });   // grads become zeros, buffers kept
   */
  zeroGrad(options: { setToNone?: boolean } = {}): void {
    const setToNone = options.setToNone ?? true;
    for (let k = 0; k < this.params.length; k++) {
      const p = this.params[k]!;
      if (setToNone) p.grad = null;
      else if (p.grad !== null) p.grad.fill(0);
    }
  }

  /**
   * The optimizer's state as plain JSON: options, and for every parameter its shape, step count and
   * buffers (copied into `number[]`). JSON cannot hold NaN or ±∞ (they become null, which
   * `loadStateDict` rejects) and stores −0 as 0.
   *
   * @example
   * const saved = JSON.stringify(opt.stateDict());
   */
  stateDict(): OptimizerStateDict<O> {
    const params: ParamStateDict[] = [];
    for (let k = 0; k < this.params.length; k++) {
      const p = this.params[k]!;
      const buffers: { [name: string]: number[] } = {};
      for (const b of this.buffers) buffers[b.name] = Array.from(b.arrays[k]!);
      params.push({ shape: [p.rows, p.cols], step: this.steps[k]!, buffers });
    }
    return { optimizer: this.label, options: copyOptions(this.options()), params };
  }

  /**
   * Restores a state written by {@link Optimizer.stateDict} (possibly through JSON), so that training
   * continues exactly as if it had not stopped. The learning rate is taken from the saved state; every
   * other option must equal this optimizer's (build it with `dict.options`). Everything is checked
   * before anything is changed; a mismatch throws a {@link OptimizerStateDictError} saying what differs.
   *
   * @example
   * const opt = new Adam(model.parameters(), saved.options);
   * opt.loadStateDict(saved);
   */
  loadStateDict(dict: OptimizerStateDict<O>): void {
    const where = `${this.label}.loadStateDict`;
    const d = dict as unknown;
    if (!isRecord(d)) throw new OptimizerStateDictError(`${where}: expected a state dict object, got ${describe(d)}`);
    if (d.optimizer !== this.label) throw new OptimizerStateDictError(`${where}: this is the state of ${describe(d.optimizer)}, not ${this.label}`);
    // Options: lr is restored, every other option must match.
    const saved = d.options;
    if (!isRecord(saved)) throw new OptimizerStateDictError(`${where}: options must be an object, got ${describe(saved)}`);
    const mine = this.options() as Record<string, OptionValue>;
    for (const key of Object.keys(saved)) {
      if (!(key in mine)) throw new OptimizerStateDictError(`${where}: unknown option "${key}" in the saved state`);
    }
    for (const key of Object.keys(mine)) {
      if (key === 'lr') continue;
      if (!sameOption(saved[key], mine[key]!)) {
        throw new OptimizerStateDictError(`${where}: the saved state has ${key} = ${JSON.stringify(saved[key])}, this optimizer has ${JSON.stringify(mine[key])}; construct it with the saved options`);
      }
    }
    const lr = saved.lr;
    if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) throw new OptimizerStateDictError(`${where}: the saved lr must be a finite number >= 0, got ${describe(lr)}`);
    // Parameters: count, shapes, steps, buffers.
    const params = d.params;
    if (!Array.isArray(params)) throw new OptimizerStateDictError(`${where}: params must be an array, got ${describe(params)}`);
    if (params.length !== this.params.length) {
      throw new OptimizerStateDictError(`${where}: the saved state has ${params.length} parameters, this optimizer has ${this.params.length}`);
    }
    for (let k = 0; k < params.length; k++) {
      const entry = params[k] as unknown;
      const p = this.params[k]!;
      if (!isRecord(entry)) throw new OptimizerStateDictError(`${where}: parameter ${k}: expected an object, got ${describe(entry)}`);
      const shape = entry.shape;
      if (!Array.isArray(shape) || shape.length !== 2 || shape[0] !== p.rows || shape[1] !== p.cols) {
        const got = Array.isArray(shape) && shape.length === 2 ? formatShape(shape[0], shape[1]) : JSON.stringify(shape);
        throw new OptimizerStateDictError(`${where}: parameter ${k}: the saved shape is ${got}, the parameter is ${formatShape(p.rows, p.cols)}`);
      }
      const step = entry.step;
      if (typeof step !== 'number' || !Number.isInteger(step) || step < 0) {
        throw new OptimizerStateDictError(`${where}: parameter ${k}: step must be an integer >= 0, got ${describe(step)}`);
      }
      const buffers = entry.buffers;
      if (!isRecord(buffers)) throw new OptimizerStateDictError(`${where}: parameter ${k}: buffers must be an object, got ${describe(buffers)}`);
      const expected = this.buffers.map((b) => b.name);
      const names = Object.keys(buffers);
      if (names.length !== expected.length || !expected.every((name) => name in buffers)) {
        throw new OptimizerStateDictError(`${where}: parameter ${k}: expected buffers [${expected.join(', ')}], got [${names.join(', ')}]`);
      }
      for (const name of expected) {
        const values = buffers[name];
        if (!Array.isArray(values) || values.length !== p.size) {
          throw new OptimizerStateDictError(`${where}: parameter ${k}: buffer ${name} must be an array of ${p.size} numbers (${formatShape(p.rows, p.cols)}), got ${Array.isArray(values) ? `${values.length} values` : describe(values)}`);
        }
        for (let i = 0; i < values.length; i++) {
          if (typeof values[i] !== 'number') {
            throw new OptimizerStateDictError(`${where}: parameter ${k}: buffer ${name}[${i}] is ${describe(values[i])}, not a number (NaN and ±Infinity do not survive JSON)`);
          }
        }
      }
    }
    // All checked: commit.
    this.learningRate = lr;
    for (let k = 0; k < params.length; k++) {
      const entry = params[k] as ParamStateDict;
      this.steps[k] = entry.step;
      for (const b of this.buffers) b.arrays[k]!.set(entry.buffers[b.name]!);
    }
  }

  /**
   * Declares a per-parameter buffer named `name` (as it appears in the state dict): one zeroed
   * `Float64Array` of each parameter's size, allocated now. Call only from a subclass constructor.
   */
  protected addBuffer(name: string): Float64Array[] {
    const arrays: Float64Array[] = [];
    for (let k = 0; k < this.params.length; k++) arrays.push(new Float64Array(this.params[k]!.size));
    this.buffers.push({ name, arrays });
    return arrays;
  }

  /**
   * The gradient of parameter `k`, or null when it has none (the parameter is then skipped). Throws a
   * ShapeError if the gradient's length does not match the parameter.
   */
  protected gradOf(k: number): Float64Array | null {
    const p = this.params[k]!;
    const g = p.grad;
    if (g !== null && g.length !== p.data.length) {
      throw new ShapeError(`${this.label}.step: parameter ${k} is ${formatShape(p.rows, p.cols)} (${p.data.length} values) but its grad has ${g.length} values`);
    }
    return g;
  }
}

// ---------------------------------------------------------------------------------------------------
// Option checking shared by the optimizers and schedules.

/**
 * Returns `value` if it is a finite number ≥ `min` (and < `below`, when given); otherwise throws a
 * RangeError naming the owner and the option, e.g. `Adam: lr must be a finite number >= 0, got -1`.
 *
 * @example
 * const eps = checkNumber('Adam', 'eps', options.eps ?? 1e-8, 0);
 */
export function checkNumber(owner: string, option: string, value: unknown, min: number, below?: number): number {
  const ok = typeof value === 'number' && Number.isFinite(value) && value >= min && (below === undefined || value < below);
  if (!ok) {
    const range = below === undefined ? `>= ${min}` : `in [${min}, ${below})`;
    throw new RangeError(`${owner}: ${option} must be a finite number ${range}, got ${describe(value)}`);
  }
  return value as number;
}

/**
 * Returns `value` if it is a boolean; otherwise throws a TypeError naming the owner and the option.
 * @example const nesterov = checkBoolean('SGD', 'nesterov', options.nesterov ?? false);
 */
export function checkBoolean(owner: string, option: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`${owner}: ${option} must be true or false, got ${describe(value)}`);
  return value;
}

export { checkOptionKeys, describe } from '../autograd/options.ts';

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function sameOption(saved: unknown, mine: OptionValue): boolean {
  if (typeof mine === 'number' || typeof mine === 'boolean') return saved === mine;
  if (!Array.isArray(saved) || saved.length !== mine.length) return false;
  for (let i = 0; i < mine.length; i++) if (saved[i] !== mine[i]) return false;
  return true;
}

function copyOptions<O extends { lr: number }>(options: O): O {
  const out: Record<string, OptionValue> = {};
  for (const [key, value] of Object.entries(options as Record<string, OptionValue>)) {
    out[key] = Array.isArray(value) ? Array.from(value as readonly number[]) : value;
  }
  return out as O;
}
