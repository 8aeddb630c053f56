import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor, tensor } from '../../src/autograd/tensor.ts';
import { checkerboard } from '../../src/data/checkerboard.ts';
import { Rng } from '../../src/rng/rng.ts';
import { entropyEstimate } from '../../src/data/target.ts';
import { assertClose } from '../helpers/assert.ts';

const LOG_8 = Math.log(8);

test('the checkerboard log-density is log(1/8) on dark squares and -Infinity elsewhere', () => {
  const lp = checkerboard.logDensity!(tensor([
    [0.5, 0.5], // square (0, 0): even
    [0.5, -0.5], // (0, -1): odd
    [-1.5, -1.5], // (-2, -2): even
    [-0.5, 1.5], // (-1, 1): even
    [1.5, 1.5], // (1, 1): even
    [2.5, 0.5], // off the board
    [2, 0.5], // right edge: outside (half-open squares)
    [-2, -2], // bottom-left corner: inside
    [NaN, 0],
  ]));
  assert.equal(Array.from(lp), [-LOG_8, -Infinity, -LOG_8, -LOG_8, -LOG_8, -Infinity, -Infinity, -LOG_8, -Infinity]);
});

test('the checkerboard density integrates to 1', () => {
  // Midpoints of a grid aligned with the squares never sit on an edge, so the sum is exact.
  const m = 60, half = 3, h = (2 * half) / m;
  const pts = new Float64Array(2 * m * m);
  for (let j = 0; j < m; j++) for (let i = 0; i < m; i++) {
    pts[2 * (j * m + i)] = -half + (i + 0.5) * h;
    pts[2 * (j * m + i) + 1] = -half + (j + 0.5) * h;
  }
  let s = 0;
  for (const v of checkerboard.logDensity!(Tensor.from(m * m, 2, pts))) s += Math.exp(v);
  assertClose(s * h * h, 1, 'integral', { rtol: 1e-12 });
});

test('every checkerboard sample is on a dark square, and the squares are equally filled', () => {
  const n = 16000;
  const x = checkerboard.sample(n, new Rng(4));
  const lp = checkerboard.logDensity!(x);
  for (let i = 0; i < n; i++) assert.is(lp[i], -LOG_8, `sample ${i} at (${x.data[2 * i]}, ${x.data[2 * i + 1]})`);
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const key = `${Math.floor(x.data[2 * i]!)},${Math.floor(x.data[2 * i + 1]!)}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  assert.is(counts.size, 8);
  const sd = Math.sqrt(n * (1 / 8) * (7 / 8));
  for (const [key, c] of counts) assert.ok(Math.abs(c - n / 8) < 4 * sd, `square ${key}: ${c} samples, expected ${n / 8} ± ${sd}`);
});

test('the checkerboard entropy is log 8, and Monte Carlo gives exactly that', () => {
  assert.is(checkerboard.entropy, LOG_8);
  const h = entropyEstimate(checkerboard, 1000, new Rng(1));
  assertClose(h.value, LOG_8, 'H (MC)', { rtol: 1e-15 });
  assert.is(h.stdError, 0);
});

test.run();
