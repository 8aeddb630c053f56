// The README's example: train a RealNVP on the post's two-Gaussian target and check it.
import { evaluate, fit, nll, postMixture, RealNVP, Rng, tensor, mul, sum, explain } from '../src/index.ts';

const rng = new Rng(0);
const train = postMixture.sample(1000, rng.fork());           // 1000×2 training points
const flow = new RealNVP({ dim: 2, rng: rng.fork() });         // the default recipe: 8 bounded couplings, identity at start
console.log(nll(flow, train).item().toFixed(3));               // NLL before training
fit(flow, train, { epochs: 100, batchSize: 64, lr: 1e-3, rng: rng.fork() });
const report = evaluate(flow, postMixture.sample(10_000, rng.fork()), postMixture);
console.log(report.nll.toFixed(3), report.kl!.toFixed(3));     // test NLL and KL(p‖q), nats
const x = flow.sample(3, rng.fork());                           // 3×2 samples
console.log(x.shape, flow.logProb(x).shape);

// Every gradient can be read: the graph, each op's rule, and the gradient norms.
const w = tensor([[1, 2]], { requiresGrad: true, name: 'w' });
const y = sum(mul(w, w));
y.backward();
console.log(explain(y));
