/**
 * Fused ops: several steps in one graph node, for the hot path. Each is a custom gradient over a
 * readable reference (the idea of JAX's `custom_vjp`): `mlp`'s reference is the chain of `linear` and
 * activation ops it replaces, which `explain(out, { expand: true })` shows and which one generic test
 * (test/autograd/fused.test.ts) holds every fused op equal to, values and all input gradients.
 *
 * Which loop runs is decided in one table, {@link MLP_KERNELS}; each entry states the benchmark number
 * that earns it its place (`npm run bench -- --only kernels`). A kernel that does not beat the general
 * path is deleted.
 *
 * @module
 */

import { leakyRelu, relu, tanh } from './elementwise.ts';
import { linear, linearActivationForward, linearBackward, linearInputGradActivation } from './matmul.ts';
import { defineOp, type OpContext } from './op.ts';
import { formatShape, ShapeError, type Tensor } from './tensor.ts';

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

/** The saved state and the backward of one kernel's forward. */
type Backward = (dOut: Float64Array, grad: (t: Tensor) => Float64Array | null) => void;

/**
 * One entry of the kernel table: when it applies and the number that justifies it.
 * @example MLP_KERNELS.map((k) => k.name); // ['stream-1-H-1']
 */
export interface MlpKernel {
  readonly name: string;
  /** When the kernel is chosen (the general path runs otherwise). */
  readonly when: string;
  /** The benchmark that earns the kernel its place, and the figures it gave. */
  readonly measured: string;
  readonly applies: (x: Tensor, layers: readonly MlpLayer[]) => boolean;
  readonly run: (ctx: OpContext, x: Tensor, layers: readonly MlpLayer[], o: Float64Array) => Backward;
}

/**
 * The kernel choice of {@link mlp}, in one table: the first entry that applies runs, else the general
 * layer-by-layer loop (`mlpGeneral`). Each entry cites its benchmark against the general path.
 * Deleted after measuring: a streamed loop for tanh 1→H→1 networks, which recomputed tanh in the
 * backward: 215 µs forward + backward for 1→64→1 at 64 rows on the code before this table (issue 10
 * measured 236-263 µs against 78-80 µs on the general path). The general path itself is kept because it
 * beats the chain of `linear` and activation nodes it replaces inside an arena, as TrainStep runs it
 * (`npm run bench -- --only kernels` and the kernels section of two full runs, 2026-12-01, load 6.5-9:
 * the default recipe's tanh 1→32→2 at 64 rows 1.12-1.52×, a dim-8 post conditioner 4→64→4 1.33-1.73×;
 * whole training steps with `Sequential.fuse` on against
 * off, CPU time, on the code before the fused epilogues: default recipe 1.04×, post at dim 8 1.5-1.6×,
 * dim 32 1.24×).
 *
 * @example MLP_KERNELS[0].when; // 'two layers 1→H→1, piecewise-linear first activation'
 */
export const MLP_KERNELS: readonly MlpKernel[] = [
  {
    name: 'stream-1-H-1',
    when: 'two layers 1→H→1, piecewise-linear first activation',
    measured: 'npm run bench -- --only kernels and two full runs (2026-12-01, shared machine, load 6.5-9), against the general path with its fused epilogues: 64 rows, forward + backward inside an arena, 1→64→1 leakyRelu 4.2-5.0× (15.2 against 65.5 µs), relu 4.1-4.5×, 1→32→1 3.3-4.6×',
    applies: (x, layers) => layers.length === 2 && x.cols === 1 && layers[1]!.weight.rows === 1 && layers[0]!.activation !== 'tanh',
    run: stream1,
  },
];

/**
 * A whole multilayer perceptron as one graph node: the values of chaining `linear` and the activations
 * (its reference, see `explain(out, { expand: true })`), computed in fewer passes. Hidden outputs are
 * kept for the backward pass, where each activation's derivative is read off its output
 * (relu/leakyRelu: the sign; tanh: 1 - out²), so the leaky slope must be positive. `kernel` forces a
 * loop of {@link MLP_KERNELS} or `'general'` (for benchmarks and tests); by default the table decides.
 *
 * @example
 * const out = mlp(x, [
 *   { weight: W1, bias: b1, activation: { leakyRelu: 0.01 } },
 *   { weight: W2, bias: b2, activation: 'identity' },
 * ]); // = linear(leakyRelu(linear(x, W1, b1), 0.01), W2, b2)
 */
