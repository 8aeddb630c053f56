/**
 * Optimizers (SGD, Adam, AdamW), gradient clipping and learning-rate schedules, with PyTorch's
 * semantics and plain-JSON state dicts.
 *
 * @module
 */
export { checkBoolean, checkNumber, checkOptionKeys, Optimizer, OptimizerStateDictError } from './optimizer.ts';
export type { OptimizerStateDict, OptionValue, ParamStateDict } from './optimizer.ts';
export { SGD } from './sgd.ts';
export type { SGDOptions } from './sgd.ts';
export { Adam, adamUpdate, checkAdamOptions } from './adam.ts';
export type { AdamHyper, AdamOptions } from './adam.ts';
export { AdamW } from './adamw.ts';
export type { AdamWOptions } from './adamw.ts';
export { clipGradNorm, NonFiniteGradientError } from './clip.ts';
export type { ClipGradNormOptions } from './clip.ts';
export { CosineAnnealingLR, ExponentialLR, LRScheduler, StepLR } from './schedule.ts';
export type { CosineAnnealingLROptions, ExponentialLROptions, HasLearningRate, SchedulerStateDict, StepLROptions } from './schedule.ts';
