/** Training and evaluation. @module */
export { fit, meanNll, TrainingDivergedError } from './fit.ts';
export type { EpochInfo, FitOptions, History, StopSignal, Trainable } from './fit.ts';
export { CHECKPOINT_FORMAT, CheckpointError, checkpointFromDict, checkpointToDict } from './checkpoint.ts';
export type { EpochPosition, FitState } from './checkpoint.ts';
export { evaluate } from './evaluate.ts';
export type { EvaluateOptions, Evaluation } from './evaluate.ts';
export { NonFiniteStepError, TrainStep } from './step.ts';
