/**
 * The expected-coverage figure: empirical coverage of the posterior's credible regions against the
 * credible level, for the joint highest-density regions and each parameter's central intervals, on the
 * diagonal of perfect calibration with its binomial band (as sbi's and BayesFlow's coverage plots).
 * Below the diagonal the posterior is overconfident, above it underconfident; the figure says so in
 * the two corners. Inputs are plain data, shaped like the result of `expectedCoverage`.
 *
 * @module
 */

import { drawAxes, drawLegend, panelGrid, plotScales, type LegendEntry } from './axes.ts';
import { CATEGORY10 } from './colormap.ts';
import { el, fmt, FONT_SIZE, INK, svgDocument, text } from './svg.ts';
import { namesFor } from './names.ts';
import { niceTicks } from './ticks.ts';

/**
 * One coverage curve: levels, empirical coverage, and the band at each level.
 * @example const c: CoverageCurveInput = { levels: [0, 0.5, 1], coverage: [0, 0.48, 1], lower: [0, 0.45, 1], upper: [0, 0.55, 1] };
 */
export interface CoverageCurveInput {
  readonly levels: readonly number[];
  readonly coverage: readonly number[];
  readonly lower: readonly number[];
  readonly upper: readonly number[];
  readonly dim?: number | null;
  readonly verdict?: string;
}

/**
 * What {@link coverageFigure} draws: an optional joint HPD curve and one central curve per parameter.
 * @example coverageFigure({ hpd: null, central: [curve] }, { names: ['θ₁'] });
 */
export interface CoverageInput {
  readonly hpd: CoverageCurveInput | null;
  readonly central: readonly CoverageCurveInput[];
  readonly alpha?: number;
}

/**
 * Options of {@link coverageFigure}.
 * @example coverageFigure(result, { names: ['θ₁', 'θ₂'], title: 'expected coverage' });
 */
export interface CoverageFigureOptions {
  names?: readonly string[];
  title?: string;
  /** Side of the square plot area, px (default 360). */
  size?: number;
}

const MARGIN = { top: 30, right: 20, bottom: 50, left: 62 } as const;

/**
 * One square panel: the band (grey), the diagonal (dashed), the HPD curve (black, thick) and a curve per
 * parameter's central intervals (tab10 colours), with a legend naming each curve and its verdict. Each
 * curve is a `<path class="coverage">` with `data-name`.
 *
 * @example
 * const svg = coverageFigure(expectedCoverage(set, { rng }), { names: ['θ₁', 'θ₂'] });
 */
export function coverageFigure(input: CoverageInput, options: CoverageFigureOptions = {}): string {
  const curves: { name: string; curve: CoverageCurveInput; color: string; width: number }[] = [];
  const d = input.central.length;
  const names = namesFor(options.names, d, 'coverageFigure');
  if (input.hpd !== null) curves.push({ name: 'joint HPD', curve: input.hpd, color: INK.text, width: 2.2 });
  input.central.forEach((c, j) => curves.push({ name: `${names[j]} central`, curve: c, color: CATEGORY10[j % CATEGORY10.length]!, width: 1.4 }));
  if (curves.length === 0) throw new RangeError('coverageFigure: no curve to draw');
  for (const { name, curve } of curves) {
    const n = curve.levels.length;
    if (n < 2) throw new RangeError(`coverageFigure: curve "${name}" needs at least 2 levels`);
    for (const key of ['coverage', 'lower', 'upper'] as const) {
      if (curve[key].length !== n) throw new RangeError(`coverageFigure: curve "${name}" has ${curve[key].length} ${key} values for ${n} levels`);
    }
  }
  const size = options.size ?? 360;
  const titleRoom = options.title !== undefined ? 8 : 0;
  const labels = curves.map(({ name, curve }) => (curve.verdict !== undefined ? `${name}: ${curve.verdict}` : name));
  // The legend sits right of the plot, off the curves: its width estimated as drawLegend does.
  const legendWidth = 12 + 22 + Math.max(22, ...labels.map((l) => l.length)) * FONT_SIZE.tick * 0.6;
  const grid = panelGrid(1, { columns: 1, width: size, height: size, margin: MARGIN, top: titleRoom, right: legendWidth + 10 });
  const plot = grid.plots[0]!;
  const ticks = niceTicks(0, 1, 5);
  const [sx, sy] = plotScales(plot, ticks, ticks);
  const parts: string[] = [drawAxes(plot, { x: ticks, y: ticks, xLabel: 'credible level', yLabel: 'empirical coverage', ...(options.title !== undefined ? { title: options.title } : {}) })];
  const first = curves[0]!.curve;
  let band = '';
  first.levels.forEach((c, k) => (band += `${k === 0 ? 'M' : 'L'}${fmt(sx(c))} ${fmt(sy(first.upper[k]!))}`));
  for (let k = first.levels.length - 1; k >= 0; k--) band += `L${fmt(sx(first.levels[k]!))} ${fmt(sy(first.lower[k]!))}`;
  const confidence = input.alpha !== undefined ? `${Math.round((1 - input.alpha) * 1000) / 10}% ` : '';
  parts.push(el('path', { class: 'band', d: band + 'Z', fill: '#d9d9d9', 'fill-opacity': 0.8 }));
  parts.push(el('path', { d: `M${fmt(sx(0))} ${fmt(sy(0))}L${fmt(sx(1))} ${fmt(sy(1))}`, stroke: INK.axis, 'stroke-dasharray': '4 3', 'stroke-width': 1 }));
  parts.push(text(plot.x + plot.width - 8, plot.y + plot.height - 10, 'overconfident', { 'text-anchor': 'end', 'font-size': FONT_SIZE.note, fill: INK.note }));
  parts.push(text(plot.x + 8, plot.y + 16, 'underconfident', { 'font-size': FONT_SIZE.note, fill: INK.note }));
  const legend: LegendEntry[] = [];
  curves.forEach(({ name, curve, color, width }, k) => {
    let d = '';
    curve.levels.forEach((c, k) => (d += `${k === 0 ? 'M' : 'L'}${fmt(sx(c))} ${fmt(sy(curve.coverage[k]!))}`));
    parts.push(el('path', { class: 'coverage', 'data-name': name, d, fill: 'none', stroke: color, 'stroke-width': width, 'stroke-linejoin': 'round' }));
    legend.push({ label: labels[k]!, color, kind: 'line' });
  });
  legend.push({ label: `${confidence}binomial band`, color: '#bdbdbd', kind: 'line' });
  parts.push(drawLegend(grid.width - 6, plot.y, legend));
  return svgDocument({ width: grid.width, height: grid.height, title: options.title ?? 'expected coverage', body: parts.join('\n') });
}
