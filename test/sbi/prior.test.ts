import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor } from '../../src/autograd/tensor.ts';
import { Rng } from '../../src/rng/rng.ts';
import { BoxUniform, DiagonalNormal } from '../../src/sbi/prior.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';

test('BoxUniform samples lie in the box and its log-density is −log volume inside, −∞ outside', () => {
  const prior = new BoxUniform([-1, 0], [1, 3]);
  const s = prior.sample(5000, new Rng(1));
  for (let i = 0; i < s.rows; i++) {
    assert.ok(s.data[2 * i]! >= -1 && s.data[2 * i]! < 1 && s.data[2 * i + 1]! >= 0 && s.data[2 * i + 1]! < 3);
  }
  const lp = prior.logProb(tensor([[0, 1], [1, 3], [1.01, 1], [0, -0.1]]));
  assertClose(lp.slice(0, 2), [-Math.log(6), -Math.log(6)], 'inside (edges included)');
  assert.equal([lp[2], lp[3]], [-Infinity, -Infinity]);
  assert.equal(prior.support, { low: [-1, 0], high: [1, 3] });
  assert.is(new BoxUniform([-3, -3], [3, 3]).describe(), 'U(-3, 3)^2');
});

test('DiagonalNormal takes variances: N(0, 0.1) has sample variance 0.1, not 0.01', () => {
  const prior = new DiagonalNormal([0, 1], [0.1, 4]);
  const s = prior.sample(40000, new Rng(2));
  for (let j = 0; j < 2; j++) {
    let m = 0, v = 0;
    for (let i = 0; i < s.rows; i++) m += s.data[2 * i + j]! / s.rows;
    for (let i = 0; i < s.rows; i++) v += (s.data[2 * i + j]! - m) ** 2 / (s.rows - 1);
    assertClose(m, [0, 1][j]!, `mean ${j}`, { atol: 0.03 });
    assertClose(v, [0.1, 4][j]!, `variance ${j}`, { rtol: 0.03 });
  }
  const lp = prior.logProb(tensor([[0.2, -1]]))[0]!;
  const expected = -0.5 * Math.log(2 * Math.PI * 0.1) - 0.04 / 0.2 - 0.5 * Math.log(2 * Math.PI * 4) - 4 / 8;
  assertClose(lp, expected, 'log-density');
  assert.is(prior.support, null);
});

test('priors refuse bad bounds and θ of the wrong width', () => {
  assertThrows(() => new BoxUniform([1], [0]), ['coordinate 0', 'low < high']);
  assertThrows(() => new BoxUniform([0, 0], [1]), ['one length']);
  assertThrows(() => new DiagonalNormal([0], [0]), ['variance > 0']);
  assertThrows(() => new BoxUniform([0], [1]).logProb(tensor([[0, 0]])), ['1 columns', '1×2']);
  assertThrows(() => new BoxUniform([0], [1]).sample(-1, new Rng(0)), ['integer ≥ 0']);
});

test.run();
