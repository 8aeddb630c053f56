/**
 * Module: parameters and buffers found by reflection with dotted names, the state dict and its loading
 * (strict by default, all-or-nothing), the printed tree, train/eval.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor, tensor } from '../../src/autograd/index.ts';
import { Rng } from '../../src/rng/rng.ts';
import { ActNorm } from '../../src/flow/actnorm.ts';
import { RealNVP } from '../../src/flow/real-nvp.ts';
import { Linear, MLP, ReLU, Sequential } from '../../src/nn/layers.ts';
import { Module, StateDictError } from '../../src/nn/module.ts';
import { assertThrows } from '../helpers/assert.ts';

/** A leaf module with one parameter and one plain (non-trainable, unregistered) tensor. */
class Inner extends Module {
  w = Tensor.ones(2, 3, { requiresGrad: true });
  constant = Tensor.ones(1, 1);
}

/** Own parameter, a child, an array of children: the three ways a module holds things. */
class Outer extends Module {
  scale = Tensor.ones(1, 1, { requiresGrad: true });
  first: Linear;
  blocks: Inner[];
  constructor(rng: Rng) {
    super();
    this.first = new Linear(2, 3, { rng });
    this.blocks = [new Inner(), new Inner()];
  }
}

function snapshot(m: Module): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [name, t] of Object.entries(m.stateDict())) out[name] = Array.from(t.data);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Names.

test('namedParameters lists own tensors first, then children and arrays of children, with dotted names', () => {
  const m = new Outer(new Rng(0));
  assert.equal(
    m.namedParameters().map(([n]) => n),
    ['scale', 'first.weight', 'first.bias', 'blocks.0.w', 'blocks.1.w'],
  );
  // the tensors are the module's own, not copies
  assert.ok(m.namedParameters()[1]![1] === m.first.weight);
  assert.ok(m.parameters()[3] === m.blocks[0]!.w);
  // a tensor without requiresGrad is not a parameter
  assert.not.ok(m.namedParameters().some(([n]) => n.endsWith('constant')));
  assert.is(m.parameterCount(), 1 + 6 + 3 + 6 + 6);
});

test('a RealNVP names its conditioner weights flows.<layer>.net.<index>.weight', () => {
  const flow = new RealNVP({ dim: 3, layers: 4, hidden: 5, depth: 2, rng: new Rng(1) });
  const names = flow.namedParameters().map(([n]) => n);
  assert.ok(names.includes('flows.3.net.0.weight'), names.join(', '));
  assert.ok(names.includes('flows.0.net.4.bias'));
  assert.is(names.length, 4 * 6, 'four couplings, three Linear layers each');
  const byName = new Map(flow.namedParameters());
  assert.equal(byName.get('flows.3.net.0.weight')!.shape, [5, 1], 'hidden×|A|, PyTorch layout');
  assert.equal(byName.get('flows.3.net.4.weight')!.shape, [4, 5], '2·|B| outputs: log-scales then shifts');
});

test("the post preset uses the post's PyTorch names flows.<layer>.s_nn / b_nn.<index>", () => {
  const flow = RealNVP.post({ dim: 2, layers: 4, hidden: 8, rng: new Rng(2) });
  const names = flow.namedParameters().map(([n]) => n);
  assert.equal(names.slice(0, 8), [
    'flows.0.s_nn.0.weight', 'flows.0.s_nn.0.bias', 'flows.0.s_nn.2.weight', 'flows.0.s_nn.2.bias',
    'flows.0.b_nn.0.weight', 'flows.0.b_nn.0.bias', 'flows.0.b_nn.2.weight', 'flows.0.b_nn.2.bias',
  ]);
  assert.ok(names.includes('flows.3.s_nn.2.weight'));
  assert.is(names.length, 4 * 8);
});

test('buffers are saved in the state dict but are not parameters', () => {
  const norm = new ActNorm(3);
  assert.equal(norm.namedParameters().map(([n]) => n), ['bias', 'logScale']);
  assert.equal(norm.namedBuffers().map(([n]) => n), ['initialisedFlag']);
  assert.equal(Object.keys(norm.stateDict()), ['bias', 'logScale', 'initialisedFlag']);
  const flow = new RealNVP({ dim: 2, layers: 2, hidden: 3, actNorm: true, rng: new Rng(0) });
  assert.ok('norms.1.initialisedFlag' in flow.stateDict());
  assert.not.ok(flow.namedParameters().some(([n]) => n.includes('initialisedFlag')));
});

// ---------------------------------------------------------------------------------------------------
// State dict round trip.

