/** Normalizing flows: the bijection contract, couplings, permutations, RealNVP, checks. @module */
export { Bijection, Chain, checkFinite, checkWidth, FlowInputError, zeroLogDet } from './bijection.ts';
export type { FlowResult } from './bijection.ts';
export { makeSplit } from './mask.ts';
export type { MaskSpec, Split } from './mask.ts';
export { AffineCoupling } from './affine-coupling.ts';
export type { AffineCouplingOptions, ScaleMode } from './affine-coupling.ts';
export { PostCoupling } from './post-coupling.ts';
export { Permutation } from './permutation.ts';
export { ActNorm } from './actnorm.ts';
export { Standardize } from './standardize.ts';
export { StandardNormal } from './base.ts';
export { nll, postFromTorch, RealNVP } from './real-nvp.ts';
export type { PermutationKind, RealNVPConfig, RealNVPOptions, TorchStateDict } from './real-nvp.ts';
export { BijectionCheckError, checkBijection, logAbsDet } from './check.ts';
export type { BijectionReport, CheckBijectionOptions } from './check.ts';
