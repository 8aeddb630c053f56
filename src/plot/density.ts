/**
 * Heat maps of densities on a grid, side by side on one colour scale with a colour bar: a flow's learned
 * density beside the true one.
 *
 * @module
 */

import { drawAxes, figureTitle, linearScale, panelGrid, type Rect } from './axes.ts';
import { viridis } from './colormap.ts';
import { comment, el, escapeXml, fmt, FONT_SIZE, INK, svgDocument, text } from './svg.ts';
import { niceTicks } from './ticks.ts';

/**
 * Values on a regular nx×ny grid of cells over [x0, x1]×[y0, y1]. Cell (i, j), i = 0..nx-1 along x and
 * j = 0..ny-1 along y, covers [x0 + i·dx, x0 + (i+1)·dx] × [y0 + j·dy, y0 + (j+1)·dy] with dx = (x1-x0)/nx,
 * dy = (y1-y0)/ny; its value is `values[j·nx + i]` (row-major, one row per y, row 0 at the bottom),
 * typically the density at the cell's centre (x0 + (i+½)dx, y0 + (j+½)dy).
 *
 * @example
 * // 2×2 cells over [0, 2]²: bottom row 1, 2; top row 3, 4
 * const grid: DensityGrid = { x0: 0, x1: 2, y0: 0, y1: 2, nx: 2, ny: 2, values: [1, 2, 3, 4] };
 */
export interface DensityGrid {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
  nx: number;
  ny: number;
  values: Float64Array | readonly number[];
}

/**
 * Options of {@link densityFigure}.
 * @example densityFigure(panels, { title: 'density', range: [0, 0.08], colorLabel: 'p(x)' });
 */
export interface DensityFigureOptions {
  /** Title above all panels. */
  title?: string;
  /** Panels per row (default: all in one row up to 4). */
  columns?: number;
  /** Width of each plot area, px (default 240); the height follows the grid's aspect ratio. */
  size?: number;
  /** The value range of the colour scale, shared by all panels. Default: min to max of all finite values. */
  range?: readonly [number, number];
  /** Label of the colour bar (default 'density'). */
  colorLabel?: string;
  /** Number of colour levels (default 64): values are binned, and cells of one level share one path. */
  levels?: number;
  /** x axis label (default 'x₁'). */
  xLabel?: string;
  /** y axis label (default 'x₂'). */
  yLabel?: string;
}

const MARGIN = { top: 28, right: 16, bottom: 46, left: 62 } as const;
const BAR = { gap: 18, width: 14, room: 90 } as const;

/**
 * Heat maps side by side, all on one linear viridis colour scale, with a colour bar on the right. Values
 * are binned into `levels` colours; each level is one `<path>` of horizontal runs of cells, so a 100×100
 * grid stays around 50 kB. Values outside a given `range` take the end colours; non-finite values are
 * not drawn (the light grey background shows) and are counted in the panel's `<title>`, a comment and
 * the figure's `<desc>`. All panels should share one extent (the first grid sets the aspect ratio).
 *
 * @example
 * const svg = densityFigure([
 *   { title: 'learned', grid: { x0: -6, x1: 6, y0: -6, y1: 6, nx: 100, ny: 100, values: learned } },
 *   { title: 'true', grid: { x0: -6, x1: 6, y0: -6, y1: 6, nx: 100, ny: 100, values: truth } },
 * ]);
 */
