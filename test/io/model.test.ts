/**
 * Model files: saveModel/loadModel round trips bit-exact in every configuration, and a corrupt config
 * or weights file is refused with a message saying which part, what and where.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../src/autograd/index.ts';
import { Rng } from '../../src/rng/rng.ts';
import { RealNVP } from '../../src/flow/real-nvp.ts';
import { loadModel, MODEL_FORMAT, MODEL_VERSION, ModelFileError, readModelConfig, saveModel } from '../../src/io/model.ts';
import { loadSafetensors, saveSafetensors } from '../../src/io/safetensors.ts';
import { assertThrows } from '../helpers/assert.ts';

// ---------------------------------------------------------------------------------------------------
// Helpers

function randomRows(n: number, dim: number, rng: Rng): Tensor {
  const data = new Float64Array(n * dim);
  for (let i = 0; i < data.length; i++) data[i] = 2 * rng.normal();
  return Tensor.from(n, dim, data);
}

/** Gives every parameter a random value, so that a round trip that drops or swaps one is caught. */
function scramble(flow: RealNVP, rng: Rng): RealNVP {
  for (const p of flow.parameters()) for (let i = 0; i < p.data.length; i++) p.data[i] = 0.3 * rng.normal();
  return flow;
}

function sameBits(a: Float64Array, b: Float64Array, label: string): void {
  assert.is(a.length, b.length, `${label}: length`);
  const va = new DataView(a.buffer, a.byteOffset, a.byteLength), vb = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < a.length; i++) {
    if (va.getBigUint64(8 * i, true) !== vb.getBigUint64(8 * i, true)) assert.unreachable(`${label}: value ${i} differs: ${a[i]} vs ${b[i]}`);
  }
}

function refused(configJson: string, weights: Uint8Array, part: 'config' | 'weights', patterns: (RegExp | string)[]): void {
  const err = assertThrows(() => loadModel(configJson, weights), patterns, ModelFileError) as ModelFileError;
  assert.is(err.part, part, `part for "${err.message}"`);
  assert.not.match(err.message, /\n/, 'the message is one line');
}

/** The saved parts of a small default model with standardisation. */
function small(): { flow: RealNVP; configJson: string; weights: Uint8Array } {
  const flow = scramble(new RealNVP({ dim: 3, layers: 3, hidden: 5, rng: new Rng(1), standardize: { mean: [1, -2, 0.5], std: [2, 0.5, 3] } }), new Rng(2));
  return { flow, ...saveModel(flow) };
}

function editConfig(configJson: string, edit: (doc: Record<string, any>) => void): string {
  const doc = JSON.parse(configJson);
  edit(doc);
  return JSON.stringify(doc);
}

// ---------------------------------------------------------------------------------------------------
// Round trips

const configurations: [string, () => RealNVP][] = [
  ['default', () => new RealNVP({ dim: 2, layers: 4, hidden: 8, rng: new Rng(3) })],
  ['default, 5-D, random permutations, ActNorm, tanh scale', () => new RealNVP({ dim: 5, layers: 3, hidden: 6, depth: 1, permutation: 'random', actNorm: true, scale: 'tanh', activation: 'tanh', rng: new Rng(4) })],
  ['default with standardisation', () => new RealNVP({ dim: 3, layers: 2, hidden: 4, rng: new Rng(5), standardize: { mean: [1, 2, 3], std: [0.5, 4, 1e-3] } })],
  ["the post's model", () => RealNVP.post({ dim: 2, layers: 4, hidden: 7, rng: new Rng(6) })],
  ["the post's model, odd dim", () => RealNVP.post({ dim: 3, layers: 2, hidden: 3, rng: new Rng(7) })],
  ['spline couplings, K=5, B=2.5, standardised', () => new RealNVP({ dim: 3, layers: 3, hidden: 4, coupling: 'spline', bins: 5, splineBound: 2.5, rng: new Rng(8), standardize: { mean: [1, 0, -1], std: [2, 1, 0.5] } })],
  ['spline couplings, whitened', () => new RealNVP({ dim: 4, layers: 2, hidden: 4, coupling: 'spline', bins: 4, splineBound: 4, rng: new Rng(10), whiten: { mean: [1, 0, -1, 2], matrix: [0.5, 0.1, 0, 0, 0.2, 2, 0, 0.3, 0, 0, 1, 0, -0.4, 0, 0.1, 3] } })],
  ['alternating spline and affine couplings, random permutations', () => new RealNVP({ dim: 4, layers: 3, hidden: 4, coupling: 'alternating', bins: 3, permutation: 'random', rng: new Rng(9) })],
];

