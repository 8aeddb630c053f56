import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor, tensor } from '../../src/autograd/tensor.ts';
import { Rng, type RandomSource } from '../../src/rng/rng.ts';
import { allTasks, getTask, TASK_NAMES, UnknownTaskError } from '../../src/sbi/tasks.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';

/** A source returning fixed uniforms and normals in turn. */
function fixed(uniforms: number[], normals: number[]): RandomSource {
  let u = 0, n = 0;
  return { uniform: () => uniforms[u++ % uniforms.length]!, normal: () => normals[n++ % normals.length]! };
}

function columnStats(x: Tensor): { mean: number[]; cov: number[][] } {
  const d = x.cols, n = x.rows, mean = new Array(d).fill(0), cov = Array.from({ length: d }, () => new Array(d).fill(0));
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x.data[i * d + j]! / n;
  for (let i = 0; i < n; i++) for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) cov[a]![b] += ((x.data[i * d + a]! - mean[a]) * (x.data[i * d + b]! - mean[b])) / (n - 1);
  return { mean, cov };
}

test('tasks are found by our name, sbibm\'s spelling and any case; unknown names get a did-you-mean', () => {
  assert.equal(TASK_NAMES, ['two-moons', 'gaussian-linear', 'gaussian-linear-uniform', 'gaussian-mixture', 'slcp']);
  assert.is(getTask('two_moons').name, 'two-moons');
  assert.is(getTask('Gaussian_Linear_Uniform').name, 'gaussian-linear-uniform');
  assertThrows(() => getTask('two-moon'), ['unknown task "two-moon"', 'did you mean "two-moons"', 'slcp'], UnknownTaskError);
  for (const t of allTasks()) {
    assert.is(t.prior.dim, t.thetaDim);
    assert.is(t.parameterNames.length, t.thetaDim);
    assert.is(t.dataNames.length, t.xDim);
    assert.is(t.observationSeeds.length, 10);
  }
});

test('every simulator is deterministic given the seed, bit for bit, and has its shape', () => {
  for (const t of allTasks()) {
    const theta = t.prior.sample(50, new Rng(3));
    const a = t.simulate(theta, new Rng(4)), b = t.simulate(theta, new Rng(4));
    assert.equal(a.shape, [50, t.xDim], t.name);
    assert.equal(Array.from(a.data), Array.from(b.data), t.name);
    assertThrows(() => t.simulate(Tensor.zeros(2, t.thetaDim + 1), new Rng(0)), [`${t.thetaDim} columns`]);
  }
});

test('two-moons: with a = 0, r = 0.1 the data are (0.35 − |θ₁+θ₂|/√2, (θ₂−θ₁)/√2)', () => {
  const task = getTask('two-moons');
  const x = task.simulate(tensor([[0.3, -0.7], [0.5, 0.5]]), fixed([0.5], [0])); // a = −π/2 + π·0.5 = 0
  assertClose(x.toArray(), [[0.35 - 0.4 / Math.SQRT2, -1 / Math.SQRT2], [0.35 - 1 / Math.SQRT2, 0]], 'x', { rtol: 1e-14, atol: 1e-15 });
  // r's 0.01 is a standard deviation: normal() = 1 moves r to 0.11.
  const y = task.simulate(tensor([[0, 0]]), fixed([0.5], [1]));
  assertClose(y.toArray(), [[0.36, 0]], 'r = 0.11', { rtol: 1e-14, atol: 1e-15 });
});

test('two-moons likelihood integrates to one over x (the polar Jacobian 1/(π r) is in it)', () => {
  const task = getTask('two-moons'), theta = tensor([[0.2, 0.4]]);
  // The moon around (0.25 − |0.6|/√2, 0.2/√2), radius 0.1 ± 0.01: integrate on a fine grid around it.
  const cx = 0.25 - 0.6 / Math.SQRT2, cy = 0.2 / Math.SQRT2, half = 0.2, steps = 800, h = (2 * half) / steps;
  let s = 0;
  for (let a = 0; a < steps; a++) {
    for (let b = 0; b < steps; b++) {
      const x = [cx - half + (a + 0.5) * h, cy - half + (b + 0.5) * h];
      s += Math.exp(task.logLikelihood(theta, x)[0]!) * h * h;
    }
  }
  assertClose(s, 1, '∫ p(x | θ) dx', { rtol: 1e-4 });
});

