/**
 * Splitting a data set into training and validation rows.
 *
 * @module
 */

import { Tensor } from '../autograd/tensor.ts';
import type { Rng } from '../rng/rng.ts';

/**
 * The two parts returned by {@link trainValSplit}.
 * @example const { train, val }: TrainValSplit = trainValSplit(x, 0.1, rng);
 */
export interface TrainValSplit {
  /** The training rows (shuffled). */
  train: Tensor;
  /** The validation rows (shuffled). */
  val: Tensor;
}

/**
 * Shuffles the rows of `data` with `rng` and puts `round(valFraction·n)` of them in `val`, the rest in
 * `train`. Both parts are new tensors (copies); `data` is untouched. `valFraction` must lie strictly
 * between 0 and 1, and the rounding must leave at least one row on each side.
 *
 * @example
 * const { train, val } = trainValSplit(x, 0.2, new Rng(0)); // x 1000×2 -> train 800×2, val 200×2
 */
export function trainValSplit(data: Tensor, valFraction: number, rng: Rng): TrainValSplit {
  if (!(valFraction > 0 && valFraction < 1)) {
    throw new RangeError(`trainValSplit: valFraction must be strictly between 0 and 1, got ${valFraction}`);
  }
  const n = data.rows, cols = data.cols;
  const nVal = Math.round(valFraction * n);
  if (nVal < 1 || nVal > n - 1) {
    throw new RangeError(`trainValSplit: ${n} rows with valFraction ${valFraction} gives ${nVal} validation and ${n - nVal} training rows; both need at least one`);
  }
  const order = rng.permutation(n);
  const take = (from: number, count: number): Tensor => {
    const out = new Float64Array(count * cols);
    for (let i = 0; i < count; i++) {
      const src = order[from + i]!;
      for (let j = 0; j < cols; j++) out[i * cols + j] = data.data[src * cols + j]!;
    }
    return Tensor.from(count, cols, out);
  };
  return { train: take(0, n - nVal), val: take(n - nVal, nVal) };
}
