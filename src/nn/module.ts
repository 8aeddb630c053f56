/**
 * `Module`: the base of every layer and model. Parameters and sub-modules are found by reading the
 * module's own fields in declaration order (as PyTorch's `nn.Module` does with attributes): a `Tensor`
 * with `requiresGrad` is a parameter, a `Module` is a child, an array of modules is a list of children
 * named by index. Names are dotted paths, e.g. `flows.3.scale.0.weight`.
 *
 * @module
 */

import { formatShape, Tensor } from '../autograd/tensor.ts';

/**
 * Values accepted by {@link Module.loadStateDict}: tensors, nested arrays, or flat arrays for 1×n.
 * @example new Linear(2, 1, { rng }).loadStateDict({ weight: [[1, 2]], bias: [0] });
 */
export type StateValue = Tensor | readonly (readonly number[])[] | readonly number[] | Float64Array;

/**
 * Options of {@link Module.loadStateDict}.
 * @example model.loadStateDict(partial, { strict: false }); // missing and extra entries are skipped
 */
export interface LoadOptions {
  /** Refuse missing and unexpected entries (shape mismatches are always refused). Default true. */
  strict?: boolean;
}

/**
 * Thrown by {@link Module.loadStateDict} with every problem found, one per line.
 * @example try { model.loadStateDict({}); } catch (e) { e instanceof StateDictError; } // true: every entry is missing
 */
export class StateDictError extends Error {
  override readonly name = 'StateDictError';
}

/**
 * The base class of layers and models.
 *
 * @example
 * class Affine extends Module {
 *   weight = Tensor.ones(1, 2, { requiresGrad: true });
 * }
 * new Affine().namedParameters(); // [['weight', Tensor(1×2)]]
 */
export abstract class Module {
  /** Training mode flag, set by {@link Module.train} and {@link Module.eval}. */
  training = true;
  /** Names of fields holding non-trainable state saved in the state dict (see {@link Module.registerBuffer}). */
  private readonly bufferNames: string[] = [];

  /**
   * Declares a field holding a non-trainable tensor that belongs in the state dict (e.g. ActNorm's
   * "initialised" flag).
   * @example this.initialised = this.registerBuffer('initialised', Tensor.zeros(1, 1));
   */
  protected registerBuffer(name: string, value: Tensor): Tensor {
    if (!this.bufferNames.includes(name)) this.bufferNames.push(name);
    return value;
  }

