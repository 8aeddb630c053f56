/**
 * The registry of toy data sets, by name.
 *
 * @module
 */

import { checkerboard } from './checkerboard.ts';
import { eightGaussians, postMixture } from './mixture.ts';
import { circles, twoMoons } from './rings.ts';
import type { Target } from './target.ts';
import { pinwheel, twoSpirals } from './toys.ts';

/**
 * Every toy data set by name: `post-mixture` (the blog post's target), `eight-gaussians`, `two-moons`,
 * `circles`, `checkerboard`, `pinwheel`, `two-spirals`.
 *
 * @example
 * Object.keys(datasets); // ['post-mixture', 'eight-gaussians', ...]
 * datasets['checkerboard'].entropy; // log 8
 */
export const datasets: Readonly<Record<string, Target>> = Object.freeze({
  'post-mixture': postMixture,
  'eight-gaussians': eightGaussians,
  'two-moons': twoMoons,
  circles,
  checkerboard,
  pinwheel,
  'two-spirals': twoSpirals,
});

/**
 * The data set called `name`; throws a RangeError listing the valid names otherwise.
 *
 * @example
 * getDataset('post-mixture').sample(1000, new Rng(0)); // 1000×2
 * getDataset('moons'); // RangeError: unknown data set "moons"; valid names: post-mixture, eight-gaussians, ...
 */
export function getDataset(name: string): Target {
  if (!Object.prototype.hasOwnProperty.call(datasets, name)) {
    throw new RangeError(`unknown data set "${name}"; valid names: ${Object.keys(datasets).join(', ')}`);
  }
  return datasets[name]!;
}
