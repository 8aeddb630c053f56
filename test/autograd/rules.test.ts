/**
 * Drift check: the two comment lines above each op's code (formula, local derivative) must be the text
 * of `RULES` in rules.ts, which explain() and toDot() print; every op has a rule, every rule an op, and
 * every op names its graph nodes after itself so that explain() finds the rule.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as flowgrad from '../../src/index.ts';
import {
  abs,
  add,
  addScalar,
  concatCols,
  div,
  exp,
  gatherCols,
  leakyRelu,
  linear,
  log,
  matmul,
  mean,
  mlp,
  mul,
  neg,
  powScalar,
  relu,
  RULES,
  ruleText,
  scale,
  sigmoid,
  sliceCols,
  softplus,
  sqrt,
  square,
  sub,
  sum,
  tanh,
  tensor,
  transpose,
  type Tensor,
} from '../../src/autograd/index.ts';

const FILES = ['elementwise.ts', 'matmul.ts', 'reduce.ts', 'shape.ts', 'fused.ts'];

interface Found {
  name: string;
  /** The contiguous `//` lines above the op's JSDoc (or above the export when there is none). */
  comments: string[];
}

/** Every exported function of `source` that returns a Tensor (an op), with the comment lines above it. */
export function opsIn(source: string): Found[] {
  const lines = source.split('\n');
  const found: Found[] = [];
  lines.forEach((line, i) => {
    const m = /^export function (\w+)\s*[<(]/.exec(line);
    if (!m) return;
    let signature = '';
    for (let k = i; k < lines.length; k++) {
      signature += lines[k]!.trim();
      if (signature.endsWith('{')) break;
    }
    if (!/\)\s*:\s*Tensor\s*\{$/.test(signature)) return; // a helper such as stableSigmoid, not an op
    let k = i - 1;
    if (k >= 0 && lines[k]!.trim().endsWith('*/')) {
      while (k >= 0 && !lines[k]!.trim().startsWith('/**')) k--;
      k--;
    }
    const comments: string[] = [];
    while (k >= 0 && lines[k]!.startsWith('//')) comments.unshift(lines[k--]!);
    found.push({ name: m[1]!, comments });
  });
  return found;
}

/** What is wrong between an op's comment lines and RULES (empty when nothing). */
export function drift(found: Found, rules: Readonly<Record<string, readonly [string, string]>>): string[] {
  const rule = rules[found.name];
  if (rule === undefined) return [`${found.name}: no RULES entry`];
  if (found.comments.length < 2) return [`${found.name}: expected two // lines above it, found ${found.comments.length}`];
  const [formula, derivative] = found.comments.slice(-2);
  const problems: string[] = [];
  if (formula !== `// ${rule[0]}`) problems.push(`${found.name}: formula comment "${formula}" differs from RULES "${rule[0]}"`);
  if (derivative !== `// ${rule[1]}`) problems.push(`${found.name}: derivative comment "${derivative}" differs from RULES "${rule[1]}"`);
  return problems;
}

function read(file: string): string {
  return readFileSync(fileURLToPath(new URL(`../../src/autograd/${file}`, import.meta.url)), 'utf8');
}

const ops = FILES.flatMap((file) => opsIn(read(file)).map((f) => ({ ...f, file })));

/** One call of each op, to read the op name its output node carries. */
const x = tensor([[1, 2], [3, 4]]);
const SAMPLES: Record<string, () => Tensor> = {
  add: () => add(x, x),
  sub: () => sub(x, x),
  mul: () => mul(x, x),
  div: () => div(x, x),
  neg: () => neg(x),
  exp: () => exp(x),
  log: () => log(x),
  tanh: () => tanh(x),
  sigmoid: () => sigmoid(x),
  softplus: () => softplus(x),
  relu: () => relu(x),
  leakyRelu: () => leakyRelu(x),
  square: () => square(x),
  sqrt: () => sqrt(x),
  abs: () => abs(x),
  scale: () => scale(x, 2),
  addScalar: () => addScalar(x, 2),
  powScalar: () => powScalar(x, 2),
  matmul: () => matmul(x, x),
  transpose: () => transpose(x),
  linear: () => linear(x, x),
  sum: () => sum(x),
  mean: () => mean(x, 0),
  sliceCols: () => sliceCols(x, 1),
  concatCols: () => concatCols([x, x]),
  gatherCols: () => gatherCols(x, [1, 0]),
  mlp: () => mlp(x, [{ weight: x, bias: null, activation: 'tanh' }]),
};

test('the sources define the 27 ops of the five op families', () => {
  assert.equal(ops.map((o) => o.name).sort(), Object.keys(SAMPLES).sort());
});

test('the two comment lines above every op are its RULES entry, word for word', () => {
  const problems = ops.flatMap((o) => drift(o, RULES).map((p) => `${o.file}: ${p}`));
  assert.equal(problems, []);
});

test('every exported op has a RULES entry and every RULES entry but leaf is an op', () => {
  const names = new Set(ops.map((o) => o.name));
  assert.equal(ops.filter((o) => RULES[o.name] === undefined).map((o) => o.name), [], 'ops without a rule');
  assert.equal(Object.keys(RULES).filter((k) => k !== 'leaf' && !names.has(k)), [], 'rules without an op');
});

test('every op is exported from the package and names its output node after itself', () => {
  for (const o of ops) {
    assert.type((flowgrad as Record<string, unknown>)[o.name], 'function', `${o.name} exported from src/index.ts`);
    assert.is(SAMPLES[o.name]!().op, o.name, `${o.name} output node's op`);
    assert.is(ruleText(o.name), `${RULES[o.name]![0]}; ${RULES[o.name]![1]}`);
  }
});

// The checker itself must be able to fail.

const sample = [
  '// out = exp(x)',
  '// dx = dOut·out',
  '/** Elementwise e^x. */',
  'export function exp(x: Tensor): Tensor {',
  '}',
  '',
  '// ------',
  '// out = x²',
  '// dx = dOut·x',
  '/**',
  ' * Elementwise square.',
  ' */',
  'export function square(x: Tensor): Tensor {',
  '}',
  '',
  '/** A helper, not an op. */',
  'export function stableSigmoid(x: number): number {',
  '}',
  '',
  '// dx = -dOut',
  'export function neg(',
  '  x: Tensor,',
  '): Tensor {',
  '}',
].join('\n');

test('the drift checker finds ops past one-line and multi-line JSDoc and skips non-ops', () => {
  const found = opsIn(sample);
  assert.equal(found.map((f) => f.name), ['exp', 'square', 'neg']);
  assert.equal(found[1]!.comments.slice(-2), ['// out = x²', '// dx = dOut·x']);
});

test('the drift checker reports a changed derivative, a missing comment line and a missing rule', () => {
  const found = opsIn(sample);
  assert.equal(drift(found[0]!, RULES), [], 'exp matches');
  const squareDrift = drift(found[1]!, RULES);
  assert.is(squareDrift.length, 1);
  assert.match(squareDrift[0]!, 'square: derivative comment "// dx = dOut·x" differs from RULES "dx = dOut·2x"');
  assert.match(drift(found[2]!, RULES)[0]!, 'neg: expected two // lines above it, found 1');
  assert.equal(drift({ name: 'cosh', comments: ['// a', '// b'] }, RULES), ['cosh: no RULES entry']);
});

test.run();
