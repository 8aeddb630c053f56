/**
 * Fused ops: several steps in one graph node, for the hot path. Each has a readable composition of
 * basic ops that it must equal (the tests check both against each other and against finite
 * differences); the fused form saves the per-node bookkeeping and the passes over memory between steps.
 *
 * @module
 */

import { linearBackward, linearForward } from './matmul.ts';
import { alloc, allocRaw, formatShape, gradBuffer, result, ShapeError, type Tensor } from './tensor.ts';

/** An activation the fused MLP knows: its value and its derivative written in terms of its output. */
export type MlpActivation = 'identity' | 'relu' | 'tanh' | { leakyRelu: number };

/** One layer of {@link mlp}: out = act(h·Wᵀ + b), W out×in, b 1×out or null. */
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
  // Forward: H_l = act_l(H_(l-1)·W_lᵀ + b_l), activation applied in place; every H_l is kept.
  const hidden: Float64Array[] = [];
  let input = x.data, inWidth = x.cols;
  for (let l = 0; l < layers.length; l++) {
    const { weight: W, bias: b, activation } = layers[l]!;
    const outWidth = W.rows;
    const h = allocRaw(n * outWidth);
    linearForward(input, n, inWidth, W.data, outWidth, b !== null ? b.data : null, h);
    if (activation === 'tanh') for (let k = 0; k < h.length; k++) h[k] = Math.tanh(h[k]!);
    else if (activation !== 'identity') {
      const slope = slopeOf(activation);
      for (let k = 0; k < h.length; k++) if (h[k]! < 0) h[k]! *= slope;
    }
    hidden.push(h);
    input = h;
    inWidth = outWidth;
  }
  const out = result('mlp', n, width, hidden[hidden.length - 1]!, parents);
  out.label = `${layers.length} layers`;
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
        if (activation === 'identity') dA.set(dH);
        else if (activation === 'tanh') for (let k = 0; k < dA.length; k++) dA[k] = dH[k]! * (1 - h[k]! * h[k]!);
        else {
          const slope = slopeOf(activation);
          for (let k = 0; k < dA.length; k++) dA[k] = h[k]! > 0 ? dH[k]! : slope * dH[k]!;
        }
        const dIn = l === 0 ? (x.requiresGrad ? gradBuffer(x) : null) : alloc(n * inW);
        linearBackward(dA, hIn, n, inW, W.data, outWidth, dIn, W.requiresGrad ? gradBuffer(W) : null, b !== null && b.requiresGrad ? gradBuffer(b) : null);
        if (dIn === null) break;
        dH = dIn;
      }
    };
  }
  return out;
}
