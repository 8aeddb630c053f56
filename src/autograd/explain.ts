/**
 * Reading a graph: `explain()` lists the nodes in topological order with their rules (the formula and
 * derivative each op was defined with, see `defineOp`) and, after `backward()`, their gradients' norms;
 * with `{ expand: true }` a fused node is followed by its readable reference, rebuilt on copies of its
 * inputs and run backward with the node's own gradient, so its primitive nodes show their norms too.
 * `toDot()` writes Graphviz DOT text.
 *
 * @module
 */

import { referenceOn } from './op.ts';
import { checkOptionKeys } from './options.ts';
import { formatShape, Tensor, topologicalOrder } from './tensor.ts';

/** The rule text of a leaf (a leaf is not made by an op). */
const LEAF_RULE = 'a leaf: values given, not computed; gradient accumulates here';

function norm(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * a[i]!;
  return Math.sqrt(s);
}

function ruleOf(t: Tensor): string {
  if (t.rule !== null) return `${t.rule.formula}; ${t.rule.derivative}`;
  return t.op === 'leaf' ? LEAF_RULE : `${t.op} (no rule recorded)`;
}

/**
 * Options of {@link explain}.
 * @example explain(loss, { expand: true });
 */
export interface ExplainOptions {
  /** After each fused node (`mlp`, `linear`), list the nodes of its readable reference, indented. Default false. */
  expand?: boolean;
  /**
   * A model whose parameters label their leaves by their dotted names (`flows.0.net.0.weight`), e.g. the
   * flow itself: anything with `namedParameters()`. A tensor's own `name` wins.
   */
  names?: { namedParameters(): [string, Tensor][] };
}

/**
 * The graph behind `out` as text, one node per line in topological order (inputs first): number, op,
 * its parameter, shape, inputs, the op's rule, and the gradient's L2 norm once `backward()` has run.
 * With `{ expand: true }`, each fused node is followed by the nodes of its reference (`#5.1`, `#5.2`,
 * ...; its inputs are the fused node's inputs), with their gradient norms when the node has a gradient.
 *
 * @example
 * const x = tensor([[1, 2]], { requiresGrad: true, name: 'x' });
 * const y = sum(mul(x, x));
 * y.backward();
 * console.log(explain(y));
 * // #0 leaf x 1×2  a leaf: values given, not computed; gradient accumulates here  |∇| = 4.472136
 * // #1 mul 1×2 ← #0, #0  out = a·b (broadcast); da = dOut·b, db = dOut·a ...  |∇| = 1.414214
 * // #2 sum 1×1 ← #1  out = Σ x ...  |∇| = 1.000000
 * explain(nll(flow, batch), { names: flow }); // leaves labelled flows.0.net.0.weight, ...
 */
export function explain(out: Tensor, options: ExplainOptions = {}): string {
  checkOptionKeys('explain', options, ['expand', 'names']);
  const names = new Map<Tensor, string>(options.names !== undefined ? options.names.namedParameters().map(([n, t]) => [t, n]) : []);
  const lines: string[] = [];
  const order = topologicalOrder(out);
  // Nodes are numbered by their position in this listing (#0 is the first input), not by global id.
  const position = new Map<Tensor, string>(order.map((t, k) => [t, `#${k}`]));
  for (const t of order) {
    lines.push(line(t, position, '', names));
    if (options.expand === true && t.reference !== null) lines.push(...expandNode(t, position, names));
  }
  return lines.join('\n');
}

function line(t: Tensor, position: ReadonlyMap<Tensor, string>, indent: string, names: ReadonlyMap<Tensor, string>): string {
  const inputs = t.parents.length > 0 ? ` ← ${t.parents.map((p) => position.get(p) ?? '?').join(', ')}` : '';
  const text = t.label !== '' ? t.label : names.get(t) ?? '';
  const label = text !== '' ? ` ${text}` : '';
  const grad = t.grad !== null ? `  |∇| = ${norm(t.grad).toPrecision(7)}` : t.requiresGrad ? '  |∇| = (not computed)' : '';
  return `${indent}${position.get(t)} ${t.op}${label} ${formatShape(t.rows, t.cols)}${inputs}  ${ruleOf(t)}${grad}`;
}

/** The reference nodes of fused node `t`, rebuilt on copies of its inputs (so the real graph is untouched). */
function expandNode(t: Tensor, position: ReadonlyMap<Tensor, string>, names: ReadonlyMap<Tensor, string>): string[] {
  const copies = t.parents.map((p) => Tensor.from(p.rows, p.cols, p.data.slice(), { requiresGrad: true }));
  const ref = referenceOn(t, copies);
  const dOut = t.grad;
  if (dOut !== null && ref.requiresGrad) ref.backward(dOut.slice());
  const own = new Map<Tensor, string>();
  copies.forEach((c, k) => own.set(c, position.get(t.parents[k]!) ?? '?'));
  const head = position.get(t)!;
  const lines = [`    reference of ${head} ${t.op}:`];
  let k = 1;
  for (const node of topologicalOrder(ref)) {
    if (own.has(node)) continue;
    own.set(node, `${head}.${k++}`);
    lines.push(line(node, own, '    ', names));
  }
  return lines;
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
    const label = `${t.op}${t.label !== '' ? ' ' + escape(t.label) : ''}\\n${formatShape(t.rows, t.cols)}\\n${escape(ruleOf(t))}${t.grad !== null ? `\\n|∇| = ${norm(t.grad).toPrecision(4)}` : ''}`;
    lines.push(`  n${t.id} [label="${label}"${t.op === 'leaf' ? ', style=rounded' : ''}];`);
    for (const p of t.parents) lines.push(`  n${p.id} -> n${t.id};`);
  }
  lines.push('}');
  return lines.join('\n');
}
