/**
 * The corner plot of posterior samples (D. Foreman-Mackey, "corner.py: Scatterplot matrices in Python",
 * JOSS 2016): for d parameters a d×d lower triangle, marginal histograms on the diagonal and the pairwise
 * 2-D histograms below it, the true θ marked by lines, and an optional reference posterior overlaid
 * (its marginals as an outline, its pairs as dots).
 *
 * @module
 */

import { drawLegend, linearScale, type LegendEntry, type Rect } from './axes.ts';
import { CATEGORY10, OVERLAY_RED } from './colormap.ts';
import { comment, el, fmt, FONT_SIZE, INK, svgDocument, text } from './svg.ts';
import { namesFor } from './names.ts';
import { niceTicks, type Ticks } from './ticks.ts';

/**
 * n rows of d numbers: a tensor-like `{ rows, cols, data }` (row-major) or an array of rows.
 * @example const m: SampleMatrix = [[0.1, 0.2], [0.3, -0.1]]; // or a 1000×2 Tensor
 */
export type SampleMatrix = { readonly rows: number; readonly cols: number; readonly data: Float64Array } | readonly (readonly number[])[];

/**
 * Options of {@link cornerFigure}.
 * @example cornerFigure(samples, { names: ['θ₁', 'θ₂'], truth: [0.1, -0.3], reference });
 */
export interface CornerFigureOptions {
  /** Parameter names (default θ₁ … θ_d). */
  names?: readonly string[];
  /** The true θ, marked by red lines in every panel. */
  truth?: readonly number[];
  /** Samples of a reference posterior, overlaid in orange. */
  reference?: SampleMatrix;
  /** Title above the figure. */
  title?: string;
  /** Histogram bins per axis (default 30). */
  bins?: number;
  /** Side of each panel, px (default 150). */
  size?: number;
  /** Axis range per dimension; default the 0.5%–99.5% quantiles of the samples (and reference, truth), padded 5%. */
  ranges?: readonly (readonly [number, number])[];
  /** Reference points drawn per pair panel at most (default 600; thinned to every k-th). */
  maxPoints?: number;
}

const GAP = 8;
const OUTER = { top: 12, right: 16, bottom: 52, left: 62 } as const;
const SAMPLE_BLUE = CATEGORY10[0]!;
const REFERENCE_ORANGE = CATEGORY10[1]!;

/**
 * A corner plot of posterior samples (see the module comment). Each panel is a `<g class="panel">` with
 * `data-row` and `data-col`; 2-D histogram cells are shaded blue in 8 opacity levels (one `<path>` per
 * level); non-finite sample rows are left out and counted in the `<desc>`.
 *
 * @example
 * const svg = cornerFigure(posterior.sample(5000, x, rng), { names: ['θ₁', 'θ₂'], truth: [0.3, -0.2] });
 */
