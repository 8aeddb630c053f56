import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sbcEcdfFigure, sbcRankFigure } from '../../src/plot/sbc.ts';
import { assertThrows } from '../helpers/assert.ts';
import { parseSvg, texts } from './helpers/xml.ts';

// Four bins of 25 ranks each (ranks 0..99), two parameters.
const rankInput = {
  edges: [0, 25, 50, 75, 100],
  histogramBand: { lower: [15, 15, 15, 15], upper: [35, 35, 35, 35], expected: [25, 25, 25, 25], confidence: 0.99 },
  dimensions: [
    { dim: 0, counts: [10, 20, 30, 40], verdict: 'biased', direction: 'below' },
    { dim: 1, counts: [25, 25, 25, 25], verdict: 'calibrated' },
  ],
};

test('rank histograms: a panel per parameter, a bar per bin with heights in proportion to the counts, the band and the verdict', () => {
  const svg = sbcRankFigure(rankInput, { names: ['μ', 'σ'] });
  const els = parseSvg(svg);
  const panels = els.filter((e) => e.name === 'g' && e.attrs.class === 'panel');
  assert.is(panels.length, 2);
  const bars = els.filter((e) => e.name === 'rect' && e.attrs.class === 'bar');
  assert.is(bars.length, 8);
  const heights = bars.slice(0, 4).map((b) => Number(b.attrs.height));
  for (let k = 1; k < 4; k++) assert.ok(Math.abs(heights[k]! / heights[0]! - (k + 1)) < 0.01, `bar ${k}: ${heights[k]} against ${heights[0]}`);
  assert.is(els.filter((e) => e.name === 'path' && e.attrs.class === 'band').length, 2);
  const t = texts(svg);
  assert.ok(t.includes('μ — biased (below)') && t.includes('σ — calibrated'), t.join(' | '));
  assert.ok(/<title>SBC rank histograms \(99% band\)<\/title>/.test(svg));
});

test('bins of unequal width are drawn per rank, so a uniform histogram is flat', () => {
  const input = { edges: [0, 1, 3], histogramBand: { lower: [0, 0], upper: [20, 40], expected: [10, 20] }, dimensions: [{ dim: 0, counts: [10, 20] }] };
  const bars = parseSvg(sbcRankFigure(input)).filter((e) => e.name === 'rect' && e.attrs.class === 'bar');
  assert.is(bars[0]!.attrs.height, bars[1]!.attrs.height);
});

test('ECDF difference: a band and a curve per parameter, the curve pinned to 0 at both ends', () => {
  const input = {
    ecdfBand: { levels: [0.25, 0.5, 0.75], lower: [0.15, 0.4, 0.65], upper: [0.35, 0.6, 0.85], confidence: 0.99 },
    dimensions: [{ dim: 0, ecdf: [0.25, 0.5, 0.75] }, { dim: 1, ecdf: [0.45, 0.7, 0.9], verdict: 'biased', direction: 'above' }],
  };
  const svg = sbcEcdfFigure(input);
  const els = parseSvg(svg);
  const curves = els.filter((e) => e.name === 'path' && e.attrs.class === 'ecdf');
  assert.is(curves.length, 2);
  // The calibrated curve is F(z) − z = 0 everywhere: one y value along its whole length.
  const ys = new Set(curves[0]!.attrs.d!.slice(1).split('L').map((p) => p.split(' ')[1]));
  assert.is(ys.size, 1);
  const ys2 = curves[1]!.attrs.d!.slice(1).split('L').map((p) => p.split(' ')[1]);
  assert.is(ys2[0], ys2[ys2.length - 1]);
  assert.is(els.filter((e) => e.name === 'path' && e.attrs.class === 'band').length, 2);
  assert.ok(texts(svg).includes('θ₂ — biased (above)'));
  assert.ok(svg.includes('99% simultaneous band'));
});

test('inputs that do not line up are refused with the counts', () => {
  assertThrows(() => sbcRankFigure({ ...rankInput, dimensions: [{ dim: 3, counts: [1, 2] }] }), ['sbcRankFigure', 'dimension 3 has 2 counts for 4 bins']);
  assertThrows(() => sbcRankFigure({ ...rankInput, histogramBand: { ...rankInput.histogramBand, lower: [1] } }), ['histogramBand.lower has 1 values for 4 bins']);
  assertThrows(() => sbcRankFigure(rankInput, { names: ['a'] }), ['1 names for 2 panels']);
  assertThrows(() => sbcEcdfFigure({ ecdfBand: { levels: [0.5], lower: [0.4], upper: [0.6] }, dimensions: [{ dim: 0, ecdf: [0.1, 0.2] }] }), ['dimension 0 has 2 ECDF values for 1 levels']);
});

test.run();
