/**
 * Simulation-based inference: priors, simulators and the sbibm benchmark tasks, their reference
 * posteriors, tempered SMC for references without a closed form, the C2ST metric, neural posterior
 * estimation (a conditional RealNVP trained on simulations, amortized over observations), and the
 * calibration diagnostics (SBC, expected coverage, recovery, the posterior predictive check;
 * `checkPosterior` runs them all on any `PosteriorEstimate`, a `NeuralPosterior` as it is).
 *
 * @example
 * const task = getTask('two-moons');
 * const { theta, x } = simulateDataset(task, 10_000, { seed: 1 });
 * const { posterior } = trainNpe(theta, x, { rng: new Rng(0), support: task.prior.support, task: task.name });
 * const obs = observation(task, 1).x;
 * c2st(referencePosterior(task, obs).sample(10_000, new Rng(1)), posterior.sample(10_000, obs, new Rng(2)), { rng: new Rng(3) });
 * checkPosterior({ prior: task.prior, simulate: (t, r) => task.simulate(t, r), posterior, rng: new Rng(4) }).verdict;
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
export { c2st, c2stCombine, c2stDetailed, c2stFold, c2stPlan } from './c2st.ts';
export type { C2stOptions, C2stPlan, C2stReport } from './c2st.ts';
export { erfc, logNormalMass, logStandardNormal, standardNormalCdf } from './special.ts';
export { NeuralPosterior, NPE_DEFAULTS, npeStateFromDict, npeStateToDict, ObservationError, trainNpe } from './npe.ts';
export type { CandidateResult, NpeArchitecture, NpeOptions, NpeState, PosteriorMeta } from './npe.ts';
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
