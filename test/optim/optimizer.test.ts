import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ShapeError, tensor, type Tensor } from '../../src/autograd/tensor.ts';
import { mul } from '../../src/autograd/elementwise.ts';
import { Adam } from '../../src/optim/adam.ts';
import { AdamW } from '../../src/optim/adamw.ts';
import { OptimizerStateDictError, type Optimizer, type OptimizerStateDict } from '../../src/optim/optimizer.ts';
import { StepLR } from '../../src/optim/schedule.ts';
import { SGD } from '../../src/optim/sgd.ts';
import { assertThrows } from '../helpers/assert.ts';
import { setFixtureGradient } from './helpers/trajectory.ts';

const initial = [[0.3, 3.0], [0.0005, -0.3], [1.9, 0.25]];
const target = tensor([[1, -0.8], [1.5, -0.1], [-0.9, 1.4]]).data;
const biasTarget = tensor([[0.5, -0.5]]).data;

type Make = (params: Tensor[]) => Optimizer;
const makers: [string, Make][] = [
  ['SGD with Nesterov momentum and weight decay', (p) => new SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 })],
  ['SGD with dampened momentum', (p) => new SGD(p, { lr: 0.05, momentum: 0.8, dampening: 0.3 })],
  ['Adam with AMSGrad and weight decay', (p) => new Adam(p, { lr: 0.05, amsgrad: true, weightDecay: 0.1 })],
  ['AdamW', (p) => new AdamW(p, { lr: 0.05, betas: [0.8, 0.99] })],
];

/** One training step: the bias only gets a gradient on even steps (a null grad is skipped). */
function trainStep(opt: Optimizer, w: Tensor, b: Tensor, t: number): void {
  opt.zeroGrad();
  setFixtureGradient(w, target);
  if (t % 2 === 0) setFixtureGradient(b, biasTarget);
  opt.step();
}

for (const [name, make] of makers) {
  test(`${name}: 5 steps, save, load into a new optimizer, 5 more steps equals 10 straight steps bit for bit`, () => {
    // Straight run, with a StepLR schedule so that the saved lr differs from the constructor's.
    const w = tensor(initial), b = tensor([[0, 0]]);
    const straight = make([w, b]);
    const straightSchedule = new StepLR(straight, { stepSize: 3, gamma: 0.5 });
    for (let t = 0; t < 10; t++) {
      trainStep(straight, w, b, t);
      straightSchedule.step();
    }
    // Interrupted run: save everything as JSON after 5 steps.
    const w1 = tensor(initial), b1 = tensor([[0, 0]]);
    const first = make([w1, b1]);
    const firstSchedule = new StepLR(first, { stepSize: 3, gamma: 0.5 });
    for (let t = 0; t < 5; t++) {
      trainStep(first, w1, b1, t);
      firstSchedule.step();
    }
    const saved = JSON.stringify({ optimizer: first.stateDict(), schedule: firstSchedule.stateDict(), w: Array.from(w1.data), b: Array.from(b1.data) });
    // Resume in fresh objects.
    const parsed = JSON.parse(saved);
    const w2 = tensor([parsed.w.slice(0, 2), parsed.w.slice(2, 4), parsed.w.slice(4, 6)]), b2 = tensor([parsed.b]);
    const resumed = make([w2, b2]);
    resumed.loadStateDict(parsed.optimizer);
    const resumedSchedule = new StepLR(resumed, { stepSize: 3, gamma: 0.5 });
    resumedSchedule.loadStateDict(parsed.schedule);
    assert.is(resumed.lr, first.lr);
    for (let t = 5; t < 10; t++) {
      trainStep(resumed, w2, b2, t);
      resumedSchedule.step();
    }
    assert.equal(Array.from(w2.data), Array.from(w.data));
    assert.equal(Array.from(b2.data), Array.from(b.data));
    assert.equal(resumed.stateDict(), straight.stateDict());
  });
}

test('stateDict counts steps per parameter and skips parameters whose grad is null', () => {
  const w = tensor([[1, 2]]), unused = tensor([[5]]);
  const opt = new Adam([w, unused], { lr: 0.1 });
  for (let t = 0; t < 3; t++) {
    w.grad = new Float64Array([1, 1]);
    opt.step();
  }
  assert.equal(unused.data[0], 5);
  const dict = opt.stateDict();
  assert.equal(dict.optimizer, 'Adam');
  assert.equal(dict.params.map((p) => p.step), [3, 0]);
  assert.equal(dict.params.map((p) => p.shape), [[1, 2], [1, 1]]);
  assert.equal(dict.params[1]!.buffers, { m: [0], v: [0] });
  assert.equal(JSON.parse(JSON.stringify(dict)), dict, 'plain JSON');
});

