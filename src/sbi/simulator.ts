/**
 * The simulator contract of simulation-based inference: a prior over parameters θ and a stochastic
 * map θ → x run over a batch, seeded and deterministic. `simulateDataset` draws (θ, x) pairs in
 * fixed-size chunks, each from its own generator forked off the seed in order, so that any split of
 * the chunks between workers gives the same rows as one worker; rows whose x has a NaN or ±∞ are
 * counted and dropped.
 *
 * @module
 */

import { Tensor } from '../autograd/tensor.ts';
import { Rng, type RandomSource } from '../rng/rng.ts';
import type { Prior } from './prior.ts';

/**
 * A simulator: a prior over θ and `simulate(θ, rng)` returning one row of x per row of θ.
 *
 * @example
 * const sim = getTask('two-moons');
 * const theta = sim.prior.sample(5, rng);
 * sim.simulate(theta, rng).shape; // [5, 2]
 */
export interface Simulator {
  /** The prior p(θ). */
  readonly prior: Prior;
  /** Dimension of θ (= prior.dim). */
  readonly thetaDim: number;
  /** Dimension of x. */
  readonly xDim: number;
  /** Names of θ's coordinates (CSV headers), e.g. `['theta1', 'theta2']`. */
  readonly parameterNames: readonly string[];
  /** Names of x's coordinates, e.g. `['x1', 'x2']`. */
  readonly dataNames: readonly string[];
  /** x ~ p(x | θ) for each row of θ (n×thetaDim → n×xDim), all randomness from `rng`. */
  simulate(theta: Tensor, rng: RandomSource): Tensor;
}

/**
 * Simulated pairs with the rows that produced a NaN or ±∞ taken out.
 * @example const { theta, x, dropped } = simulateDataset(task, 1000, { seed: 1 });
 */
export interface SimulatedData {
  /** n×thetaDim parameters of the kept rows. */
  theta: Tensor;
  /** n×xDim data of the kept rows. */
  x: Tensor;
  /** How many simulations returned a non-finite value and were dropped. */
  dropped: number;
  /** How many simulations were run (kept + dropped). */
  simulated: number;
}

/**
 * Options of {@link simulateDataset} and {@link simulateChunk}.
 * @example { seed: 1, chunkSize: 1000 }
 */
export interface SimulateOptions {
  /** The seed: chunk c draws from the (c+1)-th fork of `new Rng(seed)`. */
  seed: number;
  /** Rows per chunk (default 1000). Part of the result's identity: the same seed and chunk size give the same rows. */
  chunkSize?: number;
}

/** The default number of simulations per chunk. */
export const DEFAULT_CHUNK_SIZE = 1000;

/**
 * The generator of chunk `c` for a seed: the (c+1)-th fork of `new Rng(seed)`. Any worker can make it
 * without running the chunks before it (forking advances the root by one draw each).
 * @example chunkRng(1, 0); // the generator of the first chunk
 */
export function chunkRng(seed: number, chunk: number): Rng {
  if (!Number.isInteger(chunk) || chunk < 0) throw new RangeError(`chunkRng: chunk must be an integer ≥ 0, got ${chunk}`);
  const root = new Rng(seed);
  let rng = root.fork();
  for (let c = 0; c < chunk; c++) rng = root.fork();
  return rng;
}

/**
 * Chunk `c` of a simulated data set, before dropping non-finite rows: θ from the prior, then x, both
 * drawn from {@link chunkRng}. `rows` is the chunk's length (the last chunk may be short).
 * @example const { theta, x } = simulateChunk(task, 0, 1000, { seed: 1 });
 */
export function simulateChunk(simulator: Simulator, chunk: number, rows: number, options: SimulateOptions): { theta: Tensor; x: Tensor } {
  const rng = chunkRng(options.seed, chunk);
  const theta = simulator.prior.sample(rows, rng);
  const x = simulator.simulate(theta, rng);
  checkSimulatorOutput(simulator, theta, x);
  return { theta, x };
}

