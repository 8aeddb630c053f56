#!/usr/bin/env node
/**
 * Why the amortized-inference page (examples/browser/sbi.html) uses ReLU conditioners: trains its
 * default recipe on two-moons (5,000 simulations of seed 1, 8 couplings of one hidden layer of 32 units,
 * 60 epochs, batch 256, learning rate 0.003, training seed 0) once per activation and prints the best
 * held-out −log q, C2ST against the reference posterior on sbibm's observations 1–3 (2,000 samples
 * each, 0.5 is perfect) and the median ms per posterior draw of 2,000 (the sampler's draw: fixed base
 * draws through the flow). Needs dist/ (npm run build). A minute or two.
 *
 *   node scripts/sbi-page-recipe.mjs [activation ...]    # default: relu tanh
 */
import { c2st, getTask, noGrad, observation, referencePosterior, Rng, simulateDataset, Tensor, trainNpe } from '../dist/index.js';

const task = getTask('two-moons');
const { theta, x } = simulateDataset(task, 5000, { seed: 1 });
for (const activation of process.argv.length > 2 ? process.argv.slice(2) : ['relu', 'tanh']) {
  const t0 = performance.now();
  const { posterior, history } = trainNpe(theta, x, {
    rng: new Rng(0), support: task.prior.support, task: task.name,
    layers: 8, hidden: 32, depth: 1, activation, epochs: 60, patience: 15, batchSize: 256, lr: 3e-3,
    coupling: 'affine', lrPlateau: null, // the page's affine recipe (not the library's spline default)
  });
  const seconds = (performance.now() - t0) / 1000;
  const rng = new Rng(5);
  const scores = [1, 2, 3].map((k) => {
    const obs = observation(task, k);
    return c2st(posterior.sample(2000, obs.x, rng), referencePosterior(task, obs.x).sample(2000, rng), { rng });
  });
  const z = posterior.flow.base.sample(2000, new Rng(1));
  const context = Tensor.from(2000, 2, new Float64Array(4000).fill(0.1));
  const ms = [];
  for (let k = 0; k < 13; k++) {
    const t = performance.now();
    noGrad(() => posterior.flow.inverse(z, context));
    if (k >= 3) ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  console.log(`${activation}: trained ${history.epochs} epochs in ${seconds.toFixed(1)} s, best held-out −log q ${history.bestValNll.toFixed(3)}, `
    + `C2ST ${scores.map((s) => s.toFixed(3)).join(' / ')} (observations 1–3), ${ms[ms.length >> 1].toFixed(1)} ms per draw of 2,000`);
}
