/**
 * Structural ops on columns: `sliceCols`, `concatCols`, `gatherCols`. They move values without
 * arithmetic, so their backward routes each gradient entry back to where its value came from.
 *
 * @module
 */

import { allocRaw, formatShape, gradBuffer, result, ShapeError, type Tensor } from './tensor.ts';

// out = x[:, start:end]
// dx[:, start:end] = dOut
/**
 * Columns `start` (inclusive) to `end` (exclusive) of x.
 * @example sliceCols(tensor([[1, 2, 3]]), 1, 3).toArray(); // [[2, 3]]
 */
export function sliceCols(x: Tensor, start: number, end: number = x.cols): Tensor {
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > x.cols || start > end) {
    throw new ShapeError(`sliceCols: columns ${start}:${end} are not a range inside ${formatShape(x.rows, x.cols)}`);
  }
  const r = x.rows, c = x.cols, w = end - start;
  const o = allocRaw(r * w), v = x.data;
  for (let i = 0; i < r; i++) for (let j = 0; j < w; j++) o[i * w + j] = v[i * c + start + j]!;
  const out = result('sliceCols', r, w, o, [x]);
  out.detailKey = 'range';
  out.detailValue = [start, end];
  if (out.requiresGrad) {
    out.backwardFn = () => {
      const g = out.grad!, gx = gradBuffer(x);
      for (let i = 0; i < r; i++) for (let j = 0; j < w; j++) gx[i * c + start + j]! += g[i * w + j]!;
    };
  }
  return out;
}

// out = [a | b | ...] (side by side)
// da = dOut[:, columns of a], db = dOut[:, columns of b], ...
/**
 * Places tensors with the same number of rows side by side.
 * @example concatCols([tensor([[1]]), tensor([[2, 3]])]).toArray(); // [[1, 2, 3]]
 */
export function concatCols(parts: readonly Tensor[]): Tensor {
  if (parts.length === 0) throw new ShapeError('concatCols: needs at least one tensor');
  const r = parts[0]!.rows;
  let c = 0;
  for (const p of parts) {
    if (p.rows !== r) {
      throw new ShapeError(`concatCols: all parts need the same number of rows, got ${parts.map((t) => formatShape(t.rows, t.cols)).join(' and ')}`);
    }
    c += p.cols;
  }
  const o = allocRaw(r * c);
  let offset = 0;
  for (const p of parts) {
    const w = p.cols, v = p.data;
    for (let i = 0; i < r; i++) for (let j = 0; j < w; j++) o[i * c + offset + j] = v[i * w + j]!;
    offset += w;
  }
  const out = result('concatCols', r, c, o, parts);
  if (out.requiresGrad) {
    out.backwardFn = () => {
      const g = out.grad!;
      let at = 0;
      for (const p of parts) {
        const w = p.cols;
        if (p.requiresGrad) {
          const gp = gradBuffer(p);
          for (let i = 0; i < r; i++) for (let j = 0; j < w; j++) gp[i * w + j]! += g[i * c + at + j]!;
        }
        at += w;
      }
    };
  }
  return out;
}

// out[:, j] = x[:, indices[j]]
// dx[:, indices[j]] = dOut[:, j]
/**
 * Picks columns of x by index (repeats allowed): permutations, masks and reorderings.
 * @example gatherCols(tensor([[1, 2, 3]]), [2, 0]).toArray(); // [[3, 1]]
 */
export function gatherCols(x: Tensor, indices: ArrayLike<number>): Tensor {
  const r = x.rows, c = x.cols, w = indices.length;
  const idx = indices instanceof Int32Array ? indices : Int32Array.from(indices);
  for (let j = 0; j < w; j++) {
    const k = indices[j]!;
    if (!Number.isInteger(k) || k < 0 || k >= c) {
      throw new ShapeError(`gatherCols: index ${k} (position ${j}) is outside the ${c} columns of ${formatShape(r, c)}`);
    }
  }
  const o = allocRaw(r * w), v = x.data;
  for (let i = 0; i < r; i++) for (let j = 0; j < w; j++) o[i * w + j] = v[i * c + idx[j]!]!;
  const out = result('gatherCols', r, w, o, [x]);
  out.detailKey = 'indices';
  out.detailValue = idx;
  if (out.requiresGrad) {
    out.backwardFn = () => {
      const g = out.grad!, gx = gradBuffer(x);
      for (let i = 0; i < r; i++) for (let j = 0; j < w; j++) gx[i * c + idx[j]!]! += g[i * w + j]!;
    };
  }
  return out;
}