test('a conditional spline model round-trips through saveModel and loadModel to the bit', () => {
  const flow = scramble(new RealNVP({ dim: 2, contextDim: 3, layers: 3, hidden: 5, coupling: 'spline', bins: 6, splineBound: 4, standardizeContext: { mean: [0, 1, 2], std: [1, 2, 3] }, rng: new Rng(14) }), new Rng(15));
  flow.eval();
  const { configJson, weights } = saveModel(flow);
  assert.is(JSON.parse(configJson).model.coupling, 'spline');
  const again = loadModel(configJson, weights);
  assert.equal(again.config, flow.config);
  const theta = randomRows(12, 2, new Rng(16)), x = randomRows(12, 3, new Rng(17));
  sameBits(again.logProb(theta, x).data, flow.logProb(theta, x).data, 'logProb');
  sameBits(again.sample(4, x, new Rng(18)).data, flow.sample(4, x, new Rng(18)).data, 'samples');
});

test('a config with bad spline fields is refused naming the field', () => {
  const flow = new RealNVP({ dim: 2, layers: 2, hidden: 3, coupling: 'spline', bins: 4, rng: new Rng(0) });
  const { configJson, weights } = saveModel(flow);
  refused(editConfig(configJson, (d) => (d.model.coupling = 'splines')), weights, 'config', ['model.coupling must be', "'spline'", '"splines"']);
  refused(editConfig(configJson, (d) => (d.model.bins = 1)), weights, 'config', ['model.bins must be an integer in 2..1024', 'got 1']);
  refused(editConfig(configJson, (d) => (d.model.bins = 1e9)), weights, 'config', ['model.bins must be an integer in 2..1024']);
  refused(editConfig(configJson, (d) => delete d.model.bins), weights, 'config', ['model.bins must be an integer', 'undefined']);
  for (const bad of [0, -3, 'big', null]) refused(editConfig(configJson, (d) => (d.model.splineBound = bad)), weights, 'config', ['model.splineBound must be a finite number > 0']);
  refused(editConfig(configJson, (d) => (d.model.coupling = 'affine')), weights, 'config', ['model.bins applies to spline couplings', "'affine'"]);
  refused(editConfig(configJson, (d) => (d.model.preset = 'post')), weights, 'config', ["needs preset 'default'"]);
  // Without the coupling field (an earlier version's file) the same weights are an affine model's: they do not fit.
  refused(editConfig(configJson, (d) => { delete d.model.coupling; delete d.model.bins; delete d.model.splineBound; }), weights, 'weights', []);
});

for (const [name, make] of configurations) {
  test(`saveModel then loadModel gives back the same weights and log-densities to the bit (${name})`, () => {
    const flow = scramble(make(), new Rng(11));
    const { configJson, weights } = saveModel(flow);
    const again = loadModel(configJson, weights);
    assert.equal(again.config, flow.config);
    const a = flow.stateDict(), b = again.stateDict();
    assert.equal(Object.keys(b).sort(), Object.keys(a).sort());
    for (const key of Object.keys(a)) sameBits(b[key]!.data, a[key]!.data, key);
    const x = randomRows(20, flow.dim, new Rng(12));
    flow.eval();
    sameBits(again.logProb(x).data, flow.logProb(x).data, 'logProb');
    sameBits(again.sample(10, new Rng(13)).data, flow.sample(10, new Rng(13)).data, 'samples');
  });
}

test('a loaded model is in evaluation mode', () => {
  const { configJson, weights } = small();
  assert.is(loadModel(configJson, weights).training, false);
});