test('stateDict returns copies, not the live buffers', () => {
  const w = tensor([[1]]);
  const opt = new SGD([w], { lr: 0.1, momentum: 0.9 });
  w.grad = new Float64Array([1]);
  opt.step();
  const dict = opt.stateDict();
  dict.params[0]!.buffers.momentumBuffer![0] = 99;
  dict.options.lr = 7;
  assert.equal(opt.stateDict().params[0]!.buffers.momentumBuffer, [1]);
  assert.is(opt.lr, 0.1);
});

test('loadStateDict rejects a state that does not fit, says why, and changes nothing', () => {
  const w = tensor([[1, 2], [3, 4]]);
  const opt = new Adam([w], { lr: 0.1 });
  w.grad = new Float64Array([1, 2, 3, 4]);
  opt.step();
  const good = opt.stateDict();
  const before = JSON.stringify(good);
  const edit = (f: (d: any) => void): OptimizerStateDict<any> => { // any: the dicts are broken on purpose
    const d = JSON.parse(before);
    f(d);
    return d;
  };
  assertThrows(() => opt.loadStateDict(new SGD([tensor([[1, 2], [3, 4]])], { lr: 0.1 }).stateDict() as any), ['state of "SGD", not Adam'], OptimizerStateDictError);
  assertThrows(() => opt.loadStateDict(edit((d) => d.params.push(d.params[0]))), ['2 parameters', 'this optimizer has 1'], OptimizerStateDictError);
  assertThrows(() => opt.loadStateDict(edit((d) => (d.params[0].shape = [4, 1]))), ['parameter 0', 'saved shape is 4×1', 'parameter is 2×2'], OptimizerStateDictError);
  assertThrows(() => opt.loadStateDict(edit((d) => (d.options.betas = [0.8, 0.999]))), ['betas = [0.8,0.999]', 'this optimizer has [0.9,0.999]'], OptimizerStateDictError);
  assertThrows(() => opt.loadStateDict(edit((d) => (d.options.lr = -1))), ['lr', '-1'], OptimizerStateDictError);
  assertThrows(() => opt.loadStateDict(edit((d) => (d.options.momentum = 0.9))), ['unknown option "momentum"'], OptimizerStateDictError);
  assertThrows(() => opt.loadStateDict(edit((d) => delete d.params[0].buffers.v)), ['expected buffers [m, v]', 'got [m]'], OptimizerStateDictError);
  assertThrows(() => opt.loadStateDict(edit((d) => d.params[0].buffers.m.pop())), ['buffer m', '4 numbers', 'got 3 values'], OptimizerStateDictError);
  assertThrows(() => opt.loadStateDict(edit((d) => (d.params[0].buffers.v[2] = null))), ['buffer v[2] is null', 'NaN'], OptimizerStateDictError);
  assertThrows(() => opt.loadStateDict(edit((d) => (d.params[0].step = 1.5))), ['step', '1.5'], OptimizerStateDictError);
  assertThrows(() => opt.loadStateDict(null as any), ['expected a state dict object'], OptimizerStateDictError);
  // A bad second parameter must not leave the first one half-loaded.
  const two = new Adam([tensor([[0]]), tensor([[0]])], { lr: 0.1 });
  const other = new Adam([tensor([[0]]), tensor([[0]])], { lr: 0.3 });
  const partial = JSON.parse(JSON.stringify(other.stateDict()));
  partial.params[0].step = 4;
  partial.params[1].buffers.m = [];
  assertThrows(() => two.loadStateDict(partial), ['parameter 1'], OptimizerStateDictError);
  assert.is(two.lr, 0.1);
  assert.equal(two.stateDict().params[0]!.step, 0);
  assert.is(JSON.stringify(opt.stateDict()), before);
});

test('zeroGrad sets grads to null by default, or fills the existing buffers with zeros', () => {
  const a = tensor([[1, 2]], { requiresGrad: true }), b = tensor([[3]], { requiresGrad: true });
  const opt = new SGD([a, b], { lr: 0.1 });
  a.grad = new Float64Array([1, 1]);
  opt.zeroGrad();
  assert.is(a.grad, null);
  assert.is(b.grad, null);
  const buffer = new Float64Array([5, 6]);
  a.grad = buffer;
  opt.zeroGrad({ setToNone: false });
  assert.is(a.grad, buffer);
  assert.equal(Array.from(buffer), [0, 0]);
  assert.is(b.grad, null);
  // backward then accumulates into the zeroed buffer
  mul(a, a).backward(new Float64Array([1, 1]));
  assert.is(a.grad, buffer);
  assert.equal(Array.from(buffer), [2, 4]);
});

