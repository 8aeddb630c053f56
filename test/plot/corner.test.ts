import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../src/autograd/tensor.ts';
import { cornerFigure } from '../../src/plot/corner.ts';
import { Rng } from '../../src/rng/rng.ts';
import { assertThrows } from '../helpers/assert.ts';
import { parseSvg, texts } from './helpers/xml.ts';

function normals(n: number, d: number, seed: number, shift = 0): Tensor {
  const rng = new Rng(seed), out = new Float64Array(n * d);
  for (let k = 0; k < out.length; k++) out[k] = shift + rng.normal();
  return Tensor.from(n, d, out);
}

test('a d×d lower triangle: marginals on the diagonal, pair histograms below, names on the outer axes', () => {
  const svg = cornerFigure(normals(2000, 3, 1), { names: ['a', 'b', 'c'], title: 'posterior' });
  const els = parseSvg(svg);
  const panels = els.filter((e) => e.name === 'g' && e.attrs.class === 'panel');
  assert.equal(panels.map((p) => `${p.attrs['data-row']},${p.attrs['data-col']}`), ['0,0', '1,0', '1,1', '2,0', '2,1', '2,2']);
  const marginals = els.filter((e) => e.name === 'path' && e.attrs.class === 'marginal');
  assert.is(marginals.length, 3);
  assert.ok(marginals.every((m) => m.ancestorAttrs.some((a) => a.class === 'panel' && a['data-row'] === a['data-col'])), 'marginals sit on the diagonal');
  const cells = els.filter((e) => e.name === 'g' && e.attrs.class === 'cells');
  assert.is(cells.length, 3);
  const t = texts(svg);
  for (const s of ['a', 'b', 'c', 'posterior', 'posterior samples']) assert.ok(t.includes(s), `missing text "${s}"`);
  assert.not.ok(t.includes('true θ'), 'no truth, no legend entry for it');
  assert.is(cornerFigure(normals(2000, 3, 1), { names: ['a', 'b', 'c'], title: 'posterior' }), svg, 'deterministic text');
});

test('the true θ is marked in every panel, and a reference posterior is overlaid', () => {
  const svg = cornerFigure(normals(1000, 2, 2), { truth: [0.5, -0.5], reference: normals(3000, 2, 3, 0.2), maxPoints: 500 });
  const els = parseSvg(svg);
  const truthMarks = els.filter((e) => e.attrs.class === 'truth');
  // A vertical line on each diagonal panel, and a cross plus a dot in the pair panel.
  assert.is(truthMarks.filter((e) => e.name === 'path').length, 3);
  assert.is(truthMarks.filter((e) => e.name === 'circle').length, 1);
  const references = els.filter((e) => e.attrs.class === 'reference');
  assert.is(references.filter((e) => e.name === 'path').length, 2, 'reference marginals as outlines');
  const refDots = els.filter((e) => e.name === 'circle' && e.ancestorAttrs.some((a) => a.class === 'reference'));
  assert.ok(refDots.length > 400 && refDots.length <= 500, `${refDots.length} reference dots (thinned to every 6th of 3000, inside the range)`);
  assert.ok(svg.includes('reference: every 6th of 3000 points'));
  const t = texts(svg);
  for (const s of ['θ₁', 'θ₂', 'true θ', 'reference']) assert.ok(t.includes(s), `missing text "${s}"`);
});

test('a 2-D histogram by hand: all samples in one cell give one fully opaque cell', () => {
  const samples = [[0, 0], [0.01, 0.01], [0.02, 0], [5, 5]];
  const svg = cornerFigure(samples, { ranges: [[-1, 1], [-1, 1]], bins: 4 });
  const els = parseSvg(svg);
  const cellPaths = els.filter((e) => e.name === 'path' && e.ancestorAttrs.some((a) => a.class === 'cells'));
  assert.is(cellPaths.length, 1, 'one level used');
  assert.is(cellPaths[0]!.attrs['fill-opacity'], '1.00');
  // The cell [0, 0.5]² on a 150-px panel of [−1, 1]²: 37.5 px wide, with its left edge at the panel's middle.
  assert.ok(/^M\d+(\.\d+)? \d+(\.\d+)?H\d+(\.\d+)?V\d+(\.\d+)?H\d+(\.\d+)?z$/.test(cellPaths[0]!.attrs.d!), cellPaths[0]!.attrs.d);
  const [x0, , x1] = cellPaths[0]!.attrs.d!.slice(1).split(/[ HVz]/).map(Number);
  assert.is(x1! - x0!, 37.5);
});

test('non-finite sample rows are left out and counted; bad shapes are named', () => {
  const svg = cornerFigure([[0, 1], [NaN, 2], [1, Infinity], [2, 0]]);
  parseSvg(svg);
  assert.ok(/<desc>2 non-finite sample rows not drawn<\/desc>/.test(svg));
  assertThrows(() => cornerFigure([[0, 1]], { names: ['a'] }), ['cornerFigure', '1 names for 2 panels']);
  assertThrows(() => cornerFigure([[0, 1]], { truth: [1, 2, 3] }), ['truth has 3 values for 2 columns']);
  assertThrows(() => cornerFigure([[0, 1]], { reference: [[1]] }), ['the reference has 1 columns, the samples 2']);
  assertThrows(() => cornerFigure([[0, 1], [2]]), ['row 1 has 1 values, row 0 has 2']);
  assertThrows(() => cornerFigure([[0, 1]], { ranges: [[1, 0], [0, 1]] }), ['range 0 must be two finite increasing numbers']);
});

test.run();
