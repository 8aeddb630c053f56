/**
 * The training worker: owns the data, the model and the optimizer, and trains in small chunks so that
 * 'pause' and 'init' (reset) messages are handled between chunks. The page never trains; it only draws
 * what this worker posts.
 *
 * Messages in:
 *   { type: 'init', config }  build data and a fresh model (also used for reset); replies 'ready'
 *   { type: 'start' }         train (or resume) until config.epochs
 *   { type: 'pause' }         stop after the current chunk
 * Messages out:
 *   { type: 'ready', ... }     the training data, the plotting range, the true density when known
 *   { type: 'epoch', ... }     after every epoch: its mean training loss (NLL, nats)
 *   { type: 'snapshot', ... }  now and then: samples, the learned density on a grid, the layer trace
 *   { type: 'state', ... }     running / paused / done / diverged
 *   { type: 'error', message }
 */
import { Adam, NonFiniteStepError, noGrad, RealNVP, Rng, Tensor, TrainStep, getDataset } from '../../dist/index.js';

/** Side of the density grid (GRID × GRID cells). */
const GRID = 64;
/** Base points pushed through the flow for the samples plot and the Figure 1 animation. */
const TRACE_POINTS = 1000;
/** A chunk of training runs this long before the worker yields to its message queue. */
const CHUNK_MS = 25;
/** Least time between two snapshots (they cost a density grid and a trace). */
const SNAPSHOT_MS = 400;

let session = null; // everything about the current run; replaced by 'init'
let generation = 0; // bumped by 'init' and 'pause' so that a chunk already scheduled stops

self.onmessage = (event) => {
  const message = event.data;
  try {
    if (message.type === 'init') init(message.config);
    else if (message.type === 'start') start();
    else if (message.type === 'pause') pause();
  } catch (err) {
    self.postMessage({ type: 'error', message: String(err?.message ?? err) });
  }
};

function init(config) {
  generation++;
  const target = getDataset(config.dataset);
  const rng = new Rng(config.seed);
  const data = target.sample(config.points, rng);

  // No standardisation: every toy is centred with a spread of 1-2.3, so the model works in data units
  // and each frame of the layer trace is in the same units as the data (as in the post's Figure 1).
  const modelOptions = { dim: 2, layers: config.layers, hidden: config.hidden, rng };
  const flow = config.model === 'post'
    ? RealNVP.post(modelOptions) // the post's coupling layers exactly (LeakyReLU, raw exp scale)
    : new RealNVP({ ...modelOptions, depth: 1 }); // flowgrad's default coupling, one hidden layer per net

  const batchSize = Math.min(config.batchSize, data.rows);
  session = {
    config,
    target,
    data,
    flow,
    step: new TrainStep(flow, new Adam(flow.parameters(), { lr: config.lr })),
    rng,
    order: Array.from({ length: data.rows }, (_, i) => i), // reshuffled every epoch
    batch: Tensor.from(batchSize, 2, new Float64Array(batchSize * 2)), // reused for every full batch
    base: flow.base.sample(TRACE_POINTS, new Rng(config.seed + 1)), // fixed, so the animation is stable
    range: plotRange(data.data),
    epoch: 0,
    steps: 0,
    trainSeconds: 0,
    lastSnapshot: 0,
  };

  self.postMessage({
    type: 'ready',
    data: data.data.slice(),
    range: session.range,
    grid: GRID,
    trueDensity: target.logDensity ? densityGrid((x) => target.logDensity(x), session.range) : null,
    entropy: target.entropy ?? null,
    parameters: flow.parameters().reduce((n, p) => n + p.size, 0),
    describe: flow.describe(),
  });
  postSnapshot(); // the untrained model: the base distribution, nearly unchanged
}

function start() {
  if (session === null) throw new Error('start before init');
  if (session.epoch >= session.config.epochs) return;
  const mine = ++generation;
  self.postMessage({ type: 'state', state: 'running' });
  setTimeout(() => chunk(mine), 0);
}

function pause() {
  generation++;
  self.postMessage({ type: 'state', state: 'paused' });
}

