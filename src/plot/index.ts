/**
 * Figures as SVG text, with no dependency and no DOM: the post's layer-by-layer figure, heat maps of
 * densities, scatter plots and training curves, the corner plot and the calibration figures (SBC ranks
 * and ECDF bands, expected coverage, recovery), plus the small core they are built from.
 *
 * @module
 */
export { comment, el, escapeXml, fmt, FONT_FAMILY, FONT_SIZE, INK, svgDocument, text } from './svg.ts';
export type { Attrs, SvgDocumentOptions } from './svg.ts';
export { formatTick, niceTicks } from './ticks.ts';
export type { Ticks } from './ticks.ts';
export { CATEGORY10, OVERLAY_RED, VIRIDIS, viridis } from './colormap.ts';
export { drawAxes, drawLegend, linearScale, panelGrid, plotScales } from './axes.ts';
export type { AxesOptions, LegendEntry, Margin, PanelGrid, PanelGridOptions, Rect } from './axes.ts';
export { readPoints, scatterFigure, scatterPanels } from './scatter.ts';
export type { PointColumns, Points, ScatterFigureOptions, ScatterLayoutOptions, ScatterPanel, ScatterSeries } from './scatter.ts';
export { layerFigure } from './layers.ts';
export type { LayerFigureOptions } from './layers.ts';
export { densityFigure } from './density.ts';
export type { DensityFigureOptions, DensityGrid } from './density.ts';
export { lossFigure } from './loss.ts';
export type { LossFigureOptions, LossSeries } from './loss.ts';
export { cornerFigure } from './corner.ts';
export type { CornerFigureOptions, SampleMatrix } from './corner.ts';
export { sbcEcdfFigure, sbcRankFigure } from './sbc.ts';
export type { SbcEcdfInput, SbcFigureOptions, SbcRankInput } from './sbc.ts';
export { coverageFigure } from './coverage.ts';
export type { CoverageCurveInput, CoverageFigureOptions, CoverageInput } from './coverage.ts';
export { recoveryFigure, zScoreContractionFigure } from './recovery.ts';
export type { RecoveryDimensionInput, RecoveryFigureOptions } from './recovery.ts';
export { namesFor, panelTitle, subscript } from './names.ts';
