/**
 * flowgrad: reverse-mode autodiff over Float64Array matrices, layers, optimizers and RealNVP
 * normalizing flows, with no runtime dependency.
 *
 * @module
 */
export * from './autograd/index.ts';
