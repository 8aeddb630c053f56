import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { recoveryFigure, zScoreContractionFigure } from '../../src/plot/recovery.ts';
import { assertThrows } from '../helpers/assert.ts';
import { parseSvg, texts } from './helpers/xml.ts';

const truth = Array.from({ length: 100 }, (_, i) => (i - 50) / 50);
const dim0 = { dim: 0, truth, mean: truth.map((t) => t / 2), sd: truth.map(() => 0.1), z: truth.map((t) => -t / 0.2), contraction: truth.map(() => 0.5), correlation: 0.7071, medianZ: 0.01, medianContraction: 0.5, verdict: 'calibrated' };

test('recovery: a point per pair with its error bar, the identity line and the summary numbers', () => {
  const svg = recoveryFigure({ dimensions: [dim0, { ...dim0, dim: 1, verdict: 'biased', direction: 'above' }] }, { names: ['a', 'b'] });
  const els = parseSvg(svg);
  assert.is(els.filter((e) => e.name === 'g' && e.attrs.class === 'panel').length, 2);
  assert.is(els.filter((e) => e.name === 'circle').length, 200);
  const bars = els.filter((e) => e.attrs.class === 'error-bars');
  assert.is(bars.length, 2);
  assert.is(bars[0]!.attrs.d!.split('M').length - 1, 100);
  const t = texts(svg);
  for (const s of ['a — calibrated', 'b — biased (above)', 'r = 0.707', 'median z = 0.01', 'contraction = 0.50', 'true value', 'posterior mean']) assert.ok(t.includes(s), `missing "${s}"`);
});

test('recovery thins to maxPoints and says so', () => {
  const svg = recoveryFigure({ dimensions: [dim0] }, { maxPoints: 30 });
  assert.is(parseSvg(svg).filter((e) => e.name === 'circle').length, 25);
  assert.ok(svg.includes('every 4th of 100 pairs drawn'));
  assertThrows(() => recoveryFigure({ dimensions: [{ dim: 0, truth: [1, 2], mean: [1] }] }), ['recoveryFigure', 'dimension 0 has 2 true values and 1 means']);
});

test('z-score against contraction: points in [0, 1] × z, with the ±3 guides', () => {
  const svg = zScoreContractionFigure({ dimensions: [dim0] });
  const els = parseSvg(svg);
  assert.is(els.filter((e) => e.name === 'circle').length, 100);
  assert.ok(texts(svg).includes('posterior contraction'));
  assertThrows(() => zScoreContractionFigure({ dimensions: [{ dim: 0, truth: [1], mean: [1] }] }), ['needs z and contraction']);
});

test.run();
