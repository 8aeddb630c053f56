/**
 * Whiten: z = W (x − mean) with W the PCA whitening of the training rows, the components interleaved
 * between the coupling halves; log|det| = log|det W|. The eigen-solver, the interleaving, the bijection
 * properties, the saved buffers, RealNVP's `whiten` option and its config, and the refusals.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sum, Tensor, tensor } from '../../src/autograd/index.ts';
import { Rng } from '../../src/rng/rng.ts';
import { checkBijection, logAbsDet } from '../../src/flow/check.ts';
import { Standardize } from '../../src/flow/standardize.ts';
import { RealNVP } from '../../src/flow/real-nvp.ts';
import { interleavedPositions, symmetricEigen, Whiten } from '../../src/flow/whiten.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';

/** n rows of x = L·e + shift with e standard normal, L lower triangular (a correlated Gaussian). */
function correlated(n: number, L: number[][], shift: number[], rng: Rng): Tensor {
  const d = shift.length, data = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const e = Array.from({ length: d }, () => rng.normal());
    for (let j = 0; j < d; j++) {
      let v = shift[j]!;
      for (let k = 0; k <= j; k++) v += L[j]![k]! * e[k]!;
      data[i * d + j] = v;
    }
  }
  return Tensor.from(n, d, data);
}

function covariance(z: Tensor): { mean: number[]; cov: number[][] } {
  const n = z.rows, d = z.cols;
  const mean = Array.from({ length: d }, (_, j) => { let s = 0; for (let i = 0; i < n; i++) s += z.data[i * d + j]!; return s / n; });
  const cov = Array.from({ length: d }, (_, j) => Array.from({ length: d }, (_, k) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += (z.data[i * d + j]! - mean[j]!) * (z.data[i * d + k]! - mean[k]!);
    return s / n;
  }));
  return { mean, cov };
}

test('symmetricEigen: A·v = λ·v for every pair, orthonormal vectors, on a random symmetric matrix', () => {
  const d = 6, rng = new Rng(3), a = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = i; j < d; j++) a[i * d + j] = a[j * d + i] = rng.normal();
  const { values, vectors } = symmetricEigen(a, d);
  for (let k = 0; k < d; k++) {
    for (let i = 0; i < d; i++) {
      let av = 0;
      for (let j = 0; j < d; j++) av += a[i * d + j]! * vectors[j * d + k]!;
      assertClose(av, values[k]! * vectors[i * d + k]!, `(A v_${k})_${i}`, { atol: 1e-12 });
    }
    for (let l = 0; l < d; l++) {
      let dot = 0;
      for (let i = 0; i < d; i++) dot += vectors[i * d + k]! * vectors[i * d + l]!;
      assertClose(dot, k === l ? 1 : 0, `v_${k}·v_${l}`, { atol: 1e-12 });
    }
  }
  assertClose(Array.from(symmetricEigen(new Float64Array([2, 1, 1, 2]), 2).values).sort(), [1, 3], 'eigenvalues of [[2, 1], [1, 2]]', { atol: 1e-15 });
});

test('interleavedPositions: the k-th component goes to A₀, B₀, A₁, B₁, … of the half split', () => {
  assert.equal(interleavedPositions(2), [0, 1]);
  assert.equal(interleavedPositions(4), [0, 2, 1, 3]);
  assert.equal(interleavedPositions(5), [0, 2, 1, 3, 4]);
  assert.equal(interleavedPositions(3), [0, 1, 2]);
  for (const d of [2, 3, 7, 16]) assert.equal([...interleavedPositions(d)].sort((p, q) => p - q), Array.from({ length: d }, (_, j) => j), `a permutation of 0..${d - 1}`);
});

