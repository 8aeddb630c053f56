/**
 * The sampling worker of the amortized-inference page: holds one trained posterior q(θ | x) and answers
 * each 'draw' with 2,000 posterior samples for the observation it names, as fast as it can. It never
 * trains (sbi-trainer.js does), so drawing stays quick while a model is being checked or trained.
 *
 * A model always arrives the same way, as a saved model: config.json text and safetensors bytes,
 * whether the trainer just made it or the user dropped a folder written by `flowgrad sbi train`.
 *
 * Messages in:
 *   { type: 'load', configJson, weights, samples, seed }  rebuild the posterior (NeuralPosterior.load)
 *   { type: 'draw', id, x, fresh }  samples for observation x (fresh: new base draws, else the fixed ones)
 *   { type: 'bench', x, reps }      times `reps` draws back to back (x nudged each time), nothing posted between
 * Messages out:
 *   { type: 'loaded', meta, describe, parameters, context, theta }  context/theta: { mean, std } or null
 *   { type: 'samples', id, x, theta, ms, grid, level90 }  theta: (samples×thetaDim) Float64Array, ms: the
 *       draw's time, grid: the task's exact log-posterior on a grid (or null), level90: the log-density
 *       above which the grid's cells hold 90% of its mass (the 90% highest-density region)
 *   { type: 'bench', ms }  the time of each draw
 *   { type: 'error', message }
 */
import { noGrad, Rng, Tensor } from '../../dist/index.js';
import { getTask, NeuralPosterior } from '../../dist/sbi/index.js';

/** Side of the exact-posterior grid (GRID × GRID cells over the prior's box). */
const GRID = 100;

let current = null; // { posterior, task, z, rng, samples }

self.onmessage = ({ data: message }) => {
  try {
    if (message.type === 'load') load(message);
    else if (message.type === 'draw') draw(message);
    else if (message.type === 'bench') bench(message);
  } catch (err) {
    self.postMessage({ type: 'error', id: message.id, message: String(err?.message ?? err) });
  }
};

function load({ configJson, weights, samples, seed }) {
  current = null;
  const posterior = NeuralPosterior.load(configJson, new Uint8Array(weights));
  let task = null;
  try {
    if (posterior.meta.task !== null) task = getTask(posterior.meta.task);
  } catch {
    task = null; // a task this version does not know: no exact posterior, samples still work
  }
  const flow = posterior.flow;
  // The fixed base draws: with the same z every frame, each sample moves continuously as x moves.
  const z = flow.base.sample(samples, new Rng(seed));
  current = { posterior, task, z, rng: new Rng(seed + 1), samples };
  self.postMessage({
    type: 'loaded',
    meta: posterior.meta,
    describe: flow.describe(),
    parameters: flow.parameters().reduce((n, p) => n + p.size, 0),
    // The training simulations' x mean and std (kept in the model), for the page's range and starting
    // point when the model names no task it knows; θ's likewise for a prior without a box.
    context: flow.standardizeContext ? { mean: [...flow.standardizeContext.mean.data], std: [...flow.standardizeContext.std.data] } : null,
    theta: flow.standardize && !flow.support ? { mean: [...flow.standardize.mean.data], std: [...flow.standardize.std.data] } : null,
  });
}

function draw({ id, x, fresh }) {
  if (current === null) throw new Error('draw before a model was loaded');
  const t0 = performance.now();
  const theta = samplesFor(x, fresh);
  const ms = performance.now() - t0;
  const grid = exactGrid(x);
  const out = theta.data.slice();
  const level90 = grid ? hdrLevel(grid, 0.9) : null;
  self.postMessage({ type: 'samples', id, x, theta: out, ms, grid, level90 }, grid ? [out.buffer, grid.buffer] : [out.buffer]);
}

/** The posterior samples for x: the fixed base draws through the flow, or fresh ones. */
function samplesFor(x, fresh) {
  const { posterior, z, samples } = current;
  if (fresh) return posterior.sample(samples, x, current.rng);
  const obs = posterior.observations(x); // checks the width and finiteness
  const context = new Float64Array(samples * obs.cols);
  for (let i = 0; i < samples; i++) context.set(obs.data, i * obs.cols);
  return noGrad(() => posterior.flow.inverse(z, Tensor.from(samples, obs.cols, context))[0]);
}

function bench({ x, reps }) {
  if (current === null) throw new Error('bench before a model was loaded');
  const ms = [];
  for (let k = 0; k < reps; k++) {
    const t0 = performance.now();
    samplesFor(x.map((v, j) => (j === 0 ? v + 1e-3 * k : v)), false);
    ms.push(performance.now() - t0);
  }
  self.postMessage({ type: 'bench', ms });
}

/**
 * log p(x | θ) + log p(θ) (the exact posterior up to a constant) at the centres of a GRID × GRID grid
 * over the prior's box, row 0 at the bottom; null unless the task has a 2-D box prior.
 */
function exactGrid(x) {
  const task = current.task;
  const box = task?.prior.support;
  if (!task || !box || task.thetaDim !== 2) return null;
  const points = new Float64Array(GRID * GRID * 2);
  for (let iy = 0; iy < GRID; iy++) {
    for (let ix = 0; ix < GRID; ix++) {
      const k = iy * GRID + ix;
      points[2 * k] = box.low[0] + ((ix + 0.5) / GRID) * (box.high[0] - box.low[0]);
      points[2 * k + 1] = box.low[1] + ((iy + 0.5) / GRID) * (box.high[1] - box.low[1]);
    }
  }
  return task.logLikelihood(Tensor.from(GRID * GRID, 2, points), x); // the box prior is flat
}

/** The log-density level whose superlevel cells hold `mass` of the grid's total (cells of equal area). */
function hdrLevel(logValues, mass) {
  let max = -Infinity;
  for (const v of logValues) if (v > max) max = v;
  const p = Float64Array.from(logValues, (v) => (Number.isFinite(v) ? Math.exp(v - max) : 0));
  const sorted = p.slice().sort().reverse();
  let total = 0;
  for (const v of sorted) total += v;
  let sum = 0;
  for (const v of sorted) {
    sum += v;
    if (sum >= mass * total) return max + Math.log(v);
  }
  return -Infinity;
}
