/**
 * Standardize: z = (x - mean) / std inside the flow, with log|det| = -Σ log std, so that log-densities
 * stay in the data's own units.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ShapeError, Tensor, tensor } from '../../src/autograd/index.ts';
import { Rng } from '../../src/rng/rng.ts';
import { checkBijection } from '../../src/flow/check.ts';
import { Standardize } from '../../src/flow/standardize.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';

test('forward standardises each column and its log-det is -Σ log std', () => {
  const st = new Standardize([1, -2], [2, 0.25]);
  const [z, ld] = st.forward(tensor([[3, -2], [1, -1.75], [-1, -2.5]]));
  assertClose(z.toArray(), [[1, 0], [0, 1], [-1, -2]], 'z', { rtol: 1e-15 });
  // -(log 2 + log 0.25) = log 2, the same for every row
  assertClose(ld.toArray(), [[Math.LN2], [Math.LN2], [Math.LN2]], 'log-det', { rtol: 1e-15 });
  const [, ld2] = new Standardize([0, 0, 0], [2, 3, 4]).forward(tensor([[1, 1, 1], [0, 0, 0]]));
  assertClose(ld2.toArray(), [[-Math.log(24)], [-Math.log(24)]], 'log-det', { rtol: 1e-15 });
});

test('inverse undoes forward and its log-det is +Σ log std', () => {
  const st = new Standardize([10, 0, -3], [0.1, 7, 2]);
  const x = tensor([[10.05, 3, 1], [9, -14, -3]]);
  const [z] = st.forward(x);
  const [back, ld] = st.inverse(z);
  assertClose(back.toArray(), x.toArray(), 'round trip', { rtol: 1e-14, atol: 1e-14 });
  assertClose(ld.toArray(), [[Math.log(1.4)], [Math.log(1.4)]], 'inverse log-det', { rtol: 1e-14 });
  assert.ok(checkBijection(st, { rng: new Rng(0) }).ok);
});

test('fit uses the column means and population standard deviations', () => {
  const data = tensor([[1, 10], [3, 10], [5, 40]]);
  const st = Standardize.fit(data);
  assertClose(Array.from(st.mean.data), [3, 20], 'mean', { rtol: 1e-15 });
  // column 0: deviations -2, 0, 2 -> variance 8/3; column 1: -10, -10, 20 -> 600/3
  assertClose(Array.from(st.std.data), [Math.sqrt(8 / 3), Math.sqrt(200)], 'std (n in the denominator)', { rtol: 1e-15 });
  const [z] = st.forward(data);
  for (let j = 0; j < 2; j++) {
    const col = [0, 1, 2].map((i) => z.data[i * 2 + j]!);
    assertClose(col.reduce((s, v) => s + v, 0) / 3, 0, `column ${j} mean`, { atol: 1e-15 });
    assertClose(col.reduce((s, v) => s + v * v, 0) / 3, 1, `column ${j} variance`, { rtol: 1e-14 });
  }
});

test('mean and std are saved buffers, not trainable parameters', () => {
  const st = new Standardize([1, 2], [3, 4]);
  assert.equal(st.parameters(), []);
  assert.equal(Object.keys(st.stateDict()), ['mean', 'std']);
  const other = new Standardize([0, 0], [1, 1]);
  other.loadStateDict(st.stateDict());
  assert.equal(other.forward(tensor([[7, 6]]))[0].toArray(), st.forward(tensor([[7, 6]]))[0].toArray());
});

test('std 0, negative or non-finite std, NaN mean, mismatched lengths and constant columns are refused', () => {
  assertThrows(() => new Standardize([0, 0], [1, 0]), ['std of feature 1 must be positive and finite, got 0', 'a constant column cannot be standardised'], RangeError);
  assertThrows(() => new Standardize([0], [-1]), ['std of feature 0 must be positive and finite, got -1'], RangeError);
  assertThrows(() => new Standardize([0], [Infinity]), ['got Infinity'], RangeError);
  assertThrows(() => new Standardize([NaN], [1]), ['mean of feature 0 is NaN'], RangeError);
  assertThrows(() => new Standardize([0, 0], [1]), ['mean and std need the same positive length, got 2 and 1'], RangeError);
  assertThrows(() => Standardize.fit(tensor([[1, 5], [2, 5], [3, 5]])), ['column 1 is constant (std 0)'], RangeError);
  assertThrows(() => Standardize.fit(tensor([[1, 5]])), ['needs at least 2 rows, got 1'], RangeError);
  assertThrows(() => new Standardize([0, 0], [1, 1]).forward(Tensor.zeros(2, 3)), ['Standardize.forward', '2×3'], ShapeError);
});

test.run();
