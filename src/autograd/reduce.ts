/**
 * Reductions: `sum` and `mean` over all entries (1×1), over rows (axis 0, giving 1×cols) or over
 * columns (axis 1, giving rows×1).
 *
 * @module
 */

import { alloc, gradBuffer, result, type Tensor } from './tensor.ts';

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

/** Sums x over `axis` scaled by `c` (shared by sum and mean). */
function reduce(op: 'sum' | 'mean', x: Tensor, axis: Axis, c: number): Tensor {
  const r = x.rows, n = x.cols, v = x.data;
  const outRows = axis === 1 ? r : 1, outCols = axis === 0 ? n : 1;
  const o = alloc(outRows * outCols);
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < n; j++) {
      const at = axis === undefined ? 0 : axis === 0 ? j : i;
      o[at]! += v[i * n + j]!;
    }
  }
  for (let k = 0; k < o.length; k++) o[k]! *= c;
  const out = result(op, outRows, outCols, o, [x]);
  if (axis !== undefined) {
    out.detailKey = 'axis';
    out.detailValue = axis;
  }
  if (out.requiresGrad) {
    out.backwardFn = () => {
      const g = out.grad!, gx = gradBuffer(x);
      for (let i = 0; i < r; i++) {
        for (let j = 0; j < n; j++) {
          const at = axis === undefined ? 0 : axis === 0 ? j : i;
          gx[i * n + j]! += c * g[at]!;
        }
      }
    };
  }
  return out;
}

// out = Σ x (over all entries, rows (axis 0) or columns (axis 1))
// dx = dOut broadcast back to x
/**
 * Sum of entries: no axis gives 1×1, axis 0 gives 1×cols, axis 1 gives rows×1.
 * @example sum(tensor([[1, 2], [3, 4]]), 0).toArray(); // [[4, 6]]
 */
export function sum(x: Tensor, axis?: Axis): Tensor {
  checkAxis('sum', axis);
  return reduce('sum', x, axis, 1);
}

// out = Σ x / n (over all entries, rows (axis 0) or columns (axis 1))
// dx = dOut / n broadcast back to x
/**
 * Mean of entries: no axis gives 1×1, axis 0 gives 1×cols, axis 1 gives rows×1.
 * @example mean(tensor([[1, 2], [3, 4]]), 1).toArray(); // [[1.5], [3.5]]
 */
export function mean(x: Tensor, axis?: Axis): Tensor {
  checkAxis('mean', axis);
  const count = axis === undefined ? x.size : axis === 0 ? x.rows : x.cols;
  return reduce('mean', x, axis, 1 / count);
}
