/**
 * Figures of simulation-based calibration: the rank histogram per parameter with the binomial band of
 * a uniform histogram (S. Talts et al., "Validating Bayesian inference algorithms with simulation-based
 * calibration", 2018, Fig. 1), and the ECDF difference F(z) − z per parameter with its simultaneous band
 * (T. Säilynoja, P.-C. Bürkner & A. Vehtari, "Graphical test for discrete uniformity", Statistics and
 * Computing 2022). Inputs are plain data, shaped like the result of `sbc` in flowgrad's sbi layer.
 *
 * @module
 */

import { drawAxes, figureTitle, panelGrid, plotScales } from './axes.ts';
import { CATEGORY10 } from './colormap.ts';
import { el, fmt, INK, svgDocument } from './svg.ts';
import { namesFor, panelTitle } from './names.ts';
import { niceTicks } from './ticks.ts';

/**
 * What {@link sbcRankFigure} needs: bin edges over the ranks, the band per bin, and the counts per
 * parameter (an `sbc` result has exactly these fields).
 * @example sbcRankFigure({ edges: [0, 50, 100], histogramBand: { lower: [40, 40], upper: [60, 60], expected: [50, 50] }, dimensions: [{ dim: 0, counts: [48, 52] }] });
 */
export interface SbcRankInput {
  edges: readonly number[];
  histogramBand: { readonly lower: readonly number[]; readonly upper: readonly number[]; readonly expected: readonly number[]; readonly confidence?: number };
  dimensions: readonly { readonly dim: number; readonly counts: readonly number[]; readonly verdict?: string; readonly direction?: string }[];
}

/**
 * What {@link sbcEcdfFigure} needs: the levels and the band (ECDF values), and each parameter's ECDF at
 * the levels.
 * @example sbcEcdfFigure({ ecdfBand: { levels: [0.5], lower: [0.4], upper: [0.6] }, dimensions: [{ dim: 0, ecdf: [0.52] }] });
 */
export interface SbcEcdfInput {
  ecdfBand: { readonly levels: readonly number[]; readonly lower: readonly number[]; readonly upper: readonly number[]; readonly confidence?: number };
  dimensions: readonly { readonly dim: number; readonly ecdf: readonly number[]; readonly verdict?: string; readonly direction?: string }[];
}

/**
 * Options of the SBC figures.
 * @example sbcRankFigure(result, { names: ['θ₁', 'θ₂'], title: 'SBC ranks' });
 */
export interface SbcFigureOptions {
  /** Parameter names (default θ₁ … θ_d). */
  names?: readonly string[];
  title?: string;
  /** Panels per row (default up to 4). */
  columns?: number;
  /** Plot-area width of each panel, px (default 220; height 160). */
  size?: number;
}

const MARGIN = { top: 30, right: 14, bottom: 44, left: 64 } as const;
const BAND_GREY = '#d9d9d9';

/**
 * Rank histograms, one panel per parameter: bars of the counts, the grey band where a uniform
 * histogram's counts fall with the band's confidence, and the expected count as a line. The panel title
 * carries the verdict when the input has one. Each panel is a `<g class="panel">`, each bar a `<rect
 * class="bar">`.
 *
 * @example
 * const svg = sbcRankFigure(sbc(set, { rng }), { names: ['θ₁', 'θ₂'] });
 */
