/**
 * Per-op overhead of the engine: microseconds per op on tiny shapes, where the arithmetic is nothing
 * and the cost is the graph node, the closure, the allocation and the backward traversal; plus the
 * shapes of the post's model; and matmul's GFLOP/s at 64, 256 and 512.
 *
 * Each number is the fastest of several batches of many calls (see `timeUs`). Three numbers per op:
 * - `fwd`: the op alone, its inputs requiring grad (so it records a node and a closure), no backward.
 * - `fwd+bwd, 1-op graph`: `y = op(x); y.backward(ones)`, so it includes backward()'s fixed cost.
 * - `fwd+bwd, chain`: a chain of 64 ops, `h = op(h)`, then one backward: per op, the marginal cost in a
 *   graph (exp is chained as exp(neg(h)), which converges, and the neg chain's time is subtracted).
 *
 * @module
 */

import { add, exp, leakyRelu, mul, neg } from '../src/autograd/elementwise.ts';
import { MLP_KERNELS, mlp, type MlpActivation, type MlpLayer } from '../src/autograd/fused.ts';
import { linear, matmul } from '../src/autograd/matmul.ts';
import { sum } from '../src/autograd/reduce.ts';
import { sliceCols } from '../src/autograd/shape.ts';
import { BufferArena, noGrad, Tensor } from '../src/autograd/tensor.ts';
import { Rng } from '../src/rng/rng.ts';
import { postCouplingOutput } from '../src/flow/post-coupling.ts';

/** One op's timings in µs. */
export interface OpTiming {
  op: string;
  shape: string;
  fwdUs: number;
  fwdBwdUs: number;
  chainUs: number;
}

/** matmul n×n·n×n: GFLOP/s forward (2n³) and forward+backward (6n³). */
export interface MatmulTiming {
  n: number;
  fwdGflops: number;
  fwdBwdGflops: number;
  fwdMs: number;
  fwdBwdMs: number;
  /** The same throughputs from process CPU time (not counting time spent waiting for a shared core). */
  fwdCpuGflops: number;
  fwdBwdCpuGflops: number;
}

const CHAIN = 64;

function filled(rows: number, cols: number, rng: Rng, lo: number, hi: number, requiresGrad = true): Tensor {
  const t = Tensor.zeros(rows, cols, { requiresGrad });
  for (let i = 0; i < t.size; i++) t.data[i] = lo + (hi - lo) * rng.uniform();
  return t;
}

/**
 * The per-call time (µs) of `fn`: `batches` batches of `reps` calls after `warm` untimed calls, and the
 * fastest batch is kept. On a shared machine other processes only ever add time, so for these
 * microbenchmarks the best batch is the least disturbed estimate (the training-step tables use medians).
 */
function timeUs(fn: () => void, reps: number, batches: number, warm = reps): number {
  for (let k = 0; k < warm; k++) fn();
  let best = Infinity;
  for (let b = 0; b < batches; b++) {
    const t0 = performance.now();
    for (let k = 0; k < reps; k++) fn();
    best = Math.min(best, ((performance.now() - t0) * 1000) / reps);
  }
  return best;
}

/**
 * Like {@link timeUs}, and also the CPU time (user + system) of the process per call in the batch with
 * the least of it: on a shared machine that does not count the time spent waiting for the core.
 */
function timeUsWithCpu(fn: () => void, reps: number, batches: number, warm = reps): { wallUs: number; cpuUs: number } {
  for (let k = 0; k < warm; k++) fn();
  let wall = Infinity, cpu = Infinity;
  for (let b = 0; b < batches; b++) {
    const c0 = process.cpuUsage(), t0 = performance.now();
    for (let k = 0; k < reps; k++) fn();
    wall = Math.min(wall, ((performance.now() - t0) * 1000) / reps);
    const c = process.cpuUsage(c0);
    cpu = Math.min(cpu, (c.user + c.system) / reps);
  }
  return { wallUs: wall, cpuUs: cpu };
}

interface OpCase {
  op: string;
  shape: string;
  /** The input the op (or chain) starts from, n×m. */
  x: Tensor;
  /** One application; chainable ops return a tensor of x's shape. */
  apply(h: Tensor): Tensor;
  chainable: boolean;
}

