/**
 * The post's RealNVP against PyTorch in float64 (test/fixtures/realnvp-post.json, made by
 * make_fixtures.py): both cases, loaded with postFromTorch from the PyTorch state dict, every number
 * compared to 1e-9 relative.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, type Tensor } from '../../src/autograd/index.ts';
import { nll, postFromTorch, type TorchStateDict } from '../../src/flow/real-nvp.ts';
import { assertClose, assertThrows } from '../helpers/assert.ts';
import { loadFixture } from '../helpers/fixtures.ts';

interface PostCase {
  dim: number;
  dim_a: number;
  layers: number;
  hidden: number;
  state_dict: Record<string, number[] | number[][]>;
  x: number[][];
  z: number[][];
  after_each_layer: number[][][];
  log_det: number[];
  log_prob: number[];
  loss_mean_nll: number;
  grads: Record<string, number[] | number[][]>;
  inverse_of_z: number[][];
}

const cases = loadFixture<{ cases: PostCase[] }>('realnvp-post.json').cases;
const TOL = { rtol: 1e-9, atol: 1e-14 };

test('the fixture holds the two cases the tests expect', () => {
  assert.equal(cases.map((c) => [c.dim, c.layers, c.hidden]), [[2, 4, 8], [5, 3, 6]]);
});

const column = (t: Tensor) => Array.from(t.data);

cases.forEach((c, k) => {
  const label = `case ${k + 1} (dim ${c.dim}, ${c.layers} layers, hidden ${c.hidden})`;

  test(`${label}: postFromTorch reads the shapes and loads every weight`, () => {
    const flow = postFromTorch(c.state_dict);
    assert.is(flow.dim, c.dim);
    assert.is(flow.config.layers, c.layers);
    assert.is(flow.config.hidden, c.hidden);
    assert.is(flow.config.preset, 'post');
    const own = flow.stateDict();
    assert.equal(Object.keys(own).sort(), Object.keys(c.state_dict).map((key) => `flows.${key}`).sort());
    for (const [key, value] of Object.entries(c.state_dict)) assertClose(column(own[`flows.${key}`]!), value.flat(), key, { rtol: 0 });
  });

  test(`${label}: z, every layer's output, log_det, log_prob and the loss match PyTorch`, () => {
    const flow = postFromTorch(c.state_dict);
    const x = tensor(c.x);
    const [z, logDet] = flow.forward(x);
    assertClose(z.toArray(), c.z, 'z', TOL);
    assertClose(column(logDet), c.log_det, 'log_det', TOL);
    const steps = flow.forwardSteps(x);
    assert.is(steps.length, c.after_each_layer.length);
    steps.forEach((s, i) => assertClose(s.toArray(), c.after_each_layer[i]!, `after layer ${i} (swap included)`, TOL));
    assertClose(column(flow.logProb(x)), c.log_prob, 'log_prob (with the full -d/2·log 2π)', TOL);
    assertClose(nll(flow, x).item(), c.loss_mean_nll, 'mean NLL', TOL);
  });

  test(`${label}: the gradient of the mean NLL matches PyTorch for every parameter`, () => {
    const flow = postFromTorch(c.state_dict);
    nll(flow, tensor(c.x)).backward();
    const params = flow.namedParameters();
    assert.is(params.length, Object.keys(c.grads).length);
    for (const [name, p] of params) {
      const torchName = name.replace(/^flows\./, '');
      const expected = c.grads[torchName];
      if (expected === undefined) assert.unreachable(`no PyTorch gradient for ${name}`);
      assert.ok(p.grad !== null, `${name} received a gradient`);
      assertClose(Array.from(p.grad!), expected!.flat(), `grad of ${name}`, TOL);
    }
  });

  test(`${label}: reverseAsInPost(z) is the post's reverse as written`, () => {
    const flow = postFromTorch(c.state_dict);
    assertClose(flow.reverseAsInPost(tensor(c.z)).toArray(), c.inverse_of_z, 'inverse_of_z', TOL);
  });
});

test('for odd dim the post\'s reverse does not return x, while inverse does', () => {
  // The post's reverse applies its forward swap cat([z[:, dim_a:], z[:, :dim_a]]) again before undoing
  // each layer. For even dim that swap is its own inverse; for dim 5 (dim_a = 2) it maps
  // (0 1 2 3 4) -> (2 3 4 0 1), and applying it twice gives (4 0 1 2 3), not the identity, so the
  // post's reverse scrambles features. inverse() undoes the swap with its true inverse.
  const odd = cases.find((c) => c.dim % 2 === 1)!;
  const flow = postFromTorch(odd.state_dict);
  const z = tensor(odd.z);
  const postReverse = flow.reverseAsInPost(z).data;
  const x = odd.x.flat();
  const worst = Math.max(...x.map((v, i) => Math.abs(postReverse[i]! - v)));
  assert.ok(worst > 0.1, `the post's reverse is far from x (max |diff| ${worst})`);
  assertClose(flow.inverse(z)[0].toArray(), odd.x, 'inverse(z) = x', { rtol: 1e-9, atol: 1e-12 });
  // for the even case both agree with x
  const even = cases.find((c) => c.dim % 2 === 0)!;
  const evenFlow = postFromTorch(even.state_dict);
  assertClose(evenFlow.reverseAsInPost(tensor(even.z)).toArray(), even.x, 'even dim: the post\'s reverse is the inverse', { rtol: 1e-9, atol: 1e-12 });
  assertClose(evenFlow.inverse(tensor(even.z))[0].toArray(), even.x, 'even dim: inverse', { rtol: 1e-9, atol: 1e-12 });
});

test("keys with a 'flows.' prefix and the post's own name b_bb are accepted", () => {
  const c = cases[1]!;
  const renamed: Record<string, number[] | number[][]> = {};
  for (const [key, value] of Object.entries(c.state_dict)) renamed[`flows.${key.replace('b_nn', 'b_bb')}`] = value;
  const flow = postFromTorch(renamed);
  assertClose(column(flow.logProb(tensor(c.x))), c.log_prob, 'log_prob', TOL);
});

test('a bad key, a missing weight and an impossible split are refused with messages', () => {
  const c = cases[0]!;
  assertThrows(() => postFromTorch({ ...c.state_dict, '0.t_nn.0.weight': [[1]] }), ['postFromTorch: unexpected key "0.t_nn.0.weight"', 'expected e.g. "3.s_nn.2.weight"'], RangeError);
  const missing: Record<string, TorchStateDict[string]> = { ...c.state_dict };
  delete missing['2.b_nn.2.bias'];
  assertThrows(() => postFromTorch(missing), ['missing entry "flows.2.b_nn.2.bias"'], Error);
  assertThrows(() => postFromTorch({}), ['could not read dim and hidden size'], RangeError);
  assertThrows(() => postFromTorch(null as never), ['postFromTorch: expected an object'], TypeError);
  // dim_a = 3 with dim_b = 1 is not the post's ⌊dim/2⌋ split
  assertThrows(() => postFromTorch({ '0.s_nn.0.weight': [[1, 2, 3]], '0.s_nn.2.weight': [[1]] }), ['dim_a = 3 with dim_b = 1'], RangeError);
});

test.run();
