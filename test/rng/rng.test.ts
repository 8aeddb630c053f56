import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Rng } from '../../src/rng/rng.ts';
import { assertThrows } from '../helpers/assert.ts';
import { check, fc } from '../helpers/fc.ts';

function draws(rng: Rng, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(rng.nextUint32());
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Determinism and seeding

test('the same seed gives the same stream, for every kind of draw', () => {
  check(
    fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }), (seed) => {
      const a = new Rng(seed), b = new Rng(seed);
      for (let i = 0; i < 5; i++) {
        assert.is(a.nextUint32(), b.nextUint32());
        assert.is(a.uniform(), b.uniform());
        assert.is(a.normal(), b.normal());
        assert.is(a.int(1000), b.int(1000));
      }
    }),
  );
});

test('different seeds give different streams', () => {
  const first = new Set<string>();
  for (let seed = 0; seed < 1000; seed++) first.add(draws(new Rng(seed), 2).join(','));
  assert.is(first.size, 1000);
  assert.not.equal(draws(new Rng(42), 10), draws(new Rng(43), 10));
});

test('seeds are reduced to 32 bits: truncated, then taken modulo 2^32', () => {
  assert.equal(draws(new Rng(2 ** 32 + 5), 4), draws(new Rng(5), 4));
  assert.equal(draws(new Rng(-1), 4), draws(new Rng(2 ** 32 - 1), 4));
  assert.equal(draws(new Rng(7.9), 4), draws(new Rng(7), 4));
  assert.equal(draws(new Rng(), 4), draws(new Rng(0), 4));
  assertThrows(() => new Rng(NaN), ['seed', 'finite', 'NaN'], RangeError);
  assertThrows(() => new Rng(Infinity), ['seed', 'Infinity'], RangeError);
});

test('the constructor derives the state words by SplitMix-style hashing of the seed', () => {
  // Computed by a C transcription of the seeding (Weyl step 0x9e3779b9, then MurmurHash3's fmix32).
  assert.equal(new Rng(0).getState(), [2462723854, 1020716019, 454327756, 1275600319, 0, 0]);
  assert.equal(new Rng(42).getState(), [939911724, 3948730756, 321366731, 3317318717, 0, 0]);
  assert.equal(new Rng(-1).getState(), [920564995, 4230986166, 697614773, 1778835764, 0, 0]);
});

// ---------------------------------------------------------------------------------------------------
// Bit-exact agreement with the reference C implementation (https://prng.di.unimi.it/xoshiro128starstar.c).
// The values below were printed by this program (gcc -O2), whose rotl and next are the reference's:
//
//   #include <stdint.h>
//   #include <stdio.h>
//   #include <stdlib.h>
//   static inline uint32_t rotl(const uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }
//   static uint32_t s[4];
//   uint32_t next(void) {
//     const uint32_t result = rotl(s[1] * 5, 7) * 9;
//     const uint32_t t = s[1] << 9;
//     s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
//     s[2] ^= t;
//     s[3] = rotl(s[3], 11);
//     return result;
//   }
//   int main(int argc, char **argv) {  /* ./xoshiro s0 s1 s2 s3 count */
//     for (int i = 0; i < 4; i++) s[i] = (uint32_t)strtoul(argv[i + 1], NULL, 10);
//     for (int i = 0, n = atoi(argv[5]); i < n; i++) printf("%u, ", next());
//     printf("\nstate after: %u, %u, %u, %u\n", s[0], s[1], s[2], s[3]);
//   }

