/**
 * Column statistics of a tensor's values (no graph): used by data-dependent initialisation,
 * standardisation and noise regularisation.
 *
 * @module
 */

import type { Tensor } from './tensor.ts';

/**
 * Mean and standard deviation of each column, in two passes (mean first, then squared deviations, for
 * accuracy). `ddof` is subtracted from n in the variance's denominator: 0 for the population std, 1 for
 * the sample std.
 *
 * @example columnMeanStd(tensor([[1, 10], [3, 10]])); // { mean: [2, 10], std: [1, 0] }
 */
export function columnMeanStd(x: Tensor, ddof = 0): { mean: Float64Array; std: Float64Array } {
  const n = x.rows, d = x.cols, v = x.data;
  const mean = new Float64Array(d), std = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    let m = 0;
    for (let i = 0; i < n; i++) m += v[i * d + j]!;
    m /= n;
    let ss = 0;
    for (let i = 0; i < n; i++) ss += (v[i * d + j]! - m) ** 2;
    mean[j] = m;
    std[j] = Math.sqrt(ss / Math.max(n - ddof, 1));
  }
  return { mean, std };
}
