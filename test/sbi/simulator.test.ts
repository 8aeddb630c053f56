import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../src/autograd/tensor.ts';
import { BoxUniform } from '../../src/sbi/prior.ts';
import { chunkRng, chunkSizes, joinChunks, simulateChunk, simulateDataset, SimulatorError, type Simulator } from '../../src/sbi/simulator.ts';
import { getTask } from '../../src/sbi/tasks.ts';
import { assertThrows } from '../helpers/assert.ts';

/** x = θ₁, except NaN when θ₁ > 0.5 and +∞ when θ₂ > 0.9. */
const flaky: Simulator = {
  prior: new BoxUniform([0, 0], [1, 1]),
  thetaDim: 2,
  xDim: 1,
  parameterNames: ['a', 'b'],
  dataNames: ['x'],
  simulate(theta) {
    const out = new Float64Array(theta.rows);
    for (let i = 0; i < theta.rows; i++) out[i] = theta.data[2 * i]! > 0.5 ? NaN : theta.data[2 * i + 1]! > 0.9 ? Infinity : theta.data[2 * i]!;
    return Tensor.from(theta.rows, 1, out);
  },
};

test('the same seed gives the same simulations, bit for bit; another seed others', () => {
  const task = getTask('slcp');
  const a = simulateDataset(task, 2500, { seed: 11 }), b = simulateDataset(task, 2500, { seed: 11 }), c = simulateDataset(task, 2500, { seed: 12 });
  assert.equal(Array.from(a.x.data), Array.from(b.x.data));
  assert.equal(Array.from(a.theta.data), Array.from(b.theta.data));
  assert.not.equal(a.x.data[0], c.x.data[0]);
  assert.is(a.simulated, 2500);
});

test('chunks made separately, in any order (as workers would), join to the same data set', () => {
  const task = getTask('two-moons'), sizes = chunkSizes(2500, 1000);
  assert.equal(sizes, [1000, 1000, 500]);
  const whole = simulateDataset(task, 2500, { seed: 5, chunkSize: 1000 });
  const parts = [2, 0, 1].map((c) => ({ c, part: simulateChunk(task, c, sizes[c]!, { seed: 5 }) })).sort((p, q) => p.c - q.c).map((p) => p.part);
  const joined = joinChunks(parts, 2, 2);
  assert.equal(Array.from(joined.x.data), Array.from(whole.x.data));
  // chunkRng(seed, c) is the (c+1)-th fork of the seed's generator.
  assert.is(chunkRng(5, 2).uniform(), chunkRng(5, 2).uniform());
  assert.not.equal(chunkRng(5, 1).uniform(), chunkRng(5, 2).uniform());
});

test('simulations returning NaN or ±∞ are counted and dropped, never kept', () => {
  const data = simulateDataset(flaky, 4000, { seed: 3 });
  assert.is(data.simulated, 4000);
  assert.ok(data.dropped > 2000 && data.dropped < 2400, `dropped ${data.dropped}, expected about 4000·(1 − 0.5·0.9) = 2200`);
  assert.is(data.theta.rows + data.dropped, 4000);
  assert.is(data.x.rows, data.theta.rows);
  for (let i = 0; i < data.x.rows; i++) {
    assert.ok(Number.isFinite(data.x.data[i]!));
    assert.is(data.x.data[i], data.theta.data[2 * i]); // the kept pairs stay aligned
  }
});

test('a simulator returning the wrong shape or no tensor fails with what it returned', () => {
  const wrong: Simulator = { ...flaky, simulate: (theta) => Tensor.zeros(theta.rows, 3) };
  assertThrows(() => simulateDataset(wrong, 10, { seed: 0 }), ['returned 10×3, expected 10×1'], SimulatorError);
  const notTensor: Simulator = { ...flaky, simulate: () => [1, 2] as unknown as Tensor };
  assertThrows(() => simulateDataset(notTensor, 10, { seed: 0 }), ['must return a Tensor'], SimulatorError);
  assertThrows(() => simulateDataset(flaky, 0, { seed: 0 }), ['integer ≥ 1']);
});

test.run();
