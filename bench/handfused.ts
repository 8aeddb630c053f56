/**
 * The hand-fused ceiling: the post's RealNVP (L. Dinh, J. Sohl-Dickstein & S. Bengio, Density estimation
 * using Real NVP, ICLR 2017; the model of `RealNVP.post`) trained with Adam (Kingma & Ba, Adam, ICLR 2015,
 * PyTorch's update), written out by hand: plain loops over preallocated `Float64Array`s, forward,
 * backward and Adam, no autodiff, no allocation per step. It is what "as fast as this job can go in
 * JavaScript" means for the benchmarks; `test/bench/handfused.test.ts` checks its gradients and its
 * Adam trajectory against the engine so that the ceiling is honest.
 *
 * The model, per coupling layer l (A = the first dimA = ⌊dim/2⌋ features, B = the other dimB):
 *
 *     s = leaky(W2ˢ·leaky(W1ˢ·x_A + b1ˢ) + b2ˢ)          (s_nn; b_nn likewise gives b)
 *     z_B = exp(-s)·(x_B - b),   log|det J| = -Σ s
 *     next x = [z_B | x_A]                                 (the post's swap of halves)
 *
 * and the loss of a batch of n rows is the mean NLL with the base's constant, as `TrainStep.run` returns:
 *
 *     loss = (1/n)·Σ_i (½‖z_i‖² + Σ_l Σ_o s_lio) + (dim/2)·log 2π.
 *
 * Layout. Parameters sit in one flat array in the order and layout of `RealNVP.post(...).namedParameters()`
 * (`flows.l.s_nn.0.weight` hidden×dimA row-major, `.0.bias`, `.2.weight` dimB×hidden, `.2.bias`, then
 * `b_nn`), so weights can be copied in and gradients compared entry by entry. Activations are stored
 * feature-major (one row of `capacity` values per feature), so every inner loop walks the batch through
 * contiguous memory.
 *
 * Two kernels:
 * - `'fused2d'` (dimA = dimB = 1, the post's 2-D model): one pass over the batch per hidden unit computes
 *   both conditioners; the backward recomputes the hidden pre-activation instead of storing it.
 *   This is the loop structure of `../shared/peers/handfused.mjs`.
 * - `'general'` (any dim): hidden activations stored per layer; each linear map, forward and backward,
 *   is a register-tiled matrix product over the batch (see the kernels at the end of the file).
 *
 * LeakyReLU is written without a data-dependent branch, `x·(slope + (1 - slope)·[x > 0])`: the peers
 * measured a mispredicted branch there as 2-3.5× slower. The factor is exactly 1 or exactly `slope`, so
 * the values are bit-identical to `x > 0 ? x : slope·x`.
 *
 * @module
 */

/** Which loop structure {@link HandFusedPost} uses. */
export type HandFusedKernel = 'fused2d' | 'general';

/** Options of {@link HandFusedPost}. */
export interface HandFusedOptions {
  /** Number of features (>= 2). */
  dim: number;
  /** Coupling layers (default 16). */
  layers?: number;
  /** Hidden width of s_nn and b_nn (default 64). */
  hidden?: number;
  /** The largest batch `step` accepts (buffers are sized for it; default 64). */
  capacity?: number;
  /** Adam's learning rate (default 2e-4, the post's). */
  lr?: number;
  /** Adam's β₁, β₂ (default 0.9, 0.999). */
  betas?: readonly [number, number];
  /** Adam's ε (default 1e-8). */
  eps?: number;
  /** Force a kernel (default: `'fused2d'` when dim = 2, else `'general'`). */
  kernel?: HandFusedKernel;
}

const SLOPE = 0.01;
const ONE_MINUS_SLOPE = 1 - SLOPE;
const LOG_2PI = Math.log(2 * Math.PI);

/**
 * The post's RealNVP with a hand-written forward, backward and Adam step.
 *
 * @example
 * const hf = new HandFusedPost({ dim: 2, capacity: 64 });
 * hf.load(RealNVP.post({ dim: 2, rng: new Rng(0) }).namedParameters());
 * const loss = hf.step(batch, 64);   // mean NLL before the update, nats (as TrainStep.run)
 */
export class HandFusedPost {
  readonly dim: number;
  readonly dimA: number;
  readonly dimB: number;
  readonly layers: number;
  readonly hidden: number;
  readonly capacity: number;
  readonly kernel: HandFusedKernel;
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  /** Parameter names in `namedParameters()` order. */
  readonly names: string[] = [];
  /** Offset of each named parameter in {@link params}. */
  readonly offsets: number[] = [];
  /** Size of each named parameter. */
  readonly sizes: number[] = [];
  /** All parameters, flat, in `namedParameters()` order and layout. */
  readonly params: Float64Array;
  /** Their gradients (same layout), written by every step. */
  readonly grads: Float64Array;
  /** Adam's first and second moments. */
  private readonly m: Float64Array;
  private readonly v: Float64Array;
  /** Adam's step count. */
  t = 0;