export function sbcRankFigure(input: SbcRankInput, options: SbcFigureOptions = {}): string {
  const { edges, histogramBand: band, dimensions } = input;
  const B = edges.length - 1;
  if (B < 1) throw new RangeError(`sbcRankFigure: needs at least 2 bin edges, got ${edges.length}`);
  for (const [what, a] of [['lower', band.lower], ['upper', band.upper], ['expected', band.expected]] as const) {
    if (a.length !== B) throw new RangeError(`sbcRankFigure: histogramBand.${what} has ${a.length} values for ${B} bins`);
  }
  if (dimensions.length === 0) throw new RangeError('sbcRankFigure: needs at least one dimension');
  dimensions.forEach((d) => {
    if (d.counts.length !== B) throw new RangeError(`sbcRankFigure: dimension ${d.dim} has ${d.counts.length} counts for ${B} bins`);
  });
  const names = namesFor(options.names, dimensions.length, 'sbcRankFigure');
  let top = 0;
  // Heights are counts per rank (count / bin width) so bins of unequal width compare fairly.
  const perRank = (c: number, b: number) => c / (edges[b + 1]! - edges[b]!);
  for (const d of dimensions) d.counts.forEach((c, b) => (top = Math.max(top, perRank(c, b))));
  band.upper.forEach((u, b) => (top = Math.max(top, perRank(u, b))));
  const xTicks = niceTicks(edges[0]!, edges[B]!, 5), yTicks = niceTicks(0, top * 1.05, 4);
  const size = options.size ?? 220;
  const titleRoom = options.title !== undefined ? 30 : 0;
  const columns = options.columns ?? Math.min(4, dimensions.length);
  const grid = panelGrid(dimensions.length, { columns, width: size, height: 160, margin: MARGIN, top: titleRoom });
  const body: string[] = [];
  body.push(...figureTitle(grid.width, options.title));
  dimensions.forEach((dim, k) => {
    const plot = grid.plots[k]!;
    const [sx, sy] = plotScales(plot, xTicks, yTicks);
    let bandPath = '', bars = '', expected = '';
    for (let b = 0; b < B; b++) {
      const x0 = sx(edges[b]!), x1 = sx(edges[b + 1]!);
      bandPath += `M${fmt(x0)} ${fmt(sy(perRank(band.upper[b]!, b)))}H${fmt(x1)}V${fmt(sy(perRank(band.lower[b]!, b)))}H${fmt(x0)}z`;
      expected += `${b === 0 ? 'M' : 'L'}${fmt(x0)} ${fmt(sy(perRank(band.expected[b]!, b)))}H${fmt(x1)}`;
      const y = sy(perRank(dim.counts[b]!, b));
      bars += el('rect', { class: 'bar', x: x0 + 0.5, y, width: Math.max(0.5, x1 - x0 - 1), height: sy(0) - y });
    }
    const parts = [
      drawAxes(plot, { x: xTicks, y: yTicks, title: panelTitle(names[k]!, dim), xLabel: 'rank', ...(k % columns === 0 ? { yLabel: 'count per rank' } : {}) }),
      el('path', { class: 'band', d: bandPath, fill: BAND_GREY, 'fill-opacity': 0.8 }),
      el('g', { fill: CATEGORY10[0]!, 'fill-opacity': 0.75 }, bars),
      el('path', { class: 'expected', d: expected, fill: 'none', stroke: INK.axis, 'stroke-width': 1, 'stroke-dasharray': '3 2' }),
    ];
    body.push(el('g', { class: 'panel', 'data-index': String(k) }, '\n' + parts.join('\n') + '\n'));
  });
  const confidence = band.confidence !== undefined ? ` (${fmtPercent(band.confidence)} band)` : '';
  return svgDocument({ width: grid.width, height: grid.height, title: options.title ?? `SBC rank histograms${confidence}`, body: body.join('\n') });
}

/**
 * ECDF differences, one panel per parameter: F(z) − z of the normalised ranks against z, inside the grey
 * simultaneous band (the whole curve of a calibrated posterior stays in it with the band's confidence).
 * A curve above the band's middle at small z (ranks piled low) means a posterior that sits above the
 * truth; an S through the band a too narrow or too wide one.
 *
 * @example
 * const svg = sbcEcdfFigure(sbc(set, { rng }), { names: ['θ₁', 'θ₂'] });
 */
