import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor, tensor } from '../../src/autograd/tensor.ts';
import { Rng } from '../../src/rng/rng.ts';
import { referencePosterior, twoMoonsLogNormaliser } from '../../src/sbi/reference.ts';
import { observation } from '../../src/sbi/observations.ts';
import { getTask } from '../../src/sbi/tasks.ts';
import { assertClose } from '../helpers/assert.ts';

function moments(x: Tensor, w?: Float64Array): { mean: number[]; cov: number[][] } {
  const d = x.cols, n = x.rows, weights = w ?? new Float64Array(n).fill(1);
  let total = 0;
  for (let i = 0; i < n; i++) total += weights[i]!;
  const mean = new Array(d).fill(0), cov = Array.from({ length: d }, () => new Array(d).fill(0));
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += (weights[i]! * x.data[i * d + j]!) / total;
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) cov[a]![b] += (weights[i]! * (x.data[i * d + a]! - mean[a]) * (x.data[i * d + b]! - mean[b])) / total;
  }
  return { mean, cov };
}

/** log p(θ) + log p(x | θ) − log p(θ | x) must be one constant (log p(x)) wherever the posterior is positive. */
function assertBayes(name: string, x: ArrayLike<number>, theta: Tensor): void {
  const task = getTask(name), post = referencePosterior(task, x);
  const lp = post.logProb!(theta), prior = task.prior.logProb(theta), ll = task.logLikelihood(theta, x);
  const c = prior[0]! + ll[0]! - lp[0]!;
  for (let i = 0; i < theta.rows; i++) assertClose(prior[i]! + ll[i]! - lp[i]!, c, `${name}: log evidence at row ${i}`, { rtol: 1e-9, atol: 1e-9 });
}

test('gaussian-linear: N(x/2, 0.05·I), samples and density', () => {
  const x = observation(getTask('gaussian-linear'), 1).x, post = referencePosterior(getTask('gaussian-linear'), x);
  const m = moments(post.sample(20000, new Rng(1)));
  for (let j = 0; j < 10; j++) {
    assertClose(m.mean[j]!, x[j]! / 2, `mean ${j}`, { atol: 0.008 });
    assertClose(m.cov[j]![j]!, 0.05, `variance ${j}`, { rtol: 0.04 });
  }
  assertBayes('gaussian-linear', x, post.sample(20, new Rng(2)));
});

test('gaussian-linear-uniform: samples in the box; the density is prior × likelihood over a log-evidence from Φ', () => {
  const task = getTask('gaussian-linear-uniform'), x = [0.9, -0.95, 0, 0.5, 1.2, -1.1, 0.1, 0.3, -0.4, 0.7];
  const post = referencePosterior(task, x), s = post.sample(5000, new Rng(3));
  for (const v of s.data) assert.ok(v >= -1 && v <= 1);
  assertBayes('gaussian-linear-uniform', x, post.sample(20, new Rng(4)));
  // The evidence itself: p(x) = 2⁻¹⁰ Π_j P(−1 ≤ N(x_j, 0.1) ≤ 1), by one-dimensional quadrature per coordinate.
  let logEvidence = -10 * Math.log(2);
  for (const xj of x) {
    let s1 = 0;
    const h = 2 / 20000;
    for (let k = 0; k < 20000; k++) s1 += (Math.exp(-((-1 + (k + 0.5) * h - xj) ** 2) / 0.2) / Math.sqrt(2 * Math.PI * 0.1)) * h;
    logEvidence += Math.log(s1);
  }
  const theta = tensor([new Array(10).fill(0.2)]);
  assertClose(task.prior.logProb(theta)[0]! + task.logLikelihood(theta, x)[0]! - post.logProb!(theta)[0]!, logEvidence, 'log p(x)', { rtol: 1e-8 });
  assert.is(post.logProb!(tensor([[...new Array(9).fill(0), 1.5]]))[0], -Infinity);
});

test('gaussian-mixture: the truncated density integrates to one over the box, also near its edge', () => {
  const task = getTask('gaussian-mixture');
  for (const x of [[1, -2], [9.8, -9.9]]) {
    const post = referencePosterior(task, x), g = 1000, h = 20 / g, row = new Float64Array(2 * g);
    let s = 0;
    for (let a = 0; a < g; a++) {
      for (let b = 0; b < g; b++) row.set([-10 + (a + 0.5) * h, -10 + (b + 0.5) * h], 2 * b);
      for (const v of post.logProb!(Tensor.from(g, 2, row))) s += Math.exp(v) * h * h;
    }
    assertClose(s, 1, `∫ p(θ | x = ${x}) dθ`, { rtol: 2e-3 });
    const samples = post.sample(4000, new Rng(5));
    for (const v of samples.data) assert.ok(v >= -10 && v <= 10);
  }
});

