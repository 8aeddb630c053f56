/**
 * ActNorm (Kingma & Dhariwal, Glow, 2018): y = (x + bias)·exp(logScale), initialised from the first
 * batch seen in training mode, never again, and never after a state dict has been loaded.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ShapeError, sum, tensor, Tensor } from '../../src/autograd/index.ts';
import { Rng } from '../../src/rng/rng.ts';
import { ActNorm } from '../../src/flow/actnorm.ts';
import { checkBijection } from '../../src/flow/check.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';
import { randomRows } from './helpers/jacobian.ts';

/** A batch whose columns have clearly non-trivial means and spreads. */
function batch(rng: Rng, n: number): Tensor {
  const rows = randomRows(rng, n, 3).map(([a, b, c]) => [5 + 3 * a!, -2 + 0.1 * b!, 40 * c!]);
  return tensor(rows);
}

function columnMoments(t: Tensor): { mean: number[]; std: number[] } {
  const mean: number[] = [], std: number[] = [];
  for (let j = 0; j < t.cols; j++) {
    let m = 0;
    for (let i = 0; i < t.rows; i++) m += t.data[i * t.cols + j]!;
    m /= t.rows;
    let v = 0;
    for (let i = 0; i < t.rows; i++) v += (t.data[i * t.cols + j]! - m) ** 2;
    mean.push(m);
    std.push(Math.sqrt(v / t.rows));
  }
  return { mean, std };
}

test('the first training-mode forward initialises: output mean 0 and std 1 per feature', () => {
  const norm = new ActNorm(3);
  assert.not.ok(norm.initialised);
  const x = batch(new Rng(1), 64);
  const [y, ld] = norm.forward(x);
  assert.ok(norm.initialised);
  assert.is(norm.initialisedFlag.data[0], 1);
  const { mean, std } = columnMoments(y);
  assertClose(mean, [0, 0, 0], 'mean', { atol: 1e-12 });
  assertClose(std, [1, 1, 1], 'std', { rtol: 1e-4 });
  // exactly std / (std + eps): eps = 1e-6 is added to the input's std
  const inputStd = columnMoments(x).std;
  assertClose(std, inputStd.map((s) => s / (s + 1e-6)), 'std with eps', { rtol: 1e-12 });
  // log|det| = Σ logScale for every row
  const s = Array.from(norm.logScale.data).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(s) > 1, 'the scales are far from 1');
  assertClose(Array.from(ld.data), new Array(64).fill(s), 'log-det', { rtol: 1e-14 });
});

test('a second batch does not re-initialise', () => {
  const rng = new Rng(2);
  const norm = new ActNorm(3);
  norm.forward(batch(rng, 32));
  const bias = Array.from(norm.bias.data), logScale = Array.from(norm.logScale.data);
  const other = tensor(randomRows(rng, 32, 3, 10));
  norm.forward(other);
  assert.equal(Array.from(norm.bias.data), bias);
  assert.equal(Array.from(norm.logScale.data), logScale);
});

test('eval mode does not initialise: the fresh layer is the identity', () => {
  const norm = new ActNorm(3).eval();
  const x = batch(new Rng(3), 16);
  const [y, ld] = norm.forward(x);
  assert.not.ok(norm.initialised);
  assert.equal(y.toArray(), x.toArray());
  assert.ok(ld.data.every((v) => v === 0));
  norm.train();
  norm.forward(x);
  assert.ok(norm.initialised, 'back in training mode, it initialises');
});

test('after loading an initialised state, a fresh ActNorm is initialised and a forward does not re-initialise', () => {
  const trained = new ActNorm(3);
  trained.forward(batch(new Rng(4), 50));
  // training moved the parameters away from the data-dependent values
  trained.bias.data[0]! += 0.7;
  trained.logScale.data[2]! -= 0.3;
  const fresh = new ActNorm(3);
  assert.not.ok(fresh.initialised);
  fresh.loadStateDict(trained.stateDict());
  assert.ok(fresh.initialised, 'the flag travels in the state dict');
  const other = tensor(randomRows(new Rng(5), 50, 3, 4));
  const [y] = fresh.forward(other);
  assert.equal(Array.from(fresh.bias.data), Array.from(trained.bias.data), 'bias kept');
  assert.equal(Array.from(fresh.logScale.data), Array.from(trained.logScale.data), 'logScale kept');
  assert.equal(y.toArray(), trained.forward(other)[0].toArray());
});

test('inverse undoes forward, the log-dets cancel, and checkBijection agrees', () => {
  const norm = new ActNorm(3);
  const x = batch(new Rng(6), 20);
  const [y, ld] = norm.forward(x);
  const [back, ldInv] = norm.inverse(y);
  assertClose(back.toArray(), x.toArray(), 'round trip', { rtol: 1e-12, atol: 1e-12 });
  assertClose(Array.from(ldInv.data), Array.from(ld.data).map((v) => -v), 'log-dets cancel', { rtol: 1e-14 });
  assert.ok(checkBijection(new ActNorm(4), { rng: new Rng(7) }).ok);
});

test('the initialisation records no graph; bias and logScale then receive gradients', () => {
  const norm = new ActNorm(2);
  const x = tensor([[1, 2], [3, 5], [0, -1]]);
  const [y, ld] = norm.forward(x);
  sum(y).backward();
  assert.ok(norm.bias.grad !== null && norm.logScale.grad !== null);
  // dΣy/dbias_j = Σ_i exp(logScale_j) = n·exp(logScale_j)
  assertClose(Array.from(norm.bias.grad!), Array.from(norm.logScale.data).map((s) => 3 * Math.exp(s)), 'dbias', { rtol: 1e-14 });
  norm.zeroGrad();
  sum(ld).backward();
  assertClose(Array.from(norm.logScale.grad!), [3, 3], 'd Σ logDet / d logScale = n', { rtol: 1e-15 });
});

test('initialisation needs two rows; dims and widths are checked', () => {
  assertThrows(() => new ActNorm(2).forward(tensor([[1, 2]])), ['ActNorm: data-dependent initialisation needs at least 2 rows, got 1'], RangeError);
  assertThrows(() => new ActNorm(0), ['ActNorm: dim must be a positive integer, got 0'], RangeError);
  assertThrows(() => new ActNorm(2).forward(tensor([[1, 2, 3], [4, 5, 6]])), ['ActNorm.forward', '2×3'], ShapeError);
  assert.is(new ActNorm(2).describe(), 'ActNorm(dim=2, not initialised)');
});

test.run();