  /** Parameters per conditioner net: W1 (hidden×dimA), b1 (hidden), W2 (dimB×hidden), b2 (dimB). */
  private readonly netSize: number;
  /** x entering layer l (l = layers: z), feature-major: X[(l·dim + j)·cap + i]. */
  private readonly X: Float64Array;
  /** s and b (after the final LeakyReLU) per layer: [(l·dimB + o)·cap + i]. */
  private readonly S: Float64Array;
  private readonly Bo: Float64Array;
  /** exp(-s) and x_B - b per layer, same layout. */
  private readonly E: Float64Array;
  private readonly T: Float64Array;
  /** Hidden activations of s_nn and b_nn per layer ('general' only): [(l·hidden + q)·cap + i]. */
  private readonly Hs: Float64Array;
  private readonly Hb: Float64Array;
  /** Gradient w.r.t. the input of the current layer, ping-pong pair: [j·cap + i]. */
  private gIn: Float64Array;
  private gOut: Float64Array;
  /** dLoss/d(pre-activation of the output layer) of s_nn and b_nn: [o·cap + i]. */
  private readonly dUs: Float64Array;
  private readonly dUb: Float64Array;
  /** dLoss/d(hidden pre-activation) of one conditioner ('general' only): [q·cap + i]. */
  private readonly dH: Float64Array;

  constructor(options: HandFusedOptions) {
    const dim = options.dim;
    if (!Number.isInteger(dim) || dim < 2) throw new RangeError(`HandFusedPost: dim must be an integer >= 2, got ${dim}`);
    this.dim = dim;
    this.dimA = Math.floor(dim / 2);
    this.dimB = dim - this.dimA;
    this.layers = options.layers ?? 16;
    this.hidden = options.hidden ?? 64;
    this.capacity = options.capacity ?? 64;
    this.lr = options.lr ?? 2e-4;
    this.beta1 = options.betas?.[0] ?? 0.9;
    this.beta2 = options.betas?.[1] ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.kernel = options.kernel ?? (this.dimA === 1 && this.dimB === 1 ? 'fused2d' : 'general');
    if (this.kernel === 'fused2d' && (this.dimA !== 1 || this.dimB !== 1)) {
      throw new RangeError(`HandFusedPost: the 'fused2d' kernel needs dim = 2, got dim = ${dim}`);
    }
    const { dimA, dimB, hidden, layers, capacity: cap } = this;
    this.netSize = hidden * dimA + hidden + dimB * hidden + dimB;
    let at = 0;
    for (let l = 0; l < layers; l++) {
      for (const net of ['s_nn', 'b_nn']) {
        for (const [suffix, size] of [['0.weight', hidden * dimA], ['0.bias', hidden], ['2.weight', dimB * hidden], ['2.bias', dimB]] as const) {
          this.names.push(`flows.${l}.${net}.${suffix}`);
          this.offsets.push(at);
          this.sizes.push(size);
          at += size;
        }
      }
    }
    this.params = new Float64Array(at);
    this.grads = new Float64Array(at);
    this.m = new Float64Array(at);
    this.v = new Float64Array(at);
    this.X = new Float64Array((layers + 1) * dim * cap);
    this.S = new Float64Array(layers * dimB * cap);
    this.Bo = new Float64Array(layers * dimB * cap);
    this.E = new Float64Array(layers * dimB * cap);
    this.T = new Float64Array(layers * dimB * cap);
    const stored = this.kernel === 'general' ? layers * hidden * cap : 0;
    this.Hs = new Float64Array(stored);
    this.Hb = new Float64Array(stored);
    this.gIn = new Float64Array(dim * cap);
    this.gOut = new Float64Array(dim * cap);
    this.dUs = new Float64Array(dimB * cap);
    this.dUb = new Float64Array(dimB * cap);
    this.dH = new Float64Array(this.kernel === 'general' ? hidden * cap : 0);
  }

  /** Number of parameters. @example new HandFusedPost({ dim: 2 }).size; // 6176 */
  get size(): number {
    return this.params.length;
  }