export const mlp = defineOp({
  name: 'mlp',
  formula: 'out = act_L(…act_1(x·W_1ᵀ + b_1)…·W_Lᵀ + b_L)',
  derivative: "dA_l = dH_l ⊙ act_l'(A_l), dW_l = dA_lᵀ·H_(l-1), db_l = Σ_rows dA_l, dH_(l-1) = dA_l·W_l",
  forward(ctx, x: Tensor, layers: readonly MlpLayer[], kernel?: string) {
    if (layers.length === 0) throw new ShapeError('mlp: needs at least one layer');
    const n = x.rows;
    let width = x.cols;
    const inputs: Tensor[] = [x];
    for (let l = 0; l < layers.length; l++) {
      const { weight: W, bias: b, activation } = layers[l]!;
      if (W.cols !== width) throw new ShapeError(`mlp: layer ${l} weight ${formatShape(W.rows, W.cols)} does not fit its ${formatShape(n, width)} input (weight is out×in)`);
      if (b !== null && (b.rows !== 1 || b.cols !== W.rows)) throw new ShapeError(`mlp: layer ${l} bias must be 1×${W.rows}, got ${formatShape(b.rows, b.cols)}`);
      if (typeof activation === 'object' && !(activation.leakyRelu > 0)) throw new RangeError(`mlp: layer ${l} leakyRelu slope must be > 0 for the fused kernel, got ${activation.leakyRelu}`);
      inputs.push(W);
      if (b !== null) inputs.push(b);
      width = W.rows;
    }
    let chosen: MlpKernel | null = null;
    if (kernel === undefined) {
      for (const k of MLP_KERNELS) if (k.applies(x, layers)) { chosen = k; break; }
    } else if (kernel !== 'general') {
      chosen = MLP_KERNELS.find((k) => k.name === kernel) ?? null;
      if (chosen === null) throw new RangeError(`mlp: unknown kernel "${kernel}" (choose general${MLP_KERNELS.map((k) => ', ' + k.name).join('')})`);
      if (!chosen.applies(x, layers)) throw new RangeError(`mlp: kernel ${kernel} needs ${chosen.when}`);
    }
    const o = ctx.output(n * width);
    const backward = chosen !== null ? chosen.run(ctx, x, layers, o) : mlpGeneral(ctx, x, layers, o);
    return { rows: n, cols: width, data: o, inputs, detail() { return `${layers.length} layers`; }, backward };
  },
  reference: (x: Tensor, layers: readonly MlpLayer[], _kernel?: string) => {
    let h = x;
    for (const { weight, bias, activation } of layers) {
      h = linear(h, weight, bias);
      if (activation === 'relu') h = relu(h);
      else if (activation === 'tanh') h = tanh(h);
      else if (typeof activation === 'object') h = leakyRelu(h, activation.leakyRelu);
    }
    return h;
  },
});

/**
 * Space for the hidden layers' dA = dH ⊙ act'(A) inside one backward call of {@link mlpGeneral}: two
 * arrays (a layer's dA is read while the one below is written), grown when too small, private to this
 * file. A dA lives only during the call that made it (it is neither an output nor a gradient anyone
 * holds: what leaves the call is accumulated into grad(x), grad(W) and grad(b)), so reusing the space
 * cannot change any value a caller holds; it keeps the space in cache from one call to the next instead
 * of writing a fresh n×width matrix per call.
 */
const dAScratch: Float64Array[] = [new Float64Array(0), new Float64Array(0)];

/** The first `size` values of scratch array `slot` (0 or 1), valid until the next call with that slot. */
function backwardScratch(slot: number, size: number): Float64Array {
  if (dAScratch[slot]!.length < size) dAScratch[slot] = new Float64Array(Math.max(size, 2 * dAScratch[slot]!.length));
  return dAScratch[slot]!.subarray(0, size);
}

