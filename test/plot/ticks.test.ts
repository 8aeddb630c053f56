import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatTick, niceTicks } from '../../src/plot/ticks.ts';
import { assertThrows } from '../helpers/assert.ts';
import { check, fc } from '../helpers/fc.ts';

test('niceTicks picks 1-2-5 steps and places ticks inside the range', () => {
  const t = niceTicks(-4.3, 4.1);
  assert.is(t.step, 2);
  assert.equal(t.values, [-4, -2, 0, 2, 4]);
  assert.equal(t.labels, ['-4', '-2', '0', '2', '4']);
  assert.is(t.min, -4.3);
  assert.is(t.max, 4.1);
  assert.equal(niceTicks(0, 1).labels, ['0.0', '0.2', '0.4', '0.6', '0.8', '1.0']);
  assert.is(niceTicks(0.13, 0.46).step, 0.05);
  assert.equal(niceTicks(0, 1000).values, [0, 200, 400, 600, 800, 1000]);
});

test('niceTicks with extend widens the range to whole steps', () => {
  const t = niceTicks(-4.3, 4.1, 5, true);
  assert.is(t.min, -6);
  assert.is(t.max, 6);
  assert.equal(t.values, [-6, -4, -2, 0, 2, 4, 6]);
  assert.equal(niceTicks(1, 1000, 6, true).values, [0, 200, 400, 600, 800, 1000]);
});

test('niceTicks widens an empty range and refuses non-finite or reversed ones', () => {
  assert.equal(niceTicks(0, 0).values, [-1, -0.5, 0, 0.5, 1]);
  assert.equal(niceTicks(5, 5).values, [4.6, 4.8, 5, 5.2, 5.4]);
  assertThrows(() => niceTicks(NaN, 1), ['must be finite']);
  assertThrows(() => niceTicks(0, Infinity), ['must be finite']);
  assertThrows(() => niceTicks(2, 1), ['above max']);
});

test('tick values carry no floating-point noise', () => {
  const t = niceTicks(0, 0.9, 9);
  assert.equal(t.values, [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
});

test('formatTick uses the step to choose decimals and switches to exponents at the extremes', () => {
  assert.is(formatTick(0.30000000000000004, 0.1), '0.3');
  assert.is(formatTick(0, 0.1), '0.0');
  assert.is(formatTick(-0, 1), '0');
  assert.is(formatTick(-1e-17, 0.1), '0.0');
  assert.is(formatTick(0.15, 0.05), '0.15');
  assert.is(formatTick(2e-6, 1e-6), '2e-6');
  assert.is(formatTick(1.5e-5, 5e-6), '1.5e-5');
  assert.is(formatTick(1.5e6, 5e5), '1.5e6');
  assert.is(formatTick(-2e7, 1e7), '-2e7');
});

test('for any finite range, ticks are evenly spaced 1-2-5 multiples inside it with distinct labels', () => {
  check(
    fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.double({ min: 1e-3, max: 1e6, noNaN: true }), (lo, width) => {
      const hi = lo + width;
      const t = niceTicks(lo, hi, 5);
      const mantissa = t.step / 10 ** Math.floor(Math.log10(t.step) + 1e-12);
      assert.ok([1, 2, 5].some((m) => Math.abs(mantissa - m) < 1e-9), `step ${t.step}`);
      assert.ok(t.values.length >= 2 && t.values.length <= 12, `${t.values.length} ticks for [${lo}, ${hi}]`);
      for (const v of t.values) assert.ok(v >= lo - t.step * 1e-6 && v <= hi + t.step * 1e-6, `tick ${v} outside [${lo}, ${hi}]`);
      // Spacing equals the step up to the rounding of values as large as |lo|.
      const slack = t.step * 1e-9 + 4 * Number.EPSILON * Math.max(Math.abs(lo), Math.abs(hi));
      for (let i = 1; i < t.values.length; i++) assert.ok(Math.abs(t.values[i]! - t.values[i - 1]! - t.step) <= slack, `spacing at ${i}`);
      assert.is(new Set(t.labels).size, t.labels.length, `labels ${t.labels.join(' ')}`);
    }),
  );
});

test.run();
