import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Rng } from '../../src/rng/rng.ts';
import { pinwheel, twoSpirals } from '../../src/data/toys.ts';
import { assertClose } from '../helpers/assert.ts';

test('pinwheel samples spread over five arms at radius about 2', () => {
  const n = 10000;
  const x = pinwheel.sample(n, new Rng(6)).data;
  let r = 0;
  for (let i = 0; i < n; i++) r += Math.hypot(x[2 * i]!, x[2 * i + 1]!);
  // |point| = 2·|f| with f ≈ (1 ± 0.3, ±0.1): mean radius a little above 2.
  assertClose(r / n, 2.03, 'mean radius', { atol: 0.05 });
  // Five arms: the angles fill all five sectors of width 2π/5 (each gets a fair share).
  const sectors = new Array(5).fill(0);
  for (let i = 0; i < n; i++) {
    const a = Math.atan2(x[2 * i + 1]!, x[2 * i]!) + Math.PI;
    sectors[Math.min(4, Math.floor((a / (2 * Math.PI)) * 5))]++;
  }
  for (const c of sectors) assert.ok(c > n / 10, `sector counts ${sectors}`);
});

test('two-spirals samples are point-symmetric about the origin and stay within [-4, 4]²', () => {
  const n = 10000;
  const x = twoSpirals.sample(n, new Rng(6)).data;
  let mx = 0, my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[2 * i]! / n;
    my += x[2 * i + 1]! / n;
    assert.ok(Math.abs(x[2 * i]!) < 4 && Math.abs(x[2 * i + 1]!) < 4, `point ${i}`);
  }
  // Each coordinate has a spread of about 2, so the mean of 10,000 is within 4·2/100 of 0.
  assertClose(mx, 0, 'mean x', { atol: 0.08 });
  assertClose(my, 0, 'mean y', { atol: 0.08 });
  assert.is(twoSpirals.logDensity, undefined);
});

test.run();
