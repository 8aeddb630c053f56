/**
 * The amortized-inference page: reads the settings, starts the two workers (sbi-trainer.js simulates,
 * trains and checks; sbi-sampler.js draws posterior samples), lets the user drag the observation, and
 * draws what the workers post. Nothing here trains or samples a flow.
 *
 * Drawing loop: at most two 'draw' requests are in flight. When the sampler answers, the answer is
 * painted on the next animation frame and, if the observation has moved since, the next request goes
 * out at once with the newest x; so the posterior follows the pointer as fast as the sampler can answer,
 * and requests never pile up behind a slow sampler.
 */
import { Rng } from '../../dist/index.js';
import { coverageFigure, sbcRankFigure } from '../../dist/plot/index.js';
import { getTask, observation } from '../../dist/sbi/index.js';
import * as plot from './plots.js';

const $ = (id) => document.getElementById(id);
const FIELDS = ['task', 'simulations', 'layers', 'hidden', 'depth', 'activation', 'epochs', 'batchSize', 'lr', 'seed', 'pairs'];
const TEXT_FIELDS = new Set(['task', 'activation']);
/** Posterior samples per frame. */
const SAMPLES = 2000;
/** Simulations drawn in the observation panel. */
const CLOUD = 2000;
const ORANGE = [255, 127, 14];

// Everything the page knows; exposed as `window.demo` for the console and the browser test.
const state = {
  config: null,
  phase: 'idle', // 'idle' | 'simulating' | 'training' | 'checking' | 'ready' | 'error'
  source: null, // 'trained' | 'dropped' (where the current model came from)
  modelName: '',
  task: null, // the Task object of the current model, or null
  meta: null, // the posterior's metadata (from the sampler)
  x: null, // the full observation vector; the drag moves coordinates 0 and 1
  xRange: null, // { x: [lo, hi], y: [lo, hi] } of the observation panel
  thetaRange: null, // the same for the posterior panel
  observeMap: null, // the observation panel's plot box (CSS pixels) and range, from its last drawing
  cloud: null, // simulated x, CLOUD × xDim
  losses: [],
  valLosses: [],
  history: null,
  saved: null, // the current model as { configJson, weights } (an ArrayBuffer)
  samples: null, // the sampler's last answer: { id, x, theta, ms, grid }
  report: null,
  reportLines: [],
  checkSeconds: 0,
  error: null,
  // The drawing loop's counters, for the rate display and the browser test.
  stats: { requests: 0, answers: 0, painted: 0, frames: 0, drawMs: [], arrivals: [] },
};
window.demo = state;

// ---- workers ----------------------------------------------------------------------------------------

const sampler = new Worker(new URL('./sbi-sampler.js', import.meta.url), { type: 'module' });
sampler.onerror = (event) => showError(`the sampling worker failed to start: ${event.message || 'see the console'} (is dist/ built? run npm run build)`);
/**
 * Requests in flight at most: with two, the sampler finds the next request waiting when it finishes one
 * and never idles for the round trip to the page; the newest x is at most one answer behind.
 */
const MAX_IN_FLIGHT = 2;
let samplerReady = false;
let inFlight = 0;
let nextId = 0;
let lastRequested = null; // the x of the last request
let firstIdOfModel = 1; // answers with a smaller id belong to an earlier model
let benchDone = null;

/**
 * Times `reps` posterior draws of 2,000 back to back in the sampler (nothing drawn in between); resolves
 * with each draw's ms. For the console and the browser test: `await demo.bench(20)`.
 */
state.bench = (reps = 20) => new Promise((resolve) => {
  benchDone = resolve;
  sampler.postMessage({ type: 'bench', x: [...state.x], reps });
});

sampler.onmessage = ({ data: message }) => {
  switch (message.type) {
    case 'loaded':
      samplerReady = true;
      onModelLoaded(message);
      requestDraw();
      break;
    case 'samples':
      if (message.id < firstIdOfModel) break; // an answer of the model before this one
      inFlight--;
      state.samples = message;
      state.stats.answers++;
      state.stats.drawMs.push(message.ms);
      state.stats.arrivals.push(performance.now());
      requestDraw(); // the pointer may have moved while this one was drawn
      redraw('posterior');
      return;
    case 'bench':
      benchDone?.(message.ms);
      benchDone = null;
      return;
    case 'error':
      inFlight = Math.max(0, inFlight - 1);
      showError(`sampler: ${message.message}`);
      break;
  }
  redraw();
};