function cases(rng: Rng): OpCase[] {
  const out: OpCase[] = [];
  for (const n of [1, 64]) {
    const shape = `${n}×1`;
    const c = filled(n, 1, rng, -1e-3, 1e-3);
    const one = filled(n, 1, rng, 0.999, 1.001);
    const W = filled(1, 1, rng, 0.999, 1.001), b = filled(1, 1, rng, -1e-3, 1e-3);
    const x = () => filled(n, 1, rng, -1, 1);
    out.push({ op: 'add', shape, x: x(), apply: (h) => add(h, c), chainable: true });
    out.push({ op: 'mul', shape, x: x(), apply: (h) => mul(h, one), chainable: true });
    out.push({ op: 'neg', shape, x: x(), apply: (h) => neg(h), chainable: true });
    out.push({ op: 'exp', shape, x: x(), apply: (h) => exp(h), chainable: false });
    out.push({ op: 'leakyRelu', shape, x: x(), apply: (h) => leakyRelu(h, 0.01), chainable: true });
    out.push({ op: 'linear (in 1, out 1)', shape, x: x(), apply: (h) => linear(h, W, b), chainable: true });
    out.push({ op: 'sum (axis 1)', shape, x: x(), apply: (h) => sum(h, 1), chainable: true });
    out.push({ op: 'sliceCols', shape, x: x(), apply: (h) => sliceCols(h, 0, 1), chainable: true });
  }
  // The post's model at batch 64: Linear(1, 64), LeakyReLU on 64×64, Linear(64, 1).
  const W1 = filled(64, 1, rng, -1, 1), b1 = filled(1, 64, rng, -1, 1);
  const W2 = filled(1, 64, rng, -0.125, 0.125), b2 = filled(1, 1, rng, -0.125, 0.125);
  out.push({ op: 'linear (in 1, out 64)', shape: '64×1 → 64×64', x: filled(64, 1, rng, -1, 1), apply: (h) => linear(h, W1, b1), chainable: false });
  out.push({ op: 'leakyRelu', shape: '64×64', x: filled(64, 64, rng, -1, 1), apply: (h) => leakyRelu(h, 0.01), chainable: true });
  out.push({ op: 'linear (in 64, out 1)', shape: '64×64 → 64×1', x: filled(64, 64, rng, -1, 1), apply: (h) => linear(h, W2, b2), chainable: false });
  return out;
}

/**
 * µs per op for tiny shapes and the post's shapes. `scale` < 1 trims repetitions (--quick).
 * @example opOverhead(1).find((t) => t.op === 'add')!.chainUs;
 */
export function opOverhead(scale = 1): OpTiming[] {
  const rng = new Rng(7);
  const reps = Math.max(20, Math.round(2000 * scale)), batches = Math.max(5, Math.round(15 * scale));
  const chainReps = Math.max(5, Math.round(reps / 16));
  const results: OpTiming[] = [];
  const negChain = new Map<string, number>();
  for (const c of cases(rng)) {
    const seed = new Float64Array(c.x.size).fill(1);
    const fwdUs = timeUs(() => void c.apply(c.x), reps, batches);
    const fwdBwdUs = timeUs(() => {
      const y = c.apply(c.x);
      y.backward(y.size === seed.length ? seed : new Float64Array(y.size).fill(1));
    }, Math.max(10, reps >> 1), batches);
    let chainUs = NaN;
    if (c.chainable || c.op === 'exp') {
      const step = c.op === 'exp' ? (h: Tensor) => exp(neg(h)) : c.apply;
      const chain = timeUs(() => {
        let h = c.x;
        for (let k = 0; k < CHAIN; k++) h = step(h);
        h.backward(seed);
      }, chainReps, batches) / CHAIN;
      if (c.op === 'neg') negChain.set(c.shape, chain);
      chainUs = c.op === 'exp' ? chain - (negChain.get(c.shape) ?? 0) : chain;
    }
    results.push({ op: c.op, shape: c.shape, fwdUs, fwdBwdUs, chainUs });
  }
  return results;
}

/**
 * matmul of two n×n matrices: forward alone (no graph) and forward + backward (dA and dB).
 * @example matmulThroughput([64, 256, 512], 1);
 */
export function matmulThroughput(sizes: number[], scale = 1): MatmulTiming[] {
  const rng = new Rng(11);
  return sizes.map((n) => {
    const A = filled(n, n, rng, -1, 1), B = filled(n, n, rng, -1, 1);
    const seed = new Float64Array(n * n).fill(1);
    const flops = 2 * n * n * n;
    // ~0.2 s per measurement at full scale; at least one call per batch. The big sizes skip the warm-up
    // call (the code is already compiled by the small ones) and, when trimmed, take a single batch.
    const reps = Math.max(1, Math.round((scale * 2e8) / flops / 5));
    const batches = flops * reps * 5 > scale * 2e9 ? (scale < 1 ? 1 : 3) : Math.max(3, Math.round(5 * scale));
    const warm = n >= 256 ? 0 : reps;
    const fwd = timeUsWithCpu(() => void noGrad(() => matmul(A, B)), reps, batches, warm);
    const fwdBwd = timeUsWithCpu(() => {
      A.grad = null;
      B.grad = null;
      matmul(A, B).backward(seed);
    }, reps, batches, warm);
    const fwdMs = fwd.wallUs / 1000, fwdBwdMs = fwdBwd.wallUs / 1000;
    return {
      n, fwdMs, fwdBwdMs, fwdGflops: flops / (fwdMs * 1e6), fwdBwdGflops: (3 * flops) / (fwdBwdMs * 1e6),
      fwdCpuGflops: flops / (fwd.cpuUs * 1e3), fwdBwdCpuGflops: (3 * flops) / (fwdBwd.cpuUs * 1e3),
    };
  });
}