const reference: { name: string; state: number[]; outputs: number[]; after: number[] }[] = [
  {
    name: 'seed 0',
    state: [2462723854, 1020716019, 454327756, 1275600319],
    outputs: [3809008728, 1133695204, 53579671, 2891528803, 139681546, 2203266335, 104831812, 1587294886, 2629861951, 58120585, 4102032208, 181034053],
    after: [3012101567, 4131243652, 2435544638, 1527149279],
  },
  {
    name: 'seed 42',
    state: [939911724, 3948730756, 321366731, 3317318717],
    outputs: [2837322924, 544945897, 479756282, 3500138142, 339756180, 113173290, 65323186, 1112262688, 3782522214, 1395801302, 787581093, 2038421698],
    after: [1808124726, 2239175890, 553397748, 41692802],
  },
  {
    name: 'seed -1',
    state: [920564995, 4230986166, 697614773, 1778835764],
    outputs: [835879718, 1921286648, 2356205009, 1885780724, 980451116, 1053911718, 3677392737, 2464361898, 3647778719, 3325325020, 1458598692, 2710702030],
    after: [240796050, 2891493398, 2876648155, 1394464246],
  },
  {
    name: 'state [1, 2, 3, 4]',
    state: [1, 2, 3, 4],
    outputs: [11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849, 3729100597, 4258142804],
    after: [939045227, 1864939416, 1451579149, 2199351389],
  },
  {
    name: 'all state bits set',
    state: [4294967295, 4294967295, 4294967295, 4294967295],
    outputs: [4294962679, 4294962679, 4292019319, 2943360, 1509943680, 246671744, 2681405836, 4051244843, 1053453815, 832600121],
    after: [4026263102, 130810370, 4750275, 1352015486],
  },
];

for (const r of reference) {
  test(`nextUint32 matches the reference xoshiro128** bit for bit from ${r.name}`, () => {
    const rng = new Rng(12345);
    rng.setState([...r.state, 0, 0]);
    assert.equal(draws(rng, r.outputs.length), r.outputs);
    assert.equal(rng.getState().slice(0, 4), r.after);
  });
}

test('seed 42 matches the reference after a million draws', () => {
  // C: the 10^6-th output, a hash h = 31·h + x over all outputs (mod 2^32), and the final state.
  const rng = new Rng(42);
  let x = 0, h = 0;
  for (let i = 0; i < 1_000_000; i++) {
    x = rng.nextUint32();
    h = (Math.imul(h, 31) + x) >>> 0;
  }
  assert.is(x, 3822185902);
  assert.is(h, 1593389332);
  assert.equal(rng.getState().slice(0, 4), [42128222, 88596541, 2140353710, 3453313984]);
});

// ---------------------------------------------------------------------------------------------------
// Distributions

test('uniform() combines 27 + 26 bits of two draws into [0, 1)', () => {
  const a = new Rng(9), b = new Rng(9);
  for (let i = 0; i < 100; i++) {
    const hi = a.nextUint32() >>> 5, lo = a.nextUint32() >>> 6;
    assert.is(b.uniform(), (hi * 2 ** 26 + lo) / 2 ** 53);
  }
  // the largest value it can return is (2^53 − 1) / 2^53 < 1
  assert.ok(((2 ** 27 - 1) * 2 ** 26 + (2 ** 26 - 1)) / 2 ** 53 < 1);
});

test('uniform() stays in [0, 1) with mean 1/2 and variance 1/12 over 10^5 draws', () => {
  const rng = new Rng(20240601), n = 100_000;
  let sum = 0, sumSq = 0;
  for (let i = 0; i < n; i++) {
    const u = rng.uniform();
    assert.ok(u >= 0 && u < 1, `uniform ${u} outside [0, 1)`);
    sum += u;
    sumSq += u * u;
  }
  const mean = sum / n, variance = sumSq / n - mean * mean;
  // standard errors: √(σ²/n) = √(1/12 / n) for the mean, √((μ₄ − σ⁴)/n) = √((1/80 − 1/144)/n) = √(1/180 / n) for the variance
  assert.ok(Math.abs(mean - 0.5) < 4 * Math.sqrt(1 / 12 / n), `mean ${mean}`);
  assert.ok(Math.abs(variance - 1 / 12) < 4 * Math.sqrt(1 / 180 / n), `variance ${variance}`);
});

