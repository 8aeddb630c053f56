/**
 * The page: reads the settings, talks to the training worker, and draws what it posts. Nothing here
 * trains; the worker does (worker.js), so the page stays responsive while a model learns.
 */
import { layerFigure } from '../../dist/plot/index.js';
import * as plot from './plots.js';

const $ = (id) => document.getElementById(id);
const FIELDS = ['dataset', 'model', 'layers', 'hidden', 'lr', 'batchSize', 'epochs', 'points', 'seed'];
const TEXT_FIELDS = new Set(['dataset', 'model']);

// Everything the page knows; exposed as `window.demo` for the console and the browser test.
const state = {
  config: null,
  run: 'idle', // 'idle' | 'running' | 'paused' | 'done' | 'diverged'
  loading: true, // between a reset and the worker's 'ready'
  data: null, // training points, row-major n×2
  range: null, // { x0, x1, y0, y1 }, shared by the 2-D plots
  grid: 0,
  trueDensity: null, // log p on the grid, or null when the data set has no known density
  entropy: null,
  losses: [], // training loss per epoch
  stepsPerSecond: 0,
  trainSeconds: 0,
  snapshot: null, // { epoch, layers, frames: Float64Array[], density: Float64Array }
  snapshots: 0,
  error: null,
};
window.demo = state;

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
worker.onerror = (event) => showError(`the worker failed to start: ${event.message || 'see the console'} (is dist/ built? run npm run build)`);
worker.onmessage = ({ data: message }) => {
  switch (message.type) {
    case 'ready':
      Object.assign(state, {
        data: message.data, range: message.range, grid: message.grid, trueDensity: message.trueDensity,
        entropy: message.entropy, losses: [], snapshot: null, error: null, run: 'idle', loading: false,
      });
      $('model-info').textContent = `${message.describe}, ${message.parameters.toLocaleString('en')} parameters`;
      $('density-true').disabled = message.trueDensity === null;
      if (message.trueDensity === null && densityShown() === 'true') document.querySelector('input[value=learned]').checked = true;
      break;
    case 'epoch':
      state.losses.push(message.trainLoss);
      state.stepsPerSecond = message.stepsPerSecond;
      state.trainSeconds = message.trainSeconds;
      break;
    case 'snapshot':
      state.snapshot = message;
      state.snapshots++;
      break;
    case 'state':
      state.run = message.state;
      if (message.state === 'diverged') showError(`Training diverged: ${message.message}`);
      break;
    case 'error':
      showError(message.message);
      state.run = 'paused';
      break;
  }
  redraw();
};

// ---- settings -------------------------------------------------------------------------------------

function readConfig() {
  const config = {};
  for (const name of FIELDS) {
    const input = $(name);
    if (!input.checkValidity()) throw new Error(`${input.closest('label').firstChild.textContent.trim()}: ${input.validationMessage}`);
    config[name] = TEXT_FIELDS.has(name) ? input.value : Number(input.value);
  }
  return config;
}

/** Builds data and a fresh model in the worker with the current settings. */
function reset() {
  try {
    state.config = readConfig();
  } catch (err) {
    showError(err.message);
    return;
  }
  state.error = null;
  state.run = 'idle';
  state.loading = true;
  animation.position = 0;
  worker.postMessage({ type: 'init', config: state.config });
  redraw();
}

$('train').onclick = () => worker.postMessage({ type: 'start' });
$('pause').onclick = () => worker.postMessage({ type: 'pause' });
$('reset').onclick = reset;
// Before the first epoch a change applies at once (the plots show the new data); afterwards on Reset.
$('settings').addEventListener('change', () => {
  if (state.run === 'idle') reset();
});
$('post-recipe').onclick = () => {
  // The post: 16 layers of its coupling, hidden 64, Adam lr 2e-4, batch 64, 1,000 epochs, 1,000 points.
  const recipe = { dataset: 'post-mixture', model: 'post', layers: 16, hidden: 64, lr: 0.0002, batchSize: 64, epochs: 1000, points: 1000 };
  for (const [name, value] of Object.entries(recipe)) $(name).value = String(value);
  reset();
};

// ---- status ---------------------------------------------------------------------------------------

function showError(message) {
  state.error = message;
  redraw();
}

