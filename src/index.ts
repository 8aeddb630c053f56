/**
 * flowgrad: reverse-mode autodiff over Float64Array matrices, layers, optimizers and RealNVP
 * normalizing flows, with no runtime dependency.
 *
 * @module
 */
export * from './autograd/index.ts';
export * from './nn/index.ts';
export * from './flow/index.ts';
export { Rng } from './data/rng.ts';
export type { RandomSource } from './data/rng.ts';