export function sbcEcdfFigure(input: SbcEcdfInput, options: SbcFigureOptions = {}): string {
  const { ecdfBand: band, dimensions } = input;
  const K = band.levels.length;
  if (K < 1) throw new RangeError('sbcEcdfFigure: the band needs at least one level');
  if (band.lower.length !== K || band.upper.length !== K) throw new RangeError(`sbcEcdfFigure: the band has ${K} levels, ${band.lower.length} lower and ${band.upper.length} upper values`);
  if (dimensions.length === 0) throw new RangeError('sbcEcdfFigure: needs at least one dimension');
  dimensions.forEach((d) => {
    if (d.ecdf.length !== K) throw new RangeError(`sbcEcdfFigure: dimension ${d.dim} has ${d.ecdf.length} ECDF values for ${K} levels`);
  });
  const names = namesFor(options.names, dimensions.length, 'sbcEcdfFigure');
  // The curve runs from (0, 0) through the levels to (1, 0); the band is pinned to 0 at both ends.
  let reach = 0;
  for (let i = 0; i < K; i++) reach = Math.max(reach, Math.abs(band.upper[i]! - band.levels[i]!), Math.abs(band.lower[i]! - band.levels[i]!));
  for (const d of dimensions) for (let i = 0; i < K; i++) reach = Math.max(reach, Math.abs(d.ecdf[i]! - band.levels[i]!));
  const yTicks = niceTicks(-reach * 1.1, reach * 1.1, 4), xTicks = niceTicks(0, 1, 5);
  const size = options.size ?? 220;
  const titleRoom = options.title !== undefined ? 30 : 0;
  const columns = options.columns ?? Math.min(4, dimensions.length);
  const grid = panelGrid(dimensions.length, { columns, width: size, height: 160, margin: MARGIN, top: titleRoom });
  const body: string[] = [];
  body.push(...figureTitle(grid.width, options.title));
  dimensions.forEach((dim, k) => {
    const plot = grid.plots[k]!;
    const [sx, sy] = plotScales(plot, xTicks, yTicks);
    let upper = `M${fmt(sx(0))} ${fmt(sy(0))}`, lower = '';
    for (let i = 0; i < K; i++) upper += `L${fmt(sx(band.levels[i]!))} ${fmt(sy(band.upper[i]! - band.levels[i]!))}`;
    upper += `L${fmt(sx(1))} ${fmt(sy(0))}`;
    for (let i = K - 1; i >= 0; i--) lower += `L${fmt(sx(band.levels[i]!))} ${fmt(sy(band.lower[i]! - band.levels[i]!))}`;
    let curve = `M${fmt(sx(0))} ${fmt(sy(0))}`;
    for (let i = 0; i < K; i++) curve += `L${fmt(sx(band.levels[i]!))} ${fmt(sy(dim.ecdf[i]! - band.levels[i]!))}`;
    curve += `L${fmt(sx(1))} ${fmt(sy(0))}`;
    const parts = [
      drawAxes(plot, { x: xTicks, y: yTicks, title: panelTitle(names[k]!, dim), xLabel: 'normalised rank z', ...(k % columns === 0 ? { yLabel: 'F(z) − z' } : {}) }),
      el('path', { class: 'band', d: `${upper}${lower}Z`, fill: BAND_GREY, 'fill-opacity': 0.8 }),
      el('path', { d: `M${fmt(sx(0))} ${fmt(sy(0))}H${fmt(sx(1))}`, stroke: INK.axis, 'stroke-width': 1, 'stroke-dasharray': '3 2' }),
      el('path', { class: 'ecdf', d: curve, fill: 'none', stroke: CATEGORY10[0]!, 'stroke-width': 1.6, 'stroke-linejoin': 'round' }),
    ];
    body.push(el('g', { class: 'panel', 'data-index': String(k) }, '\n' + parts.join('\n') + '\n'));
  });
  const confidence = band.confidence !== undefined ? ` (${fmtPercent(band.confidence)} simultaneous band)` : '';
  return svgDocument({ width: grid.width, height: grid.height, title: options.title ?? `SBC ECDF difference${confidence}`, body: body.join('\n') });
}

function fmtPercent(c: number): string {
  return `${Math.round(c * 1000) / 10}%`;
}