export function densityFigure(panels: readonly { title: string; grid: DensityGrid }[], options: DensityFigureOptions = {}): string {
  if (panels.length === 0) throw new RangeError('densityFigure: needs at least one panel');
  panels.forEach((p, k) => checkGrid(p.grid, `densityFigure: panel ${k} ("${p.title}")`));
  const levels = options.levels ?? 64;
  if (!Number.isInteger(levels) || levels < 2 || levels > 1024) throw new RangeError(`densityFigure: levels must be an integer in 2..1024, got ${levels}`);
  const [lo, hi] = colourRange(panels, options.range);
  const first = panels[0]!.grid;
  const size = options.size ?? 240;
  const aspect = Math.min(4, Math.max(0.25, (first.y1 - first.y0) / (first.x1 - first.x0)));
  const titleHeight = options.title !== undefined ? 30 : 0;
  const grid = panelGrid(panels.length, {
    columns: options.columns ?? Math.min(4, panels.length),
    width: size,
    height: size * aspect,
    margin: MARGIN,
    top: titleHeight,
    right: BAR.room,
  });
  const body: string[] = [];
  const notes: string[] = [];
  body.push(...figureTitle(grid.width, options.title));
  panels.forEach((panel, k) => {
    const plot = grid.plots[k]!;
    const g = panel.grid;
    const xTicks = niceTicks(g.x0, g.x1, 5), yTicks = niceTicks(g.y0, g.y1, 5);
    const cells = drawCells(plot, g, lo, hi, levels);
    const parts = [
      el('rect', { x: plot.x, y: plot.y, width: plot.width, height: plot.height, fill: '#eeeeee' }),
      cells.markup,
      drawAxes(plot, { x: xTicks, y: yTicks, title: panel.title, xLabel: options.xLabel ?? 'x₁', yLabel: options.yLabel ?? 'x₂', grid: false }),
    ];
    if (cells.nonFinite > 0) {
      const note = `${cells.nonFinite} non-finite value${cells.nonFinite === 1 ? '' : 's'} not drawn`;
      parts.unshift(el('title', {}, escapeXml(note)), comment(note));
      notes.push(`panel ${k + 1} ("${panel.title}"): ${note}`);
    }
    body.push(el('g', { class: 'panel', 'data-index': String(k) }, '\n' + parts.join('\n') + '\n'));
  });
  const firstPlot = grid.plots[0]!;
  const barX = grid.width - BAR.room + BAR.gap - MARGIN.right;
  body.push(drawColourBar({ x: barX, y: firstPlot.y, width: BAR.width, height: firstPlot.height }, lo, hi, levels, options.colorLabel ?? 'density'));
  const title = options.title ?? panels.map((p) => p.title).join(' | ');
  const doc = { width: grid.width, height: grid.height, title, body: body.join('\n') };
  return svgDocument(notes.length > 0 ? { ...doc, description: notes.join('. ') } : doc);
}

function checkGrid(g: DensityGrid, where: string): void {
  for (const key of ['x0', 'x1', 'y0', 'y1'] as const) {
    if (!Number.isFinite(g[key])) throw new RangeError(`${where}: grid.${key} must be finite, got ${g[key]}`);
  }
  if (!(g.x0 < g.x1) || !(g.y0 < g.y1)) throw new RangeError(`${where}: the grid needs x0 < x1 and y0 < y1, got [${g.x0}, ${g.x1}]×[${g.y0}, ${g.y1}]`);
  if (!Number.isInteger(g.nx) || !Number.isInteger(g.ny) || g.nx < 1 || g.ny < 1) throw new RangeError(`${where}: nx and ny must be positive integers, got ${g.nx}×${g.ny}`);
  if (g.values.length !== g.nx * g.ny) throw new RangeError(`${where}: a ${g.nx}×${g.ny} grid needs ${g.nx * g.ny} values, got ${g.values.length}`);
}

