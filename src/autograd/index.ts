/**
 * The autodiff engine: tensors, the op-definition API (`defineOp`) and the ops defined with it, backward,
 * noGrad, anomaly mode, owned buffer reuse (`BufferArena`), gradcheck, explain/toDot.
 *
 * @module
 */
export { AnomalyError, BufferArena, detectAnomaly, firstNonFinite, formatShape, isAnomalyEnabled, isGradEnabled, noGrad, RecycledTensorError, setBufferChecks, ShapeError, Tensor, tensor, topologicalOrder } from './tensor.ts';
export type { Shape, TensorOptions } from './tensor.ts';
export { abs, add, addScalar, div, exp, leakyRelu, log, mul, neg, powScalar, relu, scale, sigmoid, softplus, sqrt, square, sub, tanh } from './elementwise.ts';
export { linear, matmul, transpose } from './matmul.ts';
export { mean, sum } from './reduce.ts';
export { MLP_KERNELS, mlp } from './fused.ts';
export type { MlpActivation, MlpKernel, MlpLayer } from './fused.ts';
export type { Axis } from './reduce.ts';
export { concatCols, gatherCols, gatherRows, repeatRows, sliceCols } from './shape.ts';
export { gradcheck, GradcheckError } from './gradcheck.ts';
export type { GradcheckOptions, GradcheckReport, InputReport } from './gradcheck.ts';
export { explain, toDot } from './explain.ts';
export type { ExplainOptions } from './explain.ts';
export { columnMeanStd } from './stats.ts';
export { defineOp, fusedOps, referenceOn } from './op.ts';
export type { GradOf, Op, OpContext, OpResult, OpRule, OpSpec } from './op.ts';
export { checkOptionKeys, describe, didYouMean, editDistance } from './options.ts';
