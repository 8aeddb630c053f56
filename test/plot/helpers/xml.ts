/** A small well-formedness check for the SVG text the figures produce (there is no XML parser in Node). */
import * as assert from 'uvu/assert';

export interface ParsedElement {
  name: string;
  attrs: Record<string, string>;
  /** Index of the element in document order. */
  index: number;
  /** Names of the enclosing elements, outermost first. */
  ancestors: string[];
  /** Attributes of the enclosing elements, outermost first. */
  ancestorAttrs: Record<string, string>[];
}

/**
 * Asserts that `svg` is one balanced `<svg>` element with well-formed tags and double-quoted attributes,
 * no `NaN`, `undefined` or `Infinity` anywhere, and no unescaped `&` or `<` in text; returns its elements.
 */
export function parseSvg(svg: string): ParsedElement[] {
  for (const bad of ['NaN', 'undefined', 'Infinity', 'null']) assert.not.ok(svg.includes(bad), `the SVG contains "${bad}"`);
  const body = svg.replace(/<!--[\s\S]*?-->/g, (c) => {
    assert.not.ok(c.slice(4, -3).includes('--'), `comment ${c} contains "--"`);
    return '';
  });
  const stack: { name: string; attrs: Record<string, string> }[] = [];
  const elements: ParsedElement[] = [];
  const tag = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0, roots = 0;
  for (let m = tag.exec(body); m !== null; m = tag.exec(body)) {
    const between = body.slice(last, m.index);
    assert.not.ok(/<|&(?!amp;|lt;|gt;|quot;|#39;)/.test(between), `stray markup before ${m[0]}: ${JSON.stringify(between.slice(0, 80))}`);
    last = m.index + m[0].length;
    const [, close, name, rawAttrs, selfClose] = m;
    if (close === '/') {
      const open = stack.pop();
      assert.is(open?.name, name, `</${name}> closes <${open?.name}>`);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of rawAttrs!.matchAll(/([\w:-]+)="([^"]*)"/g)) {
      assert.not.ok(a[1]! in attrs, `duplicate attribute ${a[1]} on <${name}>`);
      attrs[a[1]!] = a[2]!;
    }
    if (stack.length === 0) roots++;
    elements.push({ name: name!, attrs, index: elements.length, ancestors: stack.map((s) => s.name), ancestorAttrs: stack.map((s) => s.attrs) });
    if (selfClose !== '/') stack.push({ name: name!, attrs });
  }
  assert.is(body.slice(last).trim(), '', 'text after the last tag');
  assert.is(stack.length, 0, `unclosed: ${stack.map((s) => s.name).join(', ')}`);
  assert.is(roots, 1, 'one root element');
  assert.is(elements[0]?.name, 'svg');
  assert.is(elements[0]?.attrs.xmlns, 'http://www.w3.org/2000/svg');
  assert.ok(/^0 0 [\d.]+ [\d.]+$/.test(elements[0]!.attrs.viewBox!), `viewBox ${elements[0]!.attrs.viewBox}`);
  return elements;
}

/** The visible text of every `<text>` element, unescaped. */
export function texts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&'));
}
