/**
 * Simulation-based inference: priors, simulators and the sbibm benchmark tasks, their reference
 * posteriors, tempered SMC for references without a closed form, and the C2ST metric.
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
