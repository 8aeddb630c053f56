/**
 * Fused ops: several steps in one graph node, for the hot path. Each has a readable composition of
 * basic ops that it must equal (the tests check both against each other and against finite
 * differences); the fused form saves the per-node bookkeeping and the passes over memory between steps.
 *
 * @module
 */

import { linearBackward, linearForward } from './matmul.ts';
import { alloc, allocRaw, formatShape, gradBuffer, result, ShapeError, type Tensor } from './tensor.ts';

/**
 * An activation the fused MLP knows: its value and its derivative written in terms of its output.
 * @example const act: MlpActivation = { leakyRelu: 0.01 };
 */
export type MlpActivation = 'identity' | 'relu' | 'tanh' | { leakyRelu: number };

/**
 * One layer of {@link mlp}: out = act(h·Wᵀ + b), W out×in, b 1×out or null.
 * @example const layer: MlpLayer = { weight: W, bias: b, activation: 'tanh' };
 */
export interface MlpLayer {
  weight: Tensor;
  bias: Tensor | null;
  activation: MlpActivation;
}

function slopeOf(act: MlpActivation): number {
  return typeof act === 'object' ? act.leakyRelu : act === 'relu' ? 0 : 1;
}

// out = act_L(…act_1(x·W_1ᵀ + b_1)…·W_Lᵀ + b_L)
// dA_l = dH_l ⊙ act_l'(A_l), dW_l = dA_lᵀ·H_(l-1), db_l = Σ_rows dA_l, dH_(l-1) = dA_l·W_l
/**
 * A whole multilayer perceptron as one graph node: the same values as chaining `linear` and the
 * activations, computed in fewer passes. Hidden outputs are kept for the backward pass, where each
 * activation's derivative is read off its output (relu/leakyRelu: the sign; tanh: 1 - out²), so the
 * leaky slope must be positive.
 *
 * @example
 * const out = mlp(x, [
 *   { weight: W1, bias: b1, activation: { leakyRelu: 0.01 } },
 *   { weight: W2, bias: b2, activation: 'identity' },
 * ]); // = linear(leakyRelu(linear(x, W1, b1), 0.01), W2, b2)
 */
