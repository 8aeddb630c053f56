/** loadStateDict refuses NaN and ±∞, and loads vectors saved 1-D (PyTorch's bias layout) as well as 1×n. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../src/autograd/tensor.ts';
import { Linear } from '../../src/nn/layers.ts';
import { StateDictError } from '../../src/nn/module.ts';
import { Rng } from '../../src/rng/rng.ts';
import { assertThrows } from '../helpers/assert.ts';

test('loadStateDict refuses non-finite values, naming the entry and index, and changes nothing', () => {
  const layer = new Linear(2, 3, { rng: new Rng(0) });
  const before = layer.weight.data.slice();
  for (const bad of [NaN, Infinity, -Infinity]) {
    assertThrows(() => layer.loadStateDict({ weight: [[1, 2], [3, bad], [5, 6]], bias: [0, 0, 0] }), ['entry "weight" holds', 'index 3', 'must be finite'], StateDictError);
  }
  assert.equal(Array.from(layer.weight.data), Array.from(before));
});

test('a bias loads from a flat vector, a 1×n row and an n×1 column alike', () => {
  const layer = new Linear(2, 3, { rng: new Rng(0) });
  const weight = [[1, 2], [3, 4], [5, 6]];
  for (const bias of [[7, 8, 9], Tensor.from(1, 3, Float64Array.from([7, 8, 9])), Tensor.from(3, 1, Float64Array.from([7, 8, 9]))]) {
    layer.bias!.data.fill(0);
    layer.loadStateDict({ weight, bias });
    assert.equal(Array.from(layer.bias!.data), [7, 8, 9]);
  }
  assertThrows(() => layer.loadStateDict({ weight, bias: [7, 8] }), ['entry "bias" has shape 1×2'], StateDictError);
  assertThrows(() => layer.loadStateDict({ weight: Tensor.from(2, 3, new Float64Array(6)), bias: [7, 8, 9] }), ['entry "weight" has shape 2×3'], StateDictError);
});

test.run();