test('normal() has mean 0, variance 1 and 68.27% of its mass within one sigma over 10^5 draws', () => {
  const rng = new Rng(7), n = 100_000;
  let sum = 0, sumSq = 0, inside = 0;
  for (let i = 0; i < n; i++) {
    const z = rng.normal();
    assert.ok(Number.isFinite(z));
    sum += z;
    sumSq += z * z;
    if (Math.abs(z) < 1) inside++;
  }
  const mean = sum / n, variance = sumSq / n - mean * mean, p = 0.6826894921370859;
  // standard errors: 1/√n for the mean, √(2/n) for the variance, √(p(1 − p)/n) for the fraction
  assert.ok(Math.abs(mean) < 4 / Math.sqrt(n), `mean ${mean}`);
  assert.ok(Math.abs(variance - 1) < 4 * Math.sqrt(2 / n), `variance ${variance}`);
  assert.ok(Math.abs(inside / n - p) < 4 * Math.sqrt((p * (1 - p)) / n), `fraction within one sigma ${inside / n}`);
});

test('normal() returns its values in pairs, keeping the second as a spare in the state', () => {
  const rng = new Rng(3);
  rng.normal();
  assert.is(rng.getState()[4], 1);
  const spare = rng.getState()[5];
  assert.is(rng.normal(), spare);
  assert.is(rng.getState()[4], 0);
});

test('int(n) returns integers in [0, n) for small, odd and huge n', () => {
  const rng = new Rng(11);
  for (const n of [1, 2, 3, 7, 10, 1000, 2 ** 31 + 1, 3 * 2 ** 30, 2 ** 32]) {
    for (let i = 0; i < 2000; i++) {
      const k = rng.int(n);
      assert.ok(Number.isInteger(k) && k >= 0 && k < n, `int(${n}) gave ${k}`);
    }
  }
  assert.is(rng.int(1), 0);
});

test('int(10) is roughly uniform (chi-square over 10^5 draws)', () => {
  const rng = new Rng(5), n = 100_000, counts = new Array<number>(10).fill(0);
  for (let i = 0; i < n; i++) counts[rng.int(10)]!++;
  const expected = n / 10;
  const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
  assert.ok(chi2 < 27.88, `chi-square ${chi2} with 9 degrees of freedom (p < 0.001 above 27.88); counts ${counts}`);
});

test('int(n) has no modulo bias for n = 3·2^30', () => {
  // Plain x mod n would put half the draws below 2^30 (values 0..2^30−1 are hit twice); uniform gives 1/3.
  const rng = new Rng(8), n = 3 * 2 ** 30, draws = 30_000;
  let low = 0;
  for (let i = 0; i < draws; i++) if (rng.int(n) < 2 ** 30) low++;
  assert.ok(Math.abs(low / draws - 1 / 3) < 4 * Math.sqrt((1 / 3) * (2 / 3) / draws), `fraction below 2^30: ${low / draws}`);
});

test('int(n) rejects n outside 1..2^32 or not an integer', () => {
  const rng = new Rng(1);
  for (const n of [0, -1, 1.5, 2 ** 32 + 1, NaN, Infinity]) assertThrows(() => rng.int(n), ['Rng.int', 'n must be an integer'], RangeError);
});

// ---------------------------------------------------------------------------------------------------
// Shuffles and permutations

test('shuffle returns the same array holding a permutation of its elements', () => {
  check(
    fc.property(fc.integer(), fc.array(fc.integer({ min: -5, max: 5 }), { maxLength: 40 }), (seed, values) => {
      const copy = values.slice();
      const out = new Rng(seed).shuffle(copy);
      assert.is(out, copy);
      assert.equal(copy.slice().sort((a, b) => a - b), values.slice().sort((a, b) => a - b));
    }),
  );
});

test('permutation(n) holds each of 0..n−1 once', () => {
  const rng = new Rng(4);
  for (const n of [0, 1, 2, 17, 500]) {
    const p = rng.permutation(n);
    assert.ok(p instanceof Int32Array);
    assert.equal(Array.from(p).sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i));
  }
});

