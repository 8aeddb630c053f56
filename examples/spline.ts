// The README's spline example: a RealNVP of rational-quadratic spline couplings on the eight Gaussians,
// the spline recipe's model and training (whitened features, noise regularisation, a validation split and
// early stopping), against the true density.
import { eightGaussians, evaluate, fit, RealNVP, Rng, Whiten } from '../src/index.ts';

const rng = new Rng(0);
const train = eightGaussians.sample(900, rng.fork()), val = eightGaussians.sample(100, rng.fork());
const wh = Whiten.fit(train);                                    // the splines act on [−B, B] of the whitened features
const flow = new RealNVP({
  dim: 2, coupling: 'spline', layers: 4, hidden: 32, bins: 6, splineBound: 4,
  whiten: { mean: wh.mean.data, matrix: wh.matrix.data }, rng: rng.fork(),
});
const history = fit(flow, train, { epochs: 1000, batchSize: 32, lr: 1e-3, validation: val, patience: 80, ema: 0.995, noise: 0.05, rng: rng.fork() });
const report = evaluate(flow, eightGaussians.sample(10_000, rng.fork()), eightGaussians);
console.log(flow.describe());
console.log(`${history.epochs} epochs (best ${history.bestEpoch}), test NLL ${report.nll.toFixed(3)}, KL ${report.kl!.toFixed(3)} ± ${report.klStdErr!.toFixed(3)}`);
