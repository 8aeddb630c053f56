/**
 * The seeded generator: the base module that everything drawing randomness imports (nn initialisers,
 * flows' sampling, data sets, training's shuffling). flowgrad never calls `Math.random`.
 *
 * @module
 */
export { Rng } from './rng.ts';
export type { RandomSource } from './rng.ts';
