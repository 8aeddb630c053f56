/**
 * Scatter plots of 2-D points, one panel per point set, all panels on one shared, equal-aspect range.
 * Also the point-reading and panel-drawing code that the layer figure builds on.
 *
 * @module
 */

import { drawAxes, drawLegend, figureTitle, panelGrid, plotScales, type LegendEntry, type Rect } from './axes.ts';
import { CATEGORY10 } from './colormap.ts';
import { comment, el, escapeXml, fmt, FONT_SIZE, INK, svgDocument, text } from './svg.ts';
import { niceTicks, type Ticks } from './ticks.ts';

/**
 * n points in 2-D: a row-major n×2 `Float64Array` (x₀, y₀, x₁, y₁, …), an array of `[x, y]` rows, or an
 * n×2 tensor (anything with `rows`, `cols` = 2 and row-major `data`).
 * @example const p: Points = [[0, 1], [2, 3]]; // or new Float64Array([0, 1, 2, 3]), or a 2×2 Tensor
 */
export type Points = Float64Array | readonly (readonly number[])[] | { readonly rows: number; readonly cols: number; readonly data: Float64Array };

/**
 * The finite points of a {@link Points} value, split into coordinates, and how many were not finite.
 * @example const { xs, ys, nonFinite }: PointColumns = readPoints(points);
 */
export interface PointColumns {
  xs: Float64Array;
  ys: Float64Array;
  /** Points with a NaN or ±∞ coordinate, left out of xs/ys. */
  nonFinite: number;
}

/**
 * Reads points into separate x and y arrays, leaving out (and counting) points with a non-finite
 * coordinate. Throws a RangeError for a shape that is not n×2.
 *
 * @example
 * readPoints([[0, 1], [NaN, 2]]); // { xs: [0], ys: [1], nonFinite: 1 }
 */
export function readPoints(points: Points, what: string = 'points'): PointColumns {
  let n: number, get: (i: number, j: number) => number;
  if (points instanceof Float64Array) {
    if (points.length % 2 !== 0) throw new RangeError(`${what}: a Float64Array of points needs an even length (n×2 row-major), got ${points.length}`);
    n = points.length / 2;
    get = (i, j) => points[2 * i + j]!;
  } else if (Array.isArray(points)) {
    const rows = points as readonly (readonly number[])[];
    n = rows.length;
    for (let i = 0; i < n; i++) {
      if (rows[i]!.length !== 2) throw new RangeError(`${what}: point ${i} has ${rows[i]!.length} values, expected 2`);
    }
    get = (i, j) => rows[i]![j]!;
  } else {
    const m = points as { readonly rows: number; readonly cols: number; readonly data: Float64Array };
    if (m.cols !== 2) throw new RangeError(`${what}: expected n×2 points, got ${m.rows}×${m.cols}`);
    n = m.rows;
    get = (i, j) => m.data[2 * i + j]!;
  }
  const xs: number[] = [], ys: number[] = [];
  let nonFinite = 0;
  for (let i = 0; i < n; i++) {
    const x = get(i, 0), y = get(i, 1);
    if (Number.isFinite(x) && Number.isFinite(y)) {
      xs.push(x);
      ys.push(y);
    } else {
      nonFinite++;
    }
  }
  return { xs: Float64Array.from(xs), ys: Float64Array.from(ys), nonFinite };
}

/**
 * One point set inside a panel.
 * @example const s: ScatterSeries = { points: train, color: '#d62728', label: 'training data', opacity: 0.4 };
 */
export interface ScatterSeries {
  points: Points;
  /** Fill colour (CSS colour). */
  color: string;
  /** Name shown in the figure's legend (top right); unnamed sets are not listed. */
  label?: string;
  /** Dot radius in px (default 1.6). */
  radius?: number;
  /** Dot opacity (default 0.5), so that dense regions look darker. */
  opacity?: number;
}

/**
 * One panel of {@link scatterPanels}: a title and its point sets, drawn in order.
 * @example const panel: ScatterPanel = { title: 'after layers 15–16', series: [samples, data] };
 */
export interface ScatterPanel {
  title: string;
  series: readonly ScatterSeries[];
}

/**
 * Layout options shared by the scatter and layer figures.
 * @example scatterFigure(panels, { columns: 2, size: 300, maxPoints: 5000 });
 */