/** An activation as the numbers of the fused epilogues: factor slope + rise·[v > 0], or tanh. */
function activationNumbers(act: MlpActivation): { slope: number; rise: number; isTanh: boolean } {
  const slope = act === 'tanh' ? 0 : slopeOf(act);
  return { slope, rise: act === 'tanh' ? 0 : 1 - slope, isTanh: act === 'tanh' };
}

/**
 * The general loop: H_l = act_l(H_(l-1)·W_lᵀ + b_l) layer by layer, every H_l kept; the last is written
 * to o. Bias and activation are applied as the product's tiles are stored, and in the backward the
 * activation derivative as dH_(l-1) = dA_l·W_l's tiles are stored (`linearActivationForward`,
 * `linearInputGradActivation`): no separate pass over the hidden matrices.
 */
function mlpGeneral(ctx: OpContext, x: Tensor, layers: readonly MlpLayer[], o: Float64Array): Backward {
  const n = x.rows, X = x.data, L = layers.length;
  const hidden: Float64Array[] = [];
  let input = X, inWidth = x.cols;
  for (let l = 0; l < L; l++) {
    const { weight: W, bias: b, activation } = layers[l]!;
    const outWidth = W.rows;
    const h = l === L - 1 ? o : ctx.output(n * outWidth);
    const { slope, rise, isTanh } = activationNumbers(activation);
    linearActivationForward(input, n, inWidth, W.data, outWidth, b !== null ? b.data : null, slope, rise, isTanh, h);
    hidden.push(h);
    input = h;
    inWidth = outWidth;
  }
  const weights = layers.map((layer) => layer.weight.data);
  return (dOut, grad) => {
    // the top layer: dA = dOut ⊙ act'(A), read off the output, and db += Σ_rows dA in the same pass
    const top = layers[L - 1]!;
    let dA = top.activation === 'identity' ? dOut : ctx.output(n * top.weight.rows);
    activationBackwardBias(dOut, hidden[L - 1]!, top.activation, dA, top.bias !== null ? grad(top.bias) : null, top.weight.rows);
    for (let l = L - 1; l >= 0; l--) {
      const W = layers[l]!.weight;
      const outWidth = W.rows;
      const inW = l === 0 ? x.cols : layers[l - 1]!.weight.rows;
      const hIn = l === 0 ? X : hidden[l - 1]!;
      // dW += dAᵀ·H_(l-1) (and at the first layer dx += dA·W)
      if (l === 0) {
        linearBackward(dA, hIn, n, inW, weights[l]!, outWidth, grad(x), grad(W), null);
        break;
      }
      const gW = grad(W);
      if (gW !== null) linearBackward(dA, hIn, n, inW, weights[l]!, outWidth, null, gW, null);
      // dA_(l-1) = (dA·W) ⊙ act'_(l-1)(A_(l-1)) and db_(l-1) += Σ_rows dA_(l-1), as the tiles are stored
      const below = layers[l - 1]!;
      const gb = below.bias !== null ? grad(below.bias) : null;
      const dBelow = backwardScratch((L - 1 - l) % 2, n * inW);
      const { slope, rise, isTanh } = activationNumbers(below.activation);
      linearInputGradActivation(dA, n, outWidth, weights[l]!, inW, hIn, slope, rise, isTanh, dBelow, gb);
      dA = dBelow;
    }
  };
}

// ---------------------------------------------------------------------------------------------------
// One hidden layer, one input and one output, piecewise-linear first activation (the post's
// conditioners: 1 -> 64 -> 1 with LeakyReLU). Instead of materialising the n×H hidden matrix, the kernel
// streams over hidden units j and rows i, keeping the unit's activation in a register, and recomputes
// it in the backward pass (a multiply-add and a compare: cheaper than storing and re-reading it).

