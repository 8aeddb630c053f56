import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { drawAxes, drawLegend, linearScale, panelGrid } from '../../src/plot/axes.ts';
import { svgDocument } from '../../src/plot/svg.ts';
import { niceTicks } from '../../src/plot/ticks.ts';
import { assertThrows } from '../helpers/assert.ts';
import { parseSvg, texts } from './helpers/xml.ts';

test('linearScale maps the domain ends onto the range ends, reversed ranges included', () => {
  const sx = linearScale([0, 10], [50, 250]);
  assert.is(sx(0), 50);
  assert.is(sx(5), 150);
  assert.is(sx(10), 250);
  const sy = linearScale([-1, 1], [200, 0]);
  assert.is(sy(-1), 200);
  assert.is(sy(1), 0);
  assert.is(linearScale([3, 3], [0, 10])(3), 5);
});

test('panelGrid lays panels out row by row inside their margins', () => {
  const margin = { top: 30, right: 10, bottom: 40, left: 50 };
  const g = panelGrid(5, { columns: 3, width: 200, height: 100, margin, top: 20, right: 7 });
  assert.is(g.width, 3 * 260 + 7);
  assert.is(g.height, 20 + 2 * 170);
  assert.equal(g.plots[0], { x: 50, y: 50, width: 200, height: 100 });
  assert.equal(g.plots[4], { x: 260 + 50, y: 20 + 170 + 30, width: 200, height: 100 });
  assert.is(panelGrid(2, { columns: 4, width: 10, height: 10, margin }).width, 2 * 70);
  assertThrows(() => panelGrid(0, { columns: 1, width: 1, height: 1, margin }), ['count']);
});

test('drawAxes draws tick labels, a title and axis labels', () => {
  const body = drawAxes({ x: 60, y: 30, width: 200, height: 150 }, { x: niceTicks(-4, 4), y: niceTicks(0, 1), title: 'T < 1', xLabel: 'epoch', yLabel: 'nats' });
  const svg = svgDocument({ width: 300, height: 250, title: 't', body });
  parseSvg(svg);
  const t = texts(svg);
  for (const s of ['-4', '-2', '0', '2', '4', '0.0', '0.4', '1.0', 'T < 1', 'epoch', 'nats']) assert.ok(t.includes(s), `missing "${s}" in ${t.join(' | ')}`);
});

test('drawLegend lists every entry, in a column or a row', () => {
  for (const layout of ['column', 'row'] as const) {
    const body = drawLegend(290, 10, [{ label: 'train', color: '#1f77b4', kind: 'line' }, { label: 'data', color: '#d62728', kind: 'dot' }], layout);
    const svg = svgDocument({ width: 300, height: 100, title: 't', body });
    parseSvg(svg);
    assert.equal(texts(svg), ['train', 'data']);
  }
  assert.is(drawLegend(0, 0, []), '');
});

test.run();