  /**
   * Copies weights in by name (e.g. from `flow.namedParameters()`); every name must be present with the
   * right size.
   * @example hf.load(flow.namedParameters());
   */
  load(named: Iterable<readonly [string, { readonly data: Float64Array }]>): void {
    const byName = new Map<string, Float64Array>();
    for (const [name, t] of named) byName.set(name, t.data);
    for (let k = 0; k < this.names.length; k++) {
      const src = byName.get(this.names[k]);
      if (src === undefined) throw new RangeError(`HandFusedPost.load: missing parameter ${this.names[k]}`);
      if (src.length !== this.sizes[k]) throw new RangeError(`HandFusedPost.load: ${this.names[k]} has ${src.length} values, expected ${this.sizes[k]}`);
      this.params.set(src, this.offsets[k]);
    }
  }

  /** The values of one named parameter (a view). @example hf.parameter('flows.0.s_nn.0.weight'); */
  parameter(name: string): Float64Array {
    return this.view(this.params, name);
  }

  /** The gradient of one named parameter from the last step (a view). @example hf.gradient('flows.3.b_nn.2.bias'); */
  gradient(name: string): Float64Array {
    return this.view(this.grads, name);
  }

  /** All gradients from the last step, flat, in `namedParameters()` order. @example hf.gradients().length; // 6176 */
  gradients(): Float64Array {
    return this.grads;
  }

  private view(a: Float64Array, name: string): Float64Array {
    const k = this.names.indexOf(name);
    if (k < 0) throw new RangeError(`HandFusedPost: no parameter named ${name}`);
    return a.subarray(this.offsets[k], this.offsets[k] + this.sizes[k]);
  }

  /**
   * One training step on the first `rows` rows of `batch` (row-major, rows×dim): forward, backward, Adam.
   * Returns the mean NLL before the update, in nats, with the base's constant (as `TrainStep.run`).
   * @example const loss = hf.step(batch, 64);
   */
  step(batch: Float64Array, rows: number): number {
    const loss = this.lossAndGradients(batch, rows);
    this.adamStep();
    return loss;
  }

  /**
   * Forward and backward without the update: the mean NLL of the batch, and {@link gradients} filled.
   * @example const loss = hf.lossAndGradients(batch, 64); hf.gradients();
   */
  lossAndGradients(batch: Float64Array, rows: number): number {
    this.loadBatch(batch, rows);
    if (this.kernel === 'fused2d') {
      const loss = this.forward2d(rows);
      this.backward2d(rows);
      return loss;
    }
    const loss = this.forwardGeneral(rows);
    this.backwardGeneral(rows);
    return loss;
  }

  /**
   * Mean NLL (nats, with the constant) of `rows` rows, forward only, in chunks of `capacity`.
   * @example hf.meanNll(testData, 10000);
   */
  meanNll(data: Float64Array, rows: number): number {
    let total = 0;
    for (let r0 = 0; r0 < rows; r0 += this.capacity) {
      const n = Math.min(this.capacity, rows - r0);
      this.loadBatch(data.subarray(r0 * this.dim), n);
      total += n * (this.kernel === 'fused2d' ? this.forward2d(n) : this.forwardGeneral(n));
    }
    return total / rows;
  }

  /** Transposes the batch into X's layer-0 rows (feature-major). */
  private loadBatch(batch: Float64Array, rows: number): void {
    const { dim, capacity: cap, X } = this;
    if (!Number.isInteger(rows) || rows < 1 || rows > cap) throw new RangeError(`HandFusedPost: rows must be in 1..${cap} (the capacity), got ${rows}`);
    if (batch.length < rows * dim) throw new RangeError(`HandFusedPost: a ${rows}×${dim} batch needs ${rows * dim} values, got ${batch.length}`);
    for (let i = 0; i < rows; i++) for (let j = 0; j < dim; j++) X[j * cap + i] = batch[i * dim + j];
  }

  /** The loss from z = X[layers] and the accumulated Σ s. */
  private lossFrom(n: number, sumS: number): number {
    const { dim, capacity: cap, X } = this;
    const zAt = this.layers * dim * cap;
    let sq = 0;
    for (let j = 0; j < dim; j++) {
      const row = zAt + j * cap;
      for (let i = 0; i < n; i++) sq += X[row + i] * X[row + i];
    }
    return (0.5 * sq + sumS) / n + 0.5 * dim * LOG_2PI;
  }

  // -------------------------------------------------------------------------------------------------
  // 'fused2d': dim = 2, both conditioners in one pass per hidden unit.