test('fit: with clearly separated variances, the whitened training rows have mean 0 and identity covariance; log-det is -½ Σ log λ', () => {
  const x = correlated(500, [[2, 0, 0, 0], [1.5, 0.5, 0, 0], [-1, 0.3, 1, 0], [0.2, 0.1, -0.4, 0.3]], [1, -2, 3, 0.5], new Rng(1));
  const wh = Whiten.fit(x);
  const [z, ld] = wh.forward(x);
  const { mean, cov } = covariance(z);
  assertClose(mean, [0, 0, 0, 0], 'mean', { atol: 1e-12 });
  assertClose(cov, [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], 'covariance', { atol: 1e-12 });
  // |det W|² = 1 / det Σ: the log-det is that of the data's covariance, halved and negated.
  const c = covariance(x).cov.flat();
  assertClose(ld.data[0]!, -0.5 * logAbsDet(Float64Array.from(c), 4), 'log|det W|', { rtol: 1e-12 });
  assert.ok(Array.from(ld.data).every((v) => v === ld.data[0]), 'the same log-det for every row');
});

test('fit puts the components in the interleaved order, each with its largest entry positive', () => {
  // Independent columns with standard deviations 1, 3, 0.5, 2: the components are the axes, by variance 3, 2, 1, 0.5.
  const rng = new Rng(2), n = 4000, sds = [1, 3, 0.5, 2];
  const data = new Float64Array(n * 4);
  for (let i = 0; i < n; i++) for (let j = 0; j < 4; j++) data[i * 4 + j] = sds[j]! * rng.normal();
  const W = Whiten.fit(Tensor.from(n, 4, data)).matrix;
  // Output row r reads mostly the column of the component placed there: [0, 2, 1, 3] <- variances 3, 2, 1, 0.5 = columns 1, 3, 0, 2.
  const expected = [1, 0, 3, 2]; // row r -> column
  for (let r = 0; r < 4; r++) {
    const row = Array.from({ length: 4 }, (_, j) => W.data[r * 4 + j]!);
    const big = row.reduce((b, v, j) => (Math.abs(v) > Math.abs(row[b]!) ? j : b), 0);
    assert.is(big, expected[r], `row ${r} reads column ${expected[r]}`);
    assert.ok(row[big]! > 0, `row ${r}: its largest entry is positive`);
    assertClose(row[big]!, 1 / sds[big]!, `row ${r} scales by 1/sd`, { rtol: 0.05 });
  }
});

test('variances within a factor 2 keep the axes: a round covariance gives exactly a standardisation', () => {
  // Independent uniform columns of equal variance (the checkerboard's kind of data): plain PCA would turn
  // them by an angle the sample noise picks.
  const rng = new Rng(12), n = 900, data = new Float64Array(n * 2);
  for (let i = 0; i < n * 2; i++) data[i] = 8 * rng.uniform() - 4;
  const x = Tensor.from(n, 2, data);
  const w = Whiten.fit(x).matrix.data, st = Standardize.fit(x);
  assertClose(Array.from(w), [1 / st.std.data[0]!, 0, 0, 1 / st.std.data[1]!], 'W = diag(1/std)', { rtol: 1e-12, atol: 1e-15 });
  // Variances 1.6 and 1 (ratio < 2), correlated: still the axes, each standardised, not decorrelated.
  const y = correlated(900, [[1.2, 0], [0.3, 1]], [0, 0], new Rng(13));
  const wy = Whiten.fit(y).matrix.data, sy = Standardize.fit(y);
  assertClose(Array.from(wy), [1 / sy.std.data[0]!, 0, 0, 1 / sy.std.data[1]!], 'W = diag(1/std)', { rtol: 1e-12, atol: 1e-15 });
});