export function cornerFigure(samples: SampleMatrix, options: CornerFigureOptions = {}): string {
  const main = readMatrix(samples, 'cornerFigure: samples');
  const d = main.cols;
  if (d < 1) throw new RangeError('cornerFigure: the samples need at least one column');
  const names = namesFor(options.names, d, 'cornerFigure');
  const truth = options.truth;
  if (truth !== undefined && truth.length !== d) throw new RangeError(`cornerFigure: truth has ${truth.length} values for ${d} columns`);
  const ref = options.reference !== undefined ? readMatrix(options.reference, 'cornerFigure: reference') : null;
  if (ref !== null && ref.cols !== d) throw new RangeError(`cornerFigure: the reference has ${ref.cols} columns, the samples ${d}`);
  const bins = options.bins ?? 30;
  if (!Number.isInteger(bins) || bins < 2) throw new RangeError(`cornerFigure: bins must be an integer ≥ 2, got ${bins}`);
  const size = options.size ?? 150;
  const maxPoints = options.maxPoints ?? 600;
  const ticks: Ticks[] = [];
  for (let j = 0; j < d; j++) {
    const r = options.ranges?.[j] ?? autoRange(main, ref, truth, j);
    if (!(Number.isFinite(r[0]) && Number.isFinite(r[1]) && r[0] < r[1])) throw new RangeError(`cornerFigure: range ${j} must be two finite increasing numbers, got [${r[0]}, ${r[1]}]`);
    const t = niceTicks(r[0], r[1], 4);
    ticks.push(t);
  }
  const titleRoom = options.title !== undefined ? 30 : 0;
  const legend: LegendEntry[] = [{ label: 'posterior samples', color: SAMPLE_BLUE, kind: 'dot' }];
  if (ref !== null) legend.push({ label: 'reference', color: REFERENCE_ORANGE, kind: 'dot' });
  if (truth !== undefined) legend.push({ label: 'true θ', color: OVERLAY_RED, kind: 'line' });
  const legendRoom = 26;
  const top = OUTER.top + titleRoom + legendRoom;
  const width = OUTER.left + d * size + (d - 1) * GAP + OUTER.right;
  const height = top + d * size + (d - 1) * GAP + OUTER.bottom;
  const body: string[] = [];
  if (options.title !== undefined) body.push(text(width / 2, OUTER.top + 16, options.title, { 'text-anchor': 'middle', 'font-size': FONT_SIZE.figureTitle, 'font-weight': '600' }));
  body.push(drawLegend(width - OUTER.right, OUTER.top + titleRoom, legend, 'row'));
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      const plot: Rect = { x: OUTER.left + j * (size + GAP), y: top + i * (size + GAP), width: size, height: size };
      const parts: string[] = [];
      if (i === j) parts.push(marginalPanel(plot, main, ref, j, ticks[j]!, bins, truth?.[j]));
      else parts.push(pairPanel(plot, main, ref, j, i, ticks[j]!, ticks[i]!, bins, maxPoints, truth === undefined ? undefined : [truth[j]!, truth[i]!]));
      parts.push(frameAndTicks(plot, ticks[j]!, i === j ? null : ticks[i]!, i === d - 1, j === 0 && i !== j));
      if (i === d - 1) parts.push(text(plot.x + size / 2, plot.y + size + 40, names[j]!, { 'text-anchor': 'middle', 'font-size': FONT_SIZE.label }));
      if (j === 0 && i > 0) {
        const cx = plot.x - 48, cy = plot.y + size / 2;
        parts.push(text(cx, cy, names[i]!, { 'text-anchor': 'middle', 'font-size': FONT_SIZE.label, transform: `rotate(-90 ${fmt(cx)} ${fmt(cy)})` }));
      }
      body.push(el('g', { class: 'panel', 'data-row': String(i), 'data-col': String(j) }, '\n' + parts.join('\n') + '\n'));
    }
  }
  const notes: string[] = [];
  if (main.nonFinite > 0) notes.push(`${main.nonFinite} non-finite sample row${main.nonFinite === 1 ? '' : 's'} not drawn`);
  if (ref !== null && ref.nonFinite > 0) notes.push(`${ref.nonFinite} non-finite reference row${ref.nonFinite === 1 ? '' : 's'} not drawn`);
  const doc = { width, height, title: options.title ?? `corner plot of ${names.join(', ')}`, body: body.join('\n') };
  return svgDocument(notes.length > 0 ? { ...doc, description: notes.join('. ') } : doc);
}

interface Columns {
  rows: number;
  cols: number;
  /** Finite rows only, row-major. */
  data: Float64Array;
  nonFinite: number;
}

function readMatrix(m: SampleMatrix, what: string): Columns {
  let rows: number, cols: number, get: (i: number, j: number) => number;
  if (Array.isArray(m)) {
    const a = m as readonly (readonly number[])[];
    rows = a.length;
    cols = rows > 0 ? a[0]!.length : 0;
    a.forEach((r, i) => {
      if (r.length !== cols) throw new RangeError(`${what}: row ${i} has ${r.length} values, row 0 has ${cols}`);
    });
    get = (i, j) => a[i]![j]!;
  } else {
    const t = m as { readonly rows: number; readonly cols: number; readonly data: Float64Array };
    rows = t.rows;
    cols = t.cols;
    get = (i, j) => t.data[i * cols + j]!;
  }
  const out: number[] = [];
  let nonFinite = 0;
  for (let i = 0; i < rows; i++) {
    let ok = true;
    for (let j = 0; j < cols; j++) if (!Number.isFinite(get(i, j))) ok = false;
    if (!ok) {
      nonFinite++;
      continue;
    }
    for (let j = 0; j < cols; j++) out.push(get(i, j));
  }
  return { rows: rows - nonFinite, cols, data: Float64Array.from(out), nonFinite };
}

function column(m: Columns, j: number): Float64Array {
  const out = new Float64Array(m.rows);
  for (let i = 0; i < m.rows; i++) out[i] = m.data[i * m.cols + j]!;
  return out;
}