export function mlp(x: Tensor, layers: readonly MlpLayer[]): Tensor {
  if (layers.length === 0) throw new ShapeError('mlp: needs at least one layer');
  const n = x.rows;
  let width = x.cols;
  const parents: Tensor[] = [x];
  for (let l = 0; l < layers.length; l++) {
    const { weight: W, bias: b, activation } = layers[l]!;
    if (W.cols !== width) throw new ShapeError(`mlp: layer ${l} weight ${formatShape(W.rows, W.cols)} does not fit its ${formatShape(n, width)} input (weight is out×in)`);
    if (b !== null && (b.rows !== 1 || b.cols !== W.rows)) throw new ShapeError(`mlp: layer ${l} bias must be 1×${W.rows}, got ${formatShape(b.rows, b.cols)}`);
    if (typeof activation === 'object' && !(activation.leakyRelu > 0)) throw new RangeError(`mlp: layer ${l} leakyRelu slope must be > 0 for the fused kernel, got ${activation.leakyRelu}`);
    parents.push(W);
    if (b !== null) parents.push(b);
    width = W.rows;
  }
  if (layers.length === 2 && streamable(x.cols, layers)) return mlpOneHidden(x, layers, parents);
  // Forward: H_l = act_l(H_(l-1)·W_lᵀ + b_l), activation applied in place; every H_l is kept.
  const hidden: Float64Array[] = [];
  let input = x.data, inWidth = x.cols;
  for (let l = 0; l < layers.length; l++) {
    const { weight: W, bias: b, activation } = layers[l]!;
    const outWidth = W.rows;
    const h = allocRaw(n * outWidth);
    linearForward(input, n, inWidth, W.data, outWidth, b !== null ? b.data : null, h);
    applyActivation(h, activation);
    hidden.push(h);
    input = h;
    inWidth = outWidth;
  }
  const out = result('mlp', n, width, hidden[hidden.length - 1]!, parents);
  out.detailKey = 'layers';
  out.detailValue = layers.length;
  if (out.requiresGrad) {
    out.backwardFn = () => {
      let dH: Float64Array = out.grad!;
      for (let l = layers.length - 1; l >= 0; l--) {
        const { weight: W, bias: b, activation } = layers[l]!;
        const h = hidden[l]!;
        const outWidth = W.rows;
        const inW = l === 0 ? x.cols : layers[l - 1]!.weight.rows;
        const hIn = l === 0 ? x.data : hidden[l - 1]!;
        // dA = dH ⊙ act'(A), read off the output H
        const dA = allocRaw(n * outWidth);
        activationBackward(dH, h, activation, dA);
        const dIn = l === 0 ? (x.requiresGrad ? gradBuffer(x) : null) : alloc(n * inW);
        linearBackward(dA, hIn, n, inW, W.data, outWidth, dIn, W.requiresGrad ? gradBuffer(W) : null, b !== null && b.requiresGrad ? gradBuffer(b) : null);
        if (dIn === null) break;
        dH = dIn;
      }
    };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// One hidden layer with few inputs and outputs (the post's conditioners: 1 -> 64 -> 1). Instead of
// materialising the n×H hidden matrix, the kernel streams over hidden units j and rows i, keeping the
// unit's activation in a register, and recomputes it in the backward pass (cheaper than storing and
// re-reading it at these sizes). The sums run in the same order as the layer-by-layer path, so the
// values are the same bit for bit.

const STREAM_MAX_IO = 1;

function streamable(nIn: number, layers: readonly MlpLayer[]): boolean {
  const act = layers[0]!.activation;
  if (typeof act === 'object' && act.leakyRelu + (1 - act.leakyRelu) !== 1) return false;
  return nIn <= STREAM_MAX_IO && layers[1]!.weight.rows <= STREAM_MAX_IO;
}

function mlpOneHidden(x: Tensor, layers: readonly MlpLayer[], parents: readonly Tensor[]): Tensor {
  const n = x.rows, nIn = x.cols;
  const { weight: W1t, bias: b1t, activation: act1 } = layers[0]!;
  const { weight: W2t, bias: b2t, activation: act2 } = layers[1]!;
  const H = W1t.rows, nOut = W2t.rows;
  const X = x.data, W1 = W1t.data, W2 = W2t.data;
  const b1 = b1t !== null ? b1t.data : null, b2 = b2t !== null ? b2t.data : null;
  // First activation as slope·a for a <= 0 and a for a > 0 (identity: slope 1, relu: slope 0), or tanh.
  const isTanh = act1 === 'tanh';
  const slope1 = act1 === 'tanh' ? 1 : slopeOf(act1), rise1 = 1 - slope1;

  const o = allocRaw(n * nOut);
  for (let i = 0; i < n; i++) for (let q = 0; q < nOut; q++) o[i * nOut + q] = b2 !== null ? b2[q]! : 0;
  if (nIn === 1 && nOut === 1 && !isTanh) {
    streamForward1(X, n, W1, b1, W2, H, slope1, o);
  } else {
    for (let j = 0; j < H; j++) {
      const c = b1 !== null ? b1[j]! : 0, w1Row = j * nIn;
      for (let i = 0; i < n; i++) {
        let a = c;
        for (let p = 0; p < nIn; p++) a += X[i * nIn + p]! * W1[w1Row + p]!;
        const h = isTanh ? Math.tanh(a) : a * (slope1 + rise1 * +(a > 0));
        for (let q = 0; q < nOut; q++) o[i * nOut + q]! += W2[q * H + j]! * h;
      }
    }
  }
  applyActivation(o, act2);
  const out = result('mlp', n, nOut, o, parents);
  out.detailKey = 'layers';
  out.detailValue = 2;
  if (out.requiresGrad) {
    out.backwardFn = () => {
      const g = out.grad!;
      const gx = x.requiresGrad ? gradBuffer(x) : null;
      const gW1 = W1t.requiresGrad ? gradBuffer(W1t) : null, gW2 = W2t.requiresGrad ? gradBuffer(W2t) : null;
      const gb1 = b1t !== null && b1t.requiresGrad ? gradBuffer(b1t) : null;
      const gb2 = b2t !== null && b2t.requiresGrad ? gradBuffer(b2t) : null;
      // dA2 = dOut ⊙ act2'(out), read off the output
      const dA2 = allocRaw(n * nOut);
      activationBackward(g, o, act2, dA2);
      if (gb2 !== null) for (let i = 0; i < n; i++) for (let q = 0; q < nOut; q++) gb2[q]! += dA2[i * nOut + q]!;
      if (nIn === 1 && nOut === 1 && !isTanh) {
        streamBackward1(X, n, W1, b1, W2, H, slope1, dA2, gx, gW1, gb1, gW2);
        return;
      }
      const accW2 = alloc(nOut);
      for (let j = 0; j < H; j++) {
        const c = b1 !== null ? b1[j]! : 0, w1Row = j * nIn;
        let accB1 = 0;
        accW2.fill(0);
        for (let i = 0; i < n; i++) {
          let a = c;
          for (let p = 0; p < nIn; p++) a += X[i * nIn + p]! * W1[w1Row + p]!;
          let h: number, f: number;
          if (isTanh) {
            h = Math.tanh(a);
            f = 1 - h * h;
          } else {
            f = slope1 + rise1 * +(a > 0);
            h = a * f;
          }
          // dH_j = Σ_q dA2[i, q]·W2[q, j];  dW2[q, j] += dA2[i, q]·h
          let dh = 0;
          for (let q = 0; q < nOut; q++) {
            const d = dA2[i * nOut + q]!;
            dh += d * W2[q * H + j]!;
            accW2[q]! += d * h;
          }
          // dA1 = dH ⊙ act1'(A1); db1 += dA1; dW1[j, :] += dA1·x[i, :]; dx[i, :] += dA1·W1[j, :]
          const da = dh * f;
          accB1 += da;
          if (gW1 !== null) for (let p = 0; p < nIn; p++) gW1[w1Row + p]! += da * X[i * nIn + p]!;
          if (gx !== null) for (let p = 0; p < nIn; p++) gx[i * nIn + p]! += da * W1[w1Row + p]!;
        }
        if (gb1 !== null) gb1[j]! += accB1;
        if (gW2 !== null) for (let q = 0; q < nOut; q++) gW2[q * H + j]! += accW2[q]!;
      }
    };
  }
  return out;
}

/**
 * The post's case spelled out: one input, one output, piecewise-linear first activation (slope 1 for
 * identity, 0 for relu). o (n×1) must hold b2 on entry; gets Σ_j W2[j]·act(b1[j] + x·W1[j]) added.
 */
function streamForward1(X: Float64Array, n: number, W1: Float64Array, b1: Float64Array | null, W2: Float64Array, H: number, slope: number, o: Float64Array): void {
  const rise = 1 - slope;
  for (let j = 0; j < H; j++) {
    const c = b1 !== null ? b1[j]! : 0, w1 = W1[j]!, w2 = W2[j]!;
    for (let i = 0; i < n; i++) {
      const a = c + X[i]! * w1;
      o[i]! += w2 * (a * (slope + rise * +(a > 0)));
    }
  }
}

/** Backward of {@link streamForward1}, given dA2 = dOut ⊙ act2'; the formulas of the general loop in `mlpOneHidden`. */
function streamBackward1(X: Float64Array, n: number, W1: Float64Array, b1: Float64Array | null, W2: Float64Array, H: number, slope: number, dA2: Float64Array,
  gx: Float64Array | null, gW1: Float64Array | null, gb1: Float64Array | null, gW2: Float64Array | null): void {
  const rise = 1 - slope;
  for (let j = 0; j < H; j++) {
    const c = b1 !== null ? b1[j]! : 0, w1 = W1[j]!, w2 = W2[j]!;
    let accB1 = 0, accW1 = 0, accW2 = 0;
    for (let i = 0; i < n; i++) {
      const xi = X[i]!, a = c + xi * w1;
      const f = slope + rise * +(a > 0);
      const d = dA2[i]!;
      accW2 += d * (a * f);
      const da = d * w2 * f;
      accB1 += da;
      accW1 += da * xi;
      if (gx !== null) gx[i]! += da * w1;
    }
    if (gb1 !== null) gb1[j]! += accB1;
    if (gW1 !== null) gW1[j]! += accW1;
    if (gW2 !== null) gW2[j]! += accW2;
  }
}

// The piecewise-linear activations are written without a data-dependent branch: the factor
// slope + (1 - slope)·[a > 0] is 1 or slope exactly, and a branch on the sign of random data mispredicts
// about half the time.

/** act(h) in place. */
function applyActivation(h: Float64Array, act: MlpActivation): void {
  if (act === 'identity') return;
  if (act === 'tanh') for (let k = 0; k < h.length; k++) h[k] = Math.tanh(h[k]!);
  else {
    const slope = slopeOf(act), rise = 1 - slope;
    for (let k = 0; k < h.length; k++) {
      const a = h[k]!;
      h[k] = a * (slope + rise * +(a > 0));
    }
  }
}

/** dA = dH ⊙ act'(A), with act' read off the output H (same sign as A for a positive slope). */
function activationBackward(dH: Float64Array, h: Float64Array, act: MlpActivation, dA: Float64Array): void {
  if (act === 'identity') dA.set(dH);
  else if (act === 'tanh') for (let k = 0; k < dA.length; k++) dA[k] = dH[k]! * (1 - h[k]! * h[k]!);
  else {
    const slope = slopeOf(act), rise = 1 - slope;
    for (let k = 0; k < dA.length; k++) dA[k] = dH[k]! * (slope + rise * +(h[k]! > 0));
  }
}
