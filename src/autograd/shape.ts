/**
 * Structural ops: on columns `sliceCols`, `concatCols`, `gatherCols`; on rows `gatherRows` (and
 * `repeatRows` built on it, which conditional flows use to repeat a context row per sample; its gradient
 * property is in test/flow/conditional.test.ts). They move values without arithmetic, so their backward routes each gradient entry back to where its value came from.
 *
 * @module
 */

import { defineOp } from './op.ts';
import { formatShape, ShapeError, type Tensor } from './tensor.ts';

/**
 * Columns `start` (inclusive) to `end` (exclusive) of x.
 * @example sliceCols(tensor([[1, 2, 3]]), 1, 3).toArray(); // [[2, 3]]
 */
export const sliceCols = defineOp({
  name: 'sliceCols',
  formula: 'out = x[:, start:end]',
  derivative: 'dx[:, start:end] = dOut',
  forward(ctx, x: Tensor, start: number, end: number = x.cols) {
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > x.cols || start > end) {
      throw new ShapeError(`sliceCols: columns ${start}:${end} are not a range inside ${formatShape(x.rows, x.cols)}`);
    }
    const r = x.rows, c = x.cols, w = end - start, v = x.data;
    const o = ctx.output(r * w);
    for (let i = 0; i < r; i++) for (let j = 0; j < w; j++) o[i * w + j] = v[i * c + start + j]!;
    return {
      rows: r, cols: w, data: o, inputs: [x],
      detail() { return `${start}:${end}`; },
      backward(dOut, grad) {
        const gx = grad(x);
        if (gx !== null) for (let i = 0; i < r; i++) for (let j = 0; j < w; j++) gx[i * c + start + j]! += dOut[i * w + j]!;
      },
    };
  },
});

/**
 * Places tensors with the same number of rows side by side.
 * @example concatCols([tensor([[1]]), tensor([[2, 3]])]).toArray(); // [[1, 2, 3]]
 */
export const concatCols = defineOp({
  name: 'concatCols',
  formula: 'out = [a | b | ...] (side by side)',
  derivative: 'da = dOut[:, columns of a], db = dOut[:, columns of b], ...',
  forward(ctx, parts: readonly Tensor[]) {
    if (parts.length === 0) throw new ShapeError('concatCols: needs at least one tensor');
    const r = parts[0]!.rows;
    let c = 0;
    for (const p of parts) {
      if (p.rows !== r) {
        throw new ShapeError(`concatCols: all parts need the same number of rows, got ${parts.map((t) => formatShape(t.rows, t.cols)).join(' and ')}`);
      }
      c += p.cols;
    }
    const o = ctx.output(r * c);
    let offset = 0;
    for (const p of parts) {
      const w = p.cols, v = p.data;
      for (let i = 0; i < r; i++) for (let j = 0; j < w; j++) o[i * c + offset + j] = v[i * w + j]!;
      offset += w;
    }
    return {
      rows: r, cols: c, data: o, inputs: parts,
      backward(dOut, grad) {
        let at = 0;
        for (const p of parts) {
          const w = p.cols, gp = grad(p);
          if (gp !== null) for (let i = 0; i < r; i++) for (let j = 0; j < w; j++) gp[i * w + j]! += dOut[i * c + at + j]!;
          at += w;
        }
      },
    };
  },
});

/**
 * Picks columns of x by index (repeats allowed): permutations, masks and reorderings.
 * @example gatherCols(tensor([[1, 2, 3]]), [2, 0]).toArray(); // [[3, 1]]
 */
export const gatherCols = defineOp({
  name: 'gatherCols',
  formula: 'out[:, j] = x[:, indices[j]]',
  derivative: 'dx[:, indices[j]] = dOut[:, j]',
  forward(ctx, x: Tensor, indices: ArrayLike<number>) {
    const r = x.rows, c = x.cols, w = indices.length;
    for (let j = 0; j < w; j++) {
      const k = indices[j]!;
      if (!Number.isInteger(k) || k < 0 || k >= c) {
        throw new ShapeError(`gatherCols: index ${k} (position ${j}) is outside the ${c} columns of ${formatShape(r, c)}`);
      }
    }
    const idx = indices instanceof Int32Array ? indices : Int32Array.from(indices);
    const o = ctx.output(r * w), v = x.data;
    for (let i = 0; i < r; i++) for (let j = 0; j < w; j++) o[i * w + j] = v[i * c + idx[j]!]!;
    return {
      rows: r, cols: w, data: o, inputs: [x],
      detail() { return `[${Array.from(idx).join(', ')}]`; },
      backward(dOut, grad) {
        const gx = grad(x);
        if (gx !== null) for (let i = 0; i < r; i++) for (let j = 0; j < w; j++) gx[i * c + idx[j]!]! += dOut[i * w + j]!;
      },
    };
  },
});

// out[i, :] = x[index[i], :]
// dx[index[i], :] += dOut[i, :]
/**
 * Picks rows of x by index (repeats allowed): out row i is x row `index[i]`. Used to repeat a context row
 * for each of the samples drawn under it.
 * @example gatherRows(tensor([[1, 2], [3, 4]]), [1, 1, 0]).toArray(); // [[3, 4], [3, 4], [1, 2]]
 */
export const gatherRows = defineOp({
  name: 'gatherRows',
  formula: 'out[i, :] = x[index[i], :]',
  derivative: 'dx[index[i], :] += dOut[i, :]',
  forward(ctx, x: Tensor, index: ArrayLike<number>) {
    const r = x.rows, c = x.cols, n = index.length;
    const idx = Int32Array.from(index);
    for (let i = 0; i < n; i++) {
      const k = idx[i]!;
      if (k !== index[i] || k < 0 || k >= r) throw new ShapeError(`gatherRows: index ${index[i]} (position ${i}) is outside the ${r} rows of ${formatShape(r, c)}`);
    }
    const o = ctx.output(n * c), v = x.data;
    for (let i = 0; i < n; i++) {
      const from = idx[i]! * c;
      for (let j = 0; j < c; j++) o[i * c + j] = v[from + j]!;
    }
    return {
      rows: n, cols: c, data: o, inputs: [x],
      backward(dOut, grad) {
        const gx = grad(x);
        if (gx === null) return;
        for (let i = 0; i < n; i++) {
          const to = idx[i]! * c;
          for (let j = 0; j < c; j++) gx[to + j]! += dOut[i * c + j]!;
        }
      },
      detail: () => `${n} of ${r} rows`,
    };
  },
});

/**
 * Each row of x repeated `times` times in place: rows [i·times, (i+1)·times) are copies of row i
 * (k×c -> (k·times)×c), by index in one pass.
 * @example repeatRows(tensor([[1], [2]]), 2).toArray(); // [[1], [1], [2], [2]]
 */
export function repeatRows(x: Tensor, times: number): Tensor {
  if (!Number.isInteger(times) || times < 0) throw new RangeError(`repeatRows: times must be a non-negative integer, got ${times}`);
  if (times === 1) return x;
  const index = new Int32Array(x.rows * times);
  for (let i = 0; i < index.length; i++) index[i] = Math.floor(i / times);
  return gatherRows(x, index);
}
