import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lossFigure } from '../../src/plot/loss.ts';
import { assertThrows } from '../helpers/assert.ts';
import { parseSvg, texts } from './helpers/xml.ts';

const epochs = Array.from({ length: 1000 }, (_, i) => i + 1);
const train = epochs.map((e) => 1.64 + 0.8 * Math.exp(-e / 80));
const valX = epochs.filter((e) => e % 50 === 0);
const valY = valX.map((e) => 3.63 + 0.7 * Math.exp(-e / 90));

test('lossFigure draws each series with a legend, axis labels, a title and ticks', () => {
  const svg = lossFigure({ title: 'Training', xLabel: 'epoch', yLabel: 'nats', series: [{ name: 'train loss', x: epochs, y: train }, { name: 'validation NLL', x: valX, y: valY }] });
  const els = parseSvg(svg);
  const t = texts(svg);
  for (const s of ['Training', 'epoch', 'nats', 'train loss', 'validation NLL', '0', '200', '1000', '2.0', '3.5']) assert.ok(t.includes(s), `missing "${s}" in ${t.join(' | ')}`);
  const series = els.filter((e) => e.name === 'g' && e.attrs.class === 'series');
  assert.equal(series.map((s) => s.attrs['data-name']), ['train loss', 'validation NLL']);
  // The sparse validation curve (20 points) gets a dot per point; the dense one none.
  const dots = els.filter((e) => e.name === 'circle' && e.ancestorAttrs.some((a) => a.class === 'series'));
  assert.is(dots.length, 20);
  assert.is(els.filter((e) => e.name === 'g' && e.attrs.class === 'legend').length, 1);
});

test('a non-finite loss breaks the line and is counted', () => {
  const y = [3, 2, NaN, 1.5, 1.4, Infinity, 1.3];
  const svg = lossFigure({ series: [{ name: 'train', x: y.map((_, i) => i), y }] });
  const els = parseSvg(svg);
  const d = els.find((e) => e.name === 'path' && e.ancestorAttrs.some((a) => a.class === 'series'))!.attrs.d!;
  assert.is(d.match(/M/g)!.length, 3, `three pieces: ${d}`);
  assert.ok(svg.includes('train: 2 non-finite points not drawn'));
});

test('a long series is thinned but keeps its last point', () => {
  const x = Array.from({ length: 10_001 }, (_, i) => i), y = x.map((v) => 1 / (1 + v));
  const svg = lossFigure({ series: [{ name: 'steps', x, y }], maxPoints: 1000 });
  const els = parseSvg(svg);
  const d = els.find((e) => e.name === 'path' && e.ancestorAttrs.some((a) => a.class === 'series'))!.attrs.d!;
  // Stride ⌈10001 / 1000⌉ = 11: points 0, 11, …, 9999 (910 of them) and the last point, 10000.
  assert.is(d.match(/[ML]/g)!.length, 911);
  // The last point (x = 10000, the right end of the axis) ends the line at the plot's right edge, 66 + 560.
  assert.is(d.split('L').at(-1)!.split(' ')[0], '626');
  assert.ok(svg.includes('thinned to every 11th of 10001 points'));
});

test('lossFigure refuses mismatched or missing series', () => {
  assertThrows(() => lossFigure({ series: [] }), ['at least one series']);
  assertThrows(() => lossFigure({ series: [{ name: 'a', x: [1, 2], y: [1] }] }), ['2 x values and 1 y values']);
});

test('a single point or a flat line still renders', () => {
  parseSvg(lossFigure({ series: [{ name: 'one', x: [5], y: [2] }] }));
  parseSvg(lossFigure({ series: [{ name: 'flat', x: [1, 2, 3], y: [1, 1, 1] }] }));
  parseSvg(lossFigure({ series: [{ name: 'none', x: [1], y: [NaN] }] }));
});

test.run();