function updateControls() {
  const { run, config, losses } = state;
  const started = losses.length > 0;
  $('settings').disabled = run === 'running' || (started && run !== 'idle');
  $('post-recipe').disabled = $('settings').disabled;
  $('train').disabled = run === 'running' || run === 'done' || run === 'diverged' || state.loading;
  $('train').textContent = run === 'paused' ? 'Resume' : 'Train';
  $('pause').disabled = run !== 'running';
  const status = $('status');
  status.classList.toggle('error', state.error !== null);
  if (state.error !== null) status.textContent = state.error;
  else if (state.loading) status.textContent = 'Building the data and the model…';
  else if (!started) status.textContent = `Ready: ${state.data.length / 2} points. Press Train.`;
  else {
    const last = losses[losses.length - 1];
    const what = run === 'done' ? 'Done' : run === 'paused' ? 'Paused' : 'Training';
    status.textContent = `${what}: epoch ${losses.length} / ${config.epochs}, loss ${last.toFixed(3)} nats, `
      + `${Math.round(state.stepsPerSecond).toLocaleString('en')} steps/s, ${state.trainSeconds.toFixed(1)} s`;
  }
}

// ---- drawing --------------------------------------------------------------------------------------

let pending = false;
/** Redraws the static panels once on the next frame, however many messages arrived before it. */
function redraw() {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    updateControls();
    drawLoss();
    drawSamples();
    drawDensity();
    animation.dirty = true;
  });
}
window.addEventListener('resize', redraw);
for (const radio of document.querySelectorAll('input[name=density]')) radio.addEventListener('change', redraw);

const densityShown = () => document.querySelector('input[name=density]:checked').value;
const rangeOf = (r) => ({ x: [r.x0, r.x1], y: [r.y0, r.y1] });

function drawLoss() {
  const { ctx, width, height } = plot.prepare($('loss'));
  const losses = state.losses;
  const epochs = state.config?.epochs ?? 1;
  let lo = Infinity, hi = -Infinity;
  for (const v of losses) if (Number.isFinite(v)) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  if (state.entropy !== null) [lo, hi] = [Math.min(lo, state.entropy), Math.max(hi, state.entropy)];
  if (!(hi > lo)) [lo, hi] = Number.isFinite(lo) ? [lo - 0.5, lo + 0.5] : [0, 1];
  const pad = 0.06 * (hi - lo);
  const map = plot.axes(ctx, width, height, { x: [1, Math.max(2, epochs)], y: [lo - pad, hi + pad], xLabel: 'epoch', yLabel: 'NLL (nats)', margin: { left: 54 } });
  plot.clipped(ctx, map.box, () => {
    if (state.entropy !== null) plot.line(ctx, map, [1, epochs], [state.entropy, state.entropy], { color: '#888', width: 1.25, dash: [5, 4] });
    if (losses.length > 0) plot.line(ctx, map, losses.map((_, i) => i + 1), losses, { color: plot.BLUE });
  });
  plot.frame(ctx, map.box);
  const entries = [{ label: 'training loss', color: plot.BLUE, dash: [] }];
  if (state.entropy !== null) entries.push({ label: `entropy of the data, ${state.entropy.toFixed(3)}`, color: '#888', dash: [5, 4] });
  plot.legend(ctx, map.box, entries, { corner: 'right' });
  $('loss-now').textContent = losses.length > 0 ? `epoch ${losses.length}: ${losses[losses.length - 1].toFixed(3)}` : '';
}

function drawSamples() {
  const { ctx, width, height } = plot.prepare($('samples'));
  if (state.range === null) return;
  const map = plot.axes(ctx, width, height, { ...rangeOf(state.range), xLabel: 'x₁', yLabel: 'x₂' });
  const frames = state.snapshot?.frames;
  plot.clipped(ctx, map.box, () => {
    plot.points(ctx, map, state.data, { color: plot.RED, alpha: 0.3 });
    if (frames) plot.points(ctx, map, frames[frames.length - 1], { color: plot.BLUE, alpha: 0.55 });
  });
  plot.frame(ctx, map.box);
  plot.legend(ctx, map.box, [{ label: 'flow samples', color: plot.BLUE }, { label: 'training data', color: plot.RED }]);
  $('samples-epoch').textContent = state.snapshot ? `epoch ${state.snapshot.epoch}` : '';
}

function drawDensity() {
  const { ctx, width, height } = plot.prepare($('density'));
  if (state.range === null) return;
  const map = plot.axes(ctx, width, height, { ...rangeOf(state.range), xLabel: 'x₁', yLabel: 'x₂' });
  const showTrue = densityShown() === 'true' && state.trueDensity !== null;
  const values = showTrue ? state.trueDensity : state.snapshot?.density;
  if (values) {
    const max = plot.heatmap(ctx, map.box, values, state.grid);
    plot.note(ctx, map.box, `${showTrue ? 'p(x)' : 'q(x)'}: 0 (purple) to ${max.toPrecision(2)} (yellow)`);
  }
  plot.frame(ctx, map.box);
  $('density-caption').textContent = showTrue
    ? `The data set's exact density p(x) on a ${state.grid} × ${state.grid} grid.`
    : `The flow's density q(x) = exp(logProb) on a ${state.grid} × ${state.grid} grid, computed in the worker${state.snapshot ? ` (epoch ${state.snapshot.epoch})` : ''}.`;
}

