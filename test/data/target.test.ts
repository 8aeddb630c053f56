import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { postMixture } from '../../src/data/mixture.ts';
import { Rng } from '../../src/rng/rng.ts';
import { entropyEstimate, type Target } from '../../src/data/target.ts';
import { pinwheel } from '../../src/data/toys.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';

test('entropyEstimate in batches equals the one-shot estimate on the same stream', () => {
  // 25,000 rows are drawn as 10,000 + 10,000 + 5,000: the same rows as one call of sample(25000).
  const n = 25_000;
  const lp = postMixture.logDensity!(postMixture.sample(n, new Rng(3)));
  let mean = 0;
  for (const v of lp) mean += v / n;
  let ss = 0;
  for (const v of lp) ss += (v - mean) ** 2;
  const h = entropyEstimate(postMixture, n, new Rng(3));
  assertClose(h.value, -mean, 'H', { rtol: 1e-12 });
  assertClose(h.stdError, Math.sqrt(ss / (n - 1) / n), 'standard error', { rtol: 1e-9 });
  assert.is(h.n, n);
});

test('entropyEstimate refuses a target without a density, a bad n, and a density that disagrees with its sampler', () => {
  assertThrows(() => entropyEstimate(pinwheel, 100, new Rng(0)), ['"pinwheel" has no logDensity'], TypeError);
  assertThrows(() => entropyEstimate(postMixture, 1, new Rng(0)), ['n must be an integer >= 2'], RangeError);
  const broken: Target = { ...postMixture, logDensity: (x) => new Float64Array(x.rows).fill(-Infinity) };
  assertThrows(() => entropyEstimate(broken, 10, new Rng(0)), ['disagree'], RangeError);
});

test.run();