let trainer = null;
/** A fresh training worker (the old one, busy in a synchronous call, is terminated). */
function newTrainer() {
  trainer?.terminate();
  trainer = new Worker(new URL('./sbi-trainer.js', import.meta.url), { type: 'module' });
  trainer.onerror = (event) => showError(`the training worker failed: ${event.message || 'see the console'} (is dist/ built? run npm run build)`);
  trainer.onmessage = ({ data: message }) => onTrainerMessage(message);
}

function onTrainerMessage(message) {
  switch (message.type) {
    case 'simulated':
      state.phase = 'training';
      state.simulated = message;
      break;
    case 'epoch':
      state.losses.push(message.trainLoss);
      state.valLosses.push(message.valNll);
      state.epochInfo = message;
      break;
    case 'trained':
      state.history = message.history;
      state.source = 'trained';
      state.modelName = `trained here on ${state.config.simulations.toLocaleString('en')} simulations`;
      loadModel(message.configJson, message.weights);
      break;
    case 'checking':
      state.phase = 'checking';
      state.checkSize = message;
      state.checkStarted = performance.now();
      break;
    case 'report':
      state.phase = 'ready';
      state.report = message.report;
      state.reportLines = message.lines;
      state.checkSeconds = message.seconds;
      showReport();
      break;
    case 'error':
      showError(message.message);
      if (state.phase !== 'ready' && samplerReady) state.phase = 'ready';
      break;
  }
  redraw();
}

/** Hands a saved model (config.json text, safetensors bytes) to the sampler. */
function loadModel(configJson, weights) {
  state.saved = { configJson, weights: weights.slice(0) }; // for "Save model"
  samplerReady = false;
  inFlight = 0;
  lastRequested = null;
  firstIdOfModel = nextId + 1;
  state.samples = null;
  sampler.postMessage({ type: 'load', configJson, weights, samples: SAMPLES, seed: state.config?.seed ?? 0 });
}

/** The sampler has a model: set up the task, the observation, the ranges and the simulated cloud. */
function onModelLoaded(message) {
  const meta = message.meta;
  state.meta = meta;
  let task = null;
  try {
    if (meta.task !== null) task = getTask(meta.task);
  } catch {
    task = null;
  }
  state.task = task;
  const seed = state.config?.seed ?? 0;
  if (task !== null) {
    const rng = new Rng(seed + 3);
    state.cloud = task.simulate(task.prior.sample(CLOUD, rng), rng).data;
    state.x = Array.from(observation(task, 1).x); // sbibm's observation 1 as the starting point
  } else {
    state.cloud = null;
    state.x = message.context ? [...message.context.mean] : new Array(meta.xDim).fill(0);
  }
  state.xRange = state.cloud !== null ? squareRange(state.cloud, meta.xDim) : rangeAround(message.context, state.x);
  const box = meta.support;
  state.thetaRange = box !== null
    ? { x: [box.low[0], box.high[0]], y: [box.low[1], box.high[1]] }
    : rangeAround(message.theta, message.theta ? message.theta.mean : [0, 0]);
  $('model-info').textContent = `${state.modelName}: ${message.describe}, ${message.parameters.toLocaleString('en')} parameters; `
    + `task ${meta.task ?? '(none named)'}, θ ${meta.thetaDim}-D, x ${meta.xDim}-D`
    + (meta.xDim > 2 ? ` (the drag moves ${meta.dataNames[0]} and ${meta.dataNames[1]}; the rest stay at observation 1)` : '')
    + (meta.thetaDim > 2 ? `; the posterior panel shows ${meta.parameterNames[0]} and ${meta.parameterNames[1]}` : '');
}

// ---- settings and buttons ---------------------------------------------------------------------------

function readConfig() {
  const config = {};
  for (const name of FIELDS) {
    const input = $(name);
    if (!input.checkValidity()) throw new Error(`${input.closest('label').firstChild.textContent.trim()}: ${input.validationMessage}`);
    config[name] = TEXT_FIELDS.has(name) ? input.value : Number(input.value);
  }
  return config;
}