test('the config document holds the format, the version, the model config and the extras', () => {
  const flow = new RealNVP({ dim: 2, layers: 2, hidden: 4, rng: new Rng(0) });
  const { configJson } = saveModel(flow, { metrics: { nll: 3.5, kl: NaN }, history: { trainLoss: [3, 2, 1] }, data: { columns: ['a', 'b'] } });
  const doc = JSON.parse(configJson);
  assert.is(doc.format, MODEL_FORMAT);
  assert.is(doc.version, MODEL_VERSION);
  assert.equal(doc.model, flow.config);
  assert.equal(doc.metrics, { nll: 3.5, kl: null });
  assert.equal(doc.history, { trainLoss: [3, 2, 1] });
  const read = readModelConfig(configJson);
  assert.equal(read.model, flow.config);
  assert.equal(read.extra.data, { columns: ['a', 'b'] });
  assert.match(configJson, /"permutationIndices": \[\n\s+\[1, 0\],/);
});

test('saveModel refuses extras that would overwrite the model config', () => {
  const flow = new RealNVP({ dim: 2, layers: 1, hidden: 2, rng: new Rng(0) });
  for (const key of ['format', 'version', 'model']) assertThrows(() => saveModel(flow, { [key]: 1 }), [`"${key}"`, 'reserved']);
});

// ---------------------------------------------------------------------------------------------------
// A corrupt config

test('a config that is not JSON is refused with the parser position', () => {
  const { weights } = small();
  refused('{"format": "flowgrad-realnvp",', weights, 'config', ['model config: not valid JSON']);
  refused('', weights, 'config', ['not valid JSON', 'empty']);
  refused('[1, 2]', weights, 'config', ['expected a JSON object', 'array']);
});

test('a config of another format or a newer version is refused', () => {
  const { configJson, weights } = small();
  refused(editConfig(configJson, (d) => (d.format = 'pytorch')), weights, 'config', ['format must be "flowgrad-realnvp"', '"pytorch"']);
  refused(editConfig(configJson, (d) => delete d.format), weights, 'config', ['format', 'undefined']);
  refused(editConfig(configJson, (d) => (d.version = MODEL_VERSION + 1)), weights, 'config', [`version ${MODEL_VERSION + 1} is newer`, 'upgrade flowgrad']);
  refused(editConfig(configJson, (d) => (d.version = '1')), weights, 'config', ['version must be a positive integer', '"1"']);
});

test('every model field is checked for type and range, and the message names the field', () => {
  const { configJson, weights } = small();
  const cases: [string, (m: Record<string, any>) => void, string[]][] = [
    ['model missing', () => {}, []],
    ['preset', (m) => (m.preset = 'fancy'), ['model.preset', "'default' or 'post'", '"fancy"']],
    ['dim a string', (m) => (m.dim = '3'), ['model.dim must be an integer', '"3"']],
    ['dim 1', (m) => (m.dim = 1), ['model.dim must be an integer in 2..', 'got 1']],
    ['layers 0', (m) => (m.layers = 0), ['model.layers', 'got 0']],
    ['layers fractional', (m) => (m.layers = 2.5), ['model.layers', '2.5']],
    ['hidden huge', (m) => (m.hidden = 1e12), ['model.hidden', '1000000000000']],
    ['depth null', (m) => (m.depth = null), ['model.depth', 'null']],
    ['scale', (m) => (m.scale = 'log'), ['model.scale', "'softclamp'"]],
    ['bound negative', (m) => (m.bound = -3), ['model.bound must be a finite number > 0', '-3']],
    ['bound null (NaN once written)', (m) => (m.bound = null), ['model.bound', 'null']],
    ['activation', (m) => (m.activation = 'gelu'), ['model.activation', '"gelu"']],
    ['permutation', (m) => (m.permutation = 'shuffle'), ['model.permutation', '"shuffle"']],
    ['actNorm', (m) => (m.actNorm = 'no'), ['model.actNorm must be true or false', '"no"']],
    ['standardize', (m) => (m.standardize = 1), ['model.standardize must be true or false', 'got 1']],
    ['whiten', (m) => (m.whiten = 'yes'), ['model.whiten must be true or false', '"yes"']],
    ['whiten with standardize', (m) => (m.whiten = true), ['model.whiten and model.standardize are both true']],
    ['permutationIndices count', (m) => m.permutationIndices.pop(), ['model.permutationIndices has 2 entries for 3 layers']],
    ['permutationIndices entry', (m) => (m.permutationIndices[1] = [0, 1]), ['model.permutationIndices[1] must be an array of 3 indices']],
    ['permutationIndices value', (m) => (m.permutationIndices[2][0] = 7), ['model.permutationIndices[2][0] must be an integer in 0..2', 'got 7']],
    ['permutationIndices repeat', (m) => (m.permutationIndices[0] = [1, 1, 0]), ['model.permutationIndices[0] is not a permutation', 'index 1 appears twice']],
    ['an unknown field', (m) => (m.dropout = 0.1), ['model.dropout is not a model config field']],
  ];
  refused(editConfig(configJson, (d) => delete d.model), weights, 'config', ['model must be an object', 'undefined']);
  for (const [, edit, patterns] of cases.slice(1)) refused(editConfig(configJson, (d) => edit(d.model)), weights, 'config', ['model config: ', ...patterns]);
});

test('a config describing a model far larger than its weights file is refused before anything is allocated', () => {
  const { configJson, weights } = small();
  const huge = editConfig(configJson, (d) => {
    d.model.hidden = 1_000_000;
    d.model.layers = 10_000;
    d.model.permutationIndices = Array.from({ length: 10_000 }, () => [2, 1, 0]);
  });
  refused(huge, weights, 'weights', ['the config describes at least', 'the weights hold only']);
});

// ---------------------------------------------------------------------------------------------------
// Corrupt weights

test('truncated or garbled weights are refused with the safetensors reason', () => {
  const { configJson, weights } = small();
  refused(configJson, weights.slice(0, 5), 'weights', ['model weights: ', 'shorter than the 8-byte header length']);
  refused(configJson, weights.slice(0, weights.length - 8), 'weights', ['model weights: ']);
  const garbled = weights.slice();
  garbled.fill(0x7b, 8, 20);
  refused(configJson, garbled, 'weights', ['model weights: ']);
});

test('weights holding NaN or infinity are refused, naming the tensor', () => {
  const { flow, configJson } = small();
  const state = flow.stateDict();
  const name = Object.keys(state).find((k) => k.endsWith('weight'))!;
  const bad: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(state)) bad[k] = Tensor.from(t.rows, t.cols, t.data.slice());
  // saveSafetensors refuses NaN, so write the bytes of a finite file and patch one value.
  const bytes = saveSafetensors(bad, { format: MODEL_FORMAT });
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true)))));
  const start = 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true)) + header[name].data_offsets[0];
  new DataView(bytes.buffer).setFloat64(start + 8, NaN, true);
  refused(configJson, bytes, 'weights', ['model weights: ', `"${name}"`, 'NaN', 'index 1']);
});

