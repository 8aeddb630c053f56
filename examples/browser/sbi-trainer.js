/**
 * The training worker of the amortized-inference page: simulates (θ, x) pairs from the task's prior and
 * simulator, trains a neural posterior q(θ | x) on them with `trainNpe` (progress after every epoch),
 * hands the trained model over as a saved model (config.json text + safetensors bytes), and then runs
 * the calibration checks (`checkPosterior`: SBC, expected coverage, recovery, predictive) on fresh
 * simulations. A dropped model is checked the same way ('check').
 *
 * `trainNpe` and `checkPosterior` are single synchronous calls, so this worker does not read messages
 * while it works: the page stops it with `worker.terminate()` (Reset) and starts a new one.
 *
 * Seeds: the simulations are `simulateDataset(task, n, { seed })`, training draws from `new Rng(seed + 1)`
 * and the check from `new Rng(seed + 2)`: the same settings give bit-identical models and reports.
 *
 * Messages in:
 *   { type: 'train', config }               config: task, simulations, layers, hidden, depth, activation, epochs,
 *                                           batchSize, lr, seed, pairs
 *   { type: 'check', configJson, weights, pairs, seed }
 * Messages out:
 *   { type: 'simulated', simulated, dropped, seconds }
 *   { type: 'epoch', epoch, epochs, trainLoss, valNll, bestValNll, bestEpoch, elapsed }
 *   { type: 'trained', configJson, weights, history }   weights: an ArrayBuffer (transferred)
 *   { type: 'checking', pairs, samples }
 *   { type: 'report', report, lines, seconds }         report: checkPosterior's (plain data)
 *   { type: 'error', message }
 */
import { Rng } from '../../dist/index.js';
import { getTask, NeuralPosterior, simulateDataset, trainNpe } from '../../dist/sbi/index.js';
import { checkPosterior, formatReport } from '../../dist/sbi/diagnostics.js';

/** Posterior samples per calibration pair (L; checkPosterior's default). */
const SAMPLES_PER_PAIR = 99;

self.onmessage = ({ data: message }) => {
  try {
    if (message.type === 'train') train(message.config);
    else if (message.type === 'check') check(NeuralPosterior.load(message.configJson, new Uint8Array(message.weights)), message.pairs, message.seed);
  } catch (err) {
    self.postMessage({ type: 'error', message: String(err?.message ?? err) });
  }
};

function train(config) {
  const task = getTask(config.task);
  const t0 = performance.now();
  const { theta, x, dropped, simulated } = simulateDataset(task, config.simulations, { seed: config.seed });
  self.postMessage({ type: 'simulated', simulated, dropped, seconds: (performance.now() - t0) / 1000 });

  const { posterior, history } = trainNpe(theta, x, {
    rng: new Rng(config.seed + 1),
    support: task.prior.support,
    task: task.name,
    parameterNames: task.parameterNames,
    dataNames: task.dataNames,
    layers: config.layers,
    hidden: config.hidden,
    depth: config.depth,
    activation: config.activation,
    epochs: config.epochs,
    batchSize: config.batchSize,
    lr: config.lr,
    // The page's recipe is affine with a constant rate (not the library's spline default, NPE_DEFAULTS).
    coupling: 'affine',
    lrPlateau: null,
    onEpoch: (e) => {
      self.postMessage({ type: 'epoch', epoch: e.epoch, epochs: e.epochs, trainLoss: e.trainLoss, valNll: e.valNll, bestValNll: e.bestValNll, bestEpoch: e.bestEpoch, elapsed: e.elapsed });
    },
  });
  const summary = { epochs: history.epochs, bestEpoch: history.bestEpoch, bestValNll: history.bestValNll, stopReason: history.stopReason, seconds: history.seconds };
  const { configJson, weights } = posterior.save({ training: { ...summary, simulations: simulated, seed: config.seed, trainedIn: 'the browser (examples/browser/sbi.html)' } });
  const buffer = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength);
  self.postMessage({ type: 'trained', configJson, weights: buffer, history: summary }, [buffer]);
  check(posterior, config.pairs, config.seed + 2);
}

/** checkPosterior on `pairs` fresh (θ*, x*) pairs of the posterior's task. */
function check(posterior, pairs, seed) {
  if (posterior.meta.task === null) throw new Error('this model names no task (trained on --data or --simulator): the page cannot simulate to check it');
  const task = getTask(posterior.meta.task);
  self.postMessage({ type: 'checking', pairs, samples: SAMPLES_PER_PAIR });
  const t0 = performance.now();
  const report = checkPosterior({
    prior: task.prior,
    simulate: (theta, rng) => task.simulate(theta, rng),
    posterior: { sample: (m, x, rng) => posterior.flow.sample(m, x, rng), logProb: (theta, x) => posterior.logProb(theta, x) },
    rng: new Rng(seed),
    pairs,
    samples: SAMPLES_PER_PAIR,
  });
  self.postMessage({ type: 'report', report, lines: formatReport(report), seconds: (performance.now() - t0) / 1000 });
}
