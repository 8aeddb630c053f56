import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../src/autograd/tensor.ts';
import { Rng } from '../../src/rng/rng.ts';
import { trainValSplit } from '../../src/data/split.ts';
import { assertThrows } from '../helpers/assert.ts';

// Row i is (i, -i), so every row can be recognised after shuffling.
function numbered(n: number): Tensor {
  const d = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    d[2 * i] = i;
    d[2 * i + 1] = -i;
  }
  return Tensor.from(n, 2, d);
}

test('trainValSplit puts round(fraction·n) shuffled rows in val and the rest in train, none lost', () => {
  const x = numbered(1000);
  const before = Array.from(x.data);
  const { train, val } = trainValSplit(x, 0.2, new Rng(1));
  assert.equal(train.shape, [800, 2]);
  assert.equal(val.shape, [200, 2]);
  const seen = [...train.toArray(), ...val.toArray()];
  for (const [a, b] of seen) assert.is(b, -a!);
  assert.equal(seen.map(([a]) => a).sort((p, q) => p! - q!), Array.from({ length: 1000 }, (_, i) => i));
  // Shuffled: the training rows are not simply the first 800.
  assert.not.equal(train.toArray().map(([a]) => a), Array.from({ length: 800 }, (_, i) => i));
  assert.equal(Array.from(x.data), before, 'the input is untouched');
});

test('trainValSplit is deterministic for a seed', () => {
  const a = trainValSplit(numbered(50), 0.3, new Rng(9)), b = trainValSplit(numbered(50), 0.3, new Rng(9));
  assert.equal(a.train.toArray(), b.train.toArray());
  assert.equal(a.val.toArray(), b.val.toArray());
});

test('trainValSplit refuses a fraction outside (0, 1) and splits that leave a side empty', () => {
  for (const f of [0, 1, -0.1, 1.5, NaN]) assertThrows(() => trainValSplit(numbered(10), f, new Rng(0)), ['strictly between 0 and 1'], RangeError);
  assertThrows(() => trainValSplit(numbered(3), 0.1, new Rng(0)), ['0 validation and 3 training rows'], RangeError);
  assertThrows(() => trainValSplit(numbered(1), 0.5, new Rng(0)), ['both need at least one'], RangeError);
});

test.run();
