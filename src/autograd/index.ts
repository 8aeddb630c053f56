/**
 * The autodiff engine: tensors, ops with their derivatives, backward, noGrad, anomaly mode, gradcheck,
 * explain/toDot.
 *
 * @module
 */
export { alloc, AnomalyError, BufferArena, detectAnomaly, formatShape, isAnomalyEnabled, isGradEnabled, noGrad, ShapeError, Tensor, tensor, topologicalOrder } from './tensor.ts';
export type { Shape, TensorOptions } from './tensor.ts';
export { abs, add, addScalar, div, exp, leakyRelu, log, mul, neg, powScalar, relu, scale, sigmoid, softplus, sqrt, square, sub, tanh } from './elementwise.ts';
export { linear, matmul, transpose } from './matmul.ts';
export { mean, sum } from './reduce.ts';
export { mlp } from './fused.ts';
export type { MlpActivation, MlpLayer } from './fused.ts';
export type { Axis } from './reduce.ts';
export { concatCols, gatherCols, sliceCols } from './shape.ts';
export { gradcheck, GradcheckError } from './gradcheck.ts';
export type { GradcheckOptions, GradcheckReport, InputReport } from './gradcheck.ts';
export { explain, toDot } from './explain.ts';
export { columnMeanStd } from './stats.ts';
export { RULES, ruleText } from './rules.ts';
export { defineOp } from './op.ts';
export type { GradOf, Op, OpContext, OpResult, OpRule, OpSpec } from './op.ts';
export { checkOptionKeys, describe, didYouMean, editDistance } from './options.ts';