function quantile(sorted: Float64Array, q: number): number {
  const pos = q * (sorted.length - 1), i = Math.floor(pos), f = pos - i;
  return i + 1 < sorted.length ? sorted[i]! + f * (sorted[i + 1]! - sorted[i]!) : sorted[i]!;
}

function autoRange(main: Columns, ref: Columns | null, truth: readonly number[] | undefined, j: number): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const m of ref === null ? [main] : [main, ref]) {
    if (m.rows === 0) continue;
    const s = column(m, j).sort();
    lo = Math.min(lo, quantile(s, 0.005));
    hi = Math.max(hi, quantile(s, 0.995));
  }
  if (truth !== undefined && Number.isFinite(truth[j]!)) {
    lo = Math.min(lo, truth[j]!);
    hi = Math.max(hi, truth[j]!);
  }
  if (!(lo < hi)) {
    const c = Number.isFinite(lo) ? lo : 0;
    return [c - 1, c + 1];
  }
  const pad = 0.05 * (hi - lo);
  return [lo - pad, hi + pad];
}

// Counts of one column in `bins` equal bins over the axis range; values outside are not counted.
function histogram(values: Float64Array, t: Ticks, bins: number): Float64Array {
  const counts = new Float64Array(bins), w = (t.max - t.min) / bins;
  for (const v of values) {
    if (v < t.min || v > t.max) continue;
    counts[Math.min(bins - 1, Math.floor((v - t.min) / w))]!++;
  }
  return counts;
}

function marginalPanel(plot: Rect, main: Columns, ref: Columns | null, j: number, t: Ticks, bins: number, truth: number | undefined): string {
  const sx = linearScale([t.min, t.max], [plot.x, plot.x + plot.width]);
  const w = (t.max - t.min) / bins;
  // Densities (count / (n · bin width)) so the sample and reference histograms share one scale.
  const density = (m: Columns) => histogram(column(m, j), t, bins).map((c) => (m.rows > 0 ? c / (m.rows * w) : 0));
  const main1 = density(main), ref1 = ref !== null ? density(ref) : null;
  let top = 0;
  for (const h of ref1 === null ? [main1] : [main1, ref1]) for (const v of h) top = Math.max(top, v);
  const sy = linearScale([0, top > 0 ? top * 1.08 : 1], [plot.y + plot.height, plot.y]);
  const step = (h: Float64Array): string => {
    let p = `M${fmt(sx(t.min))} ${fmt(sy(0))}`;
    for (let b = 0; b < bins; b++) p += `V${fmt(sy(h[b]!))}H${fmt(sx(t.min + (b + 1) * w))}`;
    return p + `V${fmt(sy(0))}`;
  };
  const parts = [el('path', { class: 'marginal', d: step(main1) + 'Z', fill: SAMPLE_BLUE, 'fill-opacity': 0.35, stroke: SAMPLE_BLUE, 'stroke-width': 1.2 })];
  if (ref1 !== null) parts.push(el('path', { class: 'reference', d: step(ref1), fill: 'none', stroke: REFERENCE_ORANGE, 'stroke-width': 1.6 }));
  if (truth !== undefined && truth >= t.min && truth <= t.max) parts.push(el('path', { class: 'truth', d: `M${fmt(sx(truth))} ${fmt(plot.y)}V${fmt(plot.y + plot.height)}`, stroke: OVERLAY_RED, 'stroke-width': 1.5 }));
  return parts.join('');
}