test('gaussian-linear and gaussian-linear-uniform: 0.1 is the noise variance (covariance 0.1·I)', () => {
  for (const name of ['gaussian-linear', 'gaussian-linear-uniform']) {
    const task = getTask(name), theta = Tensor.zeros(20000, 10);
    const { mean, cov } = columnStats(task.simulate(theta, new Rng(5)));
    for (let j = 0; j < 10; j++) {
      assertClose(mean[j]!, 0, `${name} mean ${j}`, { atol: 0.015 });
      assertClose(cov[j]![j]!, 0.1, `${name} variance ${j}`, { rtol: 0.04 });
    }
    const x = new Array(10).fill(0.3), lt = tensor([new Array(10).fill(0.1)]);
    assertClose(task.logLikelihood(lt, x)[0]!, -5 * Math.log(2 * Math.PI * 0.1) - (10 * 0.04) / 0.2, `${name} log-likelihood`);
  }
  const prior = getTask('gaussian-linear').prior.sample(20000, new Rng(6));
  assertClose(columnStats(prior).cov[3]![3]!, 0.1, 'prior variance', { rtol: 0.04 });
});

test('gaussian-mixture: the components are N(θ, I) and N(θ, 0.01·I), picked with probability ½', () => {
  const task = getTask('gaussian-mixture');
  const x = task.simulate(tensor([[1, 2], [1, 2]]), fixed([0.25, 0.75], [1]));
  assertClose(x.toArray(), [[2, 3], [1.1, 2.1]], 'sd 1 then sd 0.1', { rtol: 1e-14 });
  // The likelihood integrates to one over x.
  let s = 0;
  const h = 0.005;
  for (let a = -8; a < 8; a += h) for (let b = -8; b < 8; b += h) s += Math.exp(task.logLikelihood(tensor([[0.3, -0.2]]), [a + h / 2, b + h / 2])[0]!) * h * h;
  assertClose(s, 1, '∫ p(x | θ) dx', { rtol: 1e-6 });
});

test('slcp: four draws of N(m, Σ) with Σ from θ (s = θ², ρ = tanh θ₅) plus 1e-6 on the diagonal', () => {
  const task = getTask('slcp');
  const n = 20000, theta = new Float64Array(n * 5);
  for (let i = 0; i < n; i++) theta.set([0.5, -1, 1.1, -0.9, 0.7], i * 5);
  const x = task.simulate(Tensor.from(n, 5, theta), new Rng(7));
  const s1 = 1.1 ** 2, s2 = 0.9 ** 2, rho = Math.tanh(0.7);
  const expected = [[s1 * s1, rho * s1 * s2], [rho * s1 * s2, s2 * s2]];
  const stats = columnStats(x);
  for (let k = 0; k < 4; k++) {
    assertClose([stats.mean[2 * k]!, stats.mean[2 * k + 1]!], [0.5, -1], `mean of point ${k}`, { atol: 0.03 });
    const c = [[stats.cov[2 * k]![2 * k]!, stats.cov[2 * k]![2 * k + 1]!], [stats.cov[2 * k + 1]![2 * k]!, stats.cov[2 * k + 1]![2 * k + 1]!]];
    assertClose(c, expected, `covariance of point ${k}`, { rtol: 0.05, atol: 0.01 });
  }
  // The points are independent of each other.
  assertClose(stats.cov[0]![2]!, 0, 'point 1 vs point 2', { atol: 0.03 });
  // θ₃ = θ₄ = 0: only the jitter is left, standard deviation 1e-3.
  const z = task.simulate(Tensor.from(5000, 5, new Float64Array(25000)), new Rng(8));
  assertClose(columnStats(z).cov[0]![0]!, 1e-6, 'jitter variance', { rtol: 0.06 });
  // The log-likelihood is Σ_k log N(x_k; m, Σ) with Σ's exact inverse.
  const xs = [0.1, 0.2, -0.3, 0.4, 0.5, -0.6, 0.7, 0.8], th = [0.2, -0.1, 0.8, 1.2, -0.4];
  const a = th[2]! ** 4 + 1e-6, d = th[3]! ** 4 + 1e-6, b = Math.tanh(th[4]!) * th[2]! ** 2 * th[3]! ** 2, det = a * d - b * b;
  let ll = 0;
  for (let k = 0; k < 4; k++) {
    const r1 = xs[2 * k]! - th[0]!, r2 = xs[2 * k + 1]! - th[1]!;
    ll += -Math.log(2 * Math.PI) - 0.5 * Math.log(det) - 0.5 * ((d * r1 * r1 - 2 * b * r1 * r2 + a * r2 * r2) / det);
  }
  assertClose(task.logLikelihood(tensor([th]), xs)[0]!, ll, 'slcp log-likelihood', { rtol: 1e-12 });
});

test.run();
