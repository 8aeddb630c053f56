/** Training and evaluation. @module */
export { fit, meanNll, TrainingDivergedError } from './fit.ts';
export type { EpochInfo, FitOptions, History, StopSignal, Trainable } from './fit.ts';
export { evaluate } from './evaluate.ts';
export type { Evaluation } from './evaluate.ts';
export { NonFiniteStepError, TrainStep } from './step.ts';
