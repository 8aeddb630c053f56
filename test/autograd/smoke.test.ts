import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mul, sum, tensor } from '../../src/index.ts';

test('x·x has gradient 2x', () => {
  const x = tensor([[1, 2]], { requiresGrad: true });
  sum(mul(x, x)).backward();
  assert.equal(Array.from(x.grad!), [2, 4]);
});

test.run();
