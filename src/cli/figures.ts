/**
 * The figures of a run, as SVG text: the post's Figure 1 (layers.svg), samples beside the training data
 * (samples.svg), the learned density beside the true one (density.svg, 2-D only) and the training curves
 * (loss.svg). Deterministic for a given model, data and seed, so `plot` redraws what `train` drew.
 *
 * @module
 */

import { exp } from '../autograd/elementwise.ts';
import { noGrad, Tensor } from '../autograd/tensor.ts';
import type { Rng } from '../rng/rng.ts';
import type { Target } from '../data/target.ts';
import type { RealNVP } from '../flow/real-nvp.ts';
import { OVERLAY_RED } from '../plot/colormap.ts';
import { densityFigure } from '../plot/density.ts';
import { layerFigure } from '../plot/layers.ts';
import { lossFigure } from '../plot/loss.ts';
import { scatterFigure } from '../plot/scatter.ts';
import type { HistoryRows } from './run-dir.ts';

/**
 * What {@link makeFigures} draws from.
 * @example const input: FigureInput = { flow, train, columns: ['x0', 'x1'], name: 'post-mixture', rng: streams(0).figures };
 */
export interface FigureInput {
  flow: RealNVP;
  /** The training rows (overlaid in red on the last layer panel, and beside the samples). */
  train: Tensor;
  /** The true distribution, when known (its density is drawn beside the learned one). */
  target?: Target;
  /** Per-epoch curves for loss.svg (no loss figure without). */
  history?: HistoryRows;
  /** Column names (the first two are the axes of every figure). */
  columns: readonly string[];
  /** A short name of the data for titles, e.g. `post-mixture` or `data.csv`. */
  name: string;
  /** The generator of the base samples and flow samples. */
  rng: Rng;
  /** Base samples pushed through the layers (default 1,000, as in the post). */
  points?: number;
  /** Grid cells per side of the density heat maps (default 100). */
  gridSize?: number;
}

/**
 * One figure: its file name in `figures/` and its SVG text.
 * @example const [first]: Figure[] = makeFigures(input); first.file; // 'layers.svg'
 */
export interface Figure {
  file: string;
  svg: string;
}

/**
 * Draws every figure the run has data for.
 * @example for (const { file, svg } of makeFigures({ flow, train, columns, name, rng })) writeFileAtomic(join(dir, file), svg);
 */
export function makeFigures(input: FigureInput): Figure[] {
  const { flow, train } = input;
  const figures: Figure[] = [];
  const n = input.points ?? 1000;

  // Figure 1 of the post: base samples after each pair of layers, training data in red on the last panel.
  // With standardisation (or whitening) inside the model, every panel is mapped back to the data's units.
  const z = flow.base.sample(n, input.rng);
  const steps = flow.trace(z);
  const layers = flow.config.layers;
  const front = flow.standardize ?? flow.whiten;
  const toData = (t: Tensor): Tensor => (front === null ? t : noGrad(() => front.inverse(t)[0]));
  const panels: { title: string; points: Tensor }[] = [];
  for (let k = 1; k < layers; k += 2) panels.push({ title: `after ${k + 1} of ${layers} layers`, points: firstTwo(toData(steps[k]!)) });
  if (layers % 2 === 1) panels.push({ title: `after ${layers} of ${layers} layers`, points: firstTwo(toData(steps[layers - 1]!)) });
  figures.push({
    file: 'layers.svg',
    svg: layerFigure(panels, { overlay: firstTwo(train), title: `Base samples, layer by layer (${input.name})`, columns: 4 }),
  });

  // Samples beside the data.
  const axes = input.columns.length > 2 ? ` (${input.columns[0]}, ${input.columns[1]})` : '';
  const samples = flow.sample(Math.min(Math.max(train.rows, 1000), 5000), input.rng);
  figures.push({
    file: 'samples.svg',
    svg: scatterFigure(
      [
        { title: `flow samples${axes}`, points: firstTwo(samples) },
        { title: `training data${axes}`, points: firstTwo(train), color: OVERLAY_RED },
      ],
      { title: `Flow samples and data (${input.name})` },
    ),
  });

  // The learned density beside the true one, on a square grid around the data.
  if (flow.dim === 2) {
    const size = input.gridSize ?? 100;
    const box = squareBox(train);
    const grid = gridPoints(box, size);
    const learned = densityOnGrid((x) => noGrad(() => exp(flow.logProb(x))).data, grid);
    const gridOf = (values: Float64Array) => ({ x0: box[0], x1: box[1], y0: box[2], y1: box[3], nx: size, ny: size, values });
    const density = [{ title: 'learned density q(x)', grid: gridOf(learned) }];
    const logDensity = input.target?.logDensity?.bind(input.target);
    if (logDensity !== undefined && input.target!.dim === 2) {
      const truth = densityOnGrid((x) => logDensity(x).map(Math.exp), grid);
      density.push({ title: 'true density p(x)', grid: gridOf(truth) });
    }
    figures.push({
      file: 'density.svg',
      svg: densityFigure(density, { title: `Density (${input.name})`, xLabel: input.columns[0] ?? 'x₁', yLabel: input.columns[1] ?? 'x₂' }),
    });
  }

  // Training curves.
  const h = input.history;
  if (h !== undefined && h.epoch.length > 0) {
    const series = [{ name: 'train loss (NLL)', x: h.epoch, y: h.trainLoss }];
    if (h.valNll.some(Number.isFinite)) series.push({ name: 'validation NLL', x: h.epoch, y: h.valNll });
    figures.push({ file: 'loss.svg', svg: lossFigure({ series, title: `Training (${input.name})`, xLabel: 'epoch', yLabel: 'nats per point' }) });
  }
  return figures;
}