  private forward2d(n: number): number {
    const { hidden: H, layers: L, capacity: cap, netSize, params: P, X, S, Bo, E, T } = this;
    let sumS = 0;
    for (let l = 0; l < L; l++) {
      const os = 2 * l * netSize, ob = os + netSize; // W1 at +0, b1 at +H, W2 at +2H, b2 at +3H
      const xa = 2 * l * cap, xb = xa + cap, next = xa + 2 * cap, r = l * cap;
      const b2s = P[os + 3 * H], b2b = P[ob + 3 * H];
      for (let i = 0; i < n; i++) {
        S[r + i] = b2s;
        Bo[r + i] = b2b;
      }
      for (let q = 0; q < H; q++) {
        const w1s = P[os + q], c1s = P[os + H + q], w2s = P[os + 2 * H + q];
        const w1b = P[ob + q], c1b = P[ob + H + q], w2b = P[ob + 2 * H + q];
        for (let i = 0; i < n; i++) {
          const a = X[xa + i];
          // h = leaky(w1·a + c1), branch-free
          const us = w1s * a + c1s, ub = w1b * a + c1b;
          S[r + i] += w2s * (us * (SLOPE + ONE_MINUS_SLOPE * Number(us > 0)));
          Bo[r + i] += w2b * (ub * (SLOPE + ONE_MINUS_SLOPE * Number(ub > 0)));
        }
      }
      for (let i = 0; i < n; i++) {
        const us = S[r + i], ub = Bo[r + i];
        const s = us * (SLOPE + ONE_MINUS_SLOPE * Number(us > 0));
        const b = ub * (SLOPE + ONE_MINUS_SLOPE * Number(ub > 0));
        const e = Math.exp(-s), t = X[xb + i] - b;
        S[r + i] = s;
        Bo[r + i] = b;
        E[r + i] = e;
        T[r + i] = t;
        sumS += s;
        X[next + i] = e * t; // swap: next x_A = z_B
        X[next + cap + i] = X[xa + i]; // next x_B = x_A
      }
    }
    return this.lossFrom(n, sumS);
  }

  private backward2d(n: number): void {
    const { hidden: H, layers: L, capacity: cap, netSize, params: P, grads: G, X, S, Bo, E, T, dUs, dUb } = this;
    const inv = 1 / n;
    // g rows: 0 = dLoss/d x_A of the layer's output side, 1 = dLoss/d x_B; start from dLoss/dz = z/n.
    const g = this.gIn;
    const zAt = L * 2 * cap;
    for (let i = 0; i < n; i++) {
      g[i] = X[zAt + i] * inv;
      g[cap + i] = X[zAt + cap + i] * inv;
    }
    for (let l = L - 1; l >= 0; l--) {
      const os = 2 * l * netSize, ob = os + netSize;
      const xa = 2 * l * cap, r = l * cap;
      // Output of layer l is [z_B | x_A]: g[0] = dz_B, g[1] = d x_A (straight through).
      let gb2s = 0, gb2b = 0;
      for (let i = 0; i < n; i++) {
        const gzb = g[i], e = E[r + i], t = T[r + i];
        const dt = gzb * e;
        // ds = (1/n from -log|det|) - dz_B·t·e;  d(pre-act) = ds·leaky'
        const ds = inv - gzb * t * e;
        const s = S[r + i], b = Bo[r + i];
        const dus = ds * (SLOPE + ONE_MINUS_SLOPE * Number(s > 0));
        const dub = -dt * (SLOPE + ONE_MINUS_SLOPE * Number(b > 0));
        dUs[i] = dus;
        dUb[i] = dub;
        gb2s += dus;
        gb2b += dub;
        g[i] = g[cap + i]; // d x_A of layer l's input, the MLP terms are added below
        g[cap + i] = dt; // d x_B
      }
      G[os + 3 * H] = gb2s;
      G[ob + 3 * H] = gb2b;
      const needDx = l > 0; // layer 0's input is data
      for (let q = 0; q < H; q++) {
        const w1s = P[os + q], c1s = P[os + H + q], w2s = P[os + 2 * H + q];
        const w1b = P[ob + q], c1b = P[ob + H + q], w2b = P[ob + 2 * H + q];
        let gw1s = 0, gc1s = 0, gw2s = 0, gw1b = 0, gc1b = 0, gw2b = 0;
        for (let i = 0; i < n; i++) {
          const a = X[xa + i];
          const us = w1s * a + c1s, ub = w1b * a + c1b;
          const fs = SLOPE + ONE_MINUS_SLOPE * Number(us > 0), fb = SLOPE + ONE_MINUS_SLOPE * Number(ub > 0);
          const dus = dUs[i], dub = dUb[i];
          // dW2 = dU·h, dh = W2·dU, du = dh·leaky', dW1 = du·a, db1 = du, da = W1·du
          gw2s += dus * (us * fs);
          gw2b += dub * (ub * fb);
          const das = w2s * dus * fs, dab = w2b * dub * fb;
          gw1s += das * a;
          gc1s += das;
          gw1b += dab * a;
          gc1b += dab;
          if (needDx) g[i] += das * w1s + dab * w1b;
        }
        G[os + q] = gw1s;
        G[os + H + q] = gc1s;
        G[os + 2 * H + q] = gw2s;
        G[ob + q] = gw1b;
        G[ob + H + q] = gc1b;
        G[ob + 2 * H + q] = gw2b;
      }
    }
  }

