import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { VIRIDIS, viridis } from '../../src/plot/colormap.ts';

test('viridis hits its samples and interpolates between them', () => {
  assert.is(viridis(0), '#440154');
  assert.is(viridis(0.5), '#21918c');
  assert.is(viridis(1), '#fde725');
  for (let k = 0; k < VIRIDIS.length; k++) assert.is(viridis(k / 10), VIRIDIS[k]);
  // Halfway between #440154 and #482475: (0x46, 0x13, 0x65) after rounding.
  assert.is(viridis(0.05), '#461365');
});

test('viridis clamps out-of-range input and treats NaN as 0', () => {
  assert.is(viridis(-3), '#440154');
  assert.is(viridis(7), '#fde725');
  assert.is(viridis(NaN), '#440154');
});

test.run();
