import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { comment, el, escapeXml, fmt, svgDocument, text } from '../../src/plot/svg.ts';
import { assertThrows } from '../helpers/assert.ts';
import { parseSvg } from './helpers/xml.ts';

test('escapeXml escapes the five XML specials', () => {
  assert.is(escapeXml(`a < b & "c" > 'd'`), 'a &lt; b &amp; &quot;c&quot; &gt; &#39;d&#39;');
});

test('fmt rounds to 2 decimals, drops trailing zeros and -0, and refuses non-finite values', () => {
  assert.is(fmt(12.3456), '12.35');
  assert.is(fmt(3), '3');
  assert.is(fmt(2.5), '2.5');
  assert.is(fmt(-0.001), '0');
  assert.is(fmt(-0), '0');
  assert.is(fmt(-7.125), '-7.12');
  for (const bad of [NaN, Infinity, -Infinity]) assertThrows(() => fmt(bad), ['non-finite values must be filtered']);
});

test('el writes numbers through fmt, escapes strings, skips undefined and self-closes without content', () => {
  assert.is(el('rect', { x: 1, y: 2.345, width: undefined, class: 'a"b' }), '<rect x="1" y="2.35" class="a&quot;b"/>');
  assert.is(el('g', { fill: 'red' }, el('circle', { r: 2 })), '<g fill="red"><circle r="2"/></g>');
  assert.is(text(10, 20, 'x < 1', { 'text-anchor': 'middle' }), '<text x="10" y="20" text-anchor="middle">x &lt; 1</text>');
  assertThrows(() => el('circle', { cx: NaN }), ['non-finite']);
});

test('comment makes a double dash harmless', () => {
  assert.is(comment('a -- b'), '<!-- a - - b -->');
});

test('svgDocument is one well-formed svg element with a viewBox, a title and a description', () => {
  const svg = svgDocument({ width: 300, height: 200.5, title: 'A & B', body: text(1, 2, 'hi'), description: 'notes <here>' });
  const els = parseSvg(svg);
  assert.is(els[0]!.attrs.viewBox, '0 0 300 200.5');
  assert.ok(svg.includes('<title>A &amp; B</title>'));
  assert.ok(svg.includes('<desc>notes &lt;here&gt;</desc>'));
  assert.ok(svg.trimEnd().endsWith('</svg>'));
});

test.run();