export interface ScatterLayoutOptions {
  /** Title above all panels. */
  title?: string;
  /** Panels per row (default: all in one row up to 4, then 4). */
  columns?: number;
  /** Side of each square plot area, px (default 220). */
  size?: number;
  /**
   * The axis range shared by every panel. Default: the smallest square range holding every finite point of
   * every panel, padded by 4% (equal aspect, so shapes are not distorted). Points outside a given range
   * are left out and counted.
   */
  range?: { x: readonly [number, number]; y: readonly [number, number] };
  /**
   * At most this many points are drawn per point set (default 2000); a larger set is thinned to every
   * k-th point (k = ⌈n / maxPoints⌉, deterministic), which keeps the file small and the look the same.
   */
  maxPoints?: number;
}

const MARGIN = { top: 28, right: 14, bottom: 34, left: 44 } as const;

/**
 * Draws panels of point sets on a shared range and returns the SVG document. Non-finite points are left out;
 * every panel that lost points says so in a `<title>`, an XML comment and a small grey note, and the figure's
 * `<desc>` sums it up. Each panel is a `<g class="panel" data-index="k">`.
 *
 * @example
 * scatterPanels([{ title: 'data', series: [{ points: [[0, 0], [1, 1]], color: '#1f77b4' }] }], {});
 */
export function scatterPanels(panels: readonly ScatterPanel[], options: ScatterLayoutOptions): string {
  if (panels.length === 0) throw new RangeError('scatter: needs at least one panel');
  const maxPoints = options.maxPoints ?? 2000;
  if (!Number.isInteger(maxPoints) || maxPoints < 1) throw new RangeError(`scatter: maxPoints must be a positive integer, got ${maxPoints}`);
  const size = options.size ?? 220;
  const read = panels.map((p, k) => p.series.map((s, j) => readPoints(s.points, `panel ${k} ("${p.title}"), point set ${j}`)));
  const [xTicks, yTicks] = sharedTicks(read, options.range);
  // Named point sets get one legend for the whole figure, in the header at the right, off the data.
  const legend: LegendEntry[] = [];
  for (const p of panels) {
    for (const series of p.series) {
      if (series.label !== undefined && !legend.some((e) => e.label === series.label && e.color === series.color)) {
        legend.push({ label: series.label, color: series.color, kind: 'dot' });
      }
    }
  }
  const titleHeight = options.title !== undefined || legend.length > 0 ? 30 : 0;
  const grid = panelGrid(panels.length, { columns: options.columns ?? Math.min(4, panels.length), width: size, height: size, margin: MARGIN, top: titleHeight });
  const notes: string[] = [];
  const body: string[] = [];
  body.push(...figureTitle(grid.width, options.title));
  if (legend.length > 0) body.push(drawLegend(grid.width - MARGIN.right, 4, legend, 'row'));
  panels.forEach((panel, k) => {
    const plot = grid.plots[k]!;
    const parts: string[] = [drawAxes(plot, { x: xTicks, y: yTicks, title: panel.title })];
    const panelNotes: string[] = [];
    panel.series.forEach((series, j) => {
      const drawn = drawDots(plot, xTicks, yTicks, read[k]![j]!, series, maxPoints);
      parts.push(drawn.markup);
      const what = series.label ?? `point set ${j + 1}`;
      if (drawn.nonFinite > 0) panelNotes.push(`${what}: ${drawn.nonFinite} non-finite point${drawn.nonFinite === 1 ? '' : 's'} not drawn`);
      if (drawn.outside > 0) panelNotes.push(`${what}: ${drawn.outside} point${drawn.outside === 1 ? '' : 's'} outside the range not drawn`);
      if (drawn.stride > 1) parts.push(comment(`${what}: thinned to every ${drawn.stride}th of ${drawn.total} points`));
    });
    if (panelNotes.length > 0) {
      parts.unshift(el('title', {}, escapeXml(panelNotes.join('; '))), comment(panelNotes.join('; ')));
      parts.push(noteText(plot, panelNotes.map((n) => n.replace(/^.*?: /, '')).join(', ')));
      notes.push(`panel ${k + 1} ("${panel.title}"): ${panelNotes.join('; ')}`);
    }
    body.push(el('g', { class: 'panel', 'data-index': String(k) }, '\n' + parts.join('\n') + '\n'));
  });
  const title = options.title ?? panels.map((p) => p.title).join(' | ');
  const doc = { width: grid.width, height: grid.height, title, body: body.join('\n') };
  return svgDocument(notes.length > 0 ? { ...doc, description: notes.join('. ') } : doc);
}

