/**
 * Coupling masks: which features pass through unchanged (part A, the conditioning features) and which
 * are transformed (part B).
 *
 * @module
 */

import { concatCols, gatherCols, sliceCols } from '../autograd/shape.ts';
import type { Tensor } from '../autograd/tensor.ts';

/**
 * A mask spec: `'half'` (A = the first ⌊d/2⌋ features), `'alternating'` (A = even positions), or one boolean per feature, `true` for A.
 * @example new AffineCoupling({ dim: 3, mask: [true, false, true], rng: new Rng(0) });
 */
export type MaskSpec = 'half' | 'alternating' | readonly boolean[];

/**
 * The two parts of a split, as feature indices in increasing order.
 * @example const { a, b }: Split = makeSplit(4, 'half'); // a = [0, 1], b = [2, 3]
 */
export interface Split {
  /** Features passed through unchanged (they condition the transform). */
  a: Int32Array;
  /** Features transformed. */
  b: Int32Array;
  /** True when A is exactly the first |A| features (then slicing is enough). */
  contiguous: boolean;
  /** Where each feature sits in [x_A | x_B]: gathering by it puts the two parts back in place. */
  positions: Int32Array;
}

/**
 * Resolves a mask for `dim` features; `invert` swaps the roles of A and B. d < 2 is refused, and so is
 * a mask that leaves either part empty.
 *
 * @example
 * makeSplit(5, 'half');        // a = [0, 1], b = [2, 3, 4]
 * makeSplit(4, 'alternating'); // a = [0, 2], b = [1, 3]
 */
export function makeSplit(dim: number, mask: MaskSpec = 'half', invert = false): Split {
  if (!Number.isInteger(dim) || dim < 2) throw new RangeError(`coupling: dim must be an integer >= 2 (a coupling needs features on both sides), got ${dim}`);
  let inA: boolean[];
  if (mask === 'half') inA = Array.from({ length: dim }, (_, j) => j < Math.floor(dim / 2));
  else if (mask === 'alternating') inA = Array.from({ length: dim }, (_, j) => j % 2 === 0);
  else if (Array.isArray(mask)) {
    if (mask.length !== dim) throw new RangeError(`coupling: mask has ${mask.length} entries for dim ${dim}`);
    inA = mask.map((m) => m === true);
  } else throw new RangeError(`coupling: mask must be 'half', 'alternating' or an array of booleans, got ${String(mask)}`);
  if (invert) inA = inA.map((m) => !m);
  const a: number[] = [], b: number[] = [];
  inA.forEach((m, j) => (m ? a : b).push(j));
  if (a.length === 0 || b.length === 0) throw new RangeError(`coupling: the mask leaves ${a.length === 0 ? 'no feature to condition on' : 'no feature to transform'} (dim ${dim})`);
  const contiguous = a.every((j, i) => j === i);
  const positions = new Int32Array(dim);
  a.forEach((j, i) => (positions[j] = i));
  b.forEach((j, i) => (positions[j] = a.length + i));
  return { a: Int32Array.from(a), b: Int32Array.from(b), contiguous, positions };
}

/**
 * [x_A, x_B]: the two parts of x (n×dim) for a coupling, by slicing when A is contiguous, else gathering.
 * @example const [xa, xb] = splitParts(x, makeSplit(4, 'alternating')); // columns [0, 2] and [1, 3]
 */
export function splitParts(x: Tensor, split: Split): [Tensor, Tensor] {
  if (split.contiguous) return [sliceCols(x, 0, split.a.length), sliceCols(x, split.a.length, x.cols)];
  return [gatherCols(x, split.a), gatherCols(x, split.b)];
}

/**
 * The inverse of {@link splitParts}: y_A and y_B put back in their features' places.
 * @example joinParts(...splitParts(x, split), split); // equals x
 */
export function joinParts(ya: Tensor, yb: Tensor, split: Split): Tensor {
  const joined = concatCols([ya, yb]);
  return split.contiguous ? joined : gatherCols(joined, split.positions);
}