  // -------------------------------------------------------------------------------------------------
  // 'general': any dim; hidden activations stored.

  /** s_nn or b_nn forward: h = leaky(W1·x_A + b1) into Hbuf rows, out = leaky(W2·h + b2) into out rows. */
  private mlpForward(n: number, o0: number, xa: number, hAt: number, Hbuf: Float64Array, out: Float64Array, outAt: number): void {
    const { hidden: H, dimA, dimB, capacity: cap, params: P, X } = this;
    const w1 = o0, b1 = o0 + H * dimA, w2 = b1 + H, b2 = w2 + dimB * H;
    affineLeaky(H, dimA, n, cap, P, w1, b1, X, xa, Hbuf, hAt);
    affineLeaky(dimB, H, n, cap, P, w2, b2, Hbuf, hAt, out, outAt);
  }

  private forwardGeneral(n: number): number {
    const { dim, dimA, dimB, hidden: H, layers: L, capacity: cap, netSize, X, S, Bo, E, T, Hs, Hb } = this;
    let sumS = 0;
    for (let l = 0; l < L; l++) {
      const os = 2 * l * netSize, ob = os + netSize;
      const xa = l * dim * cap, xb = xa + dimA * cap, next = xa + dim * cap, r = l * dimB * cap;
      this.mlpForward(n, os, xa, l * H * cap, Hs, S, r);
      this.mlpForward(n, ob, xa, l * H * cap, Hb, Bo, r);
      for (let o = 0; o < dimB; o++) {
        const ro = r + o * cap, xo = xb + o * cap, zo = next + o * cap;
        for (let i = 0; i < n; i++) {
          const s = S[ro + i];
          const e = Math.exp(-s), t = X[xo + i] - Bo[ro + i];
          E[ro + i] = e;
          T[ro + i] = t;
          sumS += s;
          X[zo + i] = e * t; // next rows 0..dimB-1 = z_B
        }
      }
      X.copyWithin(next + dimB * cap, xa, xa + dimA * cap); // next rows dimB.. = x_A
    }
    return this.lossFrom(n, sumS);
  }

  /**
   * s_nn or b_nn backward, given dU = dLoss/d(pre-activation of the output layer) (dimB rows):
   * db2 = Σ_i dU, dW2 = dU·hᵀ, dh = W2ᵀ·dU ⊙ leaky'(h), db1 = Σ_i dh, dW1 = dh·x_Aᵀ, and when `gxa` is not
   * null, d x_A += W1ᵀ·dh into its first dimA rows.
   */
  private mlpBackward(n: number, o0: number, xa: number, hAt: number, Hbuf: Float64Array, dU: Float64Array, gxa: Float64Array | null): void {
    const { hidden: H, dimA, dimB, capacity: cap, params: P, grads: G, X, dH } = this;
    const w1 = o0, b1 = o0 + H * dimA, w2 = b1 + H, b2 = w2 + dimB * H;
    rowSums(dimB, n, cap, dU, 0, G, b2);
    weightGrad(dimB, H, n, cap, dU, 0, Hbuf, hAt, G, w2);
    inputGrad(H, dimB, n, cap, P, w2, dU, 0, dH, 0, Hbuf, hAt);
    rowSums(H, n, cap, dH, 0, G, b1);
    weightGrad(H, dimA, n, cap, dH, 0, X, xa, G, w1);
    if (gxa !== null) inputGrad(dimA, H, n, cap, P, w1, dH, 0, gxa, 0, null, 0);
  }

  private backwardGeneral(n: number): void {
    const { dim, dimA, dimB, hidden: H, layers: L, capacity: cap, netSize, X, S, Bo, E, T, Hs, Hb, dUs, dUb } = this;
    const inv = 1 / n;
    let gOut = this.gOut, gIn = this.gIn;
    const zAt = L * dim * cap;
    for (let j = 0; j < dim; j++) for (let i = 0; i < n; i++) gOut[j * cap + i] = X[zAt + j * cap + i] * inv;
    for (let l = L - 1; l >= 0; l--) {
      const os = 2 * l * netSize, ob = os + netSize;
      const xa = l * dim * cap, r = l * dimB * cap;
      // gOut rows: 0..dimB-1 = dz_B, dimB.. = d x_A (straight through). gIn rows: 0..dimA-1 = d x_A, dimA.. = d x_B.
      gIn.set(gOut.subarray(dimB * cap, (dimB + dimA) * cap), 0);
      for (let o = 0; o < dimB; o++) {
        const ro = r + o * cap, go = o * cap, gb = (dimA + o) * cap;
        for (let i = 0; i < n; i++) {
          const gzb = gOut[go + i], e = E[ro + i], t = T[ro + i];
          const dt = gzb * e;
          const ds = inv - gzb * t * e;
          dUs[go + i] = ds * (SLOPE + ONE_MINUS_SLOPE * Number(S[ro + i] > 0));
          dUb[go + i] = -dt * (SLOPE + ONE_MINUS_SLOPE * Number(Bo[ro + i] > 0));
          gIn[gb + i] = dt;
        }
      }
      const gxa = l > 0 ? gIn : null;
      this.mlpBackward(n, os, xa, l * H * cap, Hs, dUs, gxa);
      this.mlpBackward(n, ob, xa, l * H * cap, Hb, dUb, gxa);
      const swap = gOut;
      gOut = gIn;
      gIn = swap;
    }
    this.gOut = gOut;
    this.gIn = gIn;
  }

