/**
 * Data: the seeded random generator, toy targets with known densities, CSV reading and writing, and the
 * train/validation split.
 *
 * @module
 */
export { Rng } from './rng.ts';
export type { RandomSource } from './rng.ts';
export { entropyEstimate } from './target.ts';
export type { Estimate, Target } from './target.ts';
export { eightGaussians, gaussianMixture, gaussianPairEntropy, postMixture } from './mixture.ts';
export type { GaussianMixtureOptions } from './mixture.ts';
export { circles, logBesselI0, twoMoons } from './rings.ts';
export { checkerboard } from './checkerboard.ts';
export { pinwheel, twoSpirals } from './toys.ts';
export { datasets, getDataset, mixture16d, mixture8d } from './datasets.ts';
export { CsvError, parseCsv, toCsv } from './csv.ts';
export type { CsvTable, ParseCsvOptions } from './csv.ts';
export { trainValSplit } from './split.ts';
export type { TrainValSplit } from './split.ts';
