/**
 * Where the command line's simulations come from: a benchmark task by name (`--task two-moons`), or a
 * user's JavaScript module (`--simulator ./sim.mjs`), wrapped into a checked {@link Simulator}.
 *
 * A simulator module exports:
 * ```js
 * export const prior = { low: [-1, -1], high: [1, 1] };   // a box, or { mean: [...], variance: [...] }
 * export const dataDim = 2;                               // columns of x
 * export const parameterNames = ['a', 'b'];              // optional; dataNames likewise
 * export function simulate(theta, rng) {                  // theta: n×d rows ({ rows, cols, data }); rng: { uniform(), normal() }
 *   return rows;                                          // n rows of dataDim numbers (arrays), a flat array, or a flowgrad Tensor
 * }
 * ```
 * (or the same as a default export). All randomness must come from `rng` so that a seed reproduces the
 * simulations, in one worker or several.
 *
 * @module
 */

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Tensor } from '../autograd/tensor.ts';
import type { RandomSource } from '../rng/rng.ts';
import { BoxUniform, DiagonalNormal, type Prior } from '../sbi/prior.ts';
import type { Simulator } from '../sbi/simulator.ts';
import { getTask } from '../sbi/tasks.ts';
import type { Flags } from './args.ts';
import { CliError, UsageError } from './errors.ts';

/**
 * Where simulations come from, as plain data (it is sent to worker threads).
 * @example const source: SimulatorSource = { kind: 'task', name: 'two-moons' };
 */
export type SimulatorSource = { kind: 'task'; name: string } | { kind: 'module'; path: string };

/**
 * A simulator with a label for messages (`task two-moons`, `simulator ./sim.mjs`).
 * @example const { simulator, label } = await loadSimulator({ kind: 'task', name: 'slcp' });
 */
export interface LoadedSimulator {
  simulator: Simulator;
  label: string;
}

/**
 * Loads a simulator from its source; a module is imported and checked (its prior, `dataDim` and
 * `simulate`), and its `simulate` is wrapped so that a throw or a wrong shape becomes one clear line.
 * @example const { simulator } = await loadSimulator({ kind: 'module', path: './sim.mjs' });
 */
export async function loadSimulator(source: SimulatorSource): Promise<LoadedSimulator> {
  if (source.kind === 'task') return { simulator: getTask(source.name), label: `task ${getTask(source.name).name}` };
  const label = `simulator ${source.path}`;
  const file = resolve(source.path);
  if (!existsSync(file)) throw new CliError(`${label}: no such file`);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    throw new CliError(`${label}: could not be loaded: ${e instanceof Error ? e.message : String(e)}`);
  }
  const spec = (typeof mod.simulate === 'function' ? mod : (mod.default as Record<string, unknown> | undefined)) ?? {};
  if (typeof spec.simulate !== 'function') throw new CliError(`${label}: must export a function simulate(theta, rng) (or a default export with one)`);
  const prior = modulePrior(label, spec.prior);
  const dataDim = spec.dataDim;
  if (!Number.isInteger(dataDim) || (dataDim as number) < 1) throw new CliError(`${label}: must export dataDim, the number of columns of x (an integer ≥ 1), got ${String(dataDim)}`);
  const xDim = dataDim as number;
  const names = (key: string, n: number, prefix: string): string[] => {
    const v = spec[key];
    if (v === undefined) return Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);
    if (!Array.isArray(v) || v.length !== n || !v.every((s) => typeof s === 'string')) throw new CliError(`${label}: ${key} must be ${n} strings`);
    return v as string[];
  };
  const userSimulate = spec.simulate as (theta: Tensor, rng: RandomSource) => unknown;
  const simulator: Simulator = {
    prior,
    thetaDim: prior.dim,
    xDim,
    parameterNames: names('parameterNames', prior.dim, 'theta'),
    dataNames: names('dataNames', xDim, 'x'),
    simulate(theta: Tensor, rng: RandomSource): Tensor {
      let out: unknown;
      try {
        out = userSimulate(theta, rng);
      } catch (e) {
        throw new CliError(`${label}: simulate threw: ${e instanceof Error ? e.message : String(e)}`);
      }
      return asMatrix(label, out, theta.rows, xDim);
    },
  };
  return { simulator, label };
}

