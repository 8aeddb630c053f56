/**
 * Reading a graph: `explain()` lists the nodes in topological order with their derivative rules and,
 * after `backward()`, their gradients' norms; `toDot()` writes Graphviz DOT text.
 *
 * @module
 */

import { ruleText } from './rules.ts';
import { formatShape, topologicalOrder, type Tensor } from './tensor.ts';

function norm(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * a[i]!;
  return Math.sqrt(s);
}


/**
 * The graph behind `out` as text, one node per line in topological order (inputs first): id, op,
 * shape, inputs, the op's derivative rule, and the gradient's L2 norm once `backward()` has run.
 *
 * @example
 * const x = tensor([[1, 2]], { requiresGrad: true, name: 'x' });
 * const y = sum(mul(x, x));
 * y.backward();
 * console.log(explain(y));
 * // #0 leaf x 1×2  a leaf: values given, not computed; gradient accumulates here  |∇| = 4.472136
 * // #1 mul 1×2 ← #0, #0  out = a·b (broadcast); da = dOut·b, db = dOut·a ...  |∇| = 1.414214
 * // #2 sum 1×1 ← #1  out = Σ x ...  |∇| = 1.000000
 */
export function explain(out: Tensor): string {
  const lines: string[] = [];
  const order = topologicalOrder(out);
  // Nodes are numbered by their position in this listing (#0 is the first input), not by global id.
  const position = new Map<Tensor, number>(order.map((t, k) => [t, k]));
  const nodeName = (t: Tensor) => `#${position.get(t)}`;
  for (const t of order) {
    const inputs = t.parents.length > 0 ? ` ← ${t.parents.map(nodeName).join(', ')}` : '';
    const label = t.label !== '' ? ` ${t.label}` : '';
    const grad = t.grad !== null ? `  |∇| = ${norm(t.grad).toPrecision(7)}` : t.requiresGrad ? '  |∇| = (not computed)' : '';
    lines.push(`${nodeName(t)} ${t.op}${label} ${formatShape(t.rows, t.cols)}${inputs}  ${t.rule !== null ? `${t.rule.formula}; ${t.rule.derivative}` : ruleText(t.op)}${grad}`);
  }
  return lines.join('\n');
}

function escape(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

/**
 * The graph behind `out` as Graphviz DOT text (render with `dot -Tsvg`). Each node shows its op,
 * shape and rule; edges run from inputs to outputs.
 *
 * @example
 * toDot(sum(mul(x, x))); // 'digraph flowgrad {\n  n0 [label="leaf x\\n1×2 ..."]; ...'
 */
export function toDot(out: Tensor): string {
  const lines = ['digraph flowgrad {', '  rankdir=LR;', '  node [shape=box, fontname="monospace"];'];
  for (const t of topologicalOrder(out)) {
    const label = `${t.op}${t.label !== '' ? ' ' + escape(t.label) : ''}\\n${formatShape(t.rows, t.cols)}\\n${escape(t.rule !== null ? `${t.rule.formula}; ${t.rule.derivative}` : ruleText(t.op))}${t.grad !== null ? `\\n|∇| = ${norm(t.grad).toPrecision(4)}` : ''}`;
    lines.push(`  n${t.id} [label="${label}"${t.op === 'leaf' ? ', style=rounded' : ''}];`);
    for (const p of t.parents) lines.push(`  n${p.id} -> n${t.id};`);
  }
  lines.push('}');
  return lines.join('\n');
}
