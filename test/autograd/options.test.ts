import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkOptionKeys, didYouMean, editDistance } from '../../src/autograd/options.ts';
import { assertThrows } from '../helpers/assert.ts';

test('edit distance counts insertions, deletions and substitutions', () => {
  assert.is(editDistance('laysers', 'layers'), 1);
  assert.is(editDistance('', 'abc'), 3);
  assert.is(editDistance('kitten', 'sitting'), 3);
});

test('did-you-mean finds the camelCase name and near misses, and nothing for far ones', () => {
  assert.is(didYouMean('weight_decay', ['lr', 'weightDecay']), 'weightDecay');
  assert.is(didYouMean('laysers', ['dim', 'layers', 'hidden']), 'layers');
  assert.is(didYouMean('learningRate', ['lr', 'epochs']), undefined);
});

test('an unknown key is refused with the suggestion and the list; known keys pass', () => {
  checkOptionKeys('RealNVP', { dim: 2, layers: 4 }, ['dim', 'layers']);
  assertThrows(() => checkOptionKeys('RealNVP', { laysers: 4 }, ['dim', 'layers']), ['RealNVP: unknown option "laysers"', 'did you mean "layers"', 'the options are dim, layers'], TypeError);
  assertThrows(() => checkOptionKeys('fit', { learningRate: 10 }, ['lr', 'epochs']), ['fit: unknown option "learningRate"; the options are lr, epochs'], TypeError);
  assertThrows(() => checkOptionKeys('fit', [] as unknown as object, ['lr']), ['fit: options must be an object'], TypeError);
});

test.run();
