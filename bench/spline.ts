/**
 * Speed of the rational-quadratic spline: the op's µs per call next to a few other ops (and its own
 * primitive-op reference, which the fused kernel must beat to exist), and a training step of a spline
 * flow against the same flow with affine couplings, interleaved in one process (A B A B ...).
 *
 *   npx tsx bench/spline.ts [--quick] [--only ops,step]
 *
 * Both flows are a Chain [(coupling, reverse permutation) × 8] with conditioners of one hidden layer of
 * 32 (the default RealNVP's architecture), a standard normal base, Adam, batch 64 (`TrainStep`: zero
 * grads, forward, backward, finite checks, update). Spline: K = 8 bins on [−3, 3].
 *
 * @module
 */

import { exp } from '../src/autograd/elementwise.ts';
import { linear } from '../src/autograd/matmul.ts';
import { noGrad, Tensor } from '../src/autograd/tensor.ts';
import { rqSpline, rqSplineInverse, rqSplineReference, splineParamCount } from '../src/flow/spline.ts';
import { Adam } from '../src/optim/adam.ts';
import { Rng } from '../src/rng/rng.ts';
import { TrainStep } from '../src/train/step.ts';
import { buildModel, describeSpec, type ModelSpec } from './spline-models.ts';
import { fmt, interleave, summarize, table } from './stats.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyAt = args.indexOf('--only');
const sections = new Set((onlyAt >= 0 ? args[onlyAt + 1]! : 'ops,step').split(','));
const scale = quick ? 0.25 : 1;

/** Fastest of `batches` batches of `reps` calls, µs per call (other processes only ever add time). */
function timeUs(fn: () => void, reps: number, batches: number): number {
  for (let k = 0; k < reps; k++) fn();
  let best = Infinity;
  for (let b = 0; b < batches; b++) {
    const t0 = performance.now();
    for (let k = 0; k < reps; k++) fn();
    best = Math.min(best, ((performance.now() - t0) * 1000) / reps);
  }
  return best;
}

function filled(rows: number, cols: number, rng: Rng, sd: number, requiresGrad = true): Tensor {
  const t = Tensor.zeros(rows, cols, { requiresGrad });
  for (let i = 0; i < t.size; i++) t.data[i] = sd * rng.normal();
  return t;
}

if (sections.has('ops')) {
  const rng = new Rng(3);
  const K = 8, opts = { bins: K, bound: 3 };
  const rows: string[][] = [];
  const reps = Math.max(20, Math.round(400 * scale)), batches = Math.max(3, Math.round(10 * scale));
  for (const d of [1, 16]) {
    const n = 64, shape = `${n}×${d}, K=${K}`;
    const x = filled(n, d, rng, 1.5), params = filled(n, d * splineParamCount(K), rng, 1);
    const seed = new Float64Array(n * 2 * d).fill(1);
    const y = noGrad(() => rqSpline(x, params, opts));
    const yv = Tensor.from(n, d, Float64Array.from({ length: n * d }, (_, k) => y.data[Math.floor(k / d) * 2 * d + (k % d)]!), { requiresGrad: true });
    const cases: [string, Tensor, (v: Tensor) => Tensor][] = [
      ['rqSpline', x, (v) => rqSpline(v, params, opts)],
      ['rqSplineInverse', yv, (v) => rqSplineInverse(v, params, opts)],
      ['rqSplineReference (primitive ops)', x, (v) => rqSplineReference(v, params, opts)],
    ];
    for (const [name, input, f] of cases) {
      const r = name.includes('Reference') ? Math.max(5, reps >> 3) : reps;
      const fwd = timeUs(() => void f(input), r, batches);
      const fwdBwd = timeUs(() => {
        input.grad = null;
        params.grad = null;
        f(input).backward(seed);
      }, r, batches);
      rows.push([name, shape, fmt(fwd, 1), fmt(fwdBwd, 1), fmt(fwdBwd / (n * d), 3)]);
    }
  }
  // For scale: ops of the affine coupling's path at the same batch.
  const x1 = filled(64, 1, rng, 1), W = filled(32, 1, rng, 1), b = filled(1, 32, rng, 1);
  for (const [name, shape, input, f] of [
    ['exp', '64×1', x1, (v: Tensor) => exp(v)],
    ['linear (in 1, out 32)', '64×1 → 64×32', x1, (v: Tensor) => linear(v, W, b)],
  ] as const) {
    const out = f(input), seed = new Float64Array(out.size).fill(1);
    const fwd = timeUs(() => void f(input), reps * 4, batches);
    const fwdBwd = timeUs(() => {
      input.grad = null;
      f(input).backward(seed);
    }, reps * 4, batches);
    rows.push([name, shape, fmt(fwd, 1), fmt(fwdBwd, 1), fmt(fwdBwd / input.size, 3)]);
  }
  console.log('Spline op, µs per call (fastest of the batches; inputs require grad):\n');
  console.log(table(['op', 'shape', 'fwd µs', 'fwd+bwd µs', 'fwd+bwd µs/entry'], rows));
  console.log();
}

if (sections.has('step')) {
  const rows: string[][] = [];
  for (const dim of [2, 8, 32]) {
    const rng = new Rng(dim);
    const data = filled(1024, dim, rng, 1.2, false);
    const specs: ModelSpec[] = [
      { kind: 'affine', layers: 8, hidden: 32, depth: 1 },
      { kind: 'spline', layers: 8, hidden: 32, depth: 1, bins: 8, bound: 3 },
    ];
    const contenders = specs.map((spec) => {
      const model = buildModel(spec, dim, new Rng(1));
      const step = new TrainStep(model, new Adam(model.parameters(), { lr: 1e-4 }));
      let at = 0;
      return {
        name: describeSpec(spec),
        params: model.parameters().reduce((s, p) => s + p.size, 0),
        run: () => {
          const batch = Tensor.from(64, dim, data.data.subarray(at * dim, (at + 64) * dim));
          at = (at + 64) % 1024;
          return step.run(batch);
        },
      };
    });
    const r = interleave(contenders, { warmupSteps: Math.round(100 * scale), rounds: quick ? 6 : 20, stepsPerBlock: Math.round(40 * scale) + 5, budgetMs: quick ? 4000 : 20000 });
    const med = r.times.map((t) => summarize(t).median);
    contenders.forEach((c, i) => rows.push([`dim ${dim}`, c.name, String(c.params), fmt(med[i]!, 3), i === 0 ? '1.00' : fmt(med[i]! / med[0]!, 2)]));
  }
  console.log('Training step (batch 64, Adam), median ms/step, interleaved A B A B in one process:\n');
  console.log(table(['size', 'flow', 'params', 'ms/step', 'vs affine'], rows));
}
