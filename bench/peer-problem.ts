/**
 * The peers' training problem, ported from `../shared/peers/common.mjs` so that flowgrad trains on
 * exactly the data, initial weights and minibatch order of the PyTorch, TensorFlow.js and hand-fused
 * peers: a mulberry32 generator, the two-Gaussian mixture, PyTorch's default Linear init drawn in the
 * peers' order, and the peers' Fisher-Yates shuffle. (The project's own `Rng` is xoshiro128**; this
 * one exists only to reproduce the peers bit for bit.) With it, 3 epochs end at a training loss of
 * 2.3594 and 20 epochs at 2.0119, as in the peers' README.
 *
 * @module
 */

/** The peers' constants (common.mjs). */
export const PEER = {
  dim: 2,
  layers: 16,
  hidden: 64,
  nTrain: 1000,
  nTest: 10000,
  batch: 64,
  lr: 2e-4,
  means: [[-2, -2], [2, 2]] as const,
} as const;

/** Seed offsets of the independent streams (added to the run's seed). */
export const STREAM = { data: 0, init: 1, shuffle: 2, test: 3, entropy: 4 } as const;

/** log 2π. */
export const LOG_2PI = Math.log(2 * Math.PI);

/**
 * mulberry32 with 32-bit output, 53-bit uniforms and cached Box-Muller normals, exactly as the peers'
 * `Rng` (and the port in torch_realnvp.py).
 *
 * @example
 * const rng = new Mulberry32(0);
 * rng.uniform(); // the peers' first uniform for seed 0
 */
export class Mulberry32 {
  private a: number;
  private spare: number | null = null;

  constructor(seed: number) {
    this.a = seed >>> 0;
  }

  /** The next 32-bit unsigned integer. */
  u32(): number {
    const a = (this.a = (this.a + 0x6d2b79f5) >>> 0);
    let t = Math.imul(a ^ (a >>> 15), 1 | a) >>> 0;
    t = ((t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t) >>> 0;
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1) with 53 random bits (27 + 26 from two draws). */
  uniform(): number {
    const hi = this.u32() >>> 5, lo = this.u32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Standard normal by Box-Muller; the second value of each pair is kept for the next call. */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    const u1 = 1 - this.uniform(), u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1)), th = 2 * Math.PI * u2;
    this.spare = r * Math.sin(th);
    return r * Math.cos(th);
  }
}

/**
 * n points of the uniform mixture of N((-2,-2), I) and N((2,2), I), row-major n×2.
 * @example const train = sampleMixture(1000, seed + STREAM.data);
 */
export function sampleMixture(n: number, seed: number): Float64Array {
  const rng = new Mulberry32(seed);
  const x = new Float64Array(n * 2);
  for (let i = 0; i < n; i++) {
    const m = rng.uniform() < 0.5 ? PEER.means[0] : PEER.means[1];
    x[2 * i] = m[0] + rng.normal();
    x[2 * i + 1] = m[1] + rng.normal();
  }
  return x;
}

/**
 * The peers' initial weights, named as `RealNVP.post({ dim: 2 }).namedParameters()`: per layer, per net
 * (s_nn then b_nn), weight 0 (hidden×1), bias 0 (hidden), weight 2 (1×hidden), bias 2 (1), each
 * U(±1/√fan_in) in that draw order (PyTorch's Linear default).
 *
 * @example flow.loadStateDict(peerInitialWeights(seed + STREAM.init));
 */
export function peerInitialWeights(seed: number, layers: number = PEER.layers, hidden: number = PEER.hidden): Record<string, Float64Array> {
  const rng = new Mulberry32(seed);
  const draw = (bound: number) => (2 * rng.uniform() - 1) * bound;
  const out: Record<string, Float64Array> = {};
  for (let l = 0; l < layers; l++) {
    for (const net of ['s_nn', 'b_nn']) {
      // dim_a = dim_b = 1: torch's [hidden][1] and [1][hidden] layouts are both just `hidden` values.
      const w1 = new Float64Array(hidden), b1 = new Float64Array(hidden), w2 = new Float64Array(hidden), b2 = new Float64Array(1);
      for (let j = 0; j < hidden; j++) w1[j] = draw(1);
      for (let j = 0; j < hidden; j++) b1[j] = draw(1);
      const bound2 = 1 / Math.sqrt(hidden);
      for (let j = 0; j < hidden; j++) w2[j] = draw(bound2);
      b2[0] = draw(bound2);
      out[`flows.${l}.${net}.0.weight`] = w1;
      out[`flows.${l}.${net}.0.bias`] = b1;
      out[`flows.${l}.${net}.2.weight`] = w2;
      out[`flows.${l}.${net}.2.bias`] = b2;
    }
  }
  return out;
}

/**
 * In-place Fisher-Yates shuffle with the peers' index draw ⌊u32·(i+1) / 2³²⌋.
 * @example shuffle(order, rng); // once per epoch
 */
export function shuffle(perm: Int32Array, rng: Mulberry32): void {
  for (let i = perm.length - 1; i > 0; i--) {
    const j = Math.floor((rng.u32() * (i + 1)) / 4294967296);
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
}
