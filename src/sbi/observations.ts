/**
 * The benchmark's observations, made from the simulators with fixed seeds as sbibm makes its own
 * (`Task._setup`): for observation k (1..10) a generator seeded with the task's k-th observation seed
 * draws θ* from the prior and then x from the simulator. The seeds are sbibm's, but the generator is
 * flowgrad's xoshiro128**, so the values differ from sbibm's stored files.
 *
 * @module
 */

import { Rng } from '../rng/rng.ts';
import type { Task } from './tasks.ts';

/**
 * One observation: the true parameters θ* and the data x simulated from them.
 * @example const { theta, x, seed } = observation(getTask('slcp'), 1);
 */
export interface Observation {
  /** Which observation, 1..10. */
  index: number;
  /** The seed it was made with. */
  seed: number;
  /** θ*, length thetaDim. */
  theta: Float64Array;
  /** x, length xDim. */
  x: Float64Array;
}

/**
 * Observation `index` (1-based, 1..10) of a task.
 * @example observation(getTask('two-moons'), 1).x; // Float64Array(2)
 */
export function observation(task: Task, index: number): Observation {
  const n = task.observationSeeds.length;
  if (!Number.isInteger(index) || index < 1 || index > n) throw new RangeError(`observation: index must be an integer in 1..${n}, got ${index}`);
  const seed = task.observationSeeds[index - 1]!;
  const rng = new Rng(seed);
  const theta = task.prior.sample(1, rng);
  const x = task.simulate(theta, rng);
  return { index, seed, theta: theta.data.slice(), x: x.data.slice() };
}

/**
 * All ten observations of a task.
 * @example observations(getTask('slcp')).length; // 10
 */
export function observations(task: Task): Observation[] {
  return task.observationSeeds.map((_, k) => observation(task, k + 1));
}
