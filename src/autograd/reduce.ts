/**
 * Reductions: `sum` and `mean` over all entries (1×1), over rows (axis 0, giving 1×cols) or over
 * columns (axis 1, giving rows×1).
 *
 * @module
 */

import { defineOp } from './op.ts';
import type { Tensor } from './tensor.ts';

/**
 * Which axis a reduction runs over: none (all entries), 0 (down the rows) or 1 (across the columns).
 * @example const axis: Axis = 0; sum(tensor([[1, 2], [3, 4]]), axis).toArray(); // [[4, 6]]
 */
export type Axis = 0 | 1 | undefined;

function checkAxis(op: string, axis: unknown): void {
  if (axis !== undefined && axis !== 0 && axis !== 1) {
    throw new RangeError(`${op}: axis must be 0, 1 or omitted, got ${String(axis)}`);
  }
}

/** Sums x over `axis` into o (1×1, 1×cols or rows×1, zeroed), scaled by c; the backward of both ops below. */
function reduceInto(x: Float64Array, r: number, n: number, axis: Axis, c: number, o: Float64Array): void {
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < n; j++) o[axis === undefined ? 0 : axis === 0 ? j : i]! += x[i * n + j]!;
  }
  for (let k = 0; k < o.length; k++) o[k]! *= c;
}

/** gx += c·dOut broadcast back over `axis`. */
function spreadBack(dOut: Float64Array, r: number, n: number, axis: Axis, c: number, gx: Float64Array): void {
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < n; j++) gx[i * n + j]! += c * dOut[axis === undefined ? 0 : axis === 0 ? j : i]!;
  }
}

/**
 * Sum of entries: no axis gives 1×1, axis 0 gives 1×cols, axis 1 gives rows×1.
 * @example sum(tensor([[1, 2], [3, 4]]), 0).toArray(); // [[4, 6]]
 */
export const sum = defineOp({
  name: 'sum',
  formula: 'out = Σ x (over all entries, rows (axis 0) or columns (axis 1))',
  derivative: 'dx = dOut broadcast back to x',
  forward(ctx, x: Tensor, axis?: Axis) {
    checkAxis('sum', axis);
    const r = x.rows, n = x.cols;
    const outRows = axis === 1 ? r : 1, outCols = axis === 0 ? n : 1;
    const o = ctx.zeros(outRows * outCols);
    reduceInto(x.data, r, n, axis, 1, o);
    return {
      rows: outRows, cols: outCols, data: o, inputs: [x],
      ...(axis !== undefined ? { detail() { return `axis=${axis}`; } } : {}),
      backward(dOut, grad) {
        const gx = grad(x);
        if (gx !== null) spreadBack(dOut, r, n, axis, 1, gx);
      },
    };
  },
});

/**
 * Mean of entries: no axis gives 1×1, axis 0 gives 1×cols, axis 1 gives rows×1.
 * @example mean(tensor([[1, 2], [3, 4]]), 1).toArray(); // [[1.5], [3.5]]
 */
export const mean = defineOp({
  name: 'mean',
  formula: 'out = Σ x / n (over all entries, rows (axis 0) or columns (axis 1))',
  derivative: 'dx = dOut / n broadcast back to x',
  forward(ctx, x: Tensor, axis?: Axis) {
    checkAxis('mean', axis);
    const r = x.rows, n = x.cols;
    const outRows = axis === 1 ? r : 1, outCols = axis === 0 ? n : 1;
    const c = 1 / (axis === undefined ? x.size : axis === 0 ? r : n);
    const o = ctx.zeros(outRows * outCols);
    reduceInto(x.data, r, n, axis, c, o);
    return {
      rows: outRows, cols: outCols, data: o, inputs: [x],
      ...(axis !== undefined ? { detail() { return `axis=${axis}`; } } : {}),
      backward(dOut, grad) {
        const gx = grad(x);
        if (gx !== null) spreadBack(dOut, r, n, axis, c, gx);
      },
    };
  },
});
