/**
 * Training recipes: every number `flowgrad train` uses unless a flag overrides it, in one place.
 *
 * - {@link POST_RECIPE} (`--preset post`): the blog post's model and recipe exactly (AANN, "Real NVP:
 *   Normalizing flows", 28/12/2024): 16 of the post's coupling layers with hidden width 64, Adam with lr
 *   2e-4, minibatches of 64, 1,000 epochs on 1,000 training points, no validation and no early stopping.
 * - {@link DEFAULT_RECIPE} (what `train --data FILE` does with no other flag): the default RealNVP
 *   exactly (`new RealNVP({ dim, standardize })`, its architecture read from `REALNVP_DEFAULTS`: bounded
 *   log-scales, identity initialisation), features standardised inside the model, a validation split
 *   with early stopping and the best weights kept.
 * - {@link SPLINE_RECIPE} (`--coupling spline`): spline couplings, whitened features, noise
 *   regularisation (chosen in bench/spline-quality-grid.txt).
 *
 * @module
 */

import { POST_DEFAULTS, REALNVP_DEFAULTS, type CouplingKind } from '../flow/real-nvp.ts';

/**
 * Architecture choices; an absent field means the RealNVP class's own default.
 * @example const model: RecipeModel = { layers: 8, hidden: 32, depth: 1 };
 */
export interface RecipeModel {
  layers?: number;
  hidden?: number;
  depth?: number;
  /** The couplings (absent: affine). */
  coupling?: CouplingKind;
  /** Spline bins and interval (spline and alternating couplings only). */
  bins?: number;
  splineBound?: number;
}

/**
 * Everything `train` needs besides the data.
 * @example const { epochs, batchSize, lr }: Recipe = recipeFor('default');
 */
export interface Recipe {
  /** Which RealNVP preset to build. */
  readonly preset: 'default' | 'post';
  /** Architecture (absent fields: the class defaults). */
  readonly model: Readonly<RecipeModel>;
  /** Standardise features inside the model (mean and std of the training rows). */
  readonly standardize: boolean;
  /** Whiten the features inside the model instead (PCA of the training rows, `Whiten.fit`; default preset only). */
  readonly whiten: boolean;
  /** Training points drawn from a toy data set (`--dataset`). */
  readonly trainPoints: number;
  /** Fresh test points drawn from a toy data set (`--dataset`). */
  readonly testPoints: number;
  /** Fraction of a CSV file's rows held out as the test set (`--data`). */
  readonly testFraction: number;
  /** Fraction of the training rows held out for validation (0: none, and no early stopping). */
  readonly valFraction: number;
  /** Stop after this many epochs without a better validation NLL (null: never). */
  readonly patience: number | null;
  readonly epochs: number;
  readonly batchSize: number;
  /** Adam's learning rate. */
  readonly lr: number;
  /** Clip the total gradient norm to this (null: no clipping). */
  readonly clipGradNorm: number | null;
  /** Decay of the exponential moving average of the weights used for validation and the result (null: none). */
  readonly ema: number | null;
  /** Gaussian noise added to every training batch, as a fraction of each feature's std (fit's `noise`; null: none). */
  readonly noise: number | null;
  /** Cut the rate on a plateau of the validation NLL (fit's `lrPlateau`; null: a constant rate). */
  readonly lrPlateau: LrPlateau | null;
}

/**
 * fit's `lrPlateau` as a run records it: the rate times `factor` at every `patience`-th epoch since the
 * best validation epoch, and with `restoreBest` back to the best weights at each cut.
 * @example const cut: LrPlateau = { patience: 40, factor: 0.5, restoreBest: false };
 */
export interface LrPlateau {
  readonly patience: number;
  readonly factor: number;
  readonly restoreBest: boolean;
}

/**
 * The post's recipe: 16 layers, hidden 64, Adam lr 2e-4, batch 64, 1,000 epochs, 1,000 training points,
 * no validation or early stopping, no standardisation.
 *
 * @example POST_RECIPE.model.hidden; // 64
 */
export const POST_RECIPE: Recipe = Object.freeze({
  preset: 'post',
  model: Object.freeze({ layers: POST_DEFAULTS.layers, hidden: POST_DEFAULTS.hidden }),
  standardize: false,
  whiten: false,
  trainPoints: 1000,
  testPoints: 10_000,
  testFraction: 0.1,
  valFraction: 0,
  patience: null,
  epochs: 1000,
  batchSize: 64,
  lr: 2e-4,
  clipGradNorm: null,
  ema: null,
  noise: null,
  lrPlateau: null,
});

/**
 * The default recipe: the default RealNVP with standardised features, 10% of the training rows for
 * validation, early stopping with the best weights kept, Adam.
 *
 * @example DEFAULT_RECIPE.patience; // 80
 */
export const DEFAULT_RECIPE: Recipe = Object.freeze({
  preset: 'default',
  // The class defaults themselves (8 couplings of one hidden layer of 32; the measurement that chose them
  // is in REALNVP_DEFAULTS' comment), so "the default model" names one model.
  model: Object.freeze({ layers: REALNVP_DEFAULTS.layers, hidden: REALNVP_DEFAULTS.hidden, depth: REALNVP_DEFAULTS.depth }),
  standardize: true,
  whiten: false,
  trainPoints: 1000,
  testPoints: 10_000,
  testFraction: 0.1,
  valFraction: 0.1,
  patience: 80,
  epochs: 1000,
  batchSize: 64,
  lr: 1e-3,
  clipGradNorm: null,
  ema: 0.995,
  noise: null,
  lrPlateau: null,
});

/**
 * The spline recipe (`train --coupling spline` with no architecture flag): the default recipe's training
 * (validation split, early stopping, weight average, Adam 1e-3) with rational-quadratic spline
 * couplings, fewer and smaller than the affine default's because a spline coupling is far more flexible
 * and overfits ~900 points sooner; the features whitened instead of standardised (`Whiten`: dominant
 * principal directions become features of their own, interleaved between the coupling halves, which
 * is what lets splines model mixture-8d and mixture-16d), noise regularisation of 0.05 of each
 * feature's std, batches of 32, and early stopping after 320 epochs without a better validation NLL
 * (the sharp targets, checkerboard most, still improve after long stalls; cutting the rate on the way,
 * `lrPlateau`, did worse). Chosen by measurement over data seeds 0-2 and confirmed on 3-4
 * (bench/spline-quality-grid.txt).
 *
 * @example SPLINE_RECIPE.model.coupling; // 'spline'
 */
export const SPLINE_RECIPE: Recipe = Object.freeze({
  ...DEFAULT_RECIPE,
  model: Object.freeze({ coupling: 'spline' as CouplingKind, layers: 4, hidden: 32, depth: 1, bins: 6, splineBound: 4 }),
  batchSize: 32,
  standardize: false,
  whiten: true,
  noise: 0.05,
  patience: 320,
});

/**
 * The recipe of a preset name, and of the couplings asked for: `--coupling spline` on the default preset
 * is the {@link SPLINE_RECIPE}.
 * @example recipeFor('post').lr; // 2e-4
 * recipeFor('default', 'spline').model.layers; // 4
 */
export function recipeFor(preset: 'default' | 'post', coupling?: CouplingKind): Recipe {
  if (preset === 'post') return POST_RECIPE;
  return coupling === 'spline' ? SPLINE_RECIPE : DEFAULT_RECIPE;
}