function clearRun() {
  Object.assign(state, { losses: [], valLosses: [], history: null, report: null, reportLines: [], error: null, epochInfo: null, simulated: null, checkSize: null });
  $('verdicts').replaceChildren();
  $('posterior-verdict').replaceChildren();
  $('figures').replaceChildren();
  $('report-lines').textContent = '';
  $('check-time').textContent = '';
}

$('train').onclick = () => {
  try {
    state.config = readConfig();
  } catch (err) {
    showError(err.message);
    return;
  }
  clearRun();
  state.phase = 'simulating';
  newTrainer();
  trainer.postMessage({ type: 'train', config: state.config });
  redraw();
};

$('reset').onclick = () => {
  newTrainer(); // stops a run in progress
  clearRun();
  state.phase = samplerReady ? 'ready' : 'idle';
  redraw();
};

/** Downloads the current model as config.json and model.safetensors (a folder `flowgrad sbi sample --model` reads). */
$('save-model').onclick = () => {
  if (!state.saved) return;
  for (const [name, body, type] of [['config.json', state.saved.configJson, 'application/json'], ['model.safetensors', state.saved.weights, 'application/octet-stream']]) {
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([body], { type }));
    link.download = name;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }
};

// ---- a model from the command line --------------------------------------------------------------------

/** Reads config.json and the .safetensors file among `files` and loads them (then checks the model). */
async function loadFiles(files) {
  try {
    const config = files.find((f) => f.name === 'config.json') ?? files.find((f) => f.name.endsWith('.json'));
    const weights = files.find((f) => f.name.endsWith('.safetensors'));
    if (!config || !weights) throw new Error(`drop the folder written by flowgrad sbi train, or its config.json and model.safetensors (got ${files.map((f) => f.name).join(', ') || 'no files'})`);
    const [configJson, bytes] = await Promise.all([config.text(), weights.arrayBuffer()]);
    state.config = state.config ?? readConfig();
    clearRun();
    state.source = 'dropped';
    state.modelName = `dropped model (${config.name} + ${weights.name})`;
    state.phase = 'checking';
    loadModel(configJson, bytes.slice(0));
    newTrainer();
    trainer.postMessage({ type: 'check', configJson, weights: bytes, pairs: state.config.pairs, seed: state.config.seed + 2 }, [bytes]);
  } catch (err) {
    showError(err.message);
  }
  redraw();
}

/** Every file in a dropped folder (one level deep is enough for a model folder) or the dropped files. */
async function droppedFiles(dataTransfer) {
  const entries = [...dataTransfer.items].map((item) => item.webkitGetAsEntry?.()).filter(Boolean);
  if (entries.length === 0) return [...dataTransfer.files];
  const files = [];
  const fileOf = (entry) => new Promise((ok, fail) => entry.file(ok, fail));
  for (const entry of entries) {
    if (entry.isFile) files.push(await fileOf(entry));
    else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) {
        const batch = await new Promise((ok, fail) => reader.readEntries(ok, fail));
        if (batch.length === 0) break;
        for (const e of batch) if (e.isFile) files.push(await fileOf(e));
      }
    }
  }
  return files;
}

const drop = $('drop');
for (const target of [drop, document.body]) {
  target.addEventListener('dragover', (event) => {
    event.preventDefault();
    drop.classList.add('over');
  });
}
document.body.addEventListener('dragleave', () => drop.classList.remove('over'));
document.body.addEventListener('drop', async (event) => {
  event.preventDefault();
  drop.classList.remove('over');
  loadFiles(await droppedFiles(event.dataTransfer));
});
$('files').addEventListener('change', () => loadFiles([...$('files').files]));

// ---- dragging the observation -------------------------------------------------------------------------

function moveObservation(event) {
  if (state.observeMap === null || state.x === null) return;
  const r = $('observe').getBoundingClientRect();
  const { box, range } = state.observeMap;
  const u = (event.clientX - r.left - box.left) / (box.right - box.left);
  const v = (box.bottom - (event.clientY - r.top)) / (box.bottom - box.top);
  const clamp = (t) => Math.min(1, Math.max(0, t));
  state.x[0] = range.x[0] + clamp(u) * (range.x[1] - range.x[0]);
  state.x[1] = range.y[0] + clamp(v) * (range.y[1] - range.y[0]);
  requestDraw();
  redraw('observe');
}