test('a group of equal variances is turned to the axes it leans on, and stays invertible when axes tie', () => {
  // Columns 0 and 1 share one factor, 2 and 3 another, both of the same variance, plus small noise: the
  // two leading components span (1,1,0,0) and (0,0,1,1), every axis leans on that plane equally.
  const rng = new Rng(13), n = 2000, data = new Float64Array(n * 4);
  for (let i = 0; i < n; i++) {
    const f = 3 * rng.normal(), h = 3 * rng.normal();
    data.set([f + 0.1 * rng.normal(), f + 0.1 * rng.normal(), h + 0.1 * rng.normal(), h + 0.1 * rng.normal()], i * 4);
  }
  const x = Tensor.from(n, 4, data), wh = Whiten.fit(x);
  const { cov } = covariance(wh.forward(x)[0]);
  // Unit variances; the two groups (positions 0, 2: the factors; 1, 3: the noise) uncorrelated with each other.
  assertClose([0, 1, 2, 3].map((j) => cov[j]![j]!), [1, 1, 1, 1], 'variances', { rtol: 1e-12 });
  for (const [p, q] of [[0, 1], [0, 3], [2, 1], [2, 3]] as const) assertClose(cov[p]![q]!, 0, `covariance of ${p} and ${q}`, { atol: 1e-12 });
  // The two leading rows (positions 0 and 2) read one factor each: the unit direction (1,1,0,0)/√2 over
  // its standard deviation √2·3, i.e. (1,1,0,0)/6, and (0,0,1,1)/6, up to noise.
  const w = wh.matrix.data, r0 = Array.from(w.subarray(0, 4)), r2 = Array.from(w.subarray(8, 12));
  const c = 1 / 6;
  assertClose(r0, [c, c, 0, 0], 'row 0 reads the first factor', { atol: 0.02 });
  assertClose(r2, [0, 0, c, c], 'row 2 reads the second factor', { atol: 0.02 });
});

test('a Whiten is a bijection: round trips, log-dets against the Jacobian', () => {
  const x = correlated(200, [[1, 0, 0], [0.8, 0.6, 0], [0.1, -0.5, 0.7]], [0, 1, -1], new Rng(4));
  const wh = Whiten.fit(x);
  assert.ok(checkBijection(wh, { rng: new Rng(5) }).ok);
  const [z, ldf] = wh.forward(x);
  const [back, ldi] = wh.inverse(z);
  assertClose(back.toArray(), x.toArray(), 'inverse(forward(x))', { rtol: 1e-12, atol: 1e-12 });
  assertClose(ldi.data[0]!, -ldf.data[0]!, 'the log-dets cancel', { rtol: 1e-15 });
  // Gradients flow to the input: z = (x − mean)·Wᵀ, so d Σ z / dx = 1ᵀ W per row.
  const xin = Tensor.from(1, 3, Float64Array.from([0.3, -0.2, 1]), { requiresGrad: true });
  const [zz] = wh.forward(xin);
  sum(zz).backward();
  const w = wh.matrix.data;
  assertClose(Array.from(xin.grad!), [0, 1, 2].map((j) => w[j]! + w[3 + j]! + w[6 + j]!), 'dΣz/dx', { rtol: 1e-14 });
});

test('mean and matrix are saved buffers; a loaded model uses the loaded matrix (the inverse is not stale)', () => {
  const x = correlated(300, [[1, 0], [2, 1]], [5, -5], new Rng(6));
  const wh = Whiten.fit(x);
  assert.equal(wh.parameters(), []);
  assert.equal(Object.keys(wh.stateDict()), ['mean', 'matrix']);
  const other = new Whiten([0, 0], [1, 0, 0, 1]);
  const probe = tensor([[1, 2], [-3, 0.5]]);
  other.inverse(probe); // caches the identity's inverse
  other.loadStateDict(wh.stateDict());
  assert.equal(other.forward(probe)[0].toArray(), wh.forward(probe)[0].toArray());
  assert.equal(other.inverse(probe)[0].toArray(), wh.inverse(probe)[0].toArray());
  assert.equal(other.forward(probe)[1].toArray(), wh.forward(probe)[1].toArray());
});

test('fit is reproducible to the bit', () => {
  const x = correlated(100, [[1, 0, 0], [0.5, 1, 0], [0.2, 0.2, 1]], [0, 0, 0], new Rng(7));
  assert.equal(Array.from(Whiten.fit(x).matrix.data), Array.from(Whiten.fit(x).matrix.data));
});