test('weights with a missing or a mis-shaped tensor are refused, listing each problem; an unused one is skipped with a note', () => {
  const { flow, configJson } = small();
  const state = flow.stateDict();
  const names = Object.keys(state);
  const missing = { ...state };
  delete missing[names[0]!];
  refused(configJson, saveSafetensors(missing), 'weights', ['do not fit the config', `missing entry "${names[0]}"`]);
  const notes: string[] = [];
  loadModel(configJson, saveSafetensors({ ...state, 'flows.9.extra': Tensor.zeros(1, 1) }), { onNote: (n) => notes.push(n) });
  assert.equal(notes, ['the weights hold 1 tensor the model does not use, skipped: flows.9.extra [1, 1] F64'], 'an unused tensor is skipped with a note');
  const t = state[names[0]!]!;
  refused(configJson, saveSafetensors({ ...state, [names[0]!]: Tensor.zeros(t.rows + 1, t.cols) }), 'weights', [`entry "${names[0]}" has shape`, 'the model expects']);
});

test('weights saved for another model config are refused even when the shapes fit', () => {
  const a = new RealNVP({ dim: 4, layers: 2, hidden: 3, permutation: 'random', rng: new Rng(1) });
  const b = new RealNVP({ dim: 4, layers: 2, hidden: 3, permutation: 'random', rng: new Rng(2) });
  assert.not.equal(a.config.permutationIndices, b.config.permutationIndices);
  refused(saveModel(a).configJson, saveModel(b).weights, 'weights', ['saved for a different model config', 'model.permutationIndices', 'do not belong together']);
});

test('a non-positive standardisation scale in the weights is refused', () => {
  const { flow, configJson } = small();
  const state = flow.stateDict();
  const std = Tensor.from(1, 3, Float64Array.from([2, 0, 3]));
  refused(configJson, saveSafetensors({ ...state, 'standardize.std': std }), 'weights', ['"standardize.std"', 'index 1', 'must be positive']);
});

test('a singular whitening matrix in the weights is refused', () => {
  const flow = new RealNVP({ dim: 2, layers: 2, hidden: 3, coupling: 'spline', bins: 3, whiten: { mean: [0, 0], matrix: [2, 1, 0, 1] }, rng: new Rng(4) });
  const { configJson } = saveModel(flow);
  const state = flow.stateDict();
  assert.ok('whiten.matrix' in state, 'the state dict names it whiten.matrix');
  refused(configJson, saveSafetensors({ ...state, 'whiten.matrix': Tensor.from(2, 2, Float64Array.from([1, 2, 2, 4])) }), 'weights', ['"whiten.matrix" is singular']);
});

test('the round trip survives a re-encoding of the weights through loadSafetensors and saveSafetensors', () => {
  const { flow, configJson, weights } = small();
  const again = loadModel(configJson, saveSafetensors(loadSafetensors(weights).tensors));
  const x = randomRows(5, 3, new Rng(3));
  flow.eval();
  sameBits(again.logProb(x).data, flow.logProb(x).data, 'logProb');
});

test.run();
