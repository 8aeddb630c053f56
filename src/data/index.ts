/**
 * Data: toy targets with known densities, CSV reading and writing, and the
 * train/validation split.
 *
 * @module
 */
// The generator lives in src/rng (a base module); re-exported here for `flowgrad/data` users.
export { Rng } from '../rng/rng.ts';
export type { RandomSource } from '../rng/rng.ts';
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
