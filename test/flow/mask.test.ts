/**
 * Coupling masks: which features condition (A) and which are transformed (B).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { joinParts, makeSplit, splitParts } from '../../src/flow/mask.ts';
import { tensor } from '../../src/autograd/tensor.ts';
import { assertThrows } from '../helpers/assert.ts';
import { check, fc } from '../helpers/fc.ts';
import { booleanMask } from './helpers/arb.ts';

test("'half' puts the first ⌊d/2⌋ features in A", () => {
  const s = makeSplit(5, 'half');
  assert.equal(Array.from(s.a), [0, 1]);
  assert.equal(Array.from(s.b), [2, 3, 4]);
  assert.ok(s.contiguous);
  assert.equal(Array.from(makeSplit(2).a), [0], "'half' is the default");
});

test("'alternating' puts the even positions in A", () => {
  const s = makeSplit(5, 'alternating');
  assert.equal(Array.from(s.a), [0, 2, 4]);
  assert.equal(Array.from(s.b), [1, 3]);
  assert.not.ok(s.contiguous);
});

test('a boolean mask marks A with true; invert swaps the parts', () => {
  const s = makeSplit(4, [false, true, true, false]);
  assert.equal(Array.from(s.a), [1, 2]);
  assert.equal(Array.from(s.b), [0, 3]);
  assert.not.ok(s.contiguous);
  const t = makeSplit(4, [false, true, true, false], true);
  assert.equal(Array.from(t.a), [0, 3]);
  assert.equal(Array.from(t.b), [1, 2]);
  const h = makeSplit(4, 'half', true);
  assert.equal(Array.from(h.a), [2, 3]);
  assert.not.ok(h.contiguous, 'A = the last features is not a prefix');
  assert.ok(makeSplit(3, [true, true, false]).contiguous);
});

test('every mask splits 0..d-1 into two sorted, disjoint, non-empty parts', () => {
  const arb = fc.integer({ min: 2, max: 9 }).chain((d) => fc.record({ d: fc.constant(d), mask: booleanMask(d), invert: fc.boolean() }));
  check(
    fc.property(arb, ({ d, mask, invert }) => {
      const s = makeSplit(d, mask, invert);
      assert.ok(s.a.length > 0 && s.b.length > 0);
      assert.equal([...s.a, ...s.b].sort((x, y) => x - y), Array.from({ length: d }, (_, j) => j));
      for (const part of [s.a, s.b]) for (let i = 1; i < part.length; i++) assert.ok(part[i - 1]! < part[i]!);
      for (const j of s.a) assert.is(mask[j], !invert);
      assert.is(s.contiguous, Array.from(s.a).every((j, i) => j === i));
    }),
  );
});

test('d < 2, a mask of the wrong length, and a mask that empties a part are refused', () => {
  assertThrows(() => makeSplit(1), ['dim must be an integer >= 2', 'got 1'], RangeError);
  assertThrows(() => makeSplit(2.5), ['got 2.5'], RangeError);
  assertThrows(() => makeSplit(3, [true, false]), ['mask has 2 entries for dim 3'], RangeError);
  assertThrows(() => makeSplit(3, [false, false, false]), ['leaves no feature to condition on (dim 3)'], RangeError);
  assertThrows(() => makeSplit(3, [true, true, true]), ['leaves no feature to transform (dim 3)'], RangeError);
  assertThrows(() => makeSplit(3, [true, true, true], true), ['no feature to condition on'], RangeError);
  assertThrows(() => makeSplit(3, 'checker' as never), ["mask must be 'half', 'alternating' or an array of booleans, got checker"], RangeError);
});

test('splitParts and joinParts take a batch apart and put it back, for contiguous and scattered masks', () => {
  const x = tensor([[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]);
  for (const mask of ['half', 'alternating', [false, true, true, false, true]] as const) {
    const split = makeSplit(5, mask);
    const [xa, xb] = splitParts(x, split);
    assert.equal(xa.toArray()[0], Array.from(split.a), `${String(mask)}: x_A`);
    assert.equal(xb.toArray()[0], Array.from(split.b), `${String(mask)}: x_B`);
    assert.equal(joinParts(xa, xb, split).toArray(), x.toArray(), `${String(mask)}: rejoined`);
  }
});

test.run();
