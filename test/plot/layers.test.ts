import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { postMixture } from '../../src/data/mixture.ts';
import { Rng } from '../../src/rng/rng.ts';
import { OVERLAY_RED } from '../../src/plot/colormap.ts';
import { layerFigure } from '../../src/plot/layers.ts';
import { assertThrows } from '../helpers/assert.ts';
import { parseSvg, texts } from './helpers/xml.ts';

// Eight panels of points moving from N(0, I) towards the two modes, like the post's Figure 1.
function panels(n: number) {
  const rng = new Rng(1);
  const z: number[][] = [];
  for (let i = 0; i < n; i++) z.push([rng.normal(), rng.normal()]);
  return Array.from({ length: 8 }, (_, k) => {
    const t = (k + 1) / 8;
    return { title: `layers ${2 * k + 1}–${2 * k + 2}`, points: z.map(([a, b]) => { const s = Math.sign(a! + b!) || 1; return [a! + 2 * t * s, b! + 2 * t * s]; }) };
  });
}

test('the layer figure has one panel per pair of layers, each titled, four to a row', () => {
  const svg = layerFigure(panels(100), { overlay: postMixture.sample(50, new Rng(2)), title: 'Test points through the flow' });
  const els = parseSvg(svg);
  const t = texts(svg);
  for (let k = 0; k < 8; k++) assert.ok(t.includes(`layers ${2 * k + 1}–${2 * k + 2}`));
  assert.ok(t.includes('Test points through the flow'));
  assert.ok(t.includes('flow samples') && t.includes('training data'), 'legend');
  assert.is(els.filter((e) => e.name === 'g' && e.attrs.class === 'panel').length, 8);
  // 4 columns × 2 rows: the width is 4 panel cells.
  const [, , w, h] = els[0]!.attrs.viewBox!.split(' ').map(Number);
  assert.ok(w! > 3 * h! / 2 && w! < 3 * h!, `viewBox ${w}×${h}`);
});

test('the training data is drawn in red in the last panel only', () => {
  const svg = layerFigure(panels(100), { overlay: postMixture.sample(50, new Rng(2)) });
  const els = parseSvg(svg);
  const redGroups = els.filter((e) => e.name === 'g' && e.attrs.class === 'points' && e.attrs.fill === OVERLAY_RED);
  assert.is(redGroups.length, 1);
  const panel = redGroups[0]!.ancestorAttrs.find((a) => a.class === 'panel');
  assert.is(panel?.['data-index'], '7');
  const redDots = els.filter((e) => e.name === 'circle' && e.ancestorAttrs.some((a) => a.fill === OVERLAY_RED && a.class === 'points'));
  assert.is(redDots.length, 50);
  assert.is(OVERLAY_RED, '#d62728');
});

test('the layer figure without an overlay has no red and no legend', () => {
  const svg = layerFigure(panels(20));
  parseSvg(svg);
  assert.not.ok(svg.includes(OVERLAY_RED));
  assert.not.ok(svg.includes('class="legend"'));
  assertThrows(() => layerFigure([]), ['at least one panel']);
});

test('a diverged panel with non-finite points is still drawn, with a note', () => {
  const p = panels(10);
  p[2]!.points[0] = [NaN, 1];
  const svg = layerFigure(p, { overlay: [[0, 0]] });
  parseSvg(svg);
  assert.ok(svg.includes('1 non-finite point not drawn'));
});

test.run();