/** Trains whole epochs for about CHUNK_MS, then schedules the next chunk (unless paused or reset). */
function chunk(mine) {
  if (mine !== generation) return;
  const s = session;
  const t0 = performance.now();
  try {
    do {
      runEpoch(s);
      if (performance.now() - s.lastSnapshot > SNAPSHOT_MS || s.epoch === s.config.epochs) postSnapshot();
    } while (s.epoch < s.config.epochs && performance.now() - t0 < CHUNK_MS);
  } catch (err) {
    generation++; // stop
    if (err instanceof NonFiniteStepError) {
      s.step.restoreLastGood();
      postSnapshot();
      self.postMessage({ type: 'state', state: 'diverged', message: `${err.message} in epoch ${s.epoch + 1}; the last good weights were kept. Try a smaller learning rate.` });
    } else {
      self.postMessage({ type: 'error', message: String(err?.message ?? err) });
    }
    return;
  }
  if (s.epoch >= s.config.epochs) {
    self.postMessage({ type: 'state', state: 'done' });
    return;
  }
  setTimeout(() => chunk(mine), 0);
}

/** One pass over the shuffled data in minibatches; posts the epoch's mean loss. */
function runEpoch(s) {
  const started = performance.now();
  const { order, batch, data } = s;
  const size = batch.rows;
  s.rng.shuffle(order);
  let total = 0, batches = 0;
  // Full batches only (the few rows left over are in the next epoch's shuffle).
  for (let start = 0; start + size <= order.length; start += size) {
    for (let r = 0; r < size; r++) {
      const i = order[start + r];
      batch.data[2 * r] = data.data[2 * i];
      batch.data[2 * r + 1] = data.data[2 * i + 1];
    }
    total += s.step.run(batch); // mean NLL of the batch before the update
    batches++;
  }
  s.epoch++;
  s.steps += batches;
  const seconds = (performance.now() - started) / 1000;
  s.trainSeconds += seconds;
  self.postMessage({
    type: 'epoch',
    epoch: s.epoch,
    epochs: s.config.epochs,
    trainLoss: total / batches,
    stepsPerSecond: batches / seconds,
    trainSeconds: s.trainSeconds,
  });
}

/**
 * The pictures' data: the base points after each pair of layers (RealNVP.trace gives the state after
 * every layer; the last one is the model's samples) and the learned log-density on the grid.
 */
function postSnapshot() {
  const s = session;
  const steps = s.flow.trace(s.base);
  const frames = [s.base.data.slice()];
  for (let k = 1; k < steps.length; k += 2) frames.push(steps[k].data.slice());
  if (steps.length % 2 === 1) frames.push(steps[steps.length - 1].data.slice()); // an odd layer count
  const density = densityGrid((x) => s.flow.logProb(x).data, s.range);
  s.lastSnapshot = performance.now();
  self.postMessage(
    { type: 'snapshot', epoch: s.epoch, layers: s.config.layers, frames, density },
    [...frames.map((f) => f.buffer), density.buffer],
  );
}

/** log-density at the centres of a GRID × GRID grid over `range` (row 0 at the bottom), no graph. */
function densityGrid(logDensity, range) {
  const { x0, x1, y0, y1 } = range;
  const points = new Float64Array(GRID * GRID * 2);
  for (let iy = 0; iy < GRID; iy++) {
    for (let ix = 0; ix < GRID; ix++) {
      const k = iy * GRID + ix;
      points[2 * k] = x0 + ((ix + 0.5) / GRID) * (x1 - x0);
      points[2 * k + 1] = y0 + ((iy + 0.5) / GRID) * (y1 - y0);
    }
  }
  return Float64Array.from(noGrad(() => logDensity(Tensor.from(GRID * GRID, 2, points))));
}

/** A square range around the data (equal aspect, so shapes are not distorted), padded by 10%. */
function plotRange(xy) {
  let r = 0;
  for (let i = 0; i < xy.length; i++) r = Math.max(r, Math.abs(xy[i]));
  r = Math.ceil(r * 1.1 * 2) / 2; // to a multiple of 0.5
  return { x0: -r, x1: r, y0: -r, y1: r };
}
