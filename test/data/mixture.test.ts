import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ShapeError, Tensor, tensor } from '../../src/autograd/tensor.ts';
import { eightGaussians, gaussianMixture, gaussianPairEntropy, postMixture } from '../../src/data/mixture.ts';
import { Rng } from '../../src/rng/rng.ts';
import { entropyEstimate } from '../../src/data/target.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';

const LOG_2PI = Math.log(2 * Math.PI);

// The integral of exp(logDensity) by the midpoint rule on an m×m grid over [-half, half]².
function gridIntegral(logDensity: (x: Tensor) => Float64Array, half: number, m: number): number {
  const h = (2 * half) / m;
  const pts = new Float64Array(2 * m * m);
  for (let j = 0; j < m; j++) {
    for (let i = 0; i < m; i++) {
      pts[2 * (j * m + i)] = -half + (i + 0.5) * h;
      pts[2 * (j * m + i) + 1] = -half + (j + 0.5) * h;
    }
  }
  let s = 0;
  for (const v of logDensity(Tensor.from(m * m, 2, pts))) s += Math.exp(v);
  return s * h * h;
}

test('the post mixture log-density matches hand-worked values', () => {
  // At the origin both components give -½·8 - log 2π, so the mixture does too.
  // At (2,2): ½(1 + e^-16)/(2π). Far out, log-sum-exp keeps it finite: at (10,-10) both squared distances
  // are 208; at (100,100) the nearer component dominates with squared distance 2·98².
  const lp = postMixture.logDensity!(tensor([[0, 0], [2, 2], [-2, -2], [10, -10], [100, 100]]));
  assertClose(lp, [
    -4 - LOG_2PI,
    Math.log(0.5) + Math.log1p(Math.exp(-16)) - LOG_2PI,
    Math.log(0.5) + Math.log1p(Math.exp(-16)) - LOG_2PI,
    -104 - LOG_2PI,
    -0.5 * 2 * 98 * 98 + Math.log(0.5) - LOG_2PI,
  ], 'log p', { rtol: 1e-13 });
});

test('the post mixture density integrates to 1', () => {
  assertClose(gridIntegral((x) => postMixture.logDensity!(x), 10, 400), 1, 'integral', { rtol: 1e-9 });
});

test('the eight-gaussians density integrates to 1', () => {
  assertClose(gridIntegral((x) => eightGaussians.logDensity!(x), 5, 400), 1, 'integral', { rtol: 1e-9 });
});

test('post mixture samples have mean 0 and covariance [[5, 4], [4, 5]] within 4 standard errors', () => {
  const n = 20000;
  const x = postMixture.sample(n, new Rng(20261128)).data;
  let m0 = 0, m1 = 0, s00 = 0, s01 = 0, s11 = 0;
  for (let i = 0; i < n; i++) {
    const a = x[2 * i]!, b = x[2 * i + 1]!;
    m0 += a; m1 += b; s00 += a * a; s01 += a * b; s11 += b * b;
  }
  m0 /= n; m1 /= n;
  // Standard errors: Var(x₁) = 5, Var(x₁²) = 18, Var(x₁x₂) = 9 for this mixture (worked out in the test
  // plan: x = 2s(1,1) + ε with s = ±1).
  const se = (v: number) => 4 * Math.sqrt(v / n);
  assertClose(m0, 0, 'mean x1', { atol: se(5) });
  assertClose(m1, 0, 'mean x2', { atol: se(5) });
  assertClose(s00 / n - m0 * m0, 5, 'var x1', { atol: se(18) });
  assertClose(s11 / n - m1 * m1, 5, 'var x2', { atol: se(18) });
  assertClose(s01 / n - m0 * m1, 4, 'cov', { atol: se(9) });
});

test('the post mixture entropy is 3.5244 nats by quadrature', () => {
  assertClose(postMixture.entropy!, 3.5244, 'H', { atol: 5e-5 });
  // Same value with a four times coarser step: the trapezoid rule has converged.
  assertClose(gaussianPairEntropy(4 * Math.SQRT2, 2, 0.02), postMixture.entropy!, 'H, coarse step', { rtol: 1e-12 });
});

