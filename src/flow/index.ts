/** Normalizing flows: the bijection contract (with an optional context), the composition routine, couplings, permutations, RealNVP, checks. @module */
export { Bijection, cascade, Chain, checkContext, checkFinite, checkWidth, ContextError, FlowInputError, sharedContextDim, zeroLogDet } from './bijection.ts';
export type { Direction, FlowResult } from './bijection.ts';
export { conditionerInput, conditionerNet, gatherRows, repeatRows } from './conditioner.ts';
export type { ConditionerNetOptions } from './conditioner.ts';
export { makeSplit } from './mask.ts';
export type { MaskSpec, Split } from './mask.ts';
export { AffineCoupling } from './affine-coupling.ts';
export type { AffineCouplingOptions, ScaleMode } from './affine-coupling.ts';
export { PostCoupling } from './post-coupling.ts';
export { Permutation } from './permutation.ts';
export { ActNorm } from './actnorm.ts';
export { Standardize } from './standardize.ts';
export { StandardNormal } from './base.ts';
export { conditioning, nll, POST_DEFAULTS, postFromTorch, RealNVP, REALNVP_DEFAULTS } from './real-nvp.ts';
export type { ConditionalOptions, Conditioning, PermutationKind, PostOptions, RealNVPConfig, RealNVPOptions, RealNVPParts, TorchStateDict } from './real-nvp.ts';
export { BijectionCheckError, checkBijection, logAbsDet } from './check.ts';
export type { BijectionReport, CheckBijectionOptions } from './check.ts';
