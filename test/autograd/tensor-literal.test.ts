/** tensor() takes rows of numbers only: strings, null, booleans, holes and deeper nesting are refused. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ShapeError, tensor } from '../../src/autograd/tensor.ts';
import { assertThrows } from '../helpers/assert.ts';

test('tensor() refuses non-numbers, null and deeper nesting, naming row and column', () => {
  const t = (v: unknown) => () => tensor(v as number[][]);
  assertThrows(t([[1, 'a']]), ['row 0, column 1 is "a", not a number'], TypeError);
  assertThrows(t([[1, 2], [null, 3]]), ['row 1, column 0 is null'], TypeError);
  assertThrows(t([[true]]), ['row 0, column 0 is boolean true'], TypeError);
  assertThrows(t([[[1]]]), ['row 0, column 0 is an array of 1', 'not deeper nesting'], TypeError);
  // eslint-disable-next-line no-sparse-arrays
  assertThrows(t([[1, , 3]]), ['row 0, column 1 is undefined'], TypeError);
  assertThrows(t([1, 2]), ['row 0 is number 1, not an array of numbers', '[[1, 2]]'], TypeError);
  assertThrows(t([[1], 2]), ['row 1 is number 2'], TypeError);
  assertThrows(t('12'), ['expected an array of rows'], TypeError);
  assertThrows(t([[1, 2], [3]]), ['ragged rows'], ShapeError);
});

test('tensor() keeps numbers as given, NaN and infinities included', () => {
  assert.equal(tensor([[1, NaN], [-Infinity, 0.5]]).toArray(), [[1, NaN], [-Infinity, 0.5]]);
  assert.equal(tensor([]).shape, [0, 0]);
});

test.run();
