/**
 * Small <canvas> drawing helpers for the page: axes with nice ticks, points, a line, a heat map.
 * Canvas rather than SVG because the plots are redrawn many times a second while the model trains.
 * (flowgrad's own figures, `flowgrad/plot`, return SVG text; the page uses them for the "save SVG" button.)
 */
import { formatTick, niceTicks, VIRIDIS } from '../../dist/plot/index.js';

export const BLUE = '#1f77b4';
export const RED = '#d62728';
const INK = '#333';
const GRID_LINE = '#e6e6e6';
const FONT = '11px system-ui, -apple-system, "Segoe UI", sans-serif';

/**
 * Sizes the canvas's pixel buffer to its size on screen (sharp on high-DPI screens), clears it, and
 * returns the 2-D context in CSS pixels with the width and height.
 */
export function prepare(canvas) {
  const { width, height } = canvas.getBoundingClientRect();
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(width * dpr)), h = Math.max(1, Math.round(height * dpr));
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);
  return { ctx, width, height };
}

/**
 * Draws a framed plot area with grid lines, ticks and labels, and returns the data -> pixel maps.
 * The default margins leave a square plot area on a square canvas (equal aspect for 2-D points).
 */
export function axes(ctx, width, height, { x, y, xLabel = '', yLabel = '', margin = {} }) {
  const m = { left: 44, right: 10, top: 10, bottom: 44, ...margin };
  const box = { left: m.left, top: m.top, right: width - m.right, bottom: height - m.bottom };
  const px = (v) => box.left + ((v - x[0]) / (x[1] - x[0])) * (box.right - box.left);
  const py = (v) => box.bottom - ((v - y[0]) / (y[1] - y[0])) * (box.bottom - box.top);

  ctx.save();
  ctx.fillStyle = '#fff';
  ctx.fillRect(box.left, box.top, box.right - box.left, box.bottom - box.top);
  ctx.font = FONT;
  ctx.fillStyle = INK;
  ctx.strokeStyle = GRID_LINE;
  ctx.lineWidth = 1;
  const xt = niceTicks(x[0], x[1], Math.max(2, Math.round((box.right - box.left) / 70)));
  const yt = niceTicks(y[0], y[1], Math.max(2, Math.round((box.bottom - box.top) / 50)));
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const v of xt.values) {
    const p = Math.round(px(v)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(p, box.top);
    ctx.lineTo(p, box.bottom);
    ctx.stroke();
    ctx.fillText(formatTick(v, xt.step), p, box.bottom + 5);
  }
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (const v of yt.values) {
    const p = Math.round(py(v)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(box.left, p);
    ctx.lineTo(box.right, p);
    ctx.stroke();
    ctx.fillText(formatTick(v, yt.step), box.left - 5, p);
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'bottom';
  ctx.fillText(xLabel, (box.left + box.right) / 2, height - 6);
  if (yLabel) {
    ctx.translate(12, (box.top + box.bottom) / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = 'middle';
    ctx.fillText(yLabel, 0, 0);
  }
  ctx.restore();
  return { px, py, box };
}

/** The plot area's border (drawn last, over the content). */
export function frame(ctx, box) {
  ctx.save();
  ctx.strokeStyle = '#999';
  ctx.lineWidth = 1;
  ctx.strokeRect(box.left + 0.5, box.top + 0.5, box.right - box.left - 1, box.bottom - box.top - 1);
  ctx.restore();
}

/** Runs `draw` with drawing limited to the plot area. */
export function clipped(ctx, box, draw) {
  ctx.save();
  ctx.beginPath();
  ctx.rect(box.left, box.top, box.right - box.left, box.bottom - box.top);
  ctx.clip();
  draw();
  ctx.restore();
}

/** Points given as a row-major n×2 array (x0, y0, x1, y1, ...), as small squares. */
export function points(ctx, map, xy, { color, alpha = 0.6, size = 2.2 }) {
  ctx.save();
  ctx.fillStyle = color;
  ctx.globalAlpha = alpha;
  const h = size / 2;
  for (let i = 0; i + 1 < xy.length; i += 2) {
    const x = map.px(xy[i]), y = map.py(xy[i + 1]);
    if (Number.isFinite(x) && Number.isFinite(y)) ctx.fillRect(x - h, y - h, size, size);
  }
  ctx.restore();
}

/** A polyline through (xs[i], ys[i]). */
export function line(ctx, map, xs, ys, { color, width = 1.75, dash = [] }) {
  ctx.save();
  ctx.strokeStyle = color;
  ctx.lineWidth = width;
  ctx.setLineDash(dash);
  ctx.lineJoin = 'round';
  ctx.beginPath();
  for (let i = 0; i < xs.length; i++) {
    const x = map.px(xs[i]), y = map.py(ys[i]);
    if (i === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  }
  ctx.stroke();
  ctx.restore();
}

/**
 * A legend box in a top corner of the plot area ('left' or 'right'): entries of { label, color, dash? },
 * a square marker for points, a line (solid with dash [], or dashed) for curves.
 */
export function legend(ctx, box, entries, { corner = 'left' } = {}) {
  ctx.save();
  ctx.font = FONT;
  const w = 40 + Math.max(...entries.map((e) => ctx.measureText(e.label).width));
  const h = 8 + entries.length * 16;
  const left = corner === 'right' ? box.right - 6 - w : box.left + 6, top = box.top + 6;
  ctx.fillStyle = 'rgba(255, 255, 255, 0.85)';
  ctx.strokeStyle = '#ccc';
  ctx.fillRect(left, top, w, h);
  ctx.strokeRect(left + 0.5, top + 0.5, w, h);
  entries.forEach((e, i) => {
    const y = top + 12 + i * 16;
    ctx.strokeStyle = e.color;
    ctx.fillStyle = e.color;
    if (e.dash) {
      ctx.setLineDash(e.dash);
      ctx.lineWidth = 1.75;
      ctx.beginPath();
      ctx.moveTo(left + 8, y);
      ctx.lineTo(left + 26, y);
      ctx.stroke();
      ctx.setLineDash([]);
    } else ctx.fillRect(left + 13, y - 4, 8, 8);
    ctx.fillStyle = INK;
    ctx.textBaseline = 'middle';
    ctx.fillText(e.label, left + 32, y);
  });
  ctx.restore();
}

/** Text in the top-right corner of the plot area, on a light background. */
export function note(ctx, box, text) {
  ctx.save();
  ctx.font = FONT;
  const w = ctx.measureText(text).width + 10;
  ctx.fillStyle = 'rgba(255, 255, 255, 0.85)';
  ctx.fillRect(box.right - w - 6, box.top + 6, w, 18);
  ctx.fillStyle = INK;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  ctx.fillText(text, box.right - 11, box.top + 15);
  ctx.restore();
}

const tile = document.createElement('canvas'); // the heat map at grid resolution, then scaled up

// 256 viridis colours, interpolated between flowgrad's 11 stops.
const LUT = (() => {
  const stops = VIRIDIS.map((hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)));
  const lut = new Uint8ClampedArray(256 * 3);
  for (let k = 0; k < 256; k++) {
    const pos = (k / 255) * (stops.length - 1);
    const i = Math.min(stops.length - 2, Math.floor(pos)), f = pos - i;
    for (let c = 0; c < 3; c++) lut[3 * k + c] = stops[i][c] + f * (stops[i + 1][c] - stops[i][c]);
  }
  return lut;
})();

/**
 * A heat map of n×n log-density values (row 0 at the bottom) filling the plot area: the density
 * exp(log p) from 0 (dark) to its maximum on the grid (yellow). Returns that maximum.
 */
export function heatmap(ctx, box, logValues, n) {
  let max = -Infinity;
  for (const v of logValues) if (v > max) max = v;
  const image = new ImageData(n, n);
  for (let iy = 0; iy < n; iy++) {
    for (let ix = 0; ix < n; ix++) {
      const v = logValues[iy * n + ix];
      const t = Number.isFinite(v) && Number.isFinite(max) ? Math.exp(v - max) : 0; // density / its max
      const k = Math.round(t * 255), o = 4 * ((n - 1 - iy) * n + ix); // flip: image rows go down
      image.data[o] = LUT[3 * k];
      image.data[o + 1] = LUT[3 * k + 1];
      image.data[o + 2] = LUT[3 * k + 2];
      image.data[o + 3] = 255;
    }
  }
  tile.width = n;
  tile.height = n;
  tile.getContext('2d').putImageData(image, 0, 0);
  ctx.save();
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(tile, box.left, box.top, box.right - box.left, box.bottom - box.top);
  ctx.restore();
  return Math.exp(max);
}

/**
 * A light shading of n×n log-density values (row 0 at the bottom) over the plot area: colour `rgb`
 * with opacity density / its maximum on the grid, so points drawn on top stay visible (the heat map
 * above is opaque). Returns that maximum.
 */
export function shade(ctx, box, logValues, n, rgb) {
  let max = -Infinity;
  for (const v of logValues) if (v > max) max = v;
  const image = new ImageData(n, n);
  for (let iy = 0; iy < n; iy++) {
    for (let ix = 0; ix < n; ix++) {
      const v = logValues[iy * n + ix];
      const t = Number.isFinite(v) && Number.isFinite(max) ? Math.exp(v - max) : 0;
      const o = 4 * ((n - 1 - iy) * n + ix);
      image.data[o] = rgb[0];
      image.data[o + 1] = rgb[1];
      image.data[o + 2] = rgb[2];
      image.data[o + 3] = Math.round(230 * Math.sqrt(t)); // √: the thin tails stay visible
    }
  }
  tile.width = n;
  tile.height = n;
  tile.getContext('2d').putImageData(image, 0, 0);
  ctx.save();
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(tile, box.left, box.top, box.right - box.left, box.bottom - box.top);
  ctx.restore();
  return Math.exp(max);
}

/**
 * The outline of a region of an n×n grid (row 0 at the bottom): the cells whose value is at least
 * `level`, and the edges between them and the other cells drawn as lines over the plot area
 * (cell-exact, so blocky at coarse grids). Used for the highest-density region of a log-density, with
 * `level` its threshold.
 */
export function regionOutline(ctx, box, values, n, level, { color, width = 1.5 }) {
  const cw = (box.right - box.left) / n, ch = (box.bottom - box.top) / n;
  const at = (ix, iy) => ix >= 0 && ix < n && iy >= 0 && iy < n && values[iy * n + ix] >= level;
  ctx.save();
  ctx.strokeStyle = color;
  ctx.lineWidth = width;
  ctx.beginPath();
  for (let iy = 0; iy <= n; iy++) {
    for (let ix = 0; ix <= n; ix++) {
      const here = at(ix, iy);
      // The edge below this cell (between rows iy - 1 and iy) and the edge on its left.
      const x = box.left + ix * cw, y = box.bottom - iy * ch;
      if (ix < n && here !== at(ix, iy - 1)) {
        ctx.moveTo(x, y);
        ctx.lineTo(x + cw, y);
      }
      if (iy < n && here !== at(ix - 1, iy)) {
        ctx.moveTo(x, y);
        ctx.lineTo(x, y - ch);
      }
    }
  }
  ctx.stroke();
  ctx.restore();
}