function stream1(ctx: OpContext, x: Tensor, layers: readonly MlpLayer[], o: Float64Array): Backward {
  const n = x.rows;
  const { weight: W1t, bias: b1t, activation: act1 } = layers[0]!;
  const { weight: W2t, bias: b2t, activation: act2 } = layers[1]!;
  const H = W1t.rows;
  const X = x.data, W1 = W1t.data, W2 = W2t.data;
  const b1 = b1t !== null ? b1t.data : null, b2 = b2t !== null ? b2t.data[0]! : 0;
  // act1(a) = a·(slope + (1 - slope)·[a > 0]): identity is slope 1, relu slope 0
  const slope = slopeOf(act1);
  stream1Forward(X, n, W1, b1, W2, b2, H, slope, o);
  applyActivation(o, act2);
  return (dOut, grad) => {
    const gx = grad(x), gW1 = grad(W1t), gW2 = grad(W2t);
    const gb1 = b1t !== null ? grad(b1t) : null, gb2 = b2t !== null ? grad(b2t) : null;
    // dA2 = dOut ⊙ act2'(out), read off the output
    const dA2 = ctx.output(n);
    activationBackward(dOut, o, act2, dA2);
    if (gb2 !== null) for (let i = 0; i < n; i++) gb2[0]! += dA2[i]!;
    stream1Backward(X, n, W1, b1, W2, H, slope, dA2, gx, gW1, gb1, gW2);
  };
}

/**
 * o[i] = b2 + Σ_j W2[j]·act1(b1[j] + x[i]·W1[j]) with act1(a) = a·(slope + (1 - slope)·[a > 0]).
 * (The loops take their arrays as parameters, not from a closure: V8 then keeps them in registers.)
 */
function stream1Forward(X: Float64Array, n: number, W1: Float64Array, b1: Float64Array | null, W2: Float64Array, b2: number, H: number, slope: number, o: Float64Array): void {
  const rise = 1 - slope;
  for (let i = 0; i < n; i++) o[i] = b2;
  let j = 0;
  // four hidden units per pass over the rows: each x[i] and o[i] loaded once serves all four (the sum
  // still adds unit j before unit j + 1, so the values are those of one unit at a time)
  for (; j + 3 < H; j += 4) {
    const c0 = b1 !== null ? b1[j]! : 0, w10 = W1[j]!, w20 = W2[j]!;
    const c1 = b1 !== null ? b1[j + 1]! : 0, w11 = W1[j + 1]!, w21 = W2[j + 1]!;
    const c2 = b1 !== null ? b1[j + 2]! : 0, w12 = W1[j + 2]!, w22 = W2[j + 2]!;
    const c3 = b1 !== null ? b1[j + 3]! : 0, w13 = W1[j + 3]!, w23 = W2[j + 3]!;
    for (let i = 0; i < n; i++) {
      const xi = X[i]!;
      const a0 = c0 + xi * w10, a1 = c1 + xi * w11, a2 = c2 + xi * w12, a3 = c3 + xi * w13;
      o[i] = o[i]! + w20 * (a0 * (slope + rise * +(a0 > 0))) + w21 * (a1 * (slope + rise * +(a1 > 0)))
        + w22 * (a2 * (slope + rise * +(a2 > 0))) + w23 * (a3 * (slope + rise * +(a3 > 0)));
    }
  }
  for (; j < H; j++) {
    const c = b1 !== null ? b1[j]! : 0, w1 = W1[j]!, w2 = W2[j]!;
    for (let i = 0; i < n; i++) {
      const a = c + X[i]! * w1;
      o[i]! += w2 * (a * (slope + rise * +(a > 0)));
    }
  }
}

