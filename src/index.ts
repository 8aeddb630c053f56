/**
 * flowgrad: reverse-mode autodiff over Float64Array matrices, layers, optimizers and RealNVP
 * normalizing flows, with no runtime dependency.
 *
 * Subpaths: `flowgrad/rng`, `flowgrad/autograd`, `flowgrad/nn`, `flowgrad/optim`, `flowgrad/flow`, `flowgrad/data`,
 * `flowgrad/io`, `flowgrad/train`, `flowgrad/plot`, `flowgrad/sbi`.
 *
 * @module
 */
export * from './rng/index.ts';
export * from './autograd/index.ts';
export * from './nn/index.ts';
export * from './optim/index.ts';
export * from './flow/index.ts';
export * from './data/index.ts';
export * from './io/index.ts';
export * from './train/index.ts';
export * from './sbi/index.ts';
