/**
 * The registry of toy data sets, by name.
 *
 * @module
 */

import { checkerboard } from './checkerboard.ts';
import { eightGaussians, gaussianMixture, postMixture } from './mixture.ts';
import { circles, twoMoons } from './rings.ts';
import type { Target } from './target.ts';
import { pinwheel, twoSpirals } from './toys.ts';

/** A uniform mixture of four dim-D unit normals with means at ±1.5 corners: `mixture-8d` and `mixture-16d`. */
function cornerMixture(dim: number): Target {
  const means = [0, 1, 2, 3].map((c) => Array.from({ length: dim }, (_, j) => ((c + j) % 4 < 2 ? 1.5 : -1.5)));
  return gaussianMixture({
    name: `mixture-${dim}d`,
    description: `A uniform mixture of four ${dim}-D normals N(μₖ, I), μₖ with entries ±1.5 in a rotating pattern (μₖ[j] = 1.5 when (k + j) mod 4 < 2, else -1.5): overlapping components, for checking that a recipe tuned in 2-D holds up in ${dim} dimensions. Exact density; no closed-form entropy.`,
    means,
    std: 1,
  });
}

/**
 * The 8-D mixture of {@link datasets}.
 * @example mixture8d.sample(100, new Rng(0)); // 100×8
 */
export const mixture8d: Target = /* @__PURE__ */ cornerMixture(8);
/**
 * The 16-D mixture of {@link datasets}.
 * @example mixture16d.dim; // 16
 */
export const mixture16d: Target = /* @__PURE__ */ cornerMixture(16);

/**
 * Every toy data set by name: `post-mixture` (the blog post's target), `eight-gaussians`, `two-moons`,
 * `circles`, `checkerboard`, `pinwheel`, `two-spirals`, and two higher-dimensional mixtures, `mixture-8d`
 * and `mixture-16d`.
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
  'mixture-8d': mixture8d,
  'mixture-16d': mixture16d,
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
