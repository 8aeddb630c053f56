/** Normalizing flows: the bijection contract (with an optional context), the composition routine, couplings, permutations, RealNVP, checks. @module */
export { Bijection, cascade, Chain, checkContext, checkFinite, checkWidth, ContextError, FlowInputError, sharedContextDim, zeroLogDet } from './bijection.ts';
export type { Direction, FlowResult } from './bijection.ts';
export { conditionerInput, conditionerNet } from './conditioner.ts';
// The row ops live in src/autograd/shape.ts beside gatherCols; re-exported for `flowgrad/flow` users.
export { gatherRows, repeatRows } from '../autograd/shape.ts';
export type { ConditionerNetOptions } from './conditioner.ts';
export { joinParts, makeSplit, splitParts } from './mask.ts';
export type { MaskSpec, Split } from './mask.ts';
export { AffineCoupling } from './affine-coupling.ts';
export type { AffineCouplingOptions, ScaleMode } from './affine-coupling.ts';
export { SplineCoupling } from './spline-coupling.ts';
export type { SplineCouplingOptions } from './spline-coupling.ts';
export { rqSpline, rqSplineInverse, rqSplineInverseReference, rqSplineReference, splineKnots, splineParamCount, splitSpline, unitRoot } from './spline.ts';
export type { SplineOptions } from './spline.ts';
export { PostCoupling } from './post-coupling.ts';
export { Permutation } from './permutation.ts';
export { ActNorm } from './actnorm.ts';
export { Standardize } from './standardize.ts';
export { GROUP_RATIO, interleavedPositions, symmetricEigen, Whiten } from './whiten.ts';
export { StandardNormal } from './base.ts';
export { boxSigmoid, BoxSupport } from './box-support.ts';
export { conditioning, COUPLING_KINDS, MAX_BINS, nll, POST_DEFAULTS, postFromTorch, RealNVP, REALNVP_DEFAULTS, SPLINE_DEFAULTS } from './real-nvp.ts';
export type { ConditionalOptions, Conditioning, CouplingKind, PermutationKind, PostOptions, RealNVPConfig, RealNVPOptions, RealNVPParts, SupportOption, TorchStateDict } from './real-nvp.ts';
export { BijectionCheckError, checkBijection, logAbsDet } from './check.ts';
export type { BijectionReport, CheckBijectionOptions } from './check.ts';