test('dependent or constant columns, too few rows, bad shapes and non-finite values are refused', () => {
  const base = correlated(50, [[1, 0], [0.3, 1]], [0, 0], new Rng(8));
  const dependent = Tensor.from(50, 3, Float64Array.from({ length: 150 }, (_, k) => {
    const i = Math.floor(k / 3), j = k % 3;
    return j < 2 ? base.data[i * 2 + j]! : base.data[i * 2]! + 2 * base.data[i * 2 + 1]!;
  }));
  assertThrows(() => Whiten.fit(dependent), ['Whiten.fit: the columns are linearly dependent or constant', 'drop a redundant column'], RangeError);
  assertThrows(() => Whiten.fit(Tensor.from(50, 2, Float64Array.from({ length: 100 }, (_, k) => (k % 2 === 0 ? k : 7)))), ['linearly dependent or constant'], RangeError);
  assertThrows(() => Whiten.fit(tensor([[1, 2], [3, 4]])), ['needs more rows than columns', 'got 2 rows'], RangeError);
  assertThrows(() => new Whiten([0, 0], [1, 0, 0]), ['mean of length 2 needs a 2×2 matrix', 'got 3 entries'], RangeError);
  assertThrows(() => new Whiten([0, NaN], [1, 0, 0, 1]), ['mean of feature 1 is NaN'], RangeError);
  assertThrows(() => new Whiten([0, 0], [1, 0, Infinity, 1]), ['matrix entry (1, 0) is Infinity'], RangeError);
  assertThrows(() => new Whiten([0, 0], [1, 2, 2, 4]), ['the 2×2 matrix is singular'], RangeError);
  assertThrows(() => Whiten.fit(base).forward(tensor([[1, 2, 3]])), ['Whiten.forward'], Error);
});

test("RealNVP's whiten option: the first step, saved in the config, rebuilt by fromConfig; not with standardize", () => {
  const x = correlated(300, [[1, 0, 0, 0], [0.9, 0.4, 0, 0], [0, 0, 1, 0], [0, 0, 0.5, 0.5]], [0, 1, 2, 3], new Rng(9));
  const wh = Whiten.fit(x);
  const flow = new RealNVP({ dim: 4, layers: 2, hidden: 4, coupling: 'spline', bins: 4, splineBound: 4, whiten: { mean: wh.mean.data, matrix: wh.matrix.data }, rng: new Rng(10) });
  assert.instance(flow.steps[0], Whiten);
  assert.is(flow.whiten, flow.steps[0]);
  assert.is(flow.standardize, null);
  assert.is(flow.config.whiten, true);
  assert.is(flow.config.standardize, false);
  // A fresh flow is the whitening alone: its log-density is that of z = W(x − mean) under N(0, I) plus log|det W|.
  const [z, ld] = wh.forward(x);
  const lp = flow.logProb(x);
  for (let i = 0; i < 3; i++) {
    let q = 0;
    for (let j = 0; j < 4; j++) q += -0.5 * z.data[i * 4 + j]! ** 2 - 0.5 * Math.log(2 * Math.PI);
    assertClose(lp.data[i]!, q + ld.data[i]!, `log q(x_${i})`, { rtol: 1e-12 });
  }
  const again = RealNVP.fromConfig(JSON.parse(JSON.stringify(flow.config)));
  again.loadStateDict(flow.stateDict());
  assert.equal(Array.from(again.logProb(x).data), Array.from(lp.data), 'fromConfig + loadStateDict: the same log-densities');
  assert.ok(checkBijection(flow, { rng: new Rng(11), tolerance: { logDet: 1e-5 } }).ok);
  // An affine model without whitening writes no whiten field (its config is what earlier versions wrote).
  assert.not.ok('whiten' in new RealNVP({ dim: 2, rng: new Rng(0) }).config);
  assertThrows(() => new RealNVP({ dim: 4, whiten: true, standardize: true, rng: new Rng(0) }), ['give standardize or whiten, not both'], RangeError);
  assertThrows(() => new RealNVP({ dim: 4, whiten: { mean: [0, 0], matrix: [1, 0, 0, 1] }, rng: new Rng(0) }), ['whiten has 2 features for dim 4'], RangeError);
  assertThrows(() => new RealNVP({ dim: 2, whiten: { mean: [0, 0], matrx: [1, 0, 0, 1] } as never, rng: new Rng(0) }), ['matrx', 'did you mean'], Error);
  assertThrows(() => RealNVP.fromConfig({ ...RealNVP.post({ dim: 2, layers: 2, rng: new Rng(0) }).config, whiten: true }), ["whiten applies to preset 'default'"], RangeError);
});

test.run();
