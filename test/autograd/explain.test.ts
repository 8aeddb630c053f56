/**
 * Reading a graph: explain() as text, toDot() as Graphviz DOT.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { explain, leakyRelu, mul, noGrad, scale, sum, tensor, toDot, topologicalOrder, type Op, type Tensor } from '../../src/autograd/index.ts';

function tiny() {
  const x = tensor([[1, 2]], { requiresGrad: true, name: 'x' });
  const m = mul(x, x);
  const y = sum(m);
  return { x, m, y };
}

const OPS: Record<string, Op<never>> = { mul: mul as unknown as Op<never>, sum: sum as unknown as Op<never> };
const rule = (op: string) => (op === 'leaf' ? 'a leaf: values given, not computed; gradient accumulates here' : `${OPS[op]!.rule.formula}; ${OPS[op]!.rule.derivative}`);

test('explain lists x, x·x and its sum in topological order, numbered from #0, with rules, before backward', () => {
  const { y } = tiny();
  assert.equal(explain(y).split('\n'), [
    `#0 leaf x 1×2  ${rule('leaf')}  |∇| = (not computed)`,
    `#1 mul 1×2 ← #0, #0  ${rule('mul')}  |∇| = (not computed)`,
    `#2 sum 1×1 ← #1  ${rule('sum')}  |∇| = (not computed)`,
  ]);
});

test('explain shows the gradient norms after backward: |2x| = √20, |1, 1| = √2, 1', () => {
  const { y } = tiny();
  y.backward();
  const lines = explain(y).split('\n');
  assert.is(lines.length, 3);
  assert.ok(lines[0]!.startsWith('#0 leaf x 1×2'), lines[0]);
  assert.ok(lines[0]!.endsWith(`|∇| = ${Math.sqrt(20).toPrecision(7)}`), lines[0]);
  assert.ok(lines[0]!.endsWith('|∇| = 4.472136'), lines[0]);
  assert.ok(lines[1]!.endsWith('|∇| = 1.414214'), lines[1]);
  assert.ok(lines[2]!.endsWith('|∇| = 1.000000'), lines[2]);
  assert.ok(lines[1]!.startsWith('#1 mul 1×2 ← #0, #0'), 'x is both inputs of mul');
});

test('explain shows op parameters and leaves constants without a gradient note', () => {
  const x = tensor([[-1, 2]], { requiresGrad: true });
  const c = tensor([[3, 4]]);
  const y = sum(scale(leakyRelu(mul(x, c), 0.2), 3), 0);
  const text = explain(y);
  assert.match(text, 'leakyRelu slope=0.2 1×2');
  assert.match(text, 'scale c=3 1×2');
  assert.match(text, 'sum axis=0 1×2');
  // The two leaves: x (requires grad, so it carries a gradient note) and the constant c (none).
  const leaves = text.split('\n').filter((l) => /^#\d+ leaf 1×2/.test(l));
  assert.is(leaves.length, 2, text);
  assert.is(leaves.filter((l) => l.includes('|∇|')).length, 1, 'only x has a gradient note');
  assert.ok(c.requiresGrad === false);
});

test('explain of an op without a recorded rule says so', () => {
  const y = noGrad(() => mul(tensor([[1]]), tensor([[2]])));
  (y as { op: string }).op = 'mystery';
  y.rule = null; // a node made without defineOp
  assert.match(explain(y), 'mystery (no rule recorded)');
});

/** Checks the DOT text's structure; returns the node ids and edges. */
function parseDot(dot: string): { nodes: Map<string, string>; edges: [string, string][] } {
  const lines = dot.split('\n');
  assert.is(lines[0], 'digraph flowgrad {');
  assert.is(lines[lines.length - 1], '}');
  const nodes = new Map<string, string>();
  const edges: [string, string][] = [];
  for (const line of lines.slice(1, -1)) {
    if (line === '  rankdir=LR;' || line.startsWith('  node [')) continue;
    const node = /^ {2}(n\d+) \[label="((?:[^"\\]|\\.)*)"(?:, style=rounded)?\];$/.exec(line);
    const edge = /^ {2}(n\d+) -> (n\d+);$/.exec(line);
    if (node) nodes.set(node[1]!, node[2]!);
    else if (edge) edges.push([edge[1]!, edge[2]!]);
    else assert.unreachable(`not a DOT statement: ${line}`);
  }
  for (const [from, to] of edges) assert.ok(nodes.has(from) && nodes.has(to), `edge ${from} -> ${to} between declared nodes`);
  return { nodes, edges };
}

test('toDot writes one node per tensor and one edge per input, with op, shape, rule and gradient', () => {
  const { x, m, y } = tiny();
  y.backward();
  const { nodes, edges } = parseDot(toDot(y));
  assert.equal([...nodes.keys()], topologicalOrder(y).map((t: Tensor) => `n${t.id}`));
  assert.equal(edges, [[`n${x.id}`, `n${m.id}`], [`n${x.id}`, `n${m.id}`], [`n${m.id}`, `n${y.id}`]]);
  assert.match(nodes.get(`n${m.id}`)!, `mul\\n1×2\\n${rule('mul')}\\n|∇| = 1.414`);
  assert.match(nodes.get(`n${x.id}`)!, 'leaf x\\n1×2');
  assert.match(toDot(y), `n${x.id} [label="leaf x\\n1×2\\n${rule('leaf')}\\n|∇| = 4.472", style=rounded];`);
});

test('toDot escapes quotes and backslashes in names, so the DOT stays valid', () => {
  const x = tensor([[1]], { requiresGrad: true, name: 'say "hi" \\ bye' });
  const { nodes } = parseDot(toDot(scale(x, 2)));
  assert.match(nodes.get(`n${x.id}`)!, 'say \\"hi\\" \\\\ bye');
});

test('explain labels parameters by their dotted names when given the model, and a tensor\'s own name wins', () => {
  const w = tensor([[3]], { requiresGrad: true }), b = tensor([[1]], { requiresGrad: true, name: 'mine' });
  const y = sum(mul(w, b));
  const model = { namedParameters: (): [string, Tensor][] => [['net.0.weight', w], ['net.0.bias', b]] };
  const lines = explain(y, { names: model }).split('\n');
  assert.match(lines[0]!, /^#0 leaf net\.0\.weight 1×1/);
  assert.match(lines[1]!, /^#1 leaf mine 1×1/);
  assert.not.match(explain(y), 'net.0.weight');
});

test.run();
