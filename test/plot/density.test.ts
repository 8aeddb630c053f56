import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../src/autograd/tensor.ts';
import { postMixture } from '../../src/data/mixture.ts';
import { viridis } from '../../src/plot/colormap.ts';
import { densityFigure, type DensityGrid } from '../../src/plot/density.ts';
import { assertThrows } from '../helpers/assert.ts';
import { parseSvg, texts } from './helpers/xml.ts';

function mixtureGrid(m: number, scale = 1): DensityGrid {
  const h = 12 / m;
  const pts = new Float64Array(2 * m * m);
  for (let j = 0; j < m; j++) for (let i = 0; i < m; i++) {
    pts[2 * (j * m + i)] = -6 + (i + 0.5) * h;
    pts[2 * (j * m + i) + 1] = -6 + (j + 0.5) * h;
  }
  const values = postMixture.logDensity!(Tensor.from(m * m, 2, pts)).map((v) => scale * Math.exp(v));
  return { x0: -6, x1: 6, y0: -6, y1: 6, nx: m, ny: m, values };
}

test('densityFigure draws titled heat maps with ticks and a labelled colour bar', () => {
  const svg = densityFigure([{ title: 'learned', grid: mixtureGrid(60) }, { title: 'true', grid: mixtureGrid(60) }], { title: 'Post mixture' });
  const els = parseSvg(svg);
  const t = texts(svg);
  for (const s of ['learned', 'true', 'Post mixture', 'density', '-6', '-4', '0', '4', '6', 'x₁', 'x₂', '0.00', '0.02']) assert.ok(t.includes(s), `missing "${s}" in ${t.join(' | ')}`);
  assert.is(els.filter((e) => e.name === 'g' && e.attrs.class === 'panel').length, 2);
  assert.is(els.filter((e) => e.name === 'g' && e.attrs.class === 'colorbar').length, 1);
  const cellPaths = els.filter((e) => e.name === 'path' && e.ancestorAttrs.some((a) => a.class === 'cells'));
  assert.ok(cellPaths.length > 10 && cellPaths.length <= 2 * 64, `${cellPaths.length} level paths`);
  assert.ok(svg.length < 200_000, `${svg.length} bytes`);
});

test('the colour scale is shared: the same value gets the same colour in every panel', () => {
  // Panel b holds half the values of panel a, so it never reaches the top colour.
  const a = mixtureGrid(40), b = mixtureGrid(40, 0.5);
  const svg = densityFigure([{ title: 'a', grid: a }, { title: 'b', grid: b }], { levels: 8 });
  const els = parseSvg(svg);
  const fills = (k: number) => new Set(els.filter((e) => e.name === 'path' && e.ancestorAttrs.some((x) => x['data-index'] === String(k)) && e.ancestorAttrs.some((x) => x.class === 'cells')).map((e) => e.attrs.fill));
  const top = viridis(7.5 / 8);
  assert.ok(fills(0).has(top), 'panel a reaches the top level');
  assert.not.ok(fills(1).has(top), 'panel b stays below it');
  assert.ok(fills(1).has(viridis(0.5 / 8)));
});

test('a given range clamps values outside it to the end colours', () => {
  const g: DensityGrid = { x0: 0, x1: 2, y0: 0, y1: 1, nx: 2, ny: 1, values: [-5, 5] };
  const svg = densityFigure([{ title: 'clamped', grid: g }], { range: [0, 1], levels: 4 });
  const els = parseSvg(svg);
  const fills = els.filter((e) => e.name === 'path' && e.ancestorAttrs.some((a) => a.class === 'cells')).map((e) => e.attrs.fill);
  assert.equal(fills.sort(), [viridis(0.125), viridis(0.875)].sort());
});

test('cells of one level merge into runs, and rows run bottom to top', () => {
  // 3×2 grid: bottom row all low, top row all high -> two paths of one run each.
  const g: DensityGrid = { x0: 0, x1: 3, y0: 0, y1: 2, nx: 3, ny: 2, values: [0, 0, 0, 1, 1, 1] };
  const svg = densityFigure([{ title: 'runs', grid: g }], { levels: 2, size: 300 });
  const els = parseSvg(svg);
  const paths = els.filter((e) => e.name === 'path' && e.ancestorAttrs.some((a) => a.class === 'cells'));
  assert.is(paths.length, 2);
  for (const p of paths) assert.is(p.attrs.d!.match(/M/g)!.length, 1, `one run: ${p.attrs.d}`);
  const low = paths.find((p) => p.attrs.fill === viridis(0.25))!, high = paths.find((p) => p.attrs.fill === viridis(0.75))!;
  const y = (p: typeof low) => Number(p.attrs.d!.split(' ')[1]!.split('h')[0]);
  assert.ok(y(high) < y(low), 'the high row (j = 1) is drawn above the low row (j = 0)');
});

test('non-finite values are left out and counted', () => {
  const g: DensityGrid = { x0: 0, x1: 2, y0: 0, y1: 2, nx: 2, ny: 2, values: [1, NaN, Infinity, 2] };
  const svg = densityFigure([{ title: 'holes', grid: g }]);
  parseSvg(svg);
  assert.ok(/<title>2 non-finite values not drawn<\/title>/.test(svg));
  assert.ok(/<desc>[^<]*2 non-finite values not drawn/.test(svg));
});

test('densityFigure refuses malformed grids', () => {
  const good: DensityGrid = { x0: 0, x1: 1, y0: 0, y1: 1, nx: 2, ny: 2, values: [1, 2, 3, 4] };
  assertThrows(() => densityFigure([]), ['at least one panel']);
  assertThrows(() => densityFigure([{ title: 'p', grid: { ...good, values: [1, 2, 3] } }]), ['a 2×2 grid needs 4 values, got 3']);
  assertThrows(() => densityFigure([{ title: 'p', grid: { ...good, x1: 0 } }]), ['x0 < x1']);
  assertThrows(() => densityFigure([{ title: 'p', grid: { ...good, nx: 0, values: [] } }]), ['positive integers']);
  assertThrows(() => densityFigure([{ title: 'p', grid: good }], { range: [1, 1] }), ['range']);
  assertThrows(() => densityFigure([{ title: 'p', grid: good }], { levels: 1 }), ['levels']);
});

test('a constant or all-missing grid still renders', () => {
  parseSvg(densityFigure([{ title: 'flat', grid: { x0: 0, x1: 1, y0: 0, y1: 1, nx: 2, ny: 1, values: [3, 3] } }]));
  parseSvg(densityFigure([{ title: 'empty', grid: { x0: 0, x1: 1, y0: 0, y1: 1, nx: 1, ny: 1, values: [NaN] } }]));
});

test.run();