function modulePrior(label: string, p: unknown): Prior {
  if (p !== null && typeof p === 'object') {
    const o = p as Record<string, unknown>;
    if (typeof o.sample === 'function' && typeof o.logProb === 'function' && Number.isInteger(o.dim)) return p as Prior;
    try {
      if (Array.isArray(o.low) && Array.isArray(o.high)) return new BoxUniform(o.low as number[], o.high as number[]);
      if (Array.isArray(o.mean) && Array.isArray(o.variance)) return new DiagonalNormal(o.mean as number[], o.variance as number[]);
    } catch (e) {
      throw new CliError(`${label}: bad prior: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  throw new CliError(`${label}: must export prior, a box { low: [...], high: [...] } or a normal { mean: [...], variance: [...] }`);
}

/** The module's return value as an n×d tensor, or one line saying what is wrong with it. */
function asMatrix(label: string, out: unknown, n: number, d: number): Tensor {
  const where = `${label}: simulate returned`;
  if (out instanceof Tensor || (out !== null && typeof out === 'object' && (out as Tensor).data instanceof Float64Array && 'rows' in (out as object))) {
    const t = out as { rows: number; cols: number; data: Float64Array };
    if (t.rows !== n || t.cols !== d) throw new CliError(`${where} a ${t.rows}×${t.cols} matrix for ${n} parameter rows, expected ${n}×${d}`);
    return out instanceof Tensor ? out : Tensor.from(n, d, t.data);
  }
  if (Array.isArray(out) && out.length > 0 && Array.isArray(out[0])) {
    if (out.length !== n) throw new CliError(`${where} ${out.length} rows for ${n} parameter rows`);
    const data = new Float64Array(n * d);
    for (let i = 0; i < n; i++) {
      const row = out[i] as unknown[];
      if (!Array.isArray(row) || row.length !== d) throw new CliError(`${where} a row ${i} of ${Array.isArray(row) ? row.length : typeof row} numbers, expected ${d} (dataDim)`);
      for (let j = 0; j < d; j++) {
        if (typeof row[j] !== 'number') throw new CliError(`${where} a ${typeof row[j]} at row ${i}, column ${j}; expected numbers`);
        data[i * d + j] = row[j] as number;
      }
    }
    return Tensor.from(n, d, data);
  }
  if (out instanceof Float64Array || (Array.isArray(out) && out.length > 0 && out.every((v) => typeof v === 'number'))) {
    const flat = out as unknown as ArrayLike<number>;
    if (flat.length !== n * d) throw new CliError(`${where} ${flat.length} numbers for ${n} parameter rows, expected ${n}·${d} = ${n * d}`);
    return Tensor.from(n, d, Float64Array.from(flat));
  }
  throw new CliError(`${where} ${out === null ? 'null' : Array.isArray(out) ? 'an empty array' : typeof out}; expected ${n} rows of ${d} numbers`);
}

/**
 * The simulator source named by `--task` or `--simulator` (exactly one).
 * @example simulatorSource(flags, 'sbi simulate'); // { kind: 'task', name: 'two-moons' }
 */
export function simulatorSource(flags: Flags, command: string): SimulatorSource {
  const task = flags.string('task'), module = flags.string('simulator');
  if ((task === undefined) === (module === undefined)) throw new UsageError(`${command}: pass exactly one of --task NAME and --simulator FILE.mjs; see flowgrad ${command} --help`);
  return task !== undefined ? { kind: 'task', name: task } : { kind: 'module', path: module! };
}
