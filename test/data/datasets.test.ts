import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { datasets, getDataset } from '../../src/data/datasets.ts';
import { Rng } from '../../src/rng/rng.ts';
import { Tensor } from '../../src/autograd/tensor.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';

const NAMES = ['post-mixture', 'eight-gaussians', 'two-moons', 'circles', 'checkerboard', 'pinwheel', 'two-spirals', 'mixture-8d', 'mixture-16d'];

test('the registry holds the nine data sets under their own names, seven 2-D toys and two higher-dimensional mixtures', () => {
  assert.equal(Object.keys(datasets), NAMES);
  for (const name of NAMES) {
    const t = getDataset(name);
    assert.is(t.name, name);
    assert.is(t.dim, name === 'mixture-8d' ? 8 : name === 'mixture-16d' ? 16 : 2);
    assert.ok(t.description.length > 40, `${name} has a description`);
  }
});

test('the higher-dimensional mixtures sample their dimension and have a normalised density at a hand-checked point', () => {
  for (const [name, d] of [['mixture-8d', 8], ['mixture-16d', 16]] as const) {
    const t = getDataset(name);
    assert.equal(t.sample(5, new Rng(1)).shape, [5, d]);
    // At x = 0 every component is at squared distance d·1.5², so log p(0) = -d/2·log 2π - d·1.125.
    const lp = t.logDensity!(Tensor.zeros(1, d))[0]!;
    assertClose(lp, -0.5 * d * Math.log(2 * Math.PI) - d * 1.125, `${name} log p(0)`, { rtol: 1e-12 });
  }
});

test('getDataset names every valid data set when the name is unknown', () => {
  assertThrows(() => getDataset('moons'), ['unknown data set "moons"', ...NAMES], RangeError);
  assertThrows(() => getDataset('toString'), ['unknown data set "toString"'], RangeError);
});

for (const name of NAMES) {
  test(`${name}: the same seed gives the same samples, another seed other samples`, () => {
    const t = getDataset(name);
    const a = t.sample(200, new Rng(123)), b = t.sample(200, new Rng(123)), c = t.sample(200, new Rng(124));
    assert.equal(Array.from(a.data), Array.from(b.data));
    assert.not.equal(Array.from(a.data), Array.from(c.data));
  });

  test(`${name}: samples are n×dim, finite, and n = 0 gives an empty tensor`, () => {
    const t = getDataset(name);
    const x = t.sample(500, new Rng(1));
    assert.equal(x.shape, [500, t.dim]);
    assert.ok(x.data.every(Number.isFinite));
    assert.equal(t.sample(0, new Rng(1)).shape, [0, t.dim]);
    assertThrows(() => t.sample(-1, new Rng(1)), ['non-negative integer'], RangeError);
    assertThrows(() => t.sample(2.5, new Rng(1)), ['non-negative integer'], RangeError);
  });

  test(`${name}: drawing in two batches continues the same stream`, () => {
    const t = getDataset(name);
    const whole = t.sample(100, new Rng(8));
    const rng = new Rng(8);
    const first = t.sample(40, rng), second = t.sample(60, rng);
    assert.equal(Array.from(whole.data), [...first.data, ...second.data]);
  });

  const t = getDataset(name);
  if (t.logDensity !== undefined) {
    test(`${name}: the log-density is finite at every sample`, () => {
      const lp = t.logDensity!(t.sample(1000, new Rng(2)));
      assert.is(lp.length, 1000);
      assert.ok(lp.every(Number.isFinite));
    });
  }
}

test.run();