test('loadStateDict copies another model\'s values and keeps the tensors\' identity', () => {
  const a = new MLP([2, 4, 1], { rng: new Rng(1) });
  const b = new MLP([2, 4, 1], { rng: new Rng(2) });
  const x = tensor([[0.5, -1], [2, 0.25]]);
  assert.not.equal(b.forward(x).toArray(), a.forward(x).toArray(), 'different seeds differ before loading');
  const before = b.parameters();
  b.loadStateDict(a.stateDict());
  assert.equal(b.forward(x).toArray(), a.forward(x).toArray());
  b.parameters().forEach((p, i) => assert.ok(p === before[i], 'same tensor objects, so an optimizer built on them still works'));
  // values were copied, not shared
  a.parameters()[0]!.data[0] = 123;
  assert.is.not(b.parameters()[0]!.data[0], 123);
});

test('stateDict returns the module\'s own tensors (not copies), as PyTorch does', () => {
  const layer = new Linear(2, 2, { rng: new Rng(0) });
  assert.ok(layer.stateDict().weight === layer.weight);
});

test('loadStateDict accepts nested arrays, flat arrays for 1×n entries, and Float64Arrays', () => {
  const src = new Linear(3, 2, { rng: new Rng(5) });
  const dst = new Linear(3, 2, { rng: new Rng(6) });
  dst.loadStateDict({ weight: src.weight.toArray(), bias: Array.from(src.bias!.data) });
  assert.equal(dst.weight.toArray(), src.weight.toArray());
  assert.equal(dst.bias!.toArray(), src.bias!.toArray());
  dst.loadStateDict({ weight: src.weight, bias: new Float64Array([7, 8]) });
  assert.equal(dst.bias!.toArray(), [[7, 8]]);
  // through JSON, as a saved file would give it
  const json = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(src.stateDict()).map(([k, t]) => [k, t.toArray()]))));
  dst.loadStateDict(json);
  assert.equal(dst.bias!.toArray(), src.bias!.toArray());
});

test('a RealNVP round-trips through its state dict, buffers included', () => {
  const rng = new Rng(3);
  const a = new RealNVP({ dim: 3, layers: 3, hidden: 4, actNorm: true, standardize: { mean: [1, 2, 3], std: [2, 0.5, 1] }, rng });
  for (const p of a.parameters()) for (let i = 0; i < p.data.length; i++) p.data[i]! += 0.3 * rng.normal();
  const x = tensor([[0.1, 1.9, 3.3], [2, 2.5, 2], [0, 1, 4]]);
  a.forward(x); // initialises the ActNorms from x
  const b = new RealNVP({ dim: 3, layers: 3, hidden: 4, actNorm: true, standardize: true, rng: new Rng(99) });
  b.loadStateDict(a.stateDict());
  assert.equal(snapshot(b), snapshot(a));
  const probe = tensor([[5, -1, 0.5]]);
  assert.equal(b.forward(probe)[0].toArray(), a.forward(probe)[0].toArray());
});

// ---------------------------------------------------------------------------------------------------
// Refusals.

test('a strict load refuses a missing entry, naming it and its shape', () => {
  const m = new Linear(3, 2, { rng: new Rng(0) });
  const err = assertThrows(() => m.loadStateDict({ weight: m.weight.toArray() }), ['1 problem', 'missing entry "bias" (1×2)'], StateDictError);
  assert.is(err.name, 'StateDictError');
});

test('a strict load refuses an unexpected entry, naming it', () => {
  const m = new Linear(3, 2, { rng: new Rng(0) });
  assertThrows(() => m.loadStateDict({ ...m.stateDict(), 'extra.weight': [[1]] }), ['unexpected entry "extra.weight"'], StateDictError);
  // names that objects inherit are entries like any other, not taken from the prototype
  assertThrows(() => m.loadStateDict({ ...m.stateDict(), toString: [[1]] }), ['unexpected entry "toString"'], StateDictError);
  const inheritedOnly = Object.create({ weight: m.weight, bias: m.bias }) as Record<string, Tensor>;
  assertThrows(() => m.loadStateDict(inheritedOnly), ['missing entry "weight"', 'missing entry "bias"'], StateDictError);
});

test('a mis-shaped entry is refused with both shapes, even when not strict', () => {
  const m = new Linear(3, 2, { rng: new Rng(0) });
  const wrong = Tensor.zeros(3, 2);
  assertThrows(() => m.loadStateDict({ weight: wrong, bias: m.bias! }), ['entry "weight" has shape 3×2, the model expects 2×3'], StateDictError);
  assertThrows(() => m.loadStateDict({ weight: wrong }, { strict: false }), ['entry "weight" has shape 3×2'], StateDictError);
  assertThrows(() => m.loadStateDict({ weight: m.weight, bias: [1, 2, 3] }), ['entry "bias" has shape 1×3, the model expects 1×2'], StateDictError);
});