test('two-moons: the exact sampler agrees with importance sampling from the prior and with the grid density', () => {
  const task = getTask('two-moons'), x = observation(task, 1).x, post = referencePosterior(task, x);
  const samples = post.sample(20000, new Rng(6));
  for (const v of post.logProb!(samples)) assert.ok(Number.isFinite(v), 'every sample has positive posterior density');
  const exact = moments(samples);
  // Self-normalised importance sampling with the prior as proposal, weights p(x | θ).
  const prop = task.prior.sample(400000, new Rng(7)), ll = task.logLikelihood(prop, x);
  let m = -Infinity;
  for (const v of ll) m = Math.max(m, v);
  const w = ll.map((v) => Math.exp(v - m));
  const is = moments(prop, w);
  assertClose(exact.mean, is.mean, 'mean, sampler vs importance', { atol: 0.01 });
  assertClose(exact.cov.flat(), is.cov.flat(), 'covariance, sampler vs importance', { atol: 0.01 });
  // The density integrates to one (on a grid other than the normaliser's) and gives the same mean.
  const g = 1500, h = 2 / g, row = new Float64Array(2 * g);
  let mass = 0, mean0 = 0;
  for (let a = 0; a < g; a++) {
    for (let b = 0; b < g; b++) row.set([-1 + (a + 0.5) * h, -1 + (b + 0.5) * h], 2 * b);
    const lp = post.logProb!(Tensor.from(g, 2, row));
    for (let b = 0; b < g; b++) {
      mass += Math.exp(lp[b]!) * h * h;
      mean0 += Math.exp(lp[b]!) * row[2 * b]! * h * h;
    }
  }
  // A grid converges slowly across the fold |θ₁ + θ₂| (a kink across a ridge 0.01 wide): 0.5 % here.
  assertClose(mass, 1, '∫ p(θ | x) dθ on a grid', { rtol: 5e-3 });
  assertClose(mean0, exact.mean[0]!, 'mean of θ₁ from the density', { atol: 0.01 });
  // Both moons inside the box: ∫ p(x | θ) dθ over the plane is 2 (two θ for each noise draw).
  assertClose(twoMoonsLogNormaliser(x), Math.log(2), 'whole moons', { rtol: 1e-12 });
  // A moon cut by the box edge: the quadrature over the angle has converged.
  const cut = observation(task, 2).x;
  assert.ok(twoMoonsLogNormaliser(cut) < Math.log(2) - 0.01);
  assertClose(twoMoonsLogNormaliser(cut, 1000), twoMoonsLogNormaliser(cut, 80000), 'converged in the angle', { rtol: 1e-9 });
  // ... and agrees with importance sampling: p(x) = E_prior[p(x | θ)] = ∫_box p(x | θ) dθ / 4.
  const llc = task.logLikelihood(prop, cut);
  let ev = 0;
  for (const v of llc) ev += Math.exp(v) / llc.length;
  assertClose(Math.log(4 * ev), twoMoonsLogNormaliser(cut), 'normaliser vs importance sampling', { atol: 0.02 });
});

test('two-moons: near the fold (θ₁ + θ₂ ≈ 0) draws with p₁ < x₁, which no θ can produce, are rejected', () => {
  // x₁ = 0.3 sits inside the range of p₁ = r cos a + 0.25, so many noise draws have p₁ < x₁ (sbibm keeps them).
  const task = getTask('two-moons'), x = [0.3, 0.02], post = referencePosterior(task, x);
  const samples = post.sample(20000, new Rng(8));
  const nearFold = (t1: number, t2: number): boolean => Math.abs(t1 + t2) / Math.SQRT2 < 0.03;
  let share = 0;
  for (let i = 0; i < samples.rows; i++) if (nearFold(samples.data[2 * i]!, samples.data[2 * i + 1]!)) share += 1 / samples.rows;
  // The same share from the closed-form density on a grid.
  const g = 1000, h = 2 / g, row = new Float64Array(2 * g);
  let mass = 0;
  for (let a = 0; a < g; a++) {
    for (let b = 0; b < g; b++) row.set([-1 + (a + 0.5) * h, -1 + (b + 0.5) * h], 2 * b);
    const lp = post.logProb!(Tensor.from(g, 2, row));
    for (let b = 0; b < g; b++) if (nearFold(row[2 * b]!, row[2 * b + 1]!)) mass += Math.exp(lp[b]!) * h * h;
  }
  assertClose(share, mass, 'probability of |z₁| < 0.03, sampler vs density', { atol: 0.015 });
});

test('reference posteriors refuse an observation of the wrong width or with NaN', () => {
  const task = getTask('two-moons');
  assert.throws(() => referencePosterior(task, [1, 2, 3]), /must have 2 numbers, got 3/);
  assert.throws(() => referencePosterior(task, [1, NaN]), /entry 1 is NaN/);
});

test.run();