// ---- the Figure 1 animation -------------------------------------------------------------------------

// `position` runs from 0 (the base) to frames - 1 (the data side); between two frames the points are
// interpolated. Each step eases in and out and then rests, and the last frame rests a little longer.
const animation = { position: 0, clock: 0, playing: true, last: 0, dirty: true };
const STEP_MS = 1100, REST = 0.35, END_REST = 2;
const ease = (u) => u * u * (3 - 2 * u);

function tick(now) {
  const frames = state.snapshot?.frames;
  if (frames && animation.playing) {
    const dt = Math.min(100, now - animation.last);
    const stops = frames.length - 1;
    animation.clock = (animation.clock + dt / STEP_MS) % (stops + END_REST);
    const k = Math.floor(animation.clock);
    animation.position = k >= stops ? stops : k + ease(Math.max(0, (animation.clock - k - REST) / (1 - REST)));
    $('anim-pos').max = String(stops);
    $('anim-pos').value = String(animation.position);
  }
  animation.last = now;
  if (animation.dirty || (frames && animation.playing)) drawTrace();
  animation.dirty = false;
  requestAnimationFrame(tick);
}
requestAnimationFrame(tick);

$('anim-play').onclick = () => {
  animation.playing = !animation.playing;
  $('anim-play').textContent = animation.playing ? 'Pause' : 'Play';
};
$('anim-pos').oninput = () => {
  animation.playing = false;
  $('anim-play').textContent = 'Play';
  animation.position = Number($('anim-pos').value);
  animation.clock = animation.position;
  animation.dirty = true;
};

let interpolated = new Float64Array(0);
function drawTrace() {
  const { ctx, width, height } = plot.prepare($('trace'));
  if (state.range === null) return;
  const map = plot.axes(ctx, width, height, { ...rangeOf(state.range), xLabel: 'x₁', yLabel: 'x₂' });
  const snap = state.snapshot;
  if (!snap) return plot.frame(ctx, map.box);
  const frames = snap.frames, stops = frames.length - 1;
  const pos = Math.min(animation.position, stops);
  const k = Math.min(Math.floor(pos), stops - 1), u = pos - k;
  const a = frames[k], b = frames[k + 1];
  if (interpolated.length !== a.length) interpolated = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) interpolated[i] = a[i] + u * (b[i] - a[i]);
  // The training data fade in over the last step, as in the post's last panel.
  const dataAlpha = 0.3 * Math.max(0, Math.min(1, pos - (stops - 1)));
  plot.clipped(ctx, map.box, () => {
    if (dataAlpha > 0) plot.points(ctx, map, state.data, { color: plot.RED, alpha: dataAlpha });
    plot.points(ctx, map, interpolated, { color: plot.BLUE, alpha: 0.6 });
  });
  plot.frame(ctx, map.box);
  plot.note(ctx, map.box, traceLabel(pos, snap.layers, stops));
  $('trace-epoch').textContent = `epoch ${snap.epoch}`;
}

/** "base N(0, I)", "layers 3–4 of 8", "after 4 of 8 layers", ... for a position along the trace. */
function traceLabel(pos, layers, stops) {
  const per = layers / stops; // layers per frame: 2 (the post's pairs)
  if (Math.abs(pos - Math.round(pos)) < 1e-6) {
    const k = Math.round(pos);
    return k === 0 ? 'base N(0, I)' : `after ${k * per} of ${layers} layers${k === stops ? ' = samples' : ''}`;
  }
  const k = Math.floor(pos);
  return `through layers ${k * per + 1}–${(k + 1) * per} of ${layers}`;
}

/** Figure 1 as SVG text, drawn by the library's own layerFigure (one panel per pair of layers). */
function figureOneSvg() {
  const snap = state.snapshot;
  const per = snap.layers / (snap.frames.length - 1);
  const panels = snap.frames.slice(1).map((points, k) => ({ title: `after ${(k + 1) * per} of ${snap.layers} layers`, points }));
  return layerFigure(panels, {
    overlay: state.data,
    title: `Base samples, layer by layer (${state.config.dataset}, epoch ${snap.epoch})`,
    range: rangeOf(state.range),
  });
}
state.figureOneSvg = figureOneSvg;

$('save-svg').onclick = () => {
  const snap = state.snapshot;
  if (!snap) return;
  const svg = figureOneSvg();
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
  link.download = `figure1-${state.config.dataset}-epoch${snap.epoch}.svg`;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
};

reset();
