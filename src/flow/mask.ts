/**
 * Coupling masks: which features pass through unchanged (part A, the conditioning features) and which
 * are transformed (part B).
 *
 * @module
 */

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
  return { a: Int32Array.from(a), b: Int32Array.from(b), contiguous };
}
