/**
 * The layer-by-layer figure: Figure 1 of the blog post "Real NVP: Normalizing flows" (AANN, 28/12/2024).
 * Test points drawn from the base distribution are pushed through the flow towards data space, and each
 * panel shows them after one more pair of coupling layers; the last panel adds the training data in red.
 *
 * @module
 */

import { CATEGORY10, OVERLAY_RED } from './colormap.ts';
import { scatterPanels, type Points, type ScatterLayoutOptions, type ScatterPanel } from './scatter.ts';

/**
 * Options of {@link layerFigure}.
 * @example layerFigure(panels, { overlay: train, columns: 4, size: 200, range: { x: [-6, 6], y: [-6, 6] } });
 */
export interface LayerFigureOptions extends ScatterLayoutOptions {
  /** Points drawn in red over the last panel: the training data. */
  overlay?: Points;
  /** Legend name of the pushed points (default 'flow samples'), shown in the last panel with an overlay. */
  pointsLabel?: string;
  /** Legend name of the overlay (default 'training data'). */
  overlayLabel?: string;
  /** Colour of the pushed points (default blue, '#1f77b4'). */
  color?: string;
}

/**
 * One panel per pair of coupling layers, all on one shared range (so the panels can be compared), four
 * to a row by default; the `overlay` (training data) is drawn in red ({@link OVERLAY_RED}) over the last
 * panel, under a two-entry legend. Returns the SVG document as text.
 *
 * @example
 * // intermediates[k]: the test points after pair k+1, n×2 (the flow's sampling direction)
 * const svg = layerFigure(
 *   intermediates.map((points, k) => ({ title: `after layers ${2 * k + 1}–${2 * k + 2}`, points })),
 *   { overlay: trainData, title: 'Test points on their way to data space' },
 * );
 */
export function layerFigure(panels: readonly { title: string; points: Points }[], options: LayerFigureOptions = {}): string {
  if (panels.length === 0) throw new RangeError('layerFigure: needs at least one panel');
  const { overlay, pointsLabel, overlayLabel, color: pointsColor, ...layout } = options;
  const color = pointsColor ?? CATEGORY10[0]!;
  const last = panels.length - 1;
  const scatter: ScatterPanel[] = panels.map((p, k) => {
    if (k !== last || overlay === undefined) return { title: p.title, series: [{ points: p.points, color }] };
    return {
      title: p.title,
      series: [
        { points: p.points, color, label: pointsLabel ?? 'flow samples' },
        { points: overlay, color: OVERLAY_RED, label: overlayLabel ?? 'training data', opacity: 0.4 },
      ],
    };
  });
  return scatterPanels(scatter, layout);
}