test('the post mixture entropy agrees with a Monte Carlo estimate', () => {
  const h = entropyEstimate(postMixture, 200_000, new Rng(7));
  assertClose(h.value, postMixture.entropy!, 'H (MC)', { atol: 4 * h.stdError });
  assert.ok(h.stdError < 0.005, `standard error ${h.stdError}`);
});

test('gaussianPairEntropy has the right limits', () => {
  // Coinciding means: one Gaussian, (d/2)·log(2πe). Far apart: one more bit, log 2.
  assertClose(gaussianPairEntropy(0, 2), Math.log(2 * Math.PI * Math.E), 'distance 0', { rtol: 1e-12 });
  assertClose(gaussianPairEntropy(0, 1), 0.5 * Math.log(2 * Math.PI * Math.E), 'distance 0, 1-D', { rtol: 1e-12 });
  assertClose(gaussianPairEntropy(40, 3), Math.log(2) + 1.5 * Math.log(2 * Math.PI * Math.E), 'far apart', { rtol: 1e-12 });
  assertThrows(() => gaussianPairEntropy(-1, 2), ['distance']);
  assertThrows(() => gaussianPairEntropy(1, 0), ['dim']);
});

test('the eight-gaussians entropy estimate sits just below the disjoint-components bound', () => {
  // Bound: log 8 + log(2πe·σ²) with σ² = 1/8, i.e. log(2πe); the components overlap a little.
  const bound = Math.log(2 * Math.PI * Math.E);
  const h = entropyEstimate(eightGaussians, 100_000, new Rng(3));
  assert.ok(h.value < bound && h.value > bound - 0.03, `H = ${h.value} ± ${h.stdError}, bound ${bound}`);
});

test('eight-gaussians samples lie near the ring of radius 2√2', () => {
  const x = eightGaussians.sample(5000, new Rng(11)).data;
  let r = 0;
  for (let i = 0; i < 5000; i++) r += Math.hypot(x[2 * i]!, x[2 * i + 1]!);
  assertClose(r / 5000, 2 * Math.SQRT2, 'mean radius', { atol: 0.05 });
});

test('gaussianMixture samples in more than two dimensions and honours weights', () => {
  const t = gaussianMixture({ name: 'w', description: '', means: [[0, 0, 0], [10, 10, 10]], std: 0.1, weights: [3, 1] });
  const x = t.sample(4000, new Rng(5));
  assert.equal(x.shape, [4000, 3]);
  let far = 0;
  for (let i = 0; i < 4000; i++) if (x.data[3 * i]! > 5) far++;
  assertClose(far / 4000, 0.25, 'weight of the second component', { atol: 4 * Math.sqrt((0.25 * 0.75) / 4000) });
  // log p at a mean: log(w_k) + log N(0; 0, σ²I) in 3-D.
  assertClose(t.logDensity!(tensor([[0, 0, 0]]))[0]!, Math.log(0.75) - 3 * Math.log(0.1) - 1.5 * LOG_2PI, 'log p at a mean', { rtol: 1e-12 });
});

test('gaussianMixture refuses bad definitions and logDensity refuses the wrong width', () => {
  assertThrows(() => gaussianMixture({ name: 'e', description: '', means: [], std: 1 }), ['at least one mean']);
  assertThrows(() => gaussianMixture({ name: 'e', description: '', means: [[0], [0, 1]], std: 1 }), ['same positive length']);
  assertThrows(() => gaussianMixture({ name: 'e', description: '', means: [[0]], std: 0 }), ['std']);
  assertThrows(() => gaussianMixture({ name: 'e', description: '', means: [[0]], std: 1, weights: [-1] }), ['weights']);
  assertThrows(() => postMixture.logDensity!(Tensor.zeros(2, 3)), ['post-mixture.logDensity', 'n×2', '2×3'], ShapeError);
});

test.run();