function pairPanel(
  plot: Rect,
  main: Columns,
  ref: Columns | null,
  jx: number,
  jy: number,
  tx: Ticks,
  ty: Ticks,
  bins: number,
  maxPoints: number,
  truth: [number, number] | undefined,
): string {
  const sx = linearScale([tx.min, tx.max], [plot.x, plot.x + plot.width]);
  const sy = linearScale([ty.min, ty.max], [plot.y + plot.height, plot.y]);
  const wx = (tx.max - tx.min) / bins, wy = (ty.max - ty.min) / bins;
  const counts = new Float64Array(bins * bins);
  let peak = 0;
  for (let i = 0; i < main.rows; i++) {
    const x = main.data[i * main.cols + jx]!, y = main.data[i * main.cols + jy]!;
    if (x < tx.min || x > tx.max || y < ty.min || y > ty.max) continue;
    const bx = Math.min(bins - 1, Math.floor((x - tx.min) / wx)), by = Math.min(bins - 1, Math.floor((y - ty.min) / wy));
    const c = ++counts[by * bins + bx]!;
    if (c > peak) peak = c;
  }
  // Eight opacity levels of one blue, a path per level (empty cells stay white).
  const LEVELS = 8;
  const paths: string[] = new Array(LEVELS).fill('');
  for (let by = 0; by < bins; by++) {
    for (let bx = 0; bx < bins; bx++) {
      const c = counts[by * bins + bx]!;
      if (c === 0) continue;
      const k = Math.min(LEVELS - 1, Math.floor((c / peak) * LEVELS));
      const left = sx(tx.min + bx * wx), right = sx(tx.min + (bx + 1) * wx), topY = sy(ty.min + (by + 1) * wy), bottom = sy(ty.min + by * wy);
      paths[k] += `M${fmt(left)} ${fmt(topY)}H${fmt(right)}V${fmt(bottom)}H${fmt(left)}z`;
    }
  }
  let cells = '';
  for (let k = 0; k < LEVELS; k++) if (paths[k] !== '') cells += el('path', { d: paths[k], 'fill-opacity': (0.12 + (0.88 * (k + 1)) / LEVELS).toFixed(2) });
  const parts = [el('g', { class: 'cells', fill: SAMPLE_BLUE, 'shape-rendering': 'crispEdges' }, cells)];
  if (ref !== null && ref.rows > 0) {
    const stride = Math.max(1, Math.ceil(ref.rows / maxPoints));
    let dots = '';
    for (let i = 0; i < ref.rows; i += stride) {
      const x = ref.data[i * ref.cols + jx]!, y = ref.data[i * ref.cols + jy]!;
      if (x < tx.min || x > tx.max || y < ty.min || y > ty.max) continue;
      dots += `<circle cx="${fmt(sx(x))}" cy="${fmt(sy(y))}" r="1.1"/>`;
    }
    parts.push(el('g', { class: 'reference', fill: REFERENCE_ORANGE, 'fill-opacity': 0.55 }, dots));
    if (stride > 1) parts.push(comment(`reference: every ${stride}th of ${ref.rows} points`));
  }
  if (truth !== undefined) {
    const [x, y] = truth;
    let d = '';
    if (x >= tx.min && x <= tx.max) d += `M${fmt(sx(x))} ${fmt(plot.y)}V${fmt(plot.y + plot.height)}`;
    if (y >= ty.min && y <= ty.max) d += `M${fmt(plot.x)} ${fmt(sy(y))}H${fmt(plot.x + plot.width)}`;
    if (d !== '') parts.push(el('path', { class: 'truth', d, stroke: OVERLAY_RED, 'stroke-width': 1.2 }));
    if (x >= tx.min && x <= tx.max && y >= ty.min && y <= ty.max) parts.push(el('circle', { class: 'truth', cx: sx(x), cy: sy(y), r: 3, fill: OVERLAY_RED }));
  }
  return parts.join('');
}

// The frame, tick marks on the bottom and left, and tick labels only on the outer edges of the triangle.
function frameAndTicks(plot: Rect, tx: Ticks, ty: Ticks | null, xLabels: boolean, yLabels: boolean): string {
  const sx = linearScale([tx.min, tx.max], [plot.x, plot.x + plot.width]);
  const bottom = plot.y + plot.height;
  let marks = '';
  const labels: string[] = [];
  tx.values.forEach((v, k) => {
    marks += `M${fmt(sx(v))} ${fmt(bottom)}v4`;
    if (xLabels) labels.push(text(sx(v), bottom + 4 + FONT_SIZE.tick + 1, tx.labels[k]!, { 'text-anchor': 'middle' }));
  });
  if (ty !== null) {
    const sy = linearScale([ty.min, ty.max], [bottom, plot.y]);
    ty.values.forEach((v, k) => {
      marks += `M${fmt(plot.x)} ${fmt(sy(v))}h-4`;
      if (yLabels) labels.push(text(plot.x - 7, sy(v), ty.labels[k]!, { 'text-anchor': 'end', 'dominant-baseline': 'middle' }));
    });
  }
  const parts = [
    el('rect', { x: plot.x, y: plot.y, width: plot.width, height: plot.height, fill: 'none', stroke: INK.frame, 'stroke-width': 1 }),
    el('path', { d: marks, stroke: INK.axis, 'stroke-width': 1, fill: 'none' }),
  ];
  if (labels.length > 0) parts.push(el('g', { 'font-size': FONT_SIZE.tick, fill: INK.axis }, labels.join('')));
  return parts.join('');
}
