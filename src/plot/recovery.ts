/**
 * Recovery figures, as BayesFlow draws them (`bayesflow.diagnostics.recovery` and `z_score_contraction`):
 * the posterior mean (± one posterior sd) against the true θ per parameter, on the identity line, with
 * the correlation, median z-score and median contraction written in; and the posterior z-score against
 * the posterior contraction (M. Betancourt, "Calibrating model-based inferences and decisions", 2018):
 * a good posterior sits at high contraction with |z| mostly under 2 to 3. Inputs are plain data shaped
 * like the result of `recovery`.
 *
 * @module
 */

import { drawAxes, figureTitle, panelGrid, plotScales } from './axes.ts';
import { CATEGORY10 } from './colormap.ts';
import { comment, el, fmt, FONT_SIZE, INK, svgDocument, text } from './svg.ts';
import { namesFor, panelTitle } from './names.ts';
import { niceTicks } from './ticks.ts';

/**
 * One parameter's recovery data (a `recovery` result's dimension has these fields).
 * @example const r: RecoveryDimensionInput = { dim: 0, truth: [0.1, -0.2], mean: [0.08, -0.15], sd: [0.2, 0.2], z: [-0.1, 0.25], contraction: [0.5, 0.5] };
 */
export interface RecoveryDimensionInput {
  readonly dim: number;
  readonly truth: readonly number[];
  readonly mean: readonly number[];
  readonly sd?: readonly number[];
  readonly z?: readonly number[];
  readonly contraction?: readonly number[];
  readonly correlation?: number;
  readonly medianZ?: number;
  readonly medianContraction?: number;
  readonly verdict?: string;
  readonly direction?: string;
}

/**
 * Options of the recovery figures.
 * @example recoveryFigure(result, { names: ['θ₁', 'θ₂'], maxPoints: 300 });
 */
export interface RecoveryFigureOptions {
  names?: readonly string[];
  title?: string;
  columns?: number;
  /** Side of each square plot area, px (default 200). */
  size?: number;
  /** Points drawn per panel at most (default 400; thinned to every k-th pair). */
  maxPoints?: number;
}

const MARGIN = { top: 30, right: 14, bottom: 44, left: 64 } as const;

/**
 * Posterior mean against true θ, a square panel per parameter on one range per panel: error bars of ±1
 * posterior sd (when given), the identity line, and `r`, median z and median contraction in the corner.
 * Each panel is a `<g class="panel">`, each pair a `<circle>` in `<g class="points">`.
 *
 * @example
 * const svg = recoveryFigure(recovery(set), { names: ['θ₁', 'θ₂'] });
 */
export function recoveryFigure(input: { readonly dimensions: readonly RecoveryDimensionInput[] }, options: RecoveryFigureOptions = {}): string {
  const dims = input.dimensions;
  if (dims.length === 0) throw new RangeError('recoveryFigure: needs at least one dimension');
  const names = namesFor(options.names, dims.length, 'recoveryFigure');
  const maxPoints = options.maxPoints ?? 400;
  if (!Number.isInteger(maxPoints) || maxPoints < 1) throw new RangeError(`recoveryFigure: maxPoints must be a positive integer, got ${maxPoints}`);
  dims.forEach((d) => {
    if (d.mean.length !== d.truth.length) throw new RangeError(`recoveryFigure: dimension ${d.dim} has ${d.truth.length} true values and ${d.mean.length} means`);
    if (d.sd !== undefined && d.sd.length !== d.truth.length) throw new RangeError(`recoveryFigure: dimension ${d.dim} has ${d.truth.length} true values and ${d.sd.length} sds`);
  });
  const size = options.size ?? 200;
  const columns = options.columns ?? Math.min(4, dims.length);
  const titleRoom = options.title !== undefined ? 30 : 0;
  const grid = panelGrid(dims.length, { columns, width: size, height: size, margin: MARGIN, top: titleRoom });
  const body: string[] = [];
  body.push(...figureTitle(grid.width, options.title));
  dims.forEach((dim, k) => {
    const plot = grid.plots[k]!;
    const n = dim.truth.length;
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < n; i++) {
      const t = dim.truth[i]!, m = dim.mean[i]!, s = dim.sd?.[i] ?? 0;
      if (!Number.isFinite(t) || !Number.isFinite(m)) continue;
      lo = Math.min(lo, t, m - (Number.isFinite(s) ? s : 0));
      hi = Math.max(hi, t, m + (Number.isFinite(s) ? s : 0));
    }
    if (!(lo < hi)) [lo, hi] = [Number.isFinite(lo) ? lo - 1 : -1, Number.isFinite(lo) ? lo + 1 : 1];
    const pad = 0.04 * (hi - lo);
    const ticks = niceTicks(lo - pad, hi + pad, 5);
    const [sx, sy] = plotScales(plot, ticks, ticks);
    const stride = Math.max(1, Math.ceil(n / maxPoints));
    let bars = '', dots = '';
    for (let i = 0; i < n; i += stride) {
      const t = dim.truth[i]!, m = dim.mean[i]!;
      if (!Number.isFinite(t) || !Number.isFinite(m)) continue;
      const s = dim.sd?.[i];
      if (s !== undefined && Number.isFinite(s) && s > 0) bars += `M${fmt(sx(t))} ${fmt(sy(Math.max(ticks.min, m - s)))}V${fmt(sy(Math.min(ticks.max, m + s)))}`;
      dots += `<circle cx="${fmt(sx(t))}" cy="${fmt(sy(m))}" r="1.8"/>`;
    }
    const parts = [
      drawAxes(plot, { x: ticks, y: ticks, title: panelTitle(names[k]!, dim), xLabel: 'true value', ...(k % columns === 0 ? { yLabel: 'posterior mean' } : {}) }),
      el('path', { d: `M${fmt(sx(ticks.min))} ${fmt(sy(ticks.min))}L${fmt(sx(ticks.max))} ${fmt(sy(ticks.max))}`, stroke: INK.axis, 'stroke-dasharray': '4 3', 'stroke-width': 1 }),
    ];
    if (bars !== '') parts.push(el('path', { class: 'error-bars', d: bars, stroke: CATEGORY10[0]!, 'stroke-opacity': 0.25, 'stroke-width': 1 }));
    parts.push(el('g', { class: 'points', fill: CATEGORY10[0]!, 'fill-opacity': 0.6 }, dots));
    if (stride > 1) parts.push(comment(`every ${stride}th of ${n} pairs drawn`));
    const stats: string[] = [];
    if (dim.correlation !== undefined) stats.push(`r = ${dim.correlation.toFixed(3)}`);
    if (dim.medianZ !== undefined) stats.push(`median z = ${dim.medianZ.toFixed(2)}`);
    if (dim.medianContraction !== undefined) stats.push(`contraction = ${dim.medianContraction.toFixed(2)}`);
    stats.forEach((s, i) => parts.push(text(plot.x + 6, plot.y + 14 + i * 13, s, { 'font-size': FONT_SIZE.note, fill: INK.text })));
    body.push(el('g', { class: 'panel', 'data-index': String(k) }, '\n' + parts.join('\n') + '\n'));
  });
  return svgDocument({ width: grid.width, height: grid.height, title: options.title ?? 'recovery: posterior mean against true value', body: body.join('\n') });
}