/** One kernel of the `mlp` table (or the fusion itself) against the path it replaces, µs forward + backward. */
export interface KernelTiming {
  kernel: string;
  shape: string;
  kernelUs: number;
  generalUs: number;
  /** generalUs / kernelUs: above 1 the kernel earns its place. */
  speedup: number;
}

/**
 * Each entry of `MLP_KERNELS` on the shapes it serves, against the general fused path (`kernel:
 * 'general'`), and the fused `mlp` node itself against the layer-by-layer chain of ops (`Sequential`
 * with `fuse = false`); interleaved, fastest of several batches, each inside its own BufferArena as in
 * TrainStep. The numbers the kernel table cites.
 * @example kernelTimings(1).map((k) => k.speedup);
 */
export function kernelTimings(scale = 1): KernelTiming[] {
  const rng = new Rng(13);
  const reps = Math.max(20, Math.round(400 * scale)), batches = Math.max(5, Math.round(12 * scale));
  const rows = 64;
  const out: KernelTiming[] = [];
  const net = (nIn: number, H: number, nOut: number, act: MlpActivation): MlpLayer[] => [
    { weight: filled(H, nIn, rng, -1, 1), bias: filled(1, H, rng, -1, 1), activation: act },
    { weight: filled(nOut, H, rng, -0.2, 0.2), bias: filled(1, nOut, rng, -0.2, 0.2), activation: { leakyRelu: 0.01 } },
  ];
  // each contender in its own arena, reset per call: as TrainStep (fit) runs them
  const time = (fn: () => Tensor) => {
    const arena = new BufferArena();
    const run = () => {
      arena.reset();
      arena.run(() => {
        const y = fn();
        y.backward(new Float64Array(y.size).fill(1));
      });
    };
    return timeUs(run, reps, batches);
  };
  for (const k of MLP_KERNELS) {
    for (const [H, act] of [[64, { leakyRelu: 0.01 }], [64, 'relu'], [32, { leakyRelu: 0.01 }]] as const) {
      const x = filled(rows, 1, rng, -2, 2), layers = net(1, H, 1, act);
      if (!k.applies(x, layers)) continue;
      // interleave: kernel, general, kernel, general; keep each one's best
      let kernelUs = Infinity, generalUs = Infinity;
      for (let r = 0; r < 3; r++) {
        kernelUs = Math.min(kernelUs, time(() => mlp(x, layers, k.name)));
        generalUs = Math.min(generalUs, time(() => mlp(x, layers, 'general')));
      }
      out.push({ kernel: k.name, shape: `${rows} rows, 1→${H}→1 ${typeof act === 'object' ? 'leakyRelu' : act}`, kernelUs, generalUs, speedup: generalUs / kernelUs });
    }
  }
  // the fused node itself (general path) against the layer-by-layer reference, at the default recipe's
  // conditioner (tanh 1→32→2) and a dim-8 post conditioner (4→64→4)
  for (const [nIn, H, nOut, act] of [[1, 32, 2, 'tanh'], [4, 64, 4, { leakyRelu: 0.01 }]] as const) {
    const x = filled(rows, nIn, rng, -2, 2), layers = net(nIn, H, nOut, act);
    const reference = mlp.spec.reference!;
    let kernelUs = Infinity, generalUs = Infinity;
    for (let r = 0; r < 3; r++) {
      kernelUs = Math.min(kernelUs, time(() => mlp(x, layers, 'general')));
      generalUs = Math.min(generalUs, time(() => reference(x, layers)));
    }
    out.push({ kernel: 'mlp general (vs linear + activation ops)', shape: `${rows} rows, ${nIn}→${H}→${nOut} ${typeof act === 'object' ? 'leakyRelu' : act}`, kernelUs, generalUs, speedup: generalUs / kernelUs });
  }
  // the post coupling's output z = [x_A | exp(-s)·(x_B - b)] as one node against its six reference nodes,
  // at the post's dim 2 and at dim 8 (rows 64 and 512)
  for (const [n, dim] of [[64, 2], [64, 8], [512, 8]] as const) {
    const dimA = dim / 2, x = filled(n, dim, rng, -2, 2), s = filled(n, dim - dimA, rng, -1, 1), b = filled(n, dim - dimA, rng, -1, 1);
    const reference = postCouplingOutput.spec.reference!;
    let kernelUs = Infinity, generalUs = Infinity;
    for (let r = 0; r < 3; r++) {
      kernelUs = Math.min(kernelUs, time(() => postCouplingOutput(x, s, b, dimA)));
      generalUs = Math.min(generalUs, time(() => reference(x, s, b, dimA)));
    }
    out.push({ kernel: 'postCouplingOutput (vs its 6 reference ops)', shape: `${n} rows, dim ${dim}`, kernelUs, generalUs, speedup: generalUs / kernelUs });
  }
  return out;
}
