/**
 * Matrix products: `matmul`, `transpose`, and the fused `linear` layer (x·Wᵀ + b as one graph node).
 * Loops run in i-k-j order so that the innermost loop walks contiguous memory.
 *
 * @module
 */

import { alloc, allocRaw, formatShape, gradBuffer, result, ShapeError, type Tensor } from './tensor.ts';

// out = A·B
// dA = dOut·Bᵀ, dB = Aᵀ·dOut
/**
 * Matrix product of an m×k and a k×n tensor.
 * @example matmul(tensor([[1, 2]]), tensor([[3], [4]])).toArray(); // [[11]]
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.cols !== b.rows) {
    throw new ShapeError(`matmul: cannot multiply ${formatShape(a.rows, a.cols)} by ${formatShape(b.rows, b.cols)} (inner sizes ${a.cols} and ${b.rows} differ)`);
  }
  const m = a.rows, k = a.cols, n = b.cols;
  const o = alloc(m * n), A = a.data, B = b.data;
  for (let i = 0; i < m; i++) {
    const oRow = i * n;
    for (let p = 0; p < k; p++) {
      const aip = A[i * k + p]!;
      const bRow = p * n;
      for (let j = 0; j < n; j++) o[oRow + j]! += aip * B[bRow + j]!;
    }
  }
  const out = result('matmul', m, n, o, [a, b]);
  if (out.requiresGrad) {
    out.backwardFn = () => {
      const g = out.grad!;
      if (a.requiresGrad) {
        // dA[i, p] += Σ_j dOut[i, j]·B[p, j]
        const gA = gradBuffer(a);
        for (let i = 0; i < m; i++) {
          for (let p = 0; p < k; p++) {
            let acc = 0;
            for (let j = 0; j < n; j++) acc += g[i * n + j]! * B[p * n + j]!;
            gA[i * k + p]! += acc;
          }
        }
      }
      if (b.requiresGrad) {
        // dB[p, j] += Σ_i A[i, p]·dOut[i, j]
        const gB = gradBuffer(b);
        for (let i = 0; i < m; i++) {
          for (let p = 0; p < k; p++) {
            const aip = A[i * k + p]!;
            for (let j = 0; j < n; j++) gB[p * n + j]! += aip * g[i * n + j]!;
          }
        }
      }
    };
  }
  return out;
}

// out = xᵀ
// dx = dOutᵀ
/** Transpose. @example transpose(tensor([[1, 2]])).toArray(); // [[1], [2]] */
export function transpose(x: Tensor): Tensor {
  const r = x.rows, c = x.cols;
  const o = allocRaw(r * c), v = x.data;
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) o[j * r + i] = v[i * c + j]!;
  const out = result('transpose', c, r, o, [x]);
  if (out.requiresGrad) {
    out.backwardFn = () => {
      const g = out.grad!, gx = gradBuffer(x);
      for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) gx[i * c + j]! += g[j * r + i]!;
    };
  }
  return out;
}

// out = x·Wᵀ + b
// dx = dOut·W, dW = dOutᵀ·x, db = Σ_rows dOut
/**
 * The affine map of a linear layer in one graph node, with PyTorch's weight layout: x is n×in, W is
 * out×in, b is 1×out (or omitted). Output n×out.
 *
 * @example
 * linear(tensor([[1, 2]]), tensor([[1, 1], [0, 1]]), tensor([[0, 10]])).toArray(); // [[3, 12]]
 */
