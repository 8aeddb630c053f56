/**
 * Line charts of training curves: the training loss and the validation NLL per epoch, with a legend.
 *
 * @module
 */

import { drawAxes, drawLegend, panelGrid, plotScales, type LegendEntry } from './axes.ts';
import { CATEGORY10 } from './colormap.ts';
import { comment, el, escapeXml, fmt, svgDocument } from './svg.ts';
import { niceTicks } from './ticks.ts';

/**
 * One curve: y against x, with a name for the legend.
 * @example const s: LossSeries = { name: 'train loss', x: [1, 2, 3], y: [2.4, 2.1, 1.9] };
 */
export interface LossSeries {
  name: string;
  x: readonly number[] | Float64Array;
  y: readonly number[] | Float64Array;
  /** Line colour; default the series' place in {@link CATEGORY10}. */
  color?: string;
}

/**
 * What {@link lossFigure} draws.
 * @example lossFigure({ series: [s], xLabel: 'epoch', yLabel: 'nats' });
 */
export interface LossFigureOptions {
  series: readonly LossSeries[];
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Plot-area width, px (default 560). */
  width?: number;
  /** Plot-area height, px (default 320). */
  height?: number;
  /**
   * At most this many points per series are drawn (default 4000); a longer series is thinned to every
   * k-th point (k = ⌈n / maxPoints⌉) plus its last point.
   */
  maxPoints?: number;
}

const MARGIN = { top: 30, right: 20, bottom: 48, left: 66 } as const;

/**
 * A line chart of one or more series on shared axes, with a legend in the top-right corner. A point with a
 * non-finite x or y is left out and breaks its line; the count goes into a `<title>`, a comment and the
 * `<desc>`. Series of at most 60 points also get a dot per point, so sparse validation curves show their
 * samples.
 *
 * @example
 * const svg = lossFigure({
 *   title: 'RealNVP on the post mixture',
 *   xLabel: 'epoch', yLabel: 'nats',
 *   series: [
 *     { name: 'train loss', x: epochs, y: trainLoss },
 *     { name: 'validation NLL', x: epochs, y: valNll },
 *   ],
 * });
 */
export function lossFigure(options: LossFigureOptions): string {
  const { series } = options;
  if (series.length === 0) throw new RangeError('lossFigure: needs at least one series');
  const maxPoints = options.maxPoints ?? 4000;
  if (!Number.isInteger(maxPoints) || maxPoints < 2) throw new RangeError(`lossFigure: maxPoints must be an integer >= 2, got ${maxPoints}`);
  series.forEach((s, k) => {
    if (s.x.length !== s.y.length) throw new RangeError(`lossFigure: series ${k} ("${s.name}") has ${s.x.length} x values and ${s.y.length} y values`);
  });
  let xMin = Infinity, xMax = -Infinity, yMin = Infinity, yMax = -Infinity;
  const skipped: number[] = series.map(() => 0);
  series.forEach((s, k) => {
    for (let i = 0; i < s.x.length; i++) {
      const x = s.x[i]!, y = s.y[i]!;
      if (!Number.isFinite(x) || !Number.isFinite(y)) {
        skipped[k]!++;
        continue;
      }
      if (x < xMin) xMin = x;
      if (x > xMax) xMax = x;
      if (y < yMin) yMin = y;
      if (y > yMax) yMax = y;
    }
  });
  if (xMin > xMax) {
    xMin = 0;
    xMax = 1;
    yMin = 0;
    yMax = 1;
  }
  const yPad = yMax > yMin ? (yMax - yMin) * 0.05 : Math.max(1, Math.abs(yMin)) * 0.1;
  const xTicks = niceTicks(xMin, xMax === xMin ? xMin + 1 : xMax, 6, true);
  const yTicks = niceTicks(yMin - yPad, yMax + yPad, 5);
  const width = options.width ?? 560, height = options.height ?? 320;
  const titleRoom = options.title !== undefined ? 8 : 0;
  const grid = panelGrid(1, { columns: 1, width, height, margin: MARGIN, top: titleRoom });
  const plot = grid.plots[0]!;
  const [sx, sy] = plotScales(plot, xTicks, yTicks);
  const axes: Parameters<typeof drawAxes>[1] = { x: xTicks, y: yTicks };
  if (options.title !== undefined) axes.title = options.title;
  if (options.xLabel !== undefined) axes.xLabel = options.xLabel;
  if (options.yLabel !== undefined) axes.yLabel = options.yLabel;
  const parts: string[] = [drawAxes(plot, axes)];
  const legend: LegendEntry[] = [];
  const notes: string[] = [];
  series.forEach((s, k) => {
    const color = s.color ?? CATEGORY10[k % CATEGORY10.length]!;
    const n = s.x.length;
    const stride = Math.max(1, Math.ceil(n / maxPoints));
    let d = '';
    let dots = '';
    let pen = false;
    for (let i = 0; i < n; i++) {
      if (i % stride !== 0 && i !== n - 1) continue;
      const x = s.x[i]!, y = s.y[i]!;
      if (!Number.isFinite(x) || !Number.isFinite(y)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${fmt(sx(x))} ${fmt(sy(y))}`;
      pen = true;
      if (n <= 60) dots += el('circle', { cx: sx(x), cy: sy(y), r: 2.5 });
    }
    const group = [d !== '' ? el('path', { d, fill: 'none', stroke: color, 'stroke-width': 1.8, 'stroke-linejoin': 'round', 'stroke-linecap': 'round' }) : ''];
    if (dots !== '') group.push(el('g', { fill: color }, dots));
    if (skipped[k]! > 0) {
      const note = `${s.name}: ${skipped[k]} non-finite point${skipped[k] === 1 ? '' : 's'} not drawn`;
      group.unshift(el('title', {}, escapeXml(note)), comment(note));
      notes.push(note);
    }
    if (stride > 1) group.push(comment(`${s.name}: thinned to every ${stride}th of ${n} points`));
    parts.push(el('g', { class: 'series', 'data-name': s.name }, group.join('')));
    legend.push({ label: s.name, color, kind: 'line' });
  });
  parts.push(drawLegend(plot.x + plot.width - 6, plot.y + 6, legend));
  const title = options.title ?? series.map((s) => s.name).join(', ');
  const doc = { width: grid.width, height: grid.height, title, body: parts.join('\n') };
  return svgDocument(notes.length > 0 ? { ...doc, description: notes.join('. ') } : doc);
}