// The shared colour range: given, or min..max over the finite values of every panel.
function colourRange(panels: readonly { grid: DensityGrid }[], range: readonly [number, number] | undefined): [number, number] {
  if (range !== undefined) {
    if (!Number.isFinite(range[0]) || !Number.isFinite(range[1]) || !(range[0] < range[1])) {
      throw new RangeError(`densityFigure: range must be two finite increasing numbers, got [${range[0]}, ${range[1]}]`);
    }
    return [range[0], range[1]];
  }
  let lo = Infinity, hi = -Infinity;
  for (const p of panels) {
    for (const v of p.grid.values) {
      if (!Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (lo > hi) return [0, 1]; // nothing finite
  if (lo === hi) return lo === 0 ? [0, 1] : [Math.min(0, lo), Math.max(0, hi)];
  return [lo, hi];
}

function level(v: number, lo: number, hi: number, levels: number): number {
  const k = Math.floor(((v - lo) / (hi - lo)) * levels);
  return k < 0 ? 0 : k >= levels ? levels - 1 : k;
}

// One path per colour level, made of horizontal runs of same-level cells.
function drawCells(plot: Rect, g: DensityGrid, lo: number, hi: number, levels: number): { markup: string; nonFinite: number } {
  const sx = linearScale([0, g.nx], [plot.x, plot.x + plot.width]);
  const sy = linearScale([0, g.ny], [plot.y + plot.height, plot.y]);
  const paths: string[] = new Array(levels).fill('');
  let nonFinite = 0;
  for (let j = 0; j < g.ny; j++) {
    const top = sy(j + 1), height = sy(j) - top;
    let i = 0;
    while (i < g.nx) {
      const v = g.values[j * g.nx + i]!;
      if (!Number.isFinite(v)) {
        nonFinite++;
        i++;
        continue;
      }
      const k = level(v, lo, hi, levels);
      let end = i + 1;
      while (end < g.nx) {
        const w = g.values[j * g.nx + end]!;
        if (!Number.isFinite(w) || level(w, lo, hi, levels) !== k) break;
        end++;
      }
      const left = sx(i), width = sx(end) - left;
      paths[k] += `M${fmt(left)} ${fmt(top)}h${fmt(width)}v${fmt(height)}h${fmt(-width)}z`;
      i = end;
    }
  }
  let markup = '';
  for (let k = 0; k < levels; k++) {
    if (paths[k] !== '') markup += el('path', { d: paths[k], fill: viridis((k + 0.5) / levels) });
  }
  return { markup: el('g', { class: 'cells', 'shape-rendering': 'crispEdges' }, markup), nonFinite };
}

function drawColourBar(bar: Rect, lo: number, hi: number, levels: number, label: string): string {
  const sy = linearScale([lo, hi], [bar.y + bar.height, bar.y]);
  const parts: string[] = [];
  let steps = '';
  for (let k = 0; k < levels; k++) {
    const v0 = lo + ((hi - lo) * k) / levels, v1 = lo + ((hi - lo) * (k + 1)) / levels;
    const top = sy(v1), bottom = sy(v0);
    steps += el('rect', { x: bar.x, y: top, width: bar.width, height: bottom - top, fill: viridis((k + 0.5) / levels) });
  }
  parts.push(el('g', { 'shape-rendering': 'crispEdges' }, steps));
  parts.push(el('rect', { x: bar.x, y: bar.y, width: bar.width, height: bar.height, fill: 'none', stroke: INK.frame }));
  const ticks = niceTicks(lo, hi, 5);
  let marks = '';
  const labels: string[] = [];
  ticks.values.forEach((v, i) => {
    const y = sy(v);
    marks += `M${fmt(bar.x + bar.width)} ${fmt(y)}h4`;
    labels.push(text(bar.x + bar.width + 7, y, ticks.labels[i]!, { 'dominant-baseline': 'middle' }));
  });
  if (marks !== '') parts.push(el('path', { d: marks, stroke: INK.axis, fill: 'none' }));
  parts.push(el('g', { 'font-size': FONT_SIZE.tick, fill: INK.axis }, labels.join('')));
  const cx = bar.x + bar.width + 50, cy = bar.y + bar.height / 2;
  parts.push(text(cx, cy, label, { 'text-anchor': 'middle', 'font-size': FONT_SIZE.label, transform: `rotate(90 ${fmt(cx)} ${fmt(cy)})` }));
  return el('g', { class: 'colorbar' }, parts.join('\n'));
}
