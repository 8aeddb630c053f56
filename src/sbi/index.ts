/**
 * Simulation-based inference: priors, simulators and the sbibm benchmark tasks, their reference
 * posteriors, tempered SMC for references without a closed form, the C2ST metric, neural posterior
 * estimation, and the calibration diagnostics (SBC, expected coverage, recovery, the posterior
 * predictive check; `checkPosterior` runs them all).
 *
 * @module
 */
export { BoxUniform, DiagonalNormal, diagonalNormalLogProb } from './prior.ts';
export type { Box, Prior } from './prior.ts';
export { checkSimulatorOutput, chunkRng, chunkSizes, DEFAULT_CHUNK_SIZE, joinChunks, simulateChunk, simulateDataset, SimulatorError } from './simulator.ts';
export type { SimulatedData, SimulateOptions, Simulator } from './simulator.ts';
export { allTasks, getTask, MIXTURE_SCALES, mixtureLogDensity, TASK_NAMES, UnknownTaskError } from './tasks.ts';
export type { Task } from './tasks.ts';
export { observation, observations } from './observations.ts';
export type { Observation } from './observations.ts';
export { referencePosterior, TWO_MOONS_ANGLES, twoMoonsLogNormaliser } from './reference.ts';
export type { ReferenceOptions, ReferencePosterior } from './reference.ts';
export { temperedSmc } from './smc.ts';
export type { SmcOptions, SmcResult } from './smc.ts';
export { c2st, c2stDetailed } from './c2st.ts';
export type { C2stOptions, C2stReport } from './c2st.ts';
export { erfc, logNormalMass, logStandardNormal, standardNormalCdf } from './special.ts';
export { NeuralPosterior, NPE_DEFAULTS, ObservationError, trainNpe } from './npe.ts';
export type { NpeOptions, PosteriorMeta } from './npe.ts';
export { referenceEstimate } from './reference-estimate.ts';
export { checkPosterior, formatReport } from './diagnostics.ts';
export type { CheckPosteriorOptions, DiagnosticsReport, DimensionSummary } from './diagnostics.ts';
export { pairColumn, simulateCalibrationSet } from './diagnostics-set.ts';
export type { CalibrationSet, CalibrationSetOptions, Direction as BiasDirection, PosteriorEstimate, PriorSampler, Simulate, Verdict } from './diagnostics-set.ts';
export { sbc, sbcRanks, ecdfLevelCount } from './sbc.ts';
export type { SbcDimension, SbcOptions, SbcResult } from './sbc.ts';
export { ecdfBand, ecdfGamma, ecdfP, levelTables } from './diagnostics-band.ts';
export type { EcdfBand, EcdfBandOptions } from './diagnostics-band.ts';
export { expectedCoverage } from './coverage.ts';
export type { CoverageCurve, CoverageOptions, CoverageResult } from './coverage.ts';
export { recovery } from './recovery.ts';
export type { RecoveryDimension, RecoveryOptions, RecoveryResult } from './recovery.ts';
export { posteriorPredictiveCheck } from './ppc.ts';
export type { PpcDimension, PpcOptions, PpcResult } from './ppc.ts';
export { binomialQuantile, binomialTable, chiSquareSf, gammaQ, logGamma, sampleMean, sampleVariance, smirnovSf, twoSidedP } from './diagnostics-stats.ts';
export type { BinomialTable } from './diagnostics-stats.ts';