const observe = $('observe');
observe.addEventListener('pointerdown', (event) => {
  observe.setPointerCapture(event.pointerId);
  moveObservation(event);
});
observe.addEventListener('pointermove', (event) => {
  if (observe.hasPointerCapture(event.pointerId)) moveObservation(event);
});
// The arrow keys move x by 1% of the panel's range (10% with Shift).
observe.addEventListener('keydown', (event) => {
  const step = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowDown: [0, -1], ArrowUp: [0, 1] }[event.key];
  if (!step || state.xRange === null || state.x === null) return;
  event.preventDefault();
  const f = event.shiftKey ? 0.1 : 0.01;
  state.x[0] += step[0] * f * (state.xRange.x[1] - state.xRange.x[0]);
  state.x[1] += step[1] * f * (state.xRange.y[1] - state.xRange.y[0]);
  requestDraw();
  redraw('observe');
});
$('fresh').addEventListener('change', () => requestDraw(true));

/**
 * Sends a 'draw' for the current x unless MAX_IN_FLIGHT are in flight or the last request was for this
 * very x (with fresh base draws: unless the pointer moved just now; a resting posterior does not spin).
 */
function requestDraw(force = false) {
  if (!samplerReady || inFlight >= MAX_IN_FLIGHT || state.x === null) return;
  const fresh = $('fresh').checked;
  const same = lastRequested !== null && lastRequested.every((v, i) => v === state.x[i]);
  if (!force && same && !(fresh && dragging())) return;
  inFlight++;
  state.stats.requests++;
  lastRequested = [...state.x];
  sampler.postMessage({ type: 'draw', id: ++nextId, x: lastRequested, fresh });
}

let lastMove = 0;
observe.addEventListener('pointermove', () => (lastMove = performance.now()));
const dragging = () => performance.now() - lastMove < 200;

// ---- status ---------------------------------------------------------------------------------------------

function showError(message) {
  state.error = message;
  redraw();
}

function updateControls() {
  const busy = state.phase === 'simulating' || state.phase === 'training';
  $('settings').disabled = busy;
  $('train').disabled = busy;
  $('save-model').disabled = !state.saved;
  const status = $('status');
  status.classList.toggle('error', state.error !== null);
  const e = state.epochInfo;
  if (state.error !== null) status.textContent = state.error;
  else if (state.phase === 'idle') status.textContent = 'Press Train (or drop a model folder below).';
  else if (state.phase === 'simulating') status.textContent = `Simulating ${state.config.simulations.toLocaleString('en')} pairs (θ, x)…`;
  else if (state.phase === 'training') {
    status.textContent = e
      ? `Training: epoch ${e.epoch} / ${e.epochs}, held-out −log q ${e.valNll.toFixed(3)} (best ${e.bestValNll.toFixed(3)} at ${e.bestEpoch}), ${e.elapsed.toFixed(1)} s`
      : `Training on ${state.simulated.simulated.toLocaleString('en')} simulations…`;
  } else {
    const h = state.history;
    const trained = h ? `Trained: ${h.epochs} epochs (${h.stopReason}, best held-out ${h.bestValNll.toFixed(3)} at epoch ${h.bestEpoch}) in ${h.seconds.toFixed(1)} s. ` : '';
    status.textContent = samplerReady ? `${trained}Drag the red point.` : `${trained}Loading the model…`;
  }
  const check = $('check-status');
  if (state.phase === 'checking' && state.checkSize) {
    check.textContent = `Checking: ${state.checkSize.pairs} fresh pairs (θ*, x*) × ${state.checkSize.samples} posterior samples each…`;
  } else if (state.report !== null) {
    const r = state.report;
    check.textContent = `${r.pairs} fresh pairs (θ*, x*) from the prior and the simulator, ${r.samples} posterior samples each, `
      + `family-wise α = ${r.alpha} per check. Verdict:`;
  }
}