test('the lr property can be set between steps and is validated', () => {
  const w = tensor([[0]]);
  const opt = new SGD([w], { lr: 1 });
  opt.lr = 0.25;
  w.grad = new Float64Array([1]);
  opt.step();
  assert.is(w.data[0], -0.25);
  assertThrows(() => (opt.lr = -0.1), ['SGD', 'lr', '-0.1'], RangeError);
  assertThrows(() => (opt.lr = NaN), ['lr', 'NaN'], RangeError);
  assert.is(opt.lr, 0.25);
});

test('optimizers reject empty, repeated and non-leaf parameter lists', () => {
  const w = tensor([[1]], { requiresGrad: true });
  assertThrows(() => new Adam([]), ['Adam', 'empty parameter list'], RangeError);
  assertThrows(() => new SGD([w, w], { lr: 1 }), ['parameter 1 appears more than once'], RangeError);
  assertThrows(() => new AdamW([mul(w, w)]), ['parameter 0 is the output of mul', 'not a leaf'], TypeError);
  assertThrows(() => new SGD([{} as Tensor], { lr: 1 }), ['parameter 0 is not a Tensor'], TypeError);
});

test('parameters may be given as any iterable', () => {
  const a = tensor([[1]]), b = tensor([[2]]);
  const opt = new SGD(new Set([a, b]).values(), { lr: 1 });
  assert.is(opt.params.length, 2);
});

test('step throws a ShapeError when a gradient does not match its parameter', () => {
  const w = tensor([[1, 2]]);
  const opt = new Adam([w]);
  w.grad = new Float64Array(3);
  assertThrows(() => opt.step(), ['parameter 0 is 1×2', 'grad has 3 values'], ShapeError);
});

// step() must not allocate: review its source. Step loops may only index typed arrays and do arithmetic.
const sources: [file: string, functions: string[]][] = [
  ['sgd.ts', ['step(): void {']],
  ['adam.ts', ['step(): void {', 'export function adamUpdate(']],
  ['adamw.ts', ['step(): void {']],
  ['clip.ts', ['export function clipGradNorm(', 'function scaledNorm(']],
];

/** The text of the function starting at `head`, up to its matching closing brace. */
function body(text: string, head: string): string {
  const start = text.indexOf(head);
  assert.ok(start >= 0, `${head} not found`);
  let depth = 0;
  for (let i = text.indexOf('{', start + head.length - 1); i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return text.slice(start, i + 1);
  }
  throw new Error(`unbalanced braces after ${head}`);
}

for (const [file, heads] of sources) {
  test(`the update loops in ${file} create no objects, arrays or closures`, () => {
    const text = readFileSync(fileURLToPath(new URL(`../../src/optim/${file}`, import.meta.url)), 'utf8');
    for (const head of heads) {
      // Drop comments and the parameter list, then look for anything that allocates.
      let code = body(text, head).replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
      code = code.slice(code.indexOf(')'));
      if (file === 'clip.ts' && head.startsWith('export')) {
        // clipGradNorm copies an arbitrary iterable once and builds an error message on failure, both outside the loops.
        code = code.replace(/Array\.from\(params\)/, '').replace(/throw new NonFiniteGradientError\([^;]*;/, '');
      }
      for (const [pattern, what] of [
        [/\bnew\s/, 'new'],
        [/=>/, 'an arrow function'],
        [/\bfunction\b/, 'a function expression'],
        [/[=(,:?]\s*\[/, 'an array literal'],
        [/[=(,:?]\s*\{/, 'an object literal'],
        [/`/, 'a template string'],
        [/\.(map|filter|slice|concat|from|of|forEach|reduce|entries|keys|values)\(/, 'an allocating method'],
        [/\bfor\s*\(\s*const\s+\w+\s+of\b/, 'a for-of iterator'],
        [/\.\.\./, 'a spread'],
      ] as const) {
        assert.not.ok(pattern.test(code), `${file} ${head} contains ${what}: ${code.match(pattern)?.[0]}`);
      }
    }
  });
}

test.run();