export function linear(x: Tensor, W: Tensor, b?: Tensor | null): Tensor {
  const n = x.rows, nIn = x.cols, nOut = W.rows;
  if (W.cols !== nIn) {
    throw new ShapeError(`linear: input ${formatShape(n, nIn)} does not fit weight ${formatShape(W.rows, W.cols)} (weight is out×in, so its columns must equal the input's ${nIn} columns)`);
  }
  if (b != null && (b.rows !== 1 || b.cols !== nOut)) {
    throw new ShapeError(`linear: bias must be 1×${nOut} for weight ${formatShape(W.rows, W.cols)}, got ${formatShape(b.rows, b.cols)}`);
  }
  const o = allocRaw(n * nOut);
  linearForward(x.data, n, nIn, W.data, nOut, b != null ? b.data : null, o);
  const out = result('linear', n, nOut, o, b != null ? [x, W, b] : [x, W]);
  if (out.requiresGrad) {
    out.backwardFn = () => {
      linearBackward(out.grad!, x.data, n, nIn, W.data, nOut,
        x.requiresGrad ? gradBuffer(x) : null, W.requiresGrad ? gradBuffer(W) : null, b != null && b.requiresGrad ? gradBuffer(b) : null);
    };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// The loops of `linear`, shared with the fused `mlp` op. Two loop orders with the same sums in the same
// order: with few inputs and many outputs (the post's Linear(1, 64)) the output index q runs innermost;
// otherwise each output is a contiguous dot product.

/** o[i, q] = b[q] + Σ_p X[i, p]·W[q, p] for an n×nIn input and an nOut×nIn weight; overwrites o. */
export function linearForward(X: Float64Array, n: number, nIn: number, w: Float64Array, nOut: number, bias: Float64Array | null, o: Float64Array): void {
  const wide = nIn > 0 && nIn < nOut;
  for (let i = 0; i < n; i++) {
    const xRow = i * nIn, oRow = i * nOut;
    if (wide) {
      // (nIn >= 1 here, since nIn < nOut and a layer without inputs takes the other branch.)
      const x0 = X[xRow]!;
      if (bias !== null) for (let q = 0; q < nOut; q++) o[oRow + q] = bias[q]! + x0 * w[q * nIn]!;
      else for (let q = 0; q < nOut; q++) o[oRow + q] = x0 * w[q * nIn]!;
      for (let p = 1; p < nIn; p++) {
        const xip = X[xRow + p]!;
        for (let q = 0; q < nOut; q++) o[oRow + q]! += xip * w[q * nIn + p]!;
      }
    } else {
      for (let q = 0; q < nOut; q++) {
        const wRow = q * nIn;
        let acc = bias !== null ? bias[q]! : 0;
        for (let p = 0; p < nIn; p++) acc += X[xRow + p]! * w[wRow + p]!;
        o[oRow + q] = acc;
      }
    }
  }
}

/** Accumulates dx += dOut·W, dW += dOutᵀ·X, db += Σ_rows dOut (each skipped when its buffer is null). */
export function linearBackward(g: Float64Array, X: Float64Array, n: number, nIn: number, w: Float64Array, nOut: number, gx: Float64Array | null, gW: Float64Array | null, gb: Float64Array | null): void {
  const wide = nIn > 0 && nIn < nOut;
  for (let i = 0; i < n; i++) {
    const xRow = i * nIn, gRow = i * nOut;
    // db[q] += dOut[i, q]
    if (gb !== null) for (let q = 0; q < nOut; q++) gb[q]! += g[gRow + q]!;
    if (wide) {
      for (let p = 0; p < nIn; p++) {
        const xip = X[xRow + p]!;
        let acc = 0;
        if (gW !== null) {
          for (let q = 0; q < nOut; q++) {
            const gq = g[gRow + q]!;
            acc += gq * w[q * nIn + p]!;
            // dW[q, p] += dOut[i, q]·x[i, p]
            gW[q * nIn + p]! += gq * xip;
          }
        } else {
          for (let q = 0; q < nOut; q++) acc += g[gRow + q]! * w[q * nIn + p]!;
        }
        // dx[i, p] += Σ_q dOut[i, q]·W[q, p]
        if (gx !== null) gx[xRow + p]! += acc;
      }
    } else {
      for (let q = 0; q < nOut; q++) {
        const gq = g[gRow + q]!;
        const wRow = q * nIn;
        // dx[i, :] += dOut[i, q]·W[q, :]
        if (gx !== null) for (let p = 0; p < nIn; p++) gx[xRow + p]! += gq * w[wRow + p]!;
        // dW[q, :] += dOut[i, q]·x[i, :]
        if (gW !== null) for (let p = 0; p < nIn; p++) gW[wRow + p]! += gq * X[xRow + p]!;
      }
    }
  }
}