/** The backward of {@link stream1Forward} given dA2 = dOut ⊙ act2'(out), recomputing each hidden unit. */
function stream1Backward(X: Float64Array, n: number, W1: Float64Array, b1: Float64Array | null, W2: Float64Array, H: number, slope: number, dA2: Float64Array,
  gx: Float64Array | null, gW1: Float64Array | null, gb1: Float64Array | null, gW2: Float64Array | null): void {
  const rise = 1 - slope;
  let j = 0;
  // dW2[j] += dA2·h;  dA1 = dA2·W2[j]·act1'(a);  db1 += dA1;  dW1 += dA1·x;  dx += dA1·W1[j]; four units per pass
  for (; j + 3 < H; j += 4) {
    const c0 = b1 !== null ? b1[j]! : 0, w10 = W1[j]!, w20 = W2[j]!;
    const c1 = b1 !== null ? b1[j + 1]! : 0, w11 = W1[j + 1]!, w21 = W2[j + 1]!;
    const c2 = b1 !== null ? b1[j + 2]! : 0, w12 = W1[j + 2]!, w22 = W2[j + 2]!;
    const c3 = b1 !== null ? b1[j + 3]! : 0, w13 = W1[j + 3]!, w23 = W2[j + 3]!;
    let accB0 = 0, accW10 = 0, accW20 = 0, accB1 = 0, accW11 = 0, accW21 = 0;
    let accB2 = 0, accW12 = 0, accW22 = 0, accB3 = 0, accW13 = 0, accW23 = 0;
    for (let i = 0; i < n; i++) {
      const xi = X[i]!, d = dA2[i]!;
      const a0 = c0 + xi * w10, a1 = c1 + xi * w11, a2 = c2 + xi * w12, a3 = c3 + xi * w13;
      const f0 = slope + rise * +(a0 > 0), f1 = slope + rise * +(a1 > 0), f2 = slope + rise * +(a2 > 0), f3 = slope + rise * +(a3 > 0);
      accW20 += d * (a0 * f0);
      accW21 += d * (a1 * f1);
      accW22 += d * (a2 * f2);
      accW23 += d * (a3 * f3);
      const da0 = d * w20 * f0, da1 = d * w21 * f1, da2 = d * w22 * f2, da3 = d * w23 * f3;
      accB0 += da0;
      accB1 += da1;
      accB2 += da2;
      accB3 += da3;
      accW10 += da0 * xi;
      accW11 += da1 * xi;
      accW12 += da2 * xi;
      accW13 += da3 * xi;
      if (gx !== null) gx[i] = gx[i]! + da0 * w10 + da1 * w11 + da2 * w12 + da3 * w13;
    }
    if (gb1 !== null) {
      gb1[j]! += accB0;
      gb1[j + 1]! += accB1;
      gb1[j + 2]! += accB2;
      gb1[j + 3]! += accB3;
    }
    if (gW1 !== null) {
      gW1[j]! += accW10;
      gW1[j + 1]! += accW11;
      gW1[j + 2]! += accW12;
      gW1[j + 3]! += accW13;
    }
    if (gW2 !== null) {
      gW2[j]! += accW20;
      gW2[j + 1]! += accW21;
      gW2[j + 2]! += accW22;
      gW2[j + 3]! += accW23;
    }
  }
  for (; j < H; j++) {
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

/** dA = dH ⊙ act'(A) (dA may be dH itself for the identity) and gb += Σ_rows dA, one pass (gb may be null). */
function activationBackwardBias(dH: Float64Array, h: Float64Array, act: MlpActivation, dA: Float64Array, gb: Float64Array | null, width: number): void {
  if (gb === null) {
    if (act !== 'identity') activationBackward(dH, h, act, dA);
    return;
  }
  const rows = dA.length / width;
  if (act === 'identity') {
    for (let i = 0; i < rows; i++) for (let q = 0; q < width; q++) gb[q]! += dH[i * width + q]!;
  } else if (act === 'tanh') {
    for (let i = 0; i < rows; i++) {
      for (let q = 0; q < width; q++) {
        const k = i * width + q, hk = h[k]!, d = dH[k]! * (1 - hk * hk);
        dA[k] = d;
        gb[q]! += d;
      }
    }
  } else {
    const slope = slopeOf(act), rise = 1 - slope;
    for (let i = 0; i < rows; i++) {
      for (let q = 0; q < width; q++) {
        const k = i * width + q, d = dH[k]! * (slope + rise * +(h[k]! > 0));
        dA[k] = d;
        gb[q]! += d;
      }
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