/** The verdict badges, the library's SBC and coverage figures (SVG) and formatReport's lines. */
function showReport() {
  const r = state.report;
  const badge = (text, verdict, extra = '') => {
    const b = document.createElement('span');
    b.className = `badge ${verdict} ${extra}`;
    b.textContent = text;
    return b;
  };
  const label = (s) => (s.verdict === 'biased' && s.direction ? `biased (${s.direction})` : s.verdict);
  const badges = () => [badge(`all: ${r.verdict}`, r.verdict, 'all'), ...r.summary.map((s) => badge(`${s.name}: ${label(s)}`, s.verdict))];
  $('verdicts').replaceChildren(...badges());
  // The same verdict beside the posterior: is this q(θ | x) to be trusted?
  const lead = document.createElement('span');
  lead.textContent = 'Calibration (below):';
  $('posterior-verdict').replaceChildren(lead, ...badges());
  const names = r.names;
  const holder = (svg) => {
    const div = document.createElement('div');
    div.innerHTML = svg; // SVG text from flowgrad/plot (escaped there)
    return div;
  };
  const first = (list) => list.slice(0, 2); // the first two parameters, to keep the panel small
  $('figures').replaceChildren(
    holder(coverageFigure({ hpd: r.coverage.hpd, central: first(r.coverage.central), alpha: r.alpha }, { names, title: 'expected coverage' })),
    holder(sbcRankFigure({ ...r.sbc, dimensions: first(r.sbc.dimensions) }, { names: first(names), title: 'SBC ranks' })),
  );
  $('report-lines').textContent = state.reportLines.join('\n');
  $('check-time').textContent = `${state.checkSeconds.toFixed(1)} s in the worker`;
}

// ---- drawing ----------------------------------------------------------------------------------------------

const dirty = new Set(); // the panels to draw on the next frame
/**
 * Redraws `panels` ('controls', 'loss', 'observe', 'posterior'; default all) once on the next frame,
 * however many messages arrived before it. While dragging only the two panels that change are redrawn,
 * which leaves more of the processor to the sampler.
 */
function redraw(...panels) {
  const first = dirty.size === 0;
  for (const p of panels.length > 0 ? panels : ['controls', 'loss', 'observe', 'posterior']) dirty.add(p);
  if (!first) return;
  requestAnimationFrame(() => {
    if (dirty.has('controls')) updateControls();
    if (dirty.has('loss')) drawLoss();
    if (dirty.has('observe')) drawObservation();
    if (dirty.has('posterior')) drawPosterior();
    dirty.clear();
  });
}
window.addEventListener('resize', () => redraw());

// Counts animation frames (the test compares painted posteriors against them).
function countFrames() {
  state.stats.frames++;
  requestAnimationFrame(countFrames);
}
requestAnimationFrame(countFrames);

