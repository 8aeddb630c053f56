/**
 * The smallest SVG writer that does the job: escaping, number formatting, elements as strings, and the
 * document wrapper with a viewBox and one font for everything. No DOM, so it runs anywhere.
 *
 * @module
 */

/**
 * The font stack used by every figure (system sans-serif fonts), set once on the root `<svg>`.
 * @example el('svg', { 'font-family': FONT_FAMILY }, body);
 */
export const FONT_FAMILY = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif";

/**
 * Font sizes in px: figure title, panel title, axis label, tick label, small note.
 * @example text(x, y, 'epoch', { 'font-size': FONT_SIZE.label });
 */
export const FONT_SIZE = { figureTitle: 16, title: 13, label: 12, tick: 11, note: 10 } as const;

/**
 * Greys for text, axes and grid lines.
 * @example el('path', { d, stroke: INK.grid });
 */
export const INK = { text: '#222222', axis: '#444444', grid: '#e6e6e6', note: '#777777', frame: '#888888' } as const;

/**
 * Escapes text for use inside an element or a double-quoted attribute.
 * @example escapeXml('a < b & "c"'); // 'a &lt; b &amp; &quot;c&quot;'
 */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;'));
}

/**
 * A coordinate as short text: rounded to 2 decimals, trailing zeros dropped, never `-0`. Throws on NaN or
 * ±∞ (figure code filters non-finite data before it gets here), so no attribute can hold `NaN`.
 *
 * @example
 * fmt(12.3456); // '12.35'
 * fmt(-0.001);  // '0'
 * fmt(3);       // '3'
 */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) throw new RangeError(`svg: a coordinate is ${x}; non-finite values must be filtered before drawing`);
  const r = Math.round(x * 100) / 100;
  return r === 0 ? '0' : String(r);
}

/**
 * Attribute values: numbers go through {@link fmt}, strings are escaped, `undefined` is left out.
 * @example const a: Attrs = { x: 1.234, fill: 'red', stroke: undefined }; // x="1.23" fill="red"
 */
export type Attrs = Readonly<Record<string, string | number | undefined>>;

/**
 * An element as text. `content` is markup placed as is (escape text with {@link escapeXml} first); without
 * it the element is self-closing.
 *
 * @example
 * el('rect', { x: 1, y: 2, width: 3.14159, height: 4 }); // '<rect x="1" y="2" width="3.14" height="4"/>'
 * el('g', { fill: 'red' }, el('circle', { r: 2 }));    // '<g fill="red"><circle r="2"/></g>'
 */
export function el(tag: string, attrs: Attrs = {}, content?: string): string {
  let s = `<${tag}`;
  for (const key of Object.keys(attrs)) {
    const v = attrs[key];
    if (v === undefined) continue;
    s += ` ${key}="${typeof v === 'number' ? fmt(v) : escapeXml(v)}"`;
  }
  return content === undefined ? `${s}/>` : `${s}>${content}</${tag}>`;
}

/**
 * A `<text>` element with escaped content.
 * @example text(10, 20, 'x < 1', { 'text-anchor': 'middle' }); // '<text x="10" y="20" text-anchor="middle">x &lt; 1</text>'
 */
export function text(x: number, y: number, content: string, attrs: Attrs = {}): string {
  return el('text', { x, y, ...attrs }, escapeXml(content));
}

/**
 * An XML comment with `--` made harmless.
 * @example comment('3 points skipped'); // '<!-- 3 points skipped -->'
 */
export function comment(content: string): string {
  return `<!-- ${content.replace(/--/g, '- -')} -->`;
}

/**
 * What {@link svgDocument} needs.
 * @example svgDocument({ width: 400, height: 300, title: 'loss', body });
 */
export interface SvgDocumentOptions {
  /** Width in px (also the viewBox width). */
  width: number;
  /** Height in px (also the viewBox height). */
  height: number;
  /** The document's `<title>` (shown as the tab title and read by screen readers). */
  title: string;
  /** The drawing, as markup. */
  body: string;
  /** An optional `<desc>`: notes such as skipped points. */
  description?: string;
}

/**
 * A standalone SVG document: XML declaration-free `<svg>` with the SVG namespace, a viewBox equal to
 * its size, a white background, the house font, a `<title>` and an optional `<desc>`.
 *
 * @example
 * svgDocument({ width: 100, height: 50, title: 'empty', body: '' }); // '<svg xmlns=... viewBox="0 0 100 50" ...>...</svg>'
 */
export function svgDocument(options: SvgDocumentOptions): string {
  const { width, height, title, body, description } = options;
  const head = el('svg', {
    xmlns: 'http://www.w3.org/2000/svg',
    viewBox: `0 0 ${fmt(width)} ${fmt(height)}`,
    width,
    height,
    'font-family': FONT_FAMILY,
    fill: INK.text,
  }, '\n').slice(0, -'\n</svg>'.length);
  const parts = [
    head,
    el('title', {}, escapeXml(title)),
    description !== undefined ? el('desc', {}, escapeXml(description)) : '',
    el('rect', { x: 0, y: 0, width, height, fill: '#ffffff' }),
    body,
    '</svg>',
  ];
  return parts.filter((p) => p !== '').join('\n') + '\n';
}
