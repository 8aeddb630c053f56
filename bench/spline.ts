/**
 * Speed of the rational-quadratic spline: the op's µs per call next to a few other ops (and its own
 * primitive-op reference, which the fused kernel must beat to exist), and a training step of a spline
 * flow against the same flow with affine couplings, interleaved in one process (A B A B ...).
 *
 *   npx tsx bench/spline.ts [--quick] [--only ops,step]
 *
 * `npm run bench` runs both too (its `spline` section calls {@link splineOpTimings} and
 * {@link splineStepTimings}). The flows are RealNVPs that differ only in `coupling` (affine or spline,
 * K = 8 bins on [−3, 3]), a standard normal base, Adam, batch 64 (`TrainStep`: zero grads, forward,
 * backward, finite checks, update), at the post's size (dim 2, 16 couplings of hidden 64) and at dim 8
 * and 32 with the same conditioners.
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
import { RealNVP } from '../src/flow/real-nvp.ts';
import { pathToFileURL } from 'node:url';
import { fmt, interleave, summarize, table } from './stats.ts';

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

/** The header of {@link splineOpTimings}' rows. */
export const SPLINE_OP_HEAD = ['op', 'shape', 'fwd µs', 'fwd+bwd µs', 'fwd+bwd µs/entry'];

/**
 * The spline op's µs per call (forward, forward + backward) at 64×1 and 64×16 with K = 8, its
 * primitive-op reference, and exp and a small linear for scale; `scale` < 1 for fewer repetitions.
 * @example console.log(table(SPLINE_OP_HEAD, splineOpTimings(0.25)));
 */
export function splineOpTimings(scale = 1): string[][] {
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
  return rows;
}

/** The header of {@link splineStepTimings}' rows. */
export const SPLINE_STEP_HEAD = ['size', 'flow', 'params', 'ms/step', 'p10-p90', 'vs affine', 'per-round'];

/**
 * One training step (batch 64, Adam) of a spline RealNVP against the same RealNVP with affine couplings,
 * interleaved A B A B in one process: median ms per step, spread, and the ratio (per-round min-max).
 * @example console.log(table(SPLINE_STEP_HEAD, splineStepTimings({ quick: true })));
 */
export function splineStepTimings(o: { quick?: boolean } = {}): string[][] {
  const quick = o.quick === true, scale = quick ? 0.25 : 1;
  const rows: string[][] = [];
  const sizes = [
    { name: "post's (dim 2)", dim: 2, layers: 16, hidden: 64 },
    { name: 'dim 8', dim: 8, layers: 16, hidden: 64 },
    { name: 'dim 32', dim: 32, layers: 16, hidden: 64 },
  ];
  for (const size of sizes) {
    const rng = new Rng(size.dim);
    const data = filled(1024, size.dim, rng, 1.2, false);
    const contenders = (['affine', 'spline'] as const).map((coupling) => {
      const flow = new RealNVP({ dim: size.dim, layers: size.layers, hidden: size.hidden, rng: new Rng(1), ...(coupling === 'spline' ? { coupling, bins: 8, splineBound: 3 } : {}) });
      const step = new TrainStep(flow, new Adam(flow.parameters(), { lr: 1e-4 }));
      let at = 0;
      return {
        name: `${coupling}${coupling === 'spline' ? ' K=8 B=3' : ''}, ${size.layers}×(${size.hidden}×1)`,
        params: flow.parameterCount(),
        run: () => {
          const batch = Tensor.from(64, size.dim, data.data.subarray(at * size.dim, (at + 64) * size.dim));
          at = (at + 64) % 1024;
          return step.run(batch);
        },
      };
    });
    const r = interleave(contenders, { warmupSteps: Math.round(60 * scale) + 2, rounds: quick ? 4 : 12, stepsPerBlock: Math.round(30 * scale) + 3, budgetMs: quick ? 3000 : 15000 });
    const sums = r.times.map((t) => summarize(t));
    const perRound = r.blockMedians[1]!.map((m, k) => m / r.blockMedians[0]![k]!);
    contenders.forEach((c, i) => rows.push([
      size.name, c.name, String(c.params), fmt(sums[i]!.median, 3), `${fmt(sums[i]!.p10, 3)}-${fmt(sums[i]!.p90, 3)}`,
      i === 0 ? '1.00' : fmt(sums[i]!.median / sums[0]!.median, 2), i === 0 ? '' : `${fmt(Math.min(...perRound), 2)}-${fmt(Math.max(...perRound), 2)}`,
    ]));
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const onlyAt = args.indexOf('--only');
  const sections = new Set((onlyAt >= 0 ? args[onlyAt + 1]! : 'ops,step').split(','));
  if (sections.has('ops')) {
    console.log('Spline op, µs per call (fastest of the batches; inputs require grad):\n');
    console.log(table(SPLINE_OP_HEAD, splineOpTimings(quick ? 0.25 : 1)));
    console.log();
  }
  if (sections.has('step')) {
    console.log('Training step (batch 64, Adam), median ms/step, interleaved A B A B in one process:\n');
    console.log(table(SPLINE_STEP_HEAD, splineStepTimings({ quick })));
  }
}