function drawObservation() {
  const { ctx, width, height } = plot.prepare(observe);
  if (state.xRange === null) {
    state.observeMap = null;
    return;
  }
  const names = state.meta.dataNames;
  const map = plot.axes(ctx, width, height, { ...state.xRange, xLabel: names[0], yLabel: names[1] });
  state.observeMap = { box: map.box, range: state.xRange };
  plot.clipped(ctx, map.box, () => {
    if (state.cloud !== null) plot.points(ctx, map, firstTwo(state.cloud, state.meta.xDim), { color: '#777', alpha: 0.25, size: 2 });
    const [px, py] = [map.px(state.x[0]), map.py(state.x[1])];
    ctx.save();
    ctx.fillStyle = plot.RED;
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.arc(px, py, 7, 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
    ctx.restore();
  });
  plot.frame(ctx, map.box);
  $('x-now').textContent = `x = (${state.x.slice(0, 2).map((v) => v.toFixed(3)).join(', ')}${state.x.length > 2 ? ', …' : ''})`;
}

let lastPainted = -1; // id of the last answer drawn
function drawPosterior() {
  const { ctx, width, height } = plot.prepare($('posterior'));
  if (state.thetaRange === null) return;
  const names = state.meta.parameterNames;
  const map = plot.axes(ctx, width, height, { ...state.thetaRange, xLabel: names[0], yLabel: names[1] });
  const s = state.samples;
  if (s !== null && s.id !== lastPainted) {
    lastPainted = s.id;
    state.stats.painted++; // a new posterior on screen
  }
  if (s !== null) {
    if (s.grid) plot.shade(ctx, map.box, s.grid, Math.round(Math.sqrt(s.grid.length)), ORANGE);
    plot.clipped(ctx, map.box, () => plot.points(ctx, map, firstTwo(s.theta, state.meta.thetaDim), { color: plot.BLUE, alpha: 0.35, size: 1.8 }));
    if (s.grid) plot.regionOutline(ctx, map.box, s.grid, Math.round(Math.sqrt(s.grid.length)), s.level90, { color: '#d35400', width: 1.25 });
  }
  plot.frame(ctx, map.box);
  const recent = state.stats.arrivals.filter((t) => t > performance.now() - 1000).length;
  $('rate').textContent = s !== null ? `${s.ms.toFixed(1)} ms per draw of ${SAMPLES.toLocaleString('en')}${recent > 1 ? `, ${recent} draws/s` : ''}` : '';
  $('posterior-caption').textContent = `Blue: ${SAMPLES.toLocaleString('en')} samples of q(θ | x) for the red observation.`
    + (s?.grid ? ` Orange: the exact posterior p(θ | x) ∝ p(x | θ) p(θ) from the task's likelihood on a ${Math.round(Math.sqrt(s.grid.length))} × ${Math.round(Math.sqrt(s.grid.length))} grid, shaded, with the outline of its 90% highest-density region.` : '');
}

function drawLoss() {
  const { ctx, width, height } = plot.prepare($('loss'));
  const { losses, valLosses } = state;
  const epochs = Math.max(2, state.config?.epochs ?? 2);
  let lo = Infinity, hi = -Infinity;
  for (const v of [...losses, ...valLosses]) if (Number.isFinite(v)) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  if (!(hi > lo)) [lo, hi] = Number.isFinite(lo) ? [lo - 0.5, lo + 0.5] : [0, 1];
  const pad = 0.06 * (hi - lo);
  const map = plot.axes(ctx, width, height, { x: [1, epochs], y: [lo - pad, hi + pad], xLabel: 'epoch', yLabel: '−log q(θ | x) (nats)', margin: { left: 54 } });
  const xs = losses.map((_, i) => i + 1);
  plot.clipped(ctx, map.box, () => {
    if (losses.length > 0) plot.line(ctx, map, xs, losses, { color: plot.BLUE });
    if (valLosses.length > 0) plot.line(ctx, map, xs, valLosses, { color: plot.RED });
  });
  plot.frame(ctx, map.box);
  plot.legend(ctx, map.box, [{ label: 'training', color: plot.BLUE }, { label: 'held out', color: plot.RED }], { corner: 'right' });
  $('loss-now').textContent = losses.length > 0 ? `epoch ${losses.length}: ${valLosses[valLosses.length - 1].toFixed(3)} held out` : '';
}

// ---- ranges -----------------------------------------------------------------------------------------------

/** The first two columns of an n×d row-major array, as n×2. */
function firstTwo(values, d) {
  if (d === 2) return values;
  const n = values.length / d, out = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    out[2 * i] = values[d * i];
    out[2 * i + 1] = values[d * i + 1];
  }
  return out;
}

/** An equal-aspect range around the 1st–99th percentiles of the first two columns, padded by 15%. */
function squareRange(values, d) {
  const n = values.length / d;
  const spans = [0, 1].map((j) => {
    const col = Float64Array.from({ length: n }, (_, i) => values[d * i + j]).sort();
    return [col[Math.floor(0.01 * n)], col[Math.ceil(0.99 * n) - 1]];
  });
  const half = 0.5 * 1.15 * Math.max(spans[0][1] - spans[0][0], spans[1][1] - spans[1][0]);
  const mid = spans.map(([a, b]) => 0.5 * (a + b));
  return { x: [mid[0] - half, mid[0] + half], y: [mid[1] - half, mid[1] + half] };
}

/** mean ± 3.5 std of the first two coordinates (a model with no task: from its standardisation). */
function rangeAround(stats, centre) {
  const std = stats ? stats.std : [1, 1];
  const half = 3.5 * Math.max(std[0], std[1]);
  return { x: [centre[0] - half, centre[0] + half], y: [centre[1] - half, centre[1] + half] };
}

updateControls();
