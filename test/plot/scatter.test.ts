import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../src/autograd/tensor.ts';
import { postMixture } from '../../src/data/mixture.ts';
import { Rng } from '../../src/rng/rng.ts';
import { readPoints, scatterFigure } from '../../src/plot/scatter.ts';
import { assertThrows } from '../helpers/assert.ts';
import { parseSvg, texts } from './helpers/xml.ts';

test('readPoints accepts a Float64Array, rows and a tensor, and leaves out non-finite points', () => {
  const a = readPoints(new Float64Array([0, 1, NaN, 2, 3, 4]));
  assert.equal([Array.from(a.xs), Array.from(a.ys), a.nonFinite], [[0, 3], [1, 4], 1]);
  const b = readPoints([[0, 1], [Infinity, 0], [5, 6]]);
  assert.equal([Array.from(b.xs), Array.from(b.ys), b.nonFinite], [[0, 5], [1, 6], 1]);
  const c = readPoints(Tensor.from(2, 2, new Float64Array([1, 2, 3, -Infinity])));
  assert.equal([Array.from(c.xs), c.nonFinite], [[1], 1]);
  assertThrows(() => readPoints(new Float64Array(3)), ['even length']);
  assertThrows(() => readPoints([[1, 2, 3]]), ['point 0 has 3 values']);
  assertThrows(() => readPoints(Tensor.zeros(4, 3)), ['expected n×2 points, got 4×3']);
});

test('scatterFigure draws one panel per point set with titles, ticks and every point', () => {
  const samples = postMixture.sample(300, new Rng(1)), data = postMixture.sample(200, new Rng(2));
  const svg = scatterFigure([{ title: 'flow samples', points: samples }, { title: 'training data', points: data, color: '#d62728' }], { title: 'Samples & data' });
  const els = parseSvg(svg);
  const t = texts(svg);
  for (const s of ['flow samples', 'training data', 'Samples & data', '0', '-4', '4']) assert.ok(t.includes(s), `missing "${s}"`);
  const panels = els.filter((e) => e.name === 'g' && e.attrs.class === 'panel');
  assert.is(panels.length, 2);
  const circles = els.filter((e) => e.name === 'circle');
  assert.is(circles.length, 500);
  // Every circle sits inside its panel's plot area: coordinates are finite numbers with at most 2 decimals.
  for (const c of circles) assert.ok(/^-?\d+(\.\d{1,2})?$/.test(c.attrs.cx!) && /^-?\d+(\.\d{1,2})?$/.test(c.attrs.cy!), `circle at ${c.attrs.cx}, ${c.attrs.cy}`);
  assert.ok(svg.includes('fill="#d62728"'));
});

test('the panels share one range', () => {
  // Far-apart sets: the tick labels of both panels cover both sets.
  const svg = scatterFigure([{ title: 'a', points: [[0, 0], [1, 1]] }, { title: 'b', points: [[100, 100], [101, 101]] }]);
  parseSvg(svg);
  const t = texts(svg);
  const count = (label: string) => t.filter((s) => s === label).length;
  assert.is(count('0'), 4, 'x and y tick "0" in both panels');
  assert.is(count('100'), 4, 'x and y tick "100" in both panels');
});

test('non-finite points are skipped and counted', () => {
  const svg = scatterFigure([{ title: 'p', points: [[0, 0], [NaN, 1], [1, Infinity], [2, 2]] }]);
  const els = parseSvg(svg);
  assert.is(els.filter((e) => e.name === 'circle').length, 2);
  assert.ok(svg.includes('2 non-finite points not drawn'));
  assert.ok(/<desc>[^<]*2 non-finite points not drawn/.test(svg));
  assert.ok(/<title>[^<]*2 non-finite points not drawn/.test(svg));
});

test('a fixed range leaves out points outside it and says how many', () => {
  const svg = scatterFigure([{ title: 'p', points: [[0, 0], [10, 0], [0, -10]] }], { range: { x: [-1, 1], y: [-1, 1] } });
  const els = parseSvg(svg);
  assert.is(els.filter((e) => e.name === 'circle').length, 1);
  assert.ok(svg.includes('2 points outside the range not drawn'));
  assertThrows(() => scatterFigure([{ title: 'p', points: [] }], { range: { x: [1, -1], y: [0, 1] } }), ['range.x']);
});

test('a large point set is thinned to maxPoints, and the file says so', () => {
  const svg = scatterFigure([{ title: 'big', points: postMixture.sample(10_000, new Rng(3)) }], { maxPoints: 1000 });
  const els = parseSvg(svg);
  assert.is(els.filter((e) => e.name === 'circle').length, 1000);
  assert.ok(svg.includes('thinned to every 10th of 10000 points'));
});

test('an empty point set still gives a valid figure', () => {
  const svg = scatterFigure([{ title: 'nothing', points: [] }]);
  parseSvg(svg);
  assert.ok(texts(svg).includes('nothing'));
  assertThrows(() => scatterFigure([]), ['at least one panel']);
});

test.run();