// The first two columns of n×d points as n×2.
function firstTwo(x: Tensor): Tensor {
  if (x.cols === 2) return x;
  const out = new Float64Array(2 * x.rows);
  for (let i = 0; i < x.rows; i++) {
    out[2 * i] = x.data[i * x.cols]!;
    out[2 * i + 1] = x.data[i * x.cols + 1]!;
  }
  return Tensor.from(x.rows, 2, out);
}

// [x0, x1, y0, y1]: the smallest square holding the finite points, padded by 15% on each side.
function squareBox(x: Tensor): [number, number, number, number] {
  let xMin = Infinity, xMax = -Infinity, yMin = Infinity, yMax = -Infinity;
  for (let i = 0; i < x.rows; i++) {
    const a = x.data[i * x.cols]!, b = x.data[i * x.cols + 1]!;
    if (!Number.isFinite(a) || !Number.isFinite(b)) continue;
    xMin = Math.min(xMin, a);
    xMax = Math.max(xMax, a);
    yMin = Math.min(yMin, b);
    yMax = Math.max(yMax, b);
  }
  if (xMin > xMax) return [-1, 1, -1, 1];
  const cx = (xMin + xMax) / 2, cy = (yMin + yMax) / 2;
  const half = Math.max(xMax - xMin, yMax - yMin, 1e-9) / 2 * 1.15;
  return [cx - half, cx + half, cy - half, cy + half];
}

// The centres of size×size cells over the box, row by row from the bottom (the DensityGrid layout).
function gridPoints(box: [number, number, number, number], size: number): Tensor {
  const [x0, x1, y0, y1] = box;
  const dx = (x1 - x0) / size, dy = (y1 - y0) / size;
  const data = new Float64Array(2 * size * size);
  for (let j = 0; j < size; j++) {
    for (let i = 0; i < size; i++) {
      data[2 * (j * size + i)] = x0 + (i + 0.5) * dx;
      data[2 * (j * size + i) + 1] = y0 + (j + 0.5) * dy;
    }
  }
  return Tensor.from(size * size, 2, data);
}

// Evaluates a density on the grid's points in batches of 2,500 rows.
function densityOnGrid(density: (x: Tensor) => Float64Array, grid: Tensor): Float64Array {
  const out = new Float64Array(grid.rows);
  const batch = 2500;
  for (let start = 0; start < grid.rows; start += batch) {
    const rows = Math.min(batch, grid.rows - start);
    const x = Tensor.from(rows, 2, grid.data.slice(2 * start, 2 * (start + rows)));
    out.set(density(x), start);
  }
  return out;
}