  /**
   * Child modules with their names, in declaration order.
   * @example model.namedChildren();
   */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [key, value] of Object.entries(this)) {
      if (value instanceof Module) out.push([key, value]);
      else if (Array.isArray(value) && value.length > 0 && value.every((v) => v instanceof Module)) {
        value.forEach((m: Module, i) => out.push([`${key}.${i}`, m]));
      }
    }
    return out;
  }

  /**
   * Every trainable tensor of this module and its children, with dotted names.
   * @example new Linear(2, 3, { rng }).namedParameters().map(([n]) => n); // ['weight', 'bias']
   */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [key, value] of Object.entries(this)) {
      if (value instanceof Tensor && value.requiresGrad && !this.bufferNames.includes(key)) out.push([prefix + key, value]);
    }
    for (const [name, child] of this.namedChildren()) out.push(...child.namedParameters(`${prefix}${name}.`));
    return out;
  }

  /**
   * Every trainable tensor.
   * @example new Adam(model.parameters(), { lr: 1e-3 });
   */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /**
   * Buffers (non-trainable saved state) with dotted names.
   * @example actnorm.namedBuffers();
   */
  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const key of this.bufferNames) {
      const value = (this as Record<string, unknown>)[key];
      if (value instanceof Tensor) out.push([prefix + key, value]);
    }
    for (const [name, child] of this.namedChildren()) out.push(...child.namedBuffers(`${prefix}${name}.`));
    return out;
  }

  /**
   * Total number of trainable values.
   * @example new Linear(2, 3, { rng }).parameterCount(); // 9
   */
  parameterCount(): number {
    let n = 0;
    for (const p of this.parameters()) n += p.size;
    return n;
  }

  /**
   * Clears the gradient of every parameter.
   * @example model.zeroGrad();
   */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /**
   * Puts this module and its children in training mode.
   * @example model.train();
   */
  train(mode = true): this {
    this.training = mode;
    for (const [, child] of this.namedChildren()) child.train(mode);
    return this;
  }

  /**
   * Puts this module and its children in evaluation mode.
   * @example model.eval();
   */
  eval(): this {
    return this.train(false);
  }

  /**
   * Parameters and buffers by dotted name. The tensors are the module's own (not copies), as in PyTorch.
   * @example saveSafetensors(model.stateDict());
   */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [name, t] of this.namedParameters()) out[name] = t;
    for (const [name, t] of this.namedBuffers()) out[name] = t;
    return out;
  }

  /**
   * Copies values into this module's parameters and buffers (their identity is kept, so an optimizer
   * built on them still works). Mis-shaped entries and entries holding NaN or ±∞ are always refused (a
   * vector fits a vector of the same size: a bias saved 1-D, `[n]`, loads into a 1×n bias); with `strict` (the default),
   * missing and unexpected entries are refused too. All problems are reported at once, by name; nothing
   * is changed unless the whole dict fits.
   *
   * @example
   * model.loadStateDict(loadSafetensors(bytes).tensors);
   */
  loadStateDict(dict: Readonly<Record<string, StateValue>>, options: LoadOptions = {}): void {
    const strict = options.strict ?? true;
    const own = this.stateDict();
    const problems: string[] = [];
    const writes: [Tensor, Float64Array][] = [];
    for (const [name, target] of Object.entries(own)) {
      if (!Object.hasOwn(dict, name)) {
        if (strict) problems.push(`missing entry "${name}" (${formatShape(target.rows, target.cols)})`);
        continue;
      }
      const values = toValues(dict[name]!);
      if (values === null) {
        problems.push(`entry "${name}" is not a tensor or an array of numbers`);
        continue;
      }
      const [rows, cols, data] = values;
      // A vector (1×n or n×1, e.g. a bias saved 1-D as PyTorch does) fits a vector target of the same size:
      // the values are in the same order either way.
      const isVector = (r: number, c: number) => r === 1 || c === 1;
      const fits = (rows === target.rows && cols === target.cols) || (isVector(rows, cols) && isVector(target.rows, target.cols) && rows * cols === target.rows * target.cols);
      if (!fits) {
        problems.push(`entry "${name}" has shape ${formatShape(rows, cols)}, the model expects ${formatShape(target.rows, target.cols)}`);
        continue;
      }
      let bad = -1;
      for (let i = 0; i < data.length; i++) {
        if (!Number.isFinite(data[i]!)) {
          bad = i;
          break;
        }
      }
      if (bad >= 0) {
        problems.push(`entry "${name}" holds ${data[bad]} at index ${bad} (row ${Math.floor(bad / cols)}, column ${bad % cols}); parameters and buffers must be finite`);
        continue;
      }
      writes.push([target, data]);
    }
    if (strict) {
      for (const name of Object.keys(dict)) if (!Object.hasOwn(own, name)) problems.push(`unexpected entry "${name}"`);
    }
    if (problems.length > 0) {
      throw new StateDictError(`loadStateDict: ${problems.length} problem${problems.length > 1 ? 's' : ''}:\n  ${problems.join('\n  ')}`);
    }
    for (const [target, data] of writes) target.data.set(data);
  }

  /**
   * The module's own one-line description, e.g. `Linear(in=2, out=64)`; override in subclasses.
   * @example new Linear(2, 64, { rng }).describe(); // 'Linear(in=2, out=64, bias)'
   */
  describe(): string {
    return this.constructor.name;
  }

  /**
   * A readable tree of the model with parameter counts.
   * @example
   * console.log(String(new MLP([2, 64, 2], { rng })));
   * // MLP — 322 parameters
   * //   (0) Linear(in=2, out=64, bias) — 192
   * //   (1) ReLU
   * //   (2) Linear(in=64, out=2, bias) — 130
   */
  toString(): string {
    const lines: string[] = [];
    const walk = (m: Module, name: string, depth: number) => {
      const count = m.parameterCount();
      const head = depth === 0 ? m.describe() : `(${name}) ${m.describe()}`;
      const countText = count === 0 ? '' : depth === 0 ? ` — ${count.toLocaleString('en-US')} parameter${count === 1 ? '' : 's'}` : ` — ${count.toLocaleString('en-US')}`;
      lines.push(`${'  '.repeat(depth)}${head}${countText}`);
      for (const [childName, child] of m.namedChildren()) walk(child, childName, depth + 1);
    };
    walk(this, '', 0);
    return lines.join('\n');
  }
}

function toValues(v: StateValue): [number, number, Float64Array] | null {
  if (v instanceof Tensor) return [v.rows, v.cols, v.data];
  if (v instanceof Float64Array) return [1, v.length, v];
  if (!Array.isArray(v)) return null;
  if (v.length > 0 && Array.isArray(v[0])) {
    const rows = v.length, cols = (v[0] as number[]).length;
    const data = new Float64Array(rows * cols);
    for (let i = 0; i < rows; i++) {
      const row = v[i] as unknown;
      if (!Array.isArray(row) || row.length !== cols) return null;
      for (let j = 0; j < cols; j++) {
        if (typeof row[j] !== 'number') return null;
        data[i * cols + j] = row[j] as number;
      }
    }
    return [rows, cols, data];
  }
  if (!v.every((x) => typeof x === 'number')) return null;
  return [1, v.length, Float64Array.from(v as number[])];
}
