import { test } from 'uvu';
import { columnMeanStd, tensor } from '../../src/autograd/index.ts';
import { assertClose } from '../helpers/assert.ts';

test('columnMeanStd gives each column its mean and population or sample standard deviation', () => {
  const x = tensor([[1, 10, -2], [3, 10, 0], [5, 10, 8]]);
  const pop = columnMeanStd(x);
  assertClose(pop.mean, [3, 10, 2], 'mean', { rtol: 1e-15 });
  // population variances: (4+0+4)/3, 0, (16+4+36)/3
  assertClose(pop.std, [Math.sqrt(8 / 3), 0, Math.sqrt(56 / 3)], 'population std', { rtol: 1e-15 });
  assertClose(columnMeanStd(x, 1).std, [2, 0, Math.sqrt(28)], 'sample std', { rtol: 1e-15 });
});

test('columnMeanStd stays accurate for a large offset (two passes, not E[x²] - E[x]²)', () => {
  const x = tensor([[1e9 + 1], [1e9 + 2], [1e9 + 3]]);
  assertClose(columnMeanStd(x).std, [Math.sqrt(2 / 3)], 'std', { rtol: 1e-9 });
});

test.run();
