/**
 * Layout and axes: linear scales, a grid of equal panels, and a framed plot area with ticks, tick labels,
 * light grid lines, a panel title and axis labels.
 *
 * @module
 */

import { el, fmt, FONT_SIZE, INK, text } from './svg.ts';
import type { Ticks } from './ticks.ts';

/**
 * A rectangle in SVG user units (px): top-left corner, width, height.
 * @example const plot: Rect = { x: 50, y: 30, width: 200, height: 200 };
 */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Space around a plot area inside its panel, px.
 * @example const margin: Margin = { top: 28, right: 14, bottom: 34, left: 44 };
 */
export interface Margin {
  top: number;
  right: number;
  bottom: number;
  left: number;
}

/**
 * The affine map sending `domain[0]` to `range[0]` and `domain[1]` to `range[1]`. An empty domain maps
 * everything to the middle of the range.
 *
 * @example
 * const sx = linearScale([0, 10], [50, 250]);
 * sx(5); // 150
 * const sy = linearScale([0, 1], [200, 0]); // y grows upwards on screen
 */
export function linearScale(domain: readonly [number, number], range: readonly [number, number]): (v: number) => number {
  const [d0, d1] = domain, [r0, r1] = range;
  if (d1 === d0) return () => (r0 + r1) / 2;
  const k = (r1 - r0) / (d1 - d0);
  return (v: number) => r0 + (v - d0) * k;
}

/**
 * Options of {@link panelGrid}.
 * @example panelGrid(8, { columns: 4, width: 220, height: 220, margin, top: 30 });
 */
export interface PanelGridOptions {
  /** Panels per row. */
  columns: number;
  /** Plot-area width of each panel, px. */
  width: number;
  /** Plot-area height of each panel, px. */
  height: number;
  /** Space around each plot area (titles, tick labels). */
  margin: Margin;
  /** Space above the grid, for a figure title (default 0). */
  top?: number;
  /** Extra space right of the grid, e.g. for a colour bar (default 0). */
  right?: number;
}

/**
 * What {@link panelGrid} returns: the figure size and the plot area of every panel.
 * @example const { width, height, plots } = panelGrid(2, options);
 */
export interface PanelGrid {
  width: number;
  height: number;
  plots: Rect[];
}

/**
 * Lays out `count` equal panels row by row, `columns` to a row; returns the total size and each panel's
 * plot area (inside its margins).
 *
 * @example
 * const g = panelGrid(8, { columns: 4, width: 200, height: 200, margin: { top: 30, right: 10, bottom: 40, left: 50 } });
 * g.plots.length; // 8
 * g.width;        // 4 × (200 + 50 + 10) = 1040
 */
export function panelGrid(count: number, options: PanelGridOptions): PanelGrid {
  const { width, height, margin } = options;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`panelGrid: count must be a positive integer, got ${count}`);
  const columns = Math.min(count, options.columns);
  if (!Number.isInteger(columns) || columns < 1) throw new RangeError(`panelGrid: columns must be a positive integer, got ${options.columns}`);
  const rows = Math.ceil(count / columns);
  const top = options.top ?? 0, right = options.right ?? 0;
  const cellW = margin.left + width + margin.right, cellH = margin.top + height + margin.bottom;
  const plots: Rect[] = [];
  for (let k = 0; k < count; k++) {
    const r = Math.floor(k / columns), c = k % columns;
    plots.push({ x: c * cellW + margin.left, y: top + r * cellH + margin.top, width, height });
  }
  return { width: columns * cellW + right, height: top + rows * cellH, plots };
}

/**
 * Options of {@link drawAxes}.
 * @example drawAxes(plot, { x: niceTicks(0, 1000), y: niceTicks(1.5, 4), xLabel: 'epoch', yLabel: 'nats' });
 */
export interface AxesOptions {
  /** Ticks of the x axis; their `min`/`max` are the ends of the axis. */
  x: Ticks;
  /** Ticks of the y axis. */
  y: Ticks;
  /** Title above the plot area. */
  title?: string;
  /** Label under the x tick labels. */
  xLabel?: string;
  /** Label left of the y tick labels (rotated). */
  yLabel?: string;
  /** Light grid lines at the ticks (default true). */
  grid?: boolean;
}

/**
 * The furniture of one plot area: grid lines, a frame, outward tick marks with labels on the left and
 * bottom, and the optional title and axis labels. Draw the data after it (the frame stays visible as it
 * has no fill).
 *
 * @example
 * drawAxes({ x: 50, y: 30, width: 200, height: 200 }, { x: niceTicks(-4, 4), y: niceTicks(-4, 4), title: 'layers 1–2' });
 */