test('an entry that is not numbers is refused by name', () => {
  const m = new Linear(2, 2, { rng: new Rng(0) });
  assertThrows(() => m.loadStateDict({ weight: [[1, 2], [3]], bias: [0, 0] }), ['entry "weight" is not a tensor or an array of numbers'], StateDictError);
  assertThrows(() => m.loadStateDict({ weight: m.weight, bias: ['a', 'b'] as unknown as number[] }), ['entry "bias" is not'], StateDictError);
});

test('every problem is reported at once, one per line', () => {
  const m = new Outer(new Rng(0));
  const dict = { ...m.stateDict() } as Record<string, Tensor>;
  delete dict['blocks.1.w'];
  dict['first.bias'] = Tensor.zeros(1, 4);
  dict['nope'] = Tensor.zeros(1, 1);
  const err = assertThrows(() => m.loadStateDict(dict), ['3 problems', 'missing entry "blocks.1.w" (2×3)', 'entry "first.bias" has shape 1×4', 'unexpected entry "nope"'], StateDictError);
  assert.is(err.message.split('\n').length, 4, 'a header and one line per problem');
});

test('nothing is changed when any entry is bad', () => {
  const m = new Outer(new Rng(0));
  const before = snapshot(m);
  const good = new Outer(new Rng(1)).stateDict();
  // every entry but one is good and different from m's own values
  assertThrows(() => m.loadStateDict({ ...good, 'first.weight': Tensor.zeros(2, 2) }), ['first.weight'], StateDictError);
  assert.equal(snapshot(m), before);
  assertThrows(() => m.loadStateDict({ ...good, stray: [1] }), ['unexpected entry "stray"'], StateDictError);
  assert.equal(snapshot(m), before);
});

test('strict: false loads a partial dict, ignores unknown names and leaves the rest alone', () => {
  const m = new Outer(new Rng(0));
  const before = snapshot(m);
  m.loadStateDict({ scale: [[5]], 'first.bias': [1, 2, 3], unknown: [[9]] }, { strict: false });
  assert.equal(Array.from(m.scale.data), [5]);
  assert.equal(Array.from(m.first.bias!.data), [1, 2, 3]);
  assert.equal(Array.from(m.first.weight.data), before['first.weight']);
  assert.equal(Array.from(m.blocks[1]!.w.data), before['blocks.1.w']);
});

// ---------------------------------------------------------------------------------------------------
// Printing, modes, gradients.

test('toString prints the tree with parameter counts', () => {
  const net = new MLP([2, 64, 2], { rng: new Rng(0) });
  assert.is(
    String(net),
    ['MLP — 322 parameters', '  (0) Linear(in=2, out=64, bias) — 192', '  (1) ReLU', '  (2) Linear(in=64, out=2, bias) — 130'].join('\n'),
  );
  const tiny = new Linear(1, 1, { rng: new Rng(0), bias: false });
  assert.is(String(tiny), 'Linear(in=1, out=1, no bias) — 1 parameter', 'singular for one');
});

test('the post preset with dim 2, 16 layers and hidden 64 has 6,176 parameters', () => {
  const flow = RealNVP.post({ dim: 2, layers: 16, hidden: 64, rng: new Rng(0) });
  // per layer, two nets Linear(1, 64) + Linear(64, 1): 2·((64 + 64) + (64 + 1)) = 386
  assert.is(flow.parameterCount(), 16 * 386);
  const lines = String(flow).split('\n');
  assert.is(lines[0], 'RealNVP(preset=post, dim=2, layers=16, hidden=64) — 6,176 parameters');
  assert.is(lines[1], '  (flows.0) PostCoupling(dim=2, dimA=1, hidden=64) — 386');
  assert.is(lines[2], '    (s_nn) Sequential — 193');
  assert.is(lines[3], '      (0) Linear(in=1, out=64, bias) — 128');
});

function everyModule(m: Module): Module[] {
  return [m, ...m.namedChildren().flatMap(([, c]) => everyModule(c))];
}

test('train() and eval() reach every descendant', () => {
  const flow = new RealNVP({ dim: 2, layers: 3, hidden: 3, actNorm: true, standardize: true, rng: new Rng(0) });
  const all = everyModule(flow);
  assert.ok(all.length > 10);
  assert.ok(all.every((m) => m.training), 'modules start in training mode');
  assert.is(flow.eval(), flow, 'eval returns the module');
  assert.ok(all.every((m) => !m.training));
  flow.train();
  assert.ok(all.every((m) => m.training));
  flow.train(false);
  assert.ok(all.every((m) => !m.training));
});

test('zeroGrad clears the gradient of every parameter', () => {
  const net = new Sequential(new Linear(2, 3, { rng: new Rng(0) }), new ReLU(), new Linear(3, 1, { rng: new Rng(1) }));
  net.forward(tensor([[1, 2]])).backward([[1]]);
  assert.ok(net.parameters().every((p) => p.grad !== null));
  net.zeroGrad();
  assert.ok(net.parameters().every((p) => p.grad === null));
});

test.run();