/**
 * Thrown when a simulator's output has the wrong shape.
 * @example try { simulateDataset(sim, 10, { seed: 0 }); } catch (e) { if (e instanceof SimulatorError) console.error(e.message); }
 */
export class SimulatorError extends Error {
  override name = 'SimulatorError';
}

/**
 * Fails unless x has one row per row of θ and `xDim` columns.
 * @example checkSimulatorOutput(sim, theta, x);
 */
export function checkSimulatorOutput(simulator: Simulator, theta: Tensor, x: unknown): asserts x is Tensor {
  if (!(x instanceof Tensor)) throw new SimulatorError(`simulator: simulate must return a Tensor (n×${simulator.xDim}), got ${x === null ? 'null' : typeof x}`);
  if (x.rows !== theta.rows || x.cols !== simulator.xDim) {
    throw new SimulatorError(`simulator: simulate(θ ${theta.rows}×${theta.cols}) returned ${x.rows}×${x.cols}, expected ${theta.rows}×${simulator.xDim}`);
  }
}

/**
 * The number of chunks and each chunk's length for n simulations.
 * @example chunkSizes(2500, 1000); // [1000, 1000, 500]
 */
export function chunkSizes(n: number, chunkSize: number = DEFAULT_CHUNK_SIZE): number[] {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`simulate: the number of simulations must be an integer ≥ 1, got ${n}`);
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RangeError(`simulate: chunkSize must be an integer ≥ 1, got ${chunkSize}`);
  const sizes: number[] = [];
  for (let start = 0; start < n; start += chunkSize) sizes.push(Math.min(chunkSize, n - start));
  return sizes;
}

/**
 * Joins chunks in order and drops the rows whose θ or x has a NaN or ±∞, counting them.
 * @example const data = joinChunks(chunks, 2, 2);
 */
export function joinChunks(chunks: readonly { theta: Tensor; x: Tensor }[], thetaDim: number, xDim: number): SimulatedData {
  let total = 0;
  for (const c of chunks) total += c.theta.rows;
  const theta = new Float64Array(total * thetaDim), x = new Float64Array(total * xDim);
  let kept = 0;
  for (const c of chunks) {
    const t = c.theta.data, v = c.x.data;
    for (let i = 0; i < c.theta.rows; i++) {
      let finite = true;
      for (let j = 0; j < xDim; j++) if (!Number.isFinite(v[i * xDim + j]!)) finite = false;
      for (let j = 0; j < thetaDim; j++) if (!Number.isFinite(t[i * thetaDim + j]!)) finite = false;
      if (!finite) continue;
      theta.set(t.subarray(i * thetaDim, (i + 1) * thetaDim), kept * thetaDim);
      x.set(v.subarray(i * xDim, (i + 1) * xDim), kept * xDim);
      kept++;
    }
  }
  return {
    theta: Tensor.from(kept, thetaDim, theta.slice(0, kept * thetaDim)),
    x: Tensor.from(kept, xDim, x.slice(0, kept * xDim)),
    dropped: total - kept,
    simulated: total,
  };
}

/**
 * n simulations (θ from the prior, then x), in chunks of `chunkSize` rows each from its own forked
 * generator; rows with a NaN or ±∞ are dropped and counted in `dropped`. The CLI's worker threads run
 * the same chunks and give the same rows.
 *
 * @example
 * const { theta, x, dropped } = simulateDataset(getTask('two-moons'), 10_000, { seed: 1 });
 * theta.shape; // [10000, 2] (minus dropped rows)
 */
export function simulateDataset(simulator: Simulator, n: number, options: SimulateOptions): SimulatedData {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const chunks = chunkSizes(n, chunkSize).map((rows, c) => simulateChunk(simulator, c, rows, options));
  return joinChunks(chunks, simulator.thetaDim, simulator.xDim);
}
