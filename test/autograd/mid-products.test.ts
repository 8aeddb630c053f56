/**
 * Mid-size products (rows 67 to 256, widths 3 to 63: an NPE conditioner's 3 → 50 → 50 → 29, a 10-D
 * task's 15 → 50, the C2ST classifier's 10 → 100, odd sizes with edge rows and columns): the kernels of
 * `linear` and the fused `mlp` (panels, few-input loops, edge tiles) against the readable loops below,
 * bit for bit (Object.is on every entry), forward and both gradients, with the activation fused.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mlp, Tensor, type MlpActivation } from '../../src/autograd/index.ts';
import { linearActivationForward, linearBackward, linearForward, linearInputGradActivation } from '../../src/autograd/matmul.ts';

/** The shapes [rows, inputs, outputs]. */
const SHAPES = [[256, 3, 50], [256, 50, 50], [256, 50, 29], [256, 15, 50], [200, 10, 100], [67, 23, 29], [130, 17, 63], [130, 63, 17], [256, 2, 29], [200, 1, 9]] as const;

function values(size: number, seed: number): Float64Array {
  let s = seed;
  return Float64Array.from({ length: size }, () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1);
}

/** The engine's activations as numbers: factor slope + rise·[v > 0] (relu 0, 1; leakyRelu(α) α, 1 - α), or tanh. */
interface Act { slope: number; rise: number; isTanh: boolean }
const RELU: Act = { slope: 0, rise: 1, isTanh: false }, LEAKY: Act = { slope: 0.01, rise: 0.99, isTanh: false }, TANH: Act = { slope: 0, rise: 0, isTanh: true };
const IDENTITY: Act = { slope: 1, rise: 0, isTanh: false };
// v·factor, not v > 0 ? v : 0: the engine's relu of a negative v is -0 (and so is this)
const act = (v: number, a: Act) => (a.isTanh ? Math.tanh(v) : v * (a.slope + a.rise * +(v > 0)));
const actDerivative = (h: number, a: Act) => (a.isTanh ? 1 - h * h : a.slope + a.rise * +(h > 0));

/** A layer with one to three inputs and more outputs adds the bias first; every other adds it last. */
const biasFirst = (nIn: number, nOut: number) => nIn > 0 && nIn < 4 && nIn < nOut;

/** o[i, q] = act(Σ_p X[i, p]·W[q, p] + b[q]), the sum over p in order (the bias first for few inputs). */
function refForward(X: Float64Array, n: number, nIn: number, W: Float64Array, nOut: number, b: Float64Array | null, a: Act): Float64Array {
  const o = new Float64Array(n * nOut);
  for (let i = 0; i < n; i++) {
    for (let q = 0; q < nOut; q++) {
      let v: number;
      if (biasFirst(nIn, nOut)) {
        v = b !== null ? b[q]! + X[i * nIn]! * W[q * nIn]! : X[i * nIn]! * W[q * nIn]!;
        for (let p = 1; p < nIn; p++) v += X[i * nIn + p]! * W[q * nIn + p]!;
      } else {
        v = 0;
        for (let p = 0; p < nIn; p++) v += X[i * nIn + p]! * W[q * nIn + p]!;
        if (b !== null) v += b[q]!;
      }
      o[i * nOut + q] = act(v, a);
    }
  }
  return o;
}

/** gx[i, p] += Σ_q G[i, q]·W[q, p], the sum over q in order from 0. */
function refInputGrad(G: Float64Array, n: number, nIn: number, W: Float64Array, nOut: number, gx: Float64Array): void {
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < nIn; p++) {
      let acc = 0;
      for (let q = 0; q < nOut; q++) acc += G[i * nOut + q]! * W[q * nIn + p]!;
      gx[i * nIn + p]! += acc;
    }
  }
}

/** gW[q, p] += Σ_i G[i, q]·X[i, p] over the rows in order: summed from 0 then added, or (few inputs) added row by row. */
function refWeightGrad(G: Float64Array, X: Float64Array, n: number, nIn: number, nOut: number, gW: Float64Array): void {
  for (let q = 0; q < nOut; q++) {
    for (let p = 0; p < nIn; p++) {
      if (biasFirst(nIn, nOut)) {
        for (let i = 0; i < n; i++) gW[q * nIn + p]! += G[i * nOut + q]! * X[i * nIn + p]!;
      } else {
        let acc = 0;
        for (let i = 0; i < n; i++) acc += G[i * nOut + q]! * X[i * nIn + p]!;
        gW[q * nIn + p]! += acc;
      }
    }
  }
}

/** gb[q] += Σ_i G[i, q], row after row. */
function refBiasGrad(G: Float64Array, n: number, nOut: number, gb: Float64Array): void {
  for (let i = 0; i < n; i++) for (let q = 0; q < nOut; q++) gb[q]! += G[i * nOut + q]!;
}

function assertSameBits(got: Float64Array, want: Float64Array, what: string): void {
  assert.is(got.length, want.length, `${what}: length`);
  for (let k = 0; k < want.length; k++) {
    if (!Object.is(got[k], want[k])) assert.unreachable(`${what}: entry ${k} is ${got[k]}, the readable loop gives ${want[k]}`);
  }
}