/**
 * Posterior z-score against posterior contraction, a panel per parameter: x from 0 (the posterior learnt
 * nothing beyond the prior) to 1, y the z-score with dashed lines at ±3.
 *
 * @example
 * const svg = zScoreContractionFigure(recovery(set), { names: ['θ₁', 'θ₂'] });
 */
export function zScoreContractionFigure(input: { readonly dimensions: readonly RecoveryDimensionInput[] }, options: RecoveryFigureOptions = {}): string {
  const dims = input.dimensions;
  if (dims.length === 0) throw new RangeError('zScoreContractionFigure: needs at least one dimension');
  const names = namesFor(options.names, dims.length, 'zScoreContractionFigure');
  const maxPoints = options.maxPoints ?? 400;
  let reach = 3.5;
  for (const d of dims) {
    if (d.z === undefined || d.contraction === undefined) throw new RangeError(`zScoreContractionFigure: dimension ${d.dim} needs z and contraction`);
    if (d.z.length !== d.contraction.length) throw new RangeError(`zScoreContractionFigure: dimension ${d.dim} has ${d.z.length} z-scores and ${d.contraction.length} contractions`);
    for (const z of d.z) if (Number.isFinite(z)) reach = Math.max(reach, Math.abs(z));
  }
  const xTicks = niceTicks(0, 1, 5), yTicks = niceTicks(-reach * 1.05, reach * 1.05, 5);
  const size = options.size ?? 200;
  const columns = options.columns ?? Math.min(4, dims.length);
  const titleRoom = options.title !== undefined ? 30 : 0;
  const grid = panelGrid(dims.length, { columns, width: size, height: size, margin: MARGIN, top: titleRoom });
  const body: string[] = [];
  body.push(...figureTitle(grid.width, options.title));
  dims.forEach((dim, k) => {
    const plot = grid.plots[k]!;
    const [sx, sy] = plotScales(plot, xTicks, yTicks);
    const n = dim.z!.length, stride = Math.max(1, Math.ceil(n / maxPoints));
    let dots = '', outside = 0;
    for (let i = 0; i < n; i += stride) {
      const z = dim.z![i]!, c = dim.contraction![i]!;
      if (!Number.isFinite(z) || !Number.isFinite(c)) {
        outside++;
        continue;
      }
      dots += `<circle cx="${fmt(sx(c))}" cy="${fmt(sy(z))}" r="1.8"/>`;
    }
    const parts = [
      drawAxes(plot, { x: xTicks, y: yTicks, title: panelTitle(names[k]!, dim), xLabel: 'posterior contraction', ...(k % columns === 0 ? { yLabel: 'posterior z-score' } : {}) }),
      el('path', { d: `M${fmt(plot.x)} ${fmt(sy(3))}H${fmt(plot.x + plot.width)}M${fmt(plot.x)} ${fmt(sy(-3))}H${fmt(plot.x + plot.width)}`, stroke: INK.axis, 'stroke-dasharray': '4 3', 'stroke-width': 1 }),
      el('g', { class: 'points', fill: CATEGORY10[0]!, 'fill-opacity': 0.6 }, dots),
    ];
    if (outside > 0) parts.push(comment(`${outside} non-finite pairs not drawn`));
    body.push(el('g', { class: 'panel', 'data-index': String(k) }, '\n' + parts.join('\n') + '\n'));
  });
  return svgDocument({ width: grid.width, height: grid.height, title: options.title ?? 'posterior z-score against contraction', body: body.join('\n') });
}
