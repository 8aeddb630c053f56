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
  // out[i, :] += Σ_p A[i, p]·B[p, :], four rows of B per pass over the output row
  for (let i = 0; i < m; i++) {
    const oRow = i * n, aRow = i * k;
    let p = 0;
    for (; p + 3 < k; p += 4) {
      const a0 = A[aRow + p]!, a1 = A[aRow + p + 1]!, a2 = A[aRow + p + 2]!, a3 = A[aRow + p + 3]!;
      const b0 = p * n, b1 = b0 + n, b2 = b1 + n, b3 = b2 + n;
      for (let j = 0; j < n; j++) o[oRow + j]! += a0 * B[b0 + j]! + a1 * B[b1 + j]! + a2 * B[b2 + j]! + a3 * B[b3 + j]!;
    }
    for (; p < k; p++) {
      const aip = A[aRow + p]!, bRow = p * n;
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
          const gRow = i * n;
          let p = 0;
          // four dot products per pass over dOut's row
          for (; p + 3 < k; p += 4) {
            const b0 = p * n, b1 = b0 + n, b2 = b1 + n, b3 = b2 + n;
            let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            for (let j = 0; j < n; j++) {
              const gj = g[gRow + j]!;
              s0 += gj * B[b0 + j]!;
              s1 += gj * B[b1 + j]!;
              s2 += gj * B[b2 + j]!;
              s3 += gj * B[b3 + j]!;
            }
            gA[i * k + p]! += s0;
            gA[i * k + p + 1]! += s1;
            gA[i * k + p + 2]! += s2;
            gA[i * k + p + 3]! += s3;
          }
          for (; p < k; p++) {
            let acc = 0;
            for (let j = 0; j < n; j++) acc += g[gRow + j]! * B[p * n + j]!;
            gA[i * k + p]! += acc;
          }
        }
      }
      if (b.requiresGrad) {
        // dB[p, j] += Σ_i A[i, p]·dOut[i, j], four rows of dOut per pass over dB's row
        const gB = gradBuffer(b);
        let i = 0;
        for (; i + 3 < m; i += 4) {
          const g0 = i * n, g1 = g0 + n, g2 = g1 + n, g3 = g2 + n;
          for (let p = 0; p < k; p++) {
            const a0 = A[i * k + p]!, a1 = A[(i + 1) * k + p]!, a2 = A[(i + 2) * k + p]!, a3 = A[(i + 3) * k + p]!;
            const bRow = p * n;
            for (let j = 0; j < n; j++) gB[bRow + j]! += a0 * g[g0 + j]! + a1 * g[g1 + j]! + a2 * g[g2 + j]! + a3 * g[g3 + j]!;
          }
        }
        for (; i < m; i++) {
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
/**
 * Transpose.
 * @example transpose(tensor([[1, 2]])).toArray(); // [[1], [2]]
 */
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
// The loops of `linear`, shared with the fused `mlp` op. With one to three inputs and more outputs (the
// post's Linear(1, 64)) the output index runs innermost over contiguous memory ("wide"); otherwise four
// outputs are computed at once so that each input value loaded serves four multiply-adds ("tiled").
// Both forward orders add b first, then the products in input order, so they give the same values.

/** Whether the few-inputs loop order is used for an nIn -> nOut layer. */
function isWide(nIn: number, nOut: number): boolean {
  return nIn > 0 && nIn < 4 && nIn < nOut;
}

/**
 * o[i, q] = b[q] + Σ_p X[i, p]·W[q, p] for an n×nIn input and an nOut×nIn weight; overwrites o.
 * @example linearForward(x.data, x.rows, x.cols, W.data, W.rows, b.data, o); // o = x·Wᵀ + b, row-major
 */
export function linearForward(X: Float64Array, n: number, nIn: number, w: Float64Array, nOut: number, bias: Float64Array | null, o: Float64Array): void {
  if (isWide(nIn, nOut)) {
    for (let i = 0; i < n; i++) {
      const xRow = i * nIn, oRow = i * nOut;
      const x0 = X[xRow]!;
      if (bias !== null) for (let q = 0; q < nOut; q++) o[oRow + q] = bias[q]! + x0 * w[q * nIn]!;
      else for (let q = 0; q < nOut; q++) o[oRow + q] = x0 * w[q * nIn]!;
      for (let p = 1; p < nIn; p++) {
        const xip = X[xRow + p]!;
        for (let q = 0; q < nOut; q++) o[oRow + q]! += xip * w[q * nIn + p]!;
      }
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    const xRow = i * nIn, oRow = i * nOut;
    let q = 0;
    for (; q + 3 < nOut; q += 4) {
      const w0 = q * nIn, w1 = w0 + nIn, w2 = w1 + nIn, w3 = w2 + nIn;
      let a0 = bias !== null ? bias[q]! : 0, a1 = bias !== null ? bias[q + 1]! : 0;
      let a2 = bias !== null ? bias[q + 2]! : 0, a3 = bias !== null ? bias[q + 3]! : 0;
      for (let p = 0; p < nIn; p++) {
        const x = X[xRow + p]!;
        a0 += x * w[w0 + p]!;
        a1 += x * w[w1 + p]!;
        a2 += x * w[w2 + p]!;
        a3 += x * w[w3 + p]!;
      }
      o[oRow + q] = a0;
      o[oRow + q + 1] = a1;
      o[oRow + q + 2] = a2;
      o[oRow + q + 3] = a3;
    }
    for (; q < nOut; q++) {
      const wRow = q * nIn;
      let acc = bias !== null ? bias[q]! : 0;
      for (let p = 0; p < nIn; p++) acc += X[xRow + p]! * w[wRow + p]!;
      o[oRow + q] = acc;
    }
  }
}

/**
 * Accumulates dx += dOut·W, dW += dOutᵀ·X, db += Σ_rows dOut (each skipped when its buffer is null).
 * @example linearBackward(out.grad!, x.data, x.rows, x.cols, W.data, W.rows, gradBuffer(x), gradBuffer(W), null);
 */
export function linearBackward(g: Float64Array, X: Float64Array, n: number, nIn: number, w: Float64Array, nOut: number, gx: Float64Array | null, gW: Float64Array | null, gb: Float64Array | null): void {
  // db[q] += Σ_i dOut[i, q]
  if (gb !== null) for (let i = 0; i < n; i++) for (let q = 0; q < nOut; q++) gb[q]! += g[i * nOut + q]!;
  if (isWide(nIn, nOut)) {
    for (let i = 0; i < n; i++) {
      const xRow = i * nIn, gRow = i * nOut;
      for (let p = 0; p < nIn; p++) {
        const xip = X[xRow + p]!;
        let acc = 0;
        for (let q = 0; q < nOut; q++) {
          const gq = g[gRow + q]!;
          acc += gq * w[q * nIn + p]!;
          // dW[q, p] += dOut[i, q]·x[i, p]
          if (gW !== null) gW[q * nIn + p]! += gq * xip;
        }
        // dx[i, p] += Σ_q dOut[i, q]·W[q, p]
        if (gx !== null) gx[xRow + p]! += acc;
      }
    }
    return;
  }
  if (gx !== null) {
    // dx[i, :] += Σ_q dOut[i, q]·W[q, :], four rows of W at a time
    for (let i = 0; i < n; i++) {
      const xRow = i * nIn, gRow = i * nOut;
      let q = 0;
      for (; q + 3 < nOut; q += 4) {
        const g0 = g[gRow + q]!, g1 = g[gRow + q + 1]!, g2 = g[gRow + q + 2]!, g3 = g[gRow + q + 3]!;
        const w0 = q * nIn, w1 = w0 + nIn, w2 = w1 + nIn, w3 = w2 + nIn;
        for (let p = 0; p < nIn; p++) gx[xRow + p]! += g0 * w[w0 + p]! + g1 * w[w1 + p]! + g2 * w[w2 + p]! + g3 * w[w3 + p]!;
      }
      for (; q < nOut; q++) {
        const gq = g[gRow + q]!, wRow = q * nIn;
        for (let p = 0; p < nIn; p++) gx[xRow + p]! += gq * w[wRow + p]!;
      }
    }
  }
  if (gW !== null) {
    // dW[q, :] += Σ_i dOut[i, q]·x[i, :], four rows of x at a time
    let i = 0;
    for (; i + 3 < n; i += 4) {
      const x0 = i * nIn, x1 = x0 + nIn, x2 = x1 + nIn, x3 = x2 + nIn;
      for (let q = 0; q < nOut; q++) {
        const g0 = g[i * nOut + q]!, g1 = g[(i + 1) * nOut + q]!, g2 = g[(i + 2) * nOut + q]!, g3 = g[(i + 3) * nOut + q]!;
        const wRow = q * nIn;
        for (let p = 0; p < nIn; p++) gW[wRow + p]! += g0 * X[x0 + p]! + g1 * X[x1 + p]! + g2 * X[x2 + p]! + g3 * X[x3 + p]!;
      }
    }
    for (; i < n; i++) {
      const xRow = i * nIn;
      for (let q = 0; q < nOut; q++) {
        const gq = g[i * nOut + q]!, wRow = q * nIn;
        for (let p = 0; p < nIn; p++) gW[wRow + p]! += gq * X[xRow + p]!;
      }
    }
  }
}