/**
 * Options of {@link scatterFigure}.
 * @example scatterFigure(panels, { title: 'samples beside data' });
 */
export type ScatterFigureOptions = ScatterLayoutOptions;

/**
 * Point sets side by side on one shared range, e.g. a flow's samples beside the data. Each panel gets
 * its `color`, or the next colour of {@link CATEGORY10}.
 *
 * @example
 * const svg = scatterFigure([
 *   { title: 'flow samples', points: flow.sample(1000, rng) },
 *   { title: 'training data', points: train, color: '#d62728' },
 * ], { title: 'post mixture' });
 */
export function scatterFigure(panels: readonly { title: string; points: Points; color?: string }[], options: ScatterFigureOptions = {}): string {
  return scatterPanels(
    panels.map((p, k) => ({ title: p.title, series: [{ points: p.points, color: p.color ?? CATEGORY10[k % CATEGORY10.length]! }] })),
    options,
  );
}

// The x and y ticks shared by every panel: from the given range, or the padded square hull of all points.
function sharedTicks(read: readonly (readonly PointColumns[])[], range: ScatterLayoutOptions['range']): [Ticks, Ticks] {
  if (range !== undefined) {
    for (const [axis, r] of [['x', range.x], ['y', range.y]] as const) {
      if (!Number.isFinite(r[0]) || !Number.isFinite(r[1]) || !(r[0] < r[1])) throw new RangeError(`scatter: range.${axis} must be two finite increasing numbers, got [${r[0]}, ${r[1]}]`);
    }
    return [niceTicks(range.x[0], range.x[1], 5), niceTicks(range.y[0], range.y[1], 5)];
  }
  let xMin = Infinity, xMax = -Infinity, yMin = Infinity, yMax = -Infinity;
  for (const panel of read) {
    for (const s of panel) {
      for (let i = 0; i < s.xs.length; i++) {
        const x = s.xs[i]!, y = s.ys[i]!;
        if (x < xMin) xMin = x;
        if (x > xMax) xMax = x;
        if (y < yMin) yMin = y;
        if (y > yMax) yMax = y;
      }
    }
  }
  if (xMin > xMax) return [niceTicks(-1, 1, 5), niceTicks(-1, 1, 5)]; // no finite point at all
  const cx = (xMin + xMax) / 2, cy = (yMin + yMax) / 2;
  let half = Math.max(xMax - xMin, yMax - yMin) / 2;
  half = half > 0 ? half * 1.04 : Math.max(1, Math.abs(cx), Math.abs(cy)) * 0.1;
  return [niceTicks(cx - half, cx + half, 5), niceTicks(cy - half, cy + half, 5)];
}

interface Drawn {
  markup: string;
  nonFinite: number;
  outside: number;
  total: number;
  stride: number;
}

// One point set as a group of circles, thinned to at most maxPoints.
function drawDots(plot: Rect, xTicks: Ticks, yTicks: Ticks, pts: PointColumns, series: ScatterSeries, maxPoints: number): Drawn {
  const [sx, sy] = plotScales(plot, xTicks, yTicks);
  const n = pts.xs.length;
  const stride = Math.max(1, Math.ceil(n / maxPoints));
  const r = fmt(series.radius ?? 1.6);
  let outside = 0;
  let dots = '';
  for (let i = 0; i < n; i++) {
    const x = pts.xs[i]!, y = pts.ys[i]!;
    if (x < xTicks.min || x > xTicks.max || y < yTicks.min || y > yTicks.max) {
      outside++;
      continue;
    }
    if (i % stride !== 0) continue;
    dots += `<circle cx="${fmt(sx(x))}" cy="${fmt(sy(y))}" r="${r}"/>`;
  }
  const markup = el('g', { class: 'points', fill: series.color, 'fill-opacity': series.opacity ?? 0.5 }, dots);
  return { markup, nonFinite: pts.nonFinite, outside, total: n + pts.nonFinite, stride };
}

function noteText(plot: Rect, note: string): string {
  return text(plot.x + 4, plot.y + plot.height - 5, note, { 'font-size': FONT_SIZE.note, fill: INK.note });
}