test('linear kernels on mid-size shapes equal the readable loops bit for bit: forward, dx, dW, db (accumulated onto what was there)', () => {
  let seed = 11;
  for (const [n, nIn, nOut] of SHAPES) {
    const name = `${n}×${nIn} -> ${nOut}`;
    const X = values(n * nIn, seed++), W = values(nOut * nIn, seed++), b = values(nOut, seed++), G = values(n * nOut, seed++);
    for (const bias of [b, null]) {
      const o = new Float64Array(n * nOut).fill(NaN);
      linearForward(X, n, nIn, W, nOut, bias, o);
      assertSameBits(o, refForward(X, n, nIn, W, nOut, bias, IDENTITY), `${name}${bias === null ? ' no bias' : ''}: forward`);
    }
    const gx0 = values(n * nIn, seed++), gW0 = values(nOut * nIn, seed++), gb0 = values(nOut, seed++);
    const gx = gx0.slice(), gW = gW0.slice(), gb = gb0.slice();
    linearBackward(G, X, n, nIn, W, nOut, gx, gW, gb);
    refInputGrad(G, n, nIn, W, nOut, gx0);
    refWeightGrad(G, X, n, nIn, nOut, gW0);
    refBiasGrad(G, n, nOut, gb0);
    assertSameBits(gx, gx0, `${name}: dx`);
    assertSameBits(gW, gW0, `${name}: dW`);
    assertSameBits(gb, gb0, `${name}: db`);
  }
});

test('linear with the activation fused (forward, and dA = dH·act\'(H) with db) equals the readable loops bit for bit on mid-size shapes', () => {
  let seed = 101;
  for (const [n, nIn, nOut] of SHAPES) {
    for (const a of [RELU, LEAKY, TANH]) {
      const name = `${n}×${nIn} -> ${nOut} (${a.isTanh ? 'tanh' : `slope ${a.slope}`})`;
      const X = values(n * nIn, seed++), W = values(nOut * nIn, seed++), b = values(nOut, seed++), G = values(n * nOut, seed++);
      const o = new Float64Array(n * nOut).fill(NaN);
      linearActivationForward(X, n, nIn, W, nOut, b, a.slope, a.rise, a.isTanh, o);
      assertSameBits(o, refForward(X, n, nIn, W, nOut, b, a), `${name}: forward`);
      // the layer below's output H (n×nIn) through the same activation, and its bias gradient
      const H = X.map((v) => act(v, a)), dA = new Float64Array(n * nIn).fill(NaN), gb0 = values(nIn, seed++), gb = gb0.slice();
      linearInputGradActivation(G, n, nOut, W, nIn, H, a.slope, a.rise, a.isTanh, dA, gb);
      const dH = new Float64Array(n * nIn);
      refInputGrad(G, n, nIn, W, nOut, dH);
      const want = dH.map((d, k) => d * actDerivative(H[k]!, a));
      refBiasGrad(want, n, nIn, gb0);
      assertSameBits(dA, want, `${name}: dA`);
      assertSameBits(gb, gb0, `${name}: db of the layer below`);
    }
  }
});

test('an NPE conditioner as one mlp node (3 → 50 → 50 → 29, 15 → 50 → 50 → 145, 23 → 29 → 17, relu) equals the readable loops bit for bit, values and every gradient', () => {
  let seed = 1001;
  for (const [n, widths] of [[256, [3, 50, 50, 29]], [256, [15, 50, 50, 145]], [67, [23, 29, 17]]] as const) {
    const make = (r: number, c: number) => Tensor.from(r, c, values(r * c, seed++), { requiresGrad: true });
    const x = make(n, widths[0]);
    const Ws = widths.slice(1).map((w, l) => make(w, widths[l]!)), bs = widths.slice(1).map((w) => make(1, w));
    const acts: MlpActivation[] = Ws.map((_, l) => (l === Ws.length - 1 ? 'identity' : 'relu'));
    const out = mlp(x, Ws.map((weight, l) => ({ weight, bias: bs[l]!, activation: acts[l]! })));
    const dOut = values(out.data.length, seed++);
    out.backward(dOut);
    // the readable loops: forward layer by layer, then back from the top
    const H: Float64Array[] = [x.data];
    for (let l = 0; l < Ws.length; l++) H.push(refForward(H[l]!, n, widths[l]!, Ws[l]!.data, widths[l + 1]!, bs[l]!.data, l === Ws.length - 1 ? IDENTITY : RELU));
    assertSameBits(out.data, H[Ws.length]!, `${widths.join('→')}: values`);
    let dA: Float64Array = dOut;
    for (let l = Ws.length - 1; l >= 0; l--) {
      const nIn = widths[l]!, nOut = widths[l + 1]!;
      const gb = new Float64Array(nOut), gW = new Float64Array(nOut * nIn), dH = new Float64Array(n * nIn);
      refBiasGrad(dA, n, nOut, gb);
      refWeightGrad(dA, H[l]!, n, nIn, nOut, gW);
      refInputGrad(dA, n, nIn, Ws[l]!.data, nOut, dH);
      assertSameBits(bs[l]!.grad!, gb, `${widths.join('→')}: db of layer ${l}`);
      assertSameBits(Ws[l]!.grad!, gW, `${widths.join('→')}: dW of layer ${l}`);
      dA = l > 0 ? dH.map((d, k) => d * actDerivative(H[l]![k]!, RELU)) : dH;
    }
    assertSameBits(x.grad!, dA, `${widths.join('→')}: dx`);
  }
});

test.run();