  // -------------------------------------------------------------------------------------------------

  /**
   * Adam, PyTorch's operations in PyTorch's order (as `adamUpdate` in `src/optim/adam.ts`):
   * m ← β₁m + (1-β₁)g, v ← β₂v + ((1-β₂)g)g, w ← w + (-(lr/(1-β₁ᵗ))·m) / (√v/√(1-β₂ᵗ) + ε).
   */
  private adamStep(): void {
    const { params: w, grads: g, m, v, beta1, beta2, eps } = this;
    const t = ++this.t;
    const stepSize = this.lr / (1 - beta1 ** t);
    const bias2Sqrt = Math.sqrt(1 - beta2 ** t);
    const c1 = 1 - beta1, c2 = 1 - beta2;
    for (let k = 0; k < w.length; k++) {
      const gk = g[k];
      const mk = m[k] * beta1 + c1 * gk;
      const vk = v[k] * beta2 + c2 * gk * gk;
      m[k] = mk;
      v[k] = vk;
      w[k] = w[k] + (-stepSize * mk) / (Math.sqrt(vk) / bias2Sqrt + eps);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Kernels of the 'general' path. Matrices of activations are feature-major: row r of a matrix at offset
// `at` is [at + r·cap, at + r·cap + n). Weights are PyTorch's out×in, row-major, inside the flat
// parameter array. Each kernel computes 4×4 tiles with sixteen accumulators in registers (3-4× the
// throughput of a one-row axpy loop in V8), then the edges with plain loops; both sum in the same order,
// so tiling does not change a single bit.

/** leaky(x) = x·(slope + (1 - slope)·[x > 0]): exactly x or slope·x, without a branch. */
function leaky(x: number): number {
  return x * (SLOPE + ONE_MINUS_SLOPE * Number(x > 0));
}

/** leaky'(x) from x or from leaky(x) (same sign): 1 or slope, without a branch. */
function leakySlope(x: number): number {
  return SLOPE + ONE_MINUS_SLOPE * Number(x > 0);
}

/**
 * Out[r][i] = leaky(b[r] + Σ_p W[r, p]·In[p][i]) for r < R, i < n; W is R×K at w0, b at b0 (both in W).
 */
function affineLeaky(R: number, K: number, n: number, cap: number, W: Float64Array, w0: number, b0: number, In: Float64Array, in0: number, Out: Float64Array, out0: number): void {
  const R4 = R - (R % 4), n4 = n - (n % 4);
  for (let r = 0; r < R4; r += 4) {
    const wa = w0 + r * K, wb = wa + K, wc = wb + K, wd = wc + K;
    const ba = W[b0 + r], bb = W[b0 + r + 1], bc = W[b0 + r + 2], bd = W[b0 + r + 3];
    for (let i = 0; i < n4; i += 4) {
      let a0 = ba, a1 = ba, a2 = ba, a3 = ba, b0_ = bb, b1 = bb, b2 = bb, b3 = bb;
      let c0 = bc, c1 = bc, c2 = bc, c3 = bc, d0 = bd, d1 = bd, d2 = bd, d3 = bd;
      for (let p = 0; p < K; p++) {
        const x = in0 + p * cap + i;
        const x0 = In[x], x1 = In[x + 1], x2 = In[x + 2], x3 = In[x + 3];
        const va = W[wa + p], vb = W[wb + p], vc = W[wc + p], vd = W[wd + p];
        a0 += va * x0; a1 += va * x1; a2 += va * x2; a3 += va * x3;
        b0_ += vb * x0; b1 += vb * x1; b2 += vb * x2; b3 += vb * x3;
        c0 += vc * x0; c1 += vc * x1; c2 += vc * x2; c3 += vc * x3;
        d0 += vd * x0; d1 += vd * x1; d2 += vd * x2; d3 += vd * x3;
      }
      let o = out0 + r * cap + i;
      Out[o] = leaky(a0); Out[o + 1] = leaky(a1); Out[o + 2] = leaky(a2); Out[o + 3] = leaky(a3);
      o += cap;
      Out[o] = leaky(b0_); Out[o + 1] = leaky(b1); Out[o + 2] = leaky(b2); Out[o + 3] = leaky(b3);
      o += cap;
      Out[o] = leaky(c0); Out[o + 1] = leaky(c1); Out[o + 2] = leaky(c2); Out[o + 3] = leaky(c3);
      o += cap;
      Out[o] = leaky(d0); Out[o + 1] = leaky(d1); Out[o + 2] = leaky(d2); Out[o + 3] = leaky(d3);
    }
  }
  // edges: the last R % 4 rows for every i, and the last n % 4 columns of the tiled rows
  for (let r = 0; r < R; r++) {
    for (let i = r < R4 ? n4 : 0; i < n; i++) {
      let acc = W[b0 + r];
      for (let p = 0; p < K; p++) acc += W[w0 + r * K + p] * In[in0 + p * cap + i];
      Out[out0 + r * cap + i] = leaky(acc);
    }
  }
}

/** G[g0 + r·K + p] = Σ_i D[r][i]·In[p][i] for r < R, p < K (dW = dOut·inputᵀ). */
function weightGrad(R: number, K: number, n: number, cap: number, D: Float64Array, d0: number, In: Float64Array, in0: number, G: Float64Array, g0: number): void {
  const R4 = R - (R % 4), K4 = K - (K % 4);
  for (let r = 0; r < R4; r += 4) {
    const da = d0 + r * cap, db = da + cap, dc = db + cap, dd = dc + cap;
    for (let p = 0; p < K4; p += 4) {
      const xa = in0 + p * cap, xb = xa + cap, xc = xb + cap, xd = xc + cap;
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
      let c0 = 0, c1 = 0, c2 = 0, c3 = 0, e0 = 0, e1 = 0, e2 = 0, e3 = 0;
      for (let i = 0; i < n; i++) {
        const x0 = In[xa + i], x1 = In[xb + i], x2 = In[xc + i], x3 = In[xd + i];
        const ga = D[da + i], gb = D[db + i], gc = D[dc + i], gd = D[dd + i];
        a0 += ga * x0; a1 += ga * x1; a2 += ga * x2; a3 += ga * x3;
        b0 += gb * x0; b1 += gb * x1; b2 += gb * x2; b3 += gb * x3;
        c0 += gc * x0; c1 += gc * x1; c2 += gc * x2; c3 += gc * x3;
        e0 += gd * x0; e1 += gd * x1; e2 += gd * x2; e3 += gd * x3;
      }
      let g = g0 + r * K + p;
      G[g] = a0; G[g + 1] = a1; G[g + 2] = a2; G[g + 3] = a3;
      g += K;
      G[g] = b0; G[g + 1] = b1; G[g + 2] = b2; G[g + 3] = b3;
      g += K;
      G[g] = c0; G[g + 1] = c1; G[g + 2] = c2; G[g + 3] = c3;
      g += K;
      G[g] = e0; G[g + 1] = e1; G[g + 2] = e2; G[g + 3] = e3;
    }
  }
  for (let r = 0; r < R; r++) {
    for (let p = r < R4 ? K4 : 0; p < K; p++) {
      let acc = 0;
      for (let i = 0; i < n; i++) acc += D[d0 + r * cap + i] * In[in0 + p * cap + i];
      G[g0 + r * K + p] = acc;
    }
  }
}

/**
 * Out[p][i] (+)= Σ_r W[r, p]·D[r][i] for p < P, i < n (dInput = Wᵀ·dOut); W is R×P at w0. With a `gate`
 * (the layer's activations h, gate0 their offset) the result is multiplied by leaky'(h) and assigned;
 * without one it is added to Out.
 */
function inputGrad(P: number, R: number, n: number, cap: number, W: Float64Array, w0: number, D: Float64Array, d0: number, Out: Float64Array, out0: number, gate: Float64Array | null, gate0: number): void {
  const P4 = P - (P % 4), n4 = n - (n % 4);
  for (let p = 0; p < P4; p += 4) {
    for (let i = 0; i < n4; i += 4) {
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
      let c0 = 0, c1 = 0, c2 = 0, c3 = 0, e0 = 0, e1 = 0, e2 = 0, e3 = 0;
      for (let r = 0; r < R; r++) {
        const y = d0 + r * cap + i, w = w0 + r * P + p;
        const y0 = D[y], y1 = D[y + 1], y2 = D[y + 2], y3 = D[y + 3];
        const va = W[w], vb = W[w + 1], vc = W[w + 2], vd = W[w + 3];
        a0 += va * y0; a1 += va * y1; a2 += va * y2; a3 += va * y3;
        b0 += vb * y0; b1 += vb * y1; b2 += vb * y2; b3 += vb * y3;
        c0 += vc * y0; c1 += vc * y1; c2 += vc * y2; c3 += vc * y3;
        e0 += vd * y0; e1 += vd * y1; e2 += vd * y2; e3 += vd * y3;
      }
      let o = out0 + p * cap + i;
      if (gate !== null) {
        let h = gate0 + p * cap + i;
        Out[o] = a0 * leakySlope(gate[h]); Out[o + 1] = a1 * leakySlope(gate[h + 1]); Out[o + 2] = a2 * leakySlope(gate[h + 2]); Out[o + 3] = a3 * leakySlope(gate[h + 3]);
        o += cap; h += cap;
        Out[o] = b0 * leakySlope(gate[h]); Out[o + 1] = b1 * leakySlope(gate[h + 1]); Out[o + 2] = b2 * leakySlope(gate[h + 2]); Out[o + 3] = b3 * leakySlope(gate[h + 3]);
        o += cap; h += cap;
        Out[o] = c0 * leakySlope(gate[h]); Out[o + 1] = c1 * leakySlope(gate[h + 1]); Out[o + 2] = c2 * leakySlope(gate[h + 2]); Out[o + 3] = c3 * leakySlope(gate[h + 3]);
        o += cap; h += cap;
        Out[o] = e0 * leakySlope(gate[h]); Out[o + 1] = e1 * leakySlope(gate[h + 1]); Out[o + 2] = e2 * leakySlope(gate[h + 2]); Out[o + 3] = e3 * leakySlope(gate[h + 3]);
      } else {
        Out[o] += a0; Out[o + 1] += a1; Out[o + 2] += a2; Out[o + 3] += a3;
        o += cap;
        Out[o] += b0; Out[o + 1] += b1; Out[o + 2] += b2; Out[o + 3] += b3;
        o += cap;
        Out[o] += c0; Out[o + 1] += c1; Out[o + 2] += c2; Out[o + 3] += c3;
        o += cap;
        Out[o] += e0; Out[o + 1] += e1; Out[o + 2] += e2; Out[o + 3] += e3;
      }
    }
  }
  for (let p = 0; p < P; p++) {
    for (let i = p < P4 ? n4 : 0; i < n; i++) {
      let acc = 0;
      for (let r = 0; r < R; r++) acc += W[w0 + r * P + p] * D[d0 + r * cap + i];
      const o = out0 + p * cap + i;
      if (gate !== null) Out[o] = acc * leakySlope(gate[gate0 + p * cap + i]);
      else Out[o] += acc;
    }
  }
}

/** G[g0 + r] = Σ_i D[r][i] for r < R (a bias gradient). */
function rowSums(R: number, n: number, cap: number, D: Float64Array, d0: number, G: Float64Array, g0: number): void {
  for (let r = 0; r < R; r++) {
    let acc = 0;
    for (let i = 0; i < n; i++) acc += D[d0 + r * cap + i];
    G[g0 + r] = acc;
  }
}

/**
 * Model FLOPs of one training step of the post's model, the peers' convention
 * (`../shared/peers/common.mjs`): Linear(in, out) forward 2·in·out per row (bias included), backward
 * 2·in·out for dW + 2·in·out for dX + out for db; every elementwise op 1 FLOP; Adam 12 per parameter.
 * 2,060,160 for dim 2, 16 layers, hidden 64, batch 64.
 *
 * @example flopsPerStep({ dim: 2, layers: 16, hidden: 64, batch: 64 }); // 2060160
 */
export function flopsPerStep(o: { dim: number; layers: number; hidden: number; batch: number }): number {
  const dA = Math.floor(o.dim / 2), dB = o.dim - dA, H = o.hidden, L = o.layers, D = o.dim;
  const mlpF = 2 * dA * H + H + 2 * H * dB + dB;
  const mlpB = dB + 2 * H * dB + dB + 2 * H * dB + H + 2 * dA * H + H + 2 * dA * H;
  const coupF = 5 * dB; // x_B - b, -s, exp, ·, log-det accumulate
  const coupB = 6 * dB + 2 * dA;
  const lossF = 2 * D + 2, lossB = D;
  const nParams = L * 2 * (dA * H + H + H * dB + dB);
  return o.batch * (L * (2 * mlpF + coupF) + lossF) + o.batch * (L * (2 * mlpB + coupB) + lossB) + 12 * nParams;
}
