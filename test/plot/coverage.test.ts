import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { coverageFigure } from '../../src/plot/coverage.ts';
import { assertThrows } from '../helpers/assert.ts';
import { parseSvg, texts } from './helpers/xml.ts';

const levels = [0, 0.25, 0.5, 0.75, 1];
const band = { lower: [0, 0.2, 0.45, 0.7, 1], upper: [0, 0.3, 0.55, 0.8, 1] };
const curve = (coverage: number[], verdict: string, dim: number | null) => ({ levels, coverage, ...band, verdict, dim });

test('one panel: the band, the diagonal, the HPD curve and a curve per parameter, each named with its verdict', () => {
  const input = {
    hpd: curve([0, 0.1, 0.3, 0.5, 1], 'overconfident', null),
    central: [curve([0, 0.25, 0.5, 0.75, 1], 'calibrated', 0), curve([0, 0.4, 0.7, 0.9, 1], 'underconfident', 1)],
    alpha: 0.01,
  };
  const svg = coverageFigure(input, { names: ['a', 'b'] });
  const els = parseSvg(svg);
  const curves = els.filter((e) => e.name === 'path' && e.attrs.class === 'coverage');
  assert.equal(curves.map((c) => c.attrs['data-name']), ['joint HPD', 'a central', 'b central']);
  // The calibrated curve lies on the diagonal: its points are those of the dashed identity line.
  const diagonal = els.find((e) => e.name === 'path' && e.attrs['stroke-dasharray'] === '4 3')!;
  const [start, end] = diagonal.attrs.d!.slice(1).split('L');
  const points = curves[1]!.attrs.d!.slice(1).split('L');
  assert.equal([points[0], points[points.length - 1]], [start, end]);
  assert.is(els.filter((e) => e.attrs.class === 'band').length, 1);
  const t = texts(svg);
  for (const s of ['joint HPD: overconfident', 'a central: calibrated', 'b central: underconfident', '99% binomial band', 'overconfident', 'underconfident', 'credible level', 'empirical coverage']) {
    assert.ok(t.includes(s), `missing text "${s}"`);
  }
});

test('without an HPD curve only the central curves are drawn; mismatched inputs are refused', () => {
  const svg = coverageFigure({ hpd: null, central: [curve([0, 0.25, 0.5, 0.75, 1], 'calibrated', 0)] });
  assert.is(parseSvg(svg).filter((e) => e.attrs.class === 'coverage').length, 1);
  assertThrows(() => coverageFigure({ hpd: null, central: [] }), ['coverageFigure', 'no curve to draw']);
  assertThrows(() => coverageFigure({ hpd: null, central: [{ ...curve([0, 1], 'calibrated', 0) }] }), ['"θ₁ central" has 2 coverage values for 5 levels']);
});

test.run();
