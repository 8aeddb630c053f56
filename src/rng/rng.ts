/**
 * Seeded randomness: the xoshiro128** generator (D. Blackman & S. Vigna, "Scrambled linear
 * pseudorandom number generators", ACM TOMS 2021; https://prng.di.unimi.it/xoshiro128starstar.c),
 * seeded through SplitMix32. 32-bit integer arithmetic only (`Math.imul`, `>>>`), so the same seed gives
 * the same stream in every JavaScript runtime.
 *
 * Nothing in flowgrad calls `Math.random`: initialisers, shuffles and samplers take an `Rng`.
 *
 * @module
 */

/**
 * The interface every consumer of randomness takes; {@link Rng} implements it.
 * @example const fixed: RandomSource = { uniform: () => 0.5, normal: () => 0 }; new StandardNormal(2).sample(3, fixed); // all zeros
 */
export interface RandomSource {
  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number;
  /** Standard normal N(0, 1). */
  normal(): number;
}

function splitmix32(state: number): [number, number] {
  const s = (state + 0x9e3779b9) >>> 0;
  let z = s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  z = (z ^ (z >>> 16)) >>> 0;
  return [s, z];
}

/**
 * A seeded xoshiro128** generator.
 *
 * @example
 * const rng = new Rng(42);
 * rng.uniform(); // same value on every run and runtime
 * rng.normal();  // standard normal (Marsaglia polar method)
 * rng.int(6);    // 0..5
 * const stream = rng.fork(); // an independent generator
 */
export class Rng implements RandomSource {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare = 0;
  private hasSpare = false;

  /** Creates a generator from any 32-bit integer seed (other numbers are reduced to 32 bits). */
  constructor(seed: number = 0) {
    if (!Number.isFinite(seed)) throw new RangeError(`Rng: seed must be a finite number, got ${seed}`);
    let st = Math.trunc(seed) >>> 0;
    let v: number;
    [st, v] = splitmix32(st);
    this.s0 = v;
    [st, v] = splitmix32(st);
    this.s1 = v;
    [st, v] = splitmix32(st);
    this.s2 = v;
    [st, v] = splitmix32(st);
    this.s3 = v;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /**
   * The next 32-bit unsigned integer of the stream.
   * @example new Rng(1).nextUint32(); // an integer in [0, 2^32)
   */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /**
   * Uniform in [0, 1) with 53 random bits (27 from one draw, 26 from the next).
   * @example new Rng(1).uniform(); // 0 <= u < 1
   */
  uniform(): number {
    const a = this.nextUint32() >>> 5; // 27 bits
    const b = this.nextUint32() >>> 6; // 26 bits
    return (a * 67108864 + b) / 9007199254740992;
  }

  /**
   * Standard normal by the Marsaglia polar method (G. Marsaglia & T. A. Bray, SIAM Review 1964): draws
   * pairs until one falls inside the unit disc, returns one value and keeps the other for the next call.
   * @example new Rng(1).normal();
   */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    let u: number, v: number, s: number;
    do {
      u = 2 * this.uniform() - 1;
      v = 2 * this.uniform() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spare = v * f;
    this.hasSpare = true;
    return u * f;
  }

  /**
   * A uniform integer in [0, n) without modulo bias (rejection sampling), n ≤ 2^32.
   * @example new Rng(1).int(10); // 0..9
   */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 4294967296) throw new RangeError(`Rng.int: n must be an integer in 1..2^32, got ${n}`);
    const limit = 4294967296 - (4294967296 % n);
    let x: number;
    do x = this.nextUint32();
    while (x >= limit);
    return x % n;
  }

  /**
   * Shuffles an array in place (Fisher–Yates) and returns it.
   * @example new Rng(1).shuffle([1, 2, 3]); // a permutation of [1, 2, 3]
   */
  shuffle<T, A extends { length: number; [i: number]: T }>(array: A): A {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = array[i]!;
      array[i] = array[j]!;
      array[j] = tmp;
    }
    return array;
  }

  /**
   * A permutation of 0..n-1.
   * @example new Rng(1).permutation(4); // e.g. Int32Array [2, 0, 3, 1]
   */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle<number, Int32Array>(p);
  }

  /**
   * A new, independent generator seeded from this one's stream (this one advances by one draw).
   * @example const init = rng.fork(), shuffle = rng.fork();
   */
  fork(): Rng {
    return new Rng(this.nextUint32() ^ 0x5bd1e995);
  }

  /**
   * The full state, for saving and resuming a stream exactly: the four xoshiro128** state words as
   * unsigned 32-bit integers, then 1 or 0 for whether a spare normal is held, then that spare.
   * @example const s = rng.getState(); // [s0, s1, s2, s3, hasSpare, spare]
   */
  getState(): number[] {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0, this.hasSpare ? 1 : 0, this.spare];
  }

  /**
   * Restores a state from {@link Rng.getState}. The state words must be 32-bit integers, not all zero
   * (xoshiro's one fixed point).
   * @example rng.setState(saved);
   */
  setState(state: readonly number[]): void {
    if (state.length !== 6) throw new RangeError(`Rng.setState: expected 6 numbers, got ${state.length}`);
    for (let i = 0; i < 4; i++) {
      const w = state[i]!;
      if (!Number.isInteger(w) || w < -2147483648 || w > 4294967295) {
        throw new RangeError(`Rng.setState: state word ${i} must be a 32-bit integer, got ${w}`);
      }
    }
    if ((state[0]! | state[1]! | state[2]! | state[3]!) === 0) throw new RangeError('Rng.setState: the four state words must not all be zero');
    if (state[4] !== 0 && state[4] !== 1) throw new RangeError(`Rng.setState: entry 4 (hasSpare) must be 0 or 1, got ${state[4]}`);
    if (!Number.isFinite(state[5]!)) throw new RangeError(`Rng.setState: entry 5 (the spare normal) must be finite, got ${state[5]}`);
    [this.s0, this.s1, this.s2, this.s3] = [state[0]! >>> 0, state[1]! >>> 0, state[2]! >>> 0, state[3]! >>> 0];
    this.hasSpare = state[4] === 1;
    this.spare = state[5]!;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