export function drawAxes(plot: Rect, options: AxesOptions): string {
  const { x: xt, y: yt } = options;
  const sx = linearScale([xt.min, xt.max], [plot.x, plot.x + plot.width]);
  const sy = linearScale([yt.min, yt.max], [plot.y + plot.height, plot.y]);
  const bottom = plot.y + plot.height, left = plot.x;
  const grid: string[] = [], marks: string[] = [], labels: string[] = [];
  const tick = 4;
  for (let i = 0; i < xt.values.length; i++) {
    const px = sx(xt.values[i]!);
    if (options.grid !== false) grid.push(`M${fmtPair(px, plot.y)}V${fmt(bottom)}`);
    marks.push(`M${fmtPair(px, bottom)}v${tick}`);
    labels.push(text(px, bottom + tick + FONT_SIZE.tick + 1, xt.labels[i]!, { 'text-anchor': 'middle' }));
  }
  for (let i = 0; i < yt.values.length; i++) {
    const py = sy(yt.values[i]!);
    if (options.grid !== false) grid.push(`M${fmtPair(left, py)}H${fmt(left + plot.width)}`);
    marks.push(`M${fmtPair(left, py)}h${-tick}`);
    labels.push(text(left - tick - 3, py, yt.labels[i]!, { 'text-anchor': 'end', 'dominant-baseline': 'middle' }));
  }
  const parts: string[] = [];
  if (grid.length > 0) parts.push(el('path', { d: grid.join(''), stroke: INK.grid, 'stroke-width': 1, fill: 'none' }));
  parts.push(el('rect', { x: plot.x, y: plot.y, width: plot.width, height: plot.height, fill: 'none', stroke: INK.frame, 'stroke-width': 1 }));
  parts.push(el('path', { d: marks.join(''), stroke: INK.axis, 'stroke-width': 1, fill: 'none' }));
  parts.push(el('g', { 'font-size': FONT_SIZE.tick, fill: INK.axis }, labels.join('')));
  if (options.title !== undefined) {
    parts.push(text(plot.x + plot.width / 2, plot.y - 9, options.title, { 'text-anchor': 'middle', 'font-size': FONT_SIZE.title, 'font-weight': '600' }));
  }
  if (options.xLabel !== undefined) {
    parts.push(text(plot.x + plot.width / 2, bottom + tick + FONT_SIZE.tick + FONT_SIZE.label + 8, options.xLabel, { 'text-anchor': 'middle', 'font-size': FONT_SIZE.label }));
  }
  if (options.yLabel !== undefined) {
    const cx = left - 46, cy = plot.y + plot.height / 2;
    parts.push(text(cx, cy, options.yLabel, { 'text-anchor': 'middle', 'font-size': FONT_SIZE.label, transform: `rotate(-90 ${fmtPair(cx, cy)})` }));
  }
  return parts.join('\n');
}

/**
 * One entry of a legend: a dot (point sets) or a short line (series).
 * @example const entry: LegendEntry = { label: 'training data', color: '#d62728', kind: 'dot' };
 */
export interface LegendEntry {
  label: string;
  color: string;
  kind: 'dot' | 'line';
}

/**
 * A legend box whose top-right corner is at (right, top): a swatch and a label per entry, stacked in a
 * column (default) or side by side in a row, on a white, slightly transparent background so it stays
 * readable over data. Widths are estimated from the label lengths (0.6 em per character), as SVG text
 * cannot be measured without a DOM.
 *
 * @example
 * drawLegend(plot.x + plot.width - 6, plot.y + 6, [{ label: 'train', color: '#1f77b4', kind: 'line' }]);
 */
export function drawLegend(right: number, top: number, entries: readonly LegendEntry[], layout: 'column' | 'row' = 'column'): string {
  if (entries.length === 0) return '';
  const row = FONT_SIZE.tick + 6, pad = 6, swatch = 16, gap = 14;
  const labelWidth = (e: LegendEntry) => swatch + 6 + e.label.length * FONT_SIZE.tick * 0.6;
  let width: number, height: number;
  if (layout === 'row') {
    width = pad * 2 + entries.reduce((w, e) => w + labelWidth(e), 0) + gap * (entries.length - 1);
    height = pad * 2 + row - 4;
  } else {
    width = pad * 2 + Math.max(...entries.map(labelWidth));
    height = pad * 2 + entries.length * row - 4;
  }
  const x = right - width;
  const parts = [el('rect', { x, y: top, width, height, fill: '#ffffff', 'fill-opacity': 0.85, stroke: INK.grid, rx: 3 })];
  let ex = x + pad;
  entries.forEach((e, k) => {
    const cy = layout === 'row' ? top + pad + (row - 4) / 2 : top + pad + k * row + (row - 4) / 2;
    const sx = layout === 'row' ? ex : x + pad;
    parts.push(
      e.kind === 'dot'
        ? el('circle', { cx: sx + swatch / 2, cy, r: 3.5, fill: e.color })
        : el('path', { d: `M${fmtPair(sx, cy)}h${swatch}`, stroke: e.color, 'stroke-width': 2, fill: 'none' }),
    );
    parts.push(text(sx + swatch + 6, cy, e.label, { 'dominant-baseline': 'middle', 'font-size': FONT_SIZE.tick }));
    ex += labelWidth(e) + gap;
  });
  return el('g', { class: 'legend' }, parts.join(''));
}

/**
 * Maps the ticks' range onto a plot area: `[sx, sy]` with y pointing up.
 * @example const [sx, sy] = plotScales(plot, xTicks, yTicks); sx(xTicks.min) === plot.x; // true
 */
export function plotScales(plot: Rect, x: Ticks, y: Ticks): [(v: number) => number, (v: number) => number] {
  return [linearScale([x.min, x.max], [plot.x, plot.x + plot.width]), linearScale([y.min, y.max], [plot.y + plot.height, plot.y])];
}

function fmtPair(a: number, b: number): string {
  return `${fmt(a)} ${fmt(b)}`;
}

/**
 * A figure's title, centred above its panels (a grid made with `top: 30` leaves room for it); nothing
 * without a title.
 * @example body.push(...figureTitle(grid.width, options.title));
 */
export function figureTitle(width: number, title: string | undefined): string[] {
  return title === undefined ? [] : [text(width / 2, 21, title, { 'text-anchor': 'middle', 'font-size': FONT_SIZE.figureTitle, 'font-weight': '600' })];
}