test('shuffle gives each of the 6 orders of 3 elements about equally often', () => {
  const rng = new Rng(6), trials = 60_000, counts = new Map<string, number>();
  for (let i = 0; i < trials; i++) {
    const key = rng.shuffle(['a', 'b', 'c']).join('');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  assert.is(counts.size, 6);
  const p = 1 / 6, sd = Math.sqrt(trials * p * (1 - p));
  for (const [order, c] of counts) assert.ok(Math.abs(c - trials * p) < 4 * sd, `${order} came up ${c} times of ${trials}`);
});

// ---------------------------------------------------------------------------------------------------
// Forks and saved states

test('fork advances the parent by one draw and is deterministic', () => {
  const a = new Rng(10), b = new Rng(10);
  const child = a.fork();
  b.nextUint32();
  assert.equal(a.getState(), b.getState());
  assert.equal(draws(child, 5), draws(new Rng(10).fork(), 5));
});

test('forks give streams independent of their parent and of each other', () => {
  const parent = new Rng(99);
  const x = parent.fork(), y = parent.fork();
  const n = 20_000, a: number[] = [], b: number[] = [], c: number[] = [];
  for (let i = 0; i < n; i++) {
    a.push(x.uniform());
    b.push(y.uniform());
    c.push(parent.uniform());
  }
  assert.not.equal(a.slice(0, 10), b.slice(0, 10));
  assert.not.equal(a.slice(0, 10), c.slice(0, 10));
  // sample correlations of independent uniform streams are N(0, 1/n)
  for (const [name, u, v] of [['fork 1 vs fork 2', a, b], ['fork 1 vs parent', a, c], ['fork 2 vs parent', b, c]] as const) {
    assert.ok(Math.abs(correlation(u, v)) < 4 / Math.sqrt(n), `${name}: correlation ${correlation(u, v)}`);
  }
});

function correlation(u: readonly number[], v: readonly number[]): number {
  const n = u.length;
  let su = 0, sv = 0, suu = 0, svv = 0, suv = 0;
  for (let i = 0; i < n; i++) {
    su += u[i]!;
    sv += v[i]!;
    suu += u[i]! * u[i]!;
    svv += v[i]! * v[i]!;
    suv += u[i]! * v[i]!;
  }
  const cov = suv / n - (su / n) * (sv / n);
  return cov / Math.sqrt((suu / n - (su / n) ** 2) * (svv / n - (sv / n) ** 2));
}

test('getState / setState resume a stream exactly, spare normal included', () => {
  check(
    fc.property(fc.integer(), fc.integer({ min: 0, max: 50 }), (seed, skip) => {
      const rng = new Rng(seed);
      for (let i = 0; i < skip; i++) rng.normal(); // an odd skip leaves a spare
      const saved = JSON.parse(JSON.stringify(rng.getState())) as number[];
      const expected = [rng.normal(), rng.uniform(), rng.int(97), rng.normal(), rng.nextUint32()];
      const other = new Rng(seed + 1);
      other.setState(saved);
      assert.equal([other.normal(), other.uniform(), other.int(97), other.normal(), other.nextUint32()], expected);
    }),
  );
});

test('getState reports the state words as unsigned 32-bit integers', () => {
  const rng = new Rng(0);
  for (let i = 0; i < 1000; i++) {
    rng.nextUint32();
    for (const w of rng.getState().slice(0, 4)) assert.ok(Number.isInteger(w) && w >= 0 && w < 2 ** 32, `state word ${w}`);
  }
});

test('setState accepts signed 32-bit words and rejects malformed states', () => {
  const a = new Rng(1), b = new Rng(2);
  const state = a.getState();
  b.setState([state[0]! | 0, state[1]! | 0, state[2]! | 0, state[3]! | 0, 0, 0]);
  assert.equal(draws(b, 3), draws(a, 3));
  assertThrows(() => b.setState([1, 2, 3]), ['expected 6 numbers, got 3'], RangeError);
  assertThrows(() => b.setState([0, 0, 0, 0, 0, 0]), ['must not all be zero'], RangeError);
  assertThrows(() => b.setState([1.5, 2, 3, 4, 0, 0]), ['state word 0', '32-bit integer', '1.5'], RangeError);
  assertThrows(() => b.setState([1, 2, 3, 2 ** 32, 0, 0]), ['state word 3'], RangeError);
  assertThrows(() => b.setState([1, 2, 3, 4, 2, 0]), ['hasSpare', 'got 2'], RangeError);
  assertThrows(() => b.setState([1, 2, 3, 4, 1, NaN]), ['spare normal', 'NaN'], RangeError);
  assert.equal(draws(b, 3), draws(a, 3), 'a rejected state changes nothing');
});

test.run();
