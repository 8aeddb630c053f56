/**
 * Arbitraries for the op properties. Values are kept away from kinks and poles by construction
 * (sign × magnitude, or a positive range), never filtered with `fc.pre`; everything is plain numbers,
 * and the tests build tensors from them inside the property.
 */
import { fc } from './fc.ts';
import type { Matrix } from './finite-diff.ts';

/** Any value in [-2, 2]: smooth ops. */
export const smooth = fc.double({ min: -2, max: 2, noNaN: true });

/** A value in [lo, hi] (finite, no NaN). */
export function within(lo: number, hi: number): fc.Arbitrary<number> {
  return fc.double({ min: lo, max: hi, noNaN: true });
}

/** ±[0.1, 2]: at least 0.1 away from 0 (relu, abs, leakyRelu, the denominators of div). */
export const awayFromZero = fc.tuple(fc.boolean(), within(0.1, 2)).map(([negative, m]) => (negative ? -m : m));

/** [0.2, 3]: inside the domain of log and sqrt, away from their pole at 0. */
export const positive = within(0.2, 3);

/** A size from 1 to 5. */
export const dim = fc.integer({ min: 1, max: 5 });

/** A rows×cols matrix of values from `value`. */
export function matrix(rows: number, cols: number, value: fc.Arbitrary<number> = smooth): fc.Arbitrary<Matrix> {
  return fc.array(fc.array(value, { minLength: cols, maxLength: cols }), { minLength: rows, maxLength: rows });
}

/** A matrix of random shape 1..5 × 1..5. */
export function anyMatrix(value: fc.Arbitrary<number> = smooth): fc.Arbitrary<Matrix> {
  return fc.tuple(dim, dim).chain(([r, c]) => matrix(r, c, value));
}

/** Upstream gradients: 100 values in [-2, 2], reshaped by the tests to the output's shape. */
export const pool = fc.array(smooth, { minLength: 100, maxLength: 100 });

/** How an operand is laid out against an m×n result. */
export type Layout = 'm×n' | '1×n' | 'm×1' | '1×1';

export const layout: fc.Arbitrary<Layout> = fc.constantFrom<Layout>('m×n', '1×n', 'm×1', '1×1');

/** The shape of an operand of the given layout against an m×n result. */
export function layoutShape(l: Layout, m: number, n: number): [number, number] {
  switch (l) {
    case 'm×n':
      return [m, n];
    case '1×n':
      return [1, n];
    case 'm×1':
      return [m, 1];
    case '1×1':
      return [1, 1];
  }
}

/**
 * Two operands of a binary op with random broadcast layouts (1×1, 1×n, m×1 or m×n on either side),
 * the second drawn from `right` (e.g. away from zero for a denominator).
 */
export function broadcastPair(left: fc.Arbitrary<number> = smooth, right: fc.Arbitrary<number> = smooth) {
  return fc.record({ m: dim, n: dim, la: layout, lb: layout }).chain(({ m, n, la, lb }) => {
    const [ra, ca] = layoutShape(la, m, n), [rb, cb] = layoutShape(lb, m, n);
    return fc.record({
      layouts: fc.constant(`${la} with ${lb}`),
      a: matrix(ra, ca, left),
      b: matrix(rb, cb, right),
      pool,
    });
  });
}
