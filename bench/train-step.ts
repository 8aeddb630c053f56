/**
 * The training-step benchmark: the engine's full step (`TrainStep` on `RealNVP.post` with Adam: zero
 * grads, forward, backward, finite checks, update) against the hand-fused ceiling (`handfused.ts`) on
 * the same weights and the same minibatches, interleaved in one process. Also the peers' protocol
 * (`--peer-mode`): train the peers' exact problem and print one `RESULT_JSON` line for
 * `../shared/peers/run_all.sh`.
 *
 * @module
 */

import { Tensor } from '../src/autograd/tensor.ts';
import { Rng } from '../src/rng/rng.ts';
import { RealNVP } from '../src/flow/real-nvp.ts';
import { Adam } from '../src/optim/adam.ts';
import { nll } from '../src/flow/real-nvp.ts';
import { meanNll } from '../src/train/fit.ts';
import { NonFiniteStepError, TrainStep } from '../src/train/step.ts';
import { flopsPerStep, HandFusedPost } from './handfused.ts';
import { LOG_2PI, Mulberry32, PEER, peerInitialWeights, sampleMixture, shuffle, STREAM } from './peer-problem.ts';
import { interleave, summarize, type InterleaveOptions, type Summary } from './stats.ts';

/** The size of one benchmarked model and batch. */
export interface StepConfig {
  dim: number;
  hidden: number;
  layers: number;
  batch: number;
}

/** Data, initial weights and batch order of one comparison. */
interface Problem {
  data: Float64Array;
  rows: number;
  weights: Record<string, Float64Array>;
  shuffleSeed: number;
}

/**
 * The post's problem at the peers' size (their data, weights and order), or for other sizes a
 * two-Gaussian mixture at ±2·1 in `dim` dimensions with weights from `RealNVP.post`'s own init.
 */
function problemFor(c: StepConfig, seed: number): Problem {
  if (c.dim === PEER.dim && c.hidden === PEER.hidden && c.layers === PEER.layers) {
    return { data: sampleMixture(PEER.nTrain, seed + STREAM.data), rows: PEER.nTrain, weights: peerInitialWeights(seed + STREAM.init), shuffleSeed: seed + STREAM.shuffle };
  }
  const rng = new Rng(seed);
  const rows = Math.max(1024, 4 * c.batch);
  const data = new Float64Array(rows * c.dim);
  for (let i = 0; i < rows; i++) {
    const m = rng.uniform() < 0.5 ? -2 : 2;
    for (let j = 0; j < c.dim; j++) data[i * c.dim + j] = m + rng.normal();
  }
  const flow = RealNVP.post({ dim: c.dim, hidden: c.hidden, layers: c.layers, rng });
  const weights: Record<string, Float64Array> = {};
  for (const [name, p] of flow.namedParameters()) weights[name] = p.data.slice();
  return { data, rows, weights, shuffleSeed: seed + 1 };
}

/** Full minibatches in reshuffled order, gathered into one reused buffer (the tail of an epoch is skipped). */
class BatchStream {
  readonly buffer: Float64Array;
  private readonly order: Int32Array;
  private readonly rng: Mulberry32;
  private at: number;

  constructor(private readonly p: Problem, private readonly dim: number, private readonly batch: number) {
    if (p.rows < batch) throw new RangeError(`BatchStream: ${p.rows} rows cannot fill a batch of ${batch}`);
    this.buffer = new Float64Array(batch * dim);
    this.order = Int32Array.from({ length: p.rows }, (_, i) => i);
    this.rng = new Mulberry32(p.shuffleSeed);
    this.at = p.rows; // shuffle before the first batch
  }

  /** Gathers the next batch into {@link buffer}. */
  next(): Float64Array {
    if (this.at + this.batch > this.p.rows) {
      shuffle(this.order, this.rng);
      this.at = 0;
    }
    const d = this.dim, src = this.p.data, out = this.buffer;
    for (let i = 0; i < this.batch; i++) {
      const r = this.order[this.at + i] * d;
      for (let j = 0; j < d; j++) out[i * d + j] = src[r + j];
    }
    this.at += this.batch;
    return out;
  }
}

function loadWeights(flow: RealNVP, weights: Record<string, Float64Array>): void {
  for (const [name, p] of flow.namedParameters()) {
    const w = weights[name];
    if (w === undefined || w.length !== p.size) throw new RangeError(`loadWeights: no ${p.size} values for ${name}`);
    p.data.set(w);
  }
}

/** The engine's training step on `c`, as fit() runs it, behind a `run()` that gathers and steps. */
function engineContender(c: StepConfig, p: Problem, lr: number, onDiverge: (msg: string) => void) {
  const flow = RealNVP.post({ dim: c.dim, hidden: c.hidden, layers: c.layers, rng: new Rng(0) });
  loadWeights(flow, p.weights);
  const step = new TrainStep(flow, new Adam(flow.parameters(), { lr }));
  const stream = new BatchStream(p, c.dim, c.batch);
  const batch = Tensor.from(c.batch, c.dim, stream.buffer);
  return {
    name: 'engine',
    flow,
    step,
    run(): number {
      stream.next();
      try {
        return step.run(batch);
      } catch (e) {
        if (!(e instanceof NonFiniteStepError)) throw e;
        onDiverge(e.message);
        step.restoreLastGood();
        return NaN;
      }
    },
  };
}

/**
 * The same step as a user writes it by hand, PyTorch-style, with no helper object:
 * `opt.zeroGrad(); const l = nll(flow, batch); l.backward(); opt.step();`.
 */
function byHandContender(c: StepConfig, p: Problem, lr: number) {
  const flow = RealNVP.post({ dim: c.dim, hidden: c.hidden, layers: c.layers, rng: new Rng(0) });
  loadWeights(flow, p.weights);
  const opt = new Adam(flow.parameters(), { lr });
  const stream = new BatchStream(p, c.dim, c.batch);
  const batch = Tensor.from(c.batch, c.dim, stream.buffer);
  return {
    name: 'by hand',
    run(): number {
      stream.next();
      opt.zeroGrad();
      const l = nll(flow, batch);
      l.backward();
      opt.step();
      return l.item();
    },
  };
}

/** The hand-fused ceiling on `c`, same weights and batches. */
function ceilingContender(c: StepConfig, p: Problem, lr: number) {
  const hf = new HandFusedPost({ dim: c.dim, hidden: c.hidden, layers: c.layers, capacity: c.batch, lr });
  hf.load(Object.entries(p.weights).map(([name, data]) => [name, { data }] as const));
  const stream = new BatchStream(p, c.dim, c.batch);
  return {
    name: 'ceiling',
    hf,
    run(): number {
      return hf.step(stream.next(), c.batch);
    },
  };
}

/** One engine-vs-ceiling measurement. */
export interface Comparison {
  config: StepConfig;
  flopsPerStep: number;
  engine: Summary;
  ceiling: Summary;
  /** median(engine) / median(ceiling). */
  ratio: number;
  /** The ratio of each round's block medians: its spread says how stable the ratio is. */
  roundRatio: Summary;
  /** CPU time engine / ceiling over all timed blocks (robust to waiting for a shared core). */
  cpuRatio: number;
  engineGflops: number;
  ceilingGflops: number;
  rounds: number;
  stepsEach: number;
  /** Largest |loss_engine - loss_ceiling| / |loss_ceiling| over the timed steps (both train the same way). */
  lossAgreement: number;
  /** Set when the engine's step reported a non-finite value. */
  diverged: string | null;
  /** With `{ byHand: true }`: the PyTorch-style loop written by hand (zeroGrad, nll, backward, step), same weights and batches. */
  byHand?: { summary: Summary; ratio: number; roundRatio: Summary; cpuRatio: number; lossAgreement: number };
}

/**
 * Engine vs ceiling on one configuration, interleaved (A B A B ...), warm-up first.
 * @example compareTrainStep({ dim: 2, hidden: 64, layers: 16, batch: 64 }, { warmupSteps: 200, rounds: 20, stepsPerBlock: 100 });
 */
export function compareTrainStep(c: StepConfig, o: InterleaveOptions & { byHand?: boolean }, lr = PEER.lr, seed = 0): Comparison {
  const p = problemFor(c, seed);
  let diverged: string | null = null;
  const engine = engineContender(c, p, lr, (m) => (diverged ??= m));
  const ceiling = ceilingContender(c, p, lr);
  const r = interleave(o.byHand === true ? [engine, ceiling, byHandContender(c, p, lr)] : [engine, ceiling], o);
  const e = summarize(r.times[0]), h = summarize(r.times[1]);
  const flops = flopsPerStep(c);
  let agree = 0;
  for (let k = 0; k < r.values[0].length; k++) {
    const a = r.values[0][k], b = r.values[1][k];
    agree = Math.max(agree, Math.abs(a - b) / Math.abs(b));
  }
  let byHand: Comparison['byHand'];
  if (o.byHand === true) {
    const s = summarize(r.times[2]);
    let hAgree = 0;
    // the by-hand loss is the mean NLL as a tensor, the engine's the same number: they train in lockstep
    for (let k = 0; k < r.values[2].length; k++) hAgree = Math.max(hAgree, Math.abs(r.values[2][k] - r.values[1][k]) / Math.abs(r.values[1][k]));
    byHand = { summary: s, ratio: s.median / h.median, roundRatio: summarize(r.blockMedians[2].map((x, k) => x / r.blockMedians[1][k])), cpuRatio: r.cpuMs[2] / r.cpuMs[1], lossAgreement: hAgree };
  }
  return {
    ...(byHand !== undefined ? { byHand } : {}),
    config: c,
    flopsPerStep: flops,
    engine: e,
    ceiling: h,
    ratio: e.median / h.median,
    roundRatio: summarize(r.blockMedians[0].map((x, k) => x / r.blockMedians[1][k])),
    cpuRatio: r.cpuMs[0] / r.cpuMs[1],
    engineGflops: flops / (e.median * 1e6),
    ceilingGflops: flops / (h.median * 1e6),
    rounds: r.rounds,
    stepsEach: r.times[0].length,
    lossAgreement: agree,
    diverged,
  };
}

// ---------------------------------------------------------------------------------------------------
// The peers' protocol.

/** What `--peer-mode` reports (the fields `run_all.sh` and `table.mjs` read, and more). */
export interface PeerResult {
  peer: string;
  impl: string;
  node: string;
  dtype: 'float64';
  epochs: number;
  steps: number;
  warmup_steps: number;
  timed_steps: number;
  ms_step: number;
  flops_step: number;
  gflops: number;
  train_wall_s: number;
  final_loss: number;
  last_epoch_loss: number;
  test_nll: number;
}

/**
 * Trains the peers' problem for `epochs` epochs exactly as they do (their data, initial weights,
 * shuffles, batches of 64 with a last batch of 40, Adam lr 2e-4) and measures each step: gather the
 * batch, step, read the loss. `impl` 'engine' is flowgrad's TrainStep; 'ceiling' the hand-fused code.
 * final_loss is the post's loss (no log 2π term) on the training set; test_nll includes it.
 *
 * @example runPeerProblem({ epochs: 20 }).final_loss; // 2.0119 (to 4 decimals)
 */
export function runPeerProblem(o: { epochs: number; seed?: number; impl?: 'engine' | 'ceiling'; warmup?: number }): PeerResult {
  const seed = o.seed ?? 0, impl = o.impl ?? 'engine', warmup = o.warmup ?? 20;
  const { dim, nTrain, nTest, batch } = PEER;
  const X = sampleMixture(nTrain, seed + STREAM.data);
  const weights = peerInitialWeights(seed + STREAM.init);
  const flow = RealNVP.post({ dim, rng: new Rng(0) });
  loadWeights(flow, weights);
  const trainStep = new TrainStep(flow, new Adam(flow.parameters(), { lr: PEER.lr }));
  const hf = new HandFusedPost({ dim, capacity: batch, lr: PEER.lr });
  hf.load(flow.namedParameters());
  const full = Tensor.from(batch, dim, new Float64Array(batch * dim));
  const tail = nTrain % batch > 0 ? Tensor.from(nTrain % batch, dim, new Float64Array((nTrain % batch) * dim)) : null;
  const rng = new Mulberry32(seed + STREAM.shuffle);
  const perm = Int32Array.from({ length: nTrain }, (_, i) => i);
  const times: number[] = [];
  const epochLoss: number[] = [];
  const start = performance.now();
  for (let ep = 0; ep < o.epochs; ep++) {
    shuffle(perm, rng);
    let total = 0;
    for (let k0 = 0; k0 < nTrain; k0 += batch) {
      const t0 = performance.now();
      const n = Math.min(batch, nTrain - k0);
      const b = n === batch ? full : tail!;
      for (let i = 0; i < n; i++) {
        const q = perm[k0 + i];
        b.data[2 * i] = X[2 * q];
        b.data[2 * i + 1] = X[2 * q + 1];
      }
      const loss = impl === 'engine' ? trainStep.run(b) : hf.step(b.data, n);
      times.push(performance.now() - t0);
      total += loss * n;
    }
    epochLoss.push(total / nTrain - LOG_2PI);
  }
  const wall = (performance.now() - start) / 1000;
  if (impl === 'ceiling') loadWeights(flow, Object.fromEntries(hf.names.map((name) => [name, hf.parameter(name)])));
  const finalLoss = meanNll(flow, Tensor.from(nTrain, dim, X)) - LOG_2PI;
  const testNll = meanNll(flow, Tensor.from(nTest, dim, sampleMixture(nTest, seed + STREAM.test)));
  const timed = times.length > warmup ? times.slice(warmup) : times;
  const ms = summarize(timed).median;
  const flops = flopsPerStep({ dim, layers: PEER.layers, hidden: PEER.hidden, batch });
  return {
    peer: impl === 'engine' ? 'flowgrad-engine-f64' : 'flowgrad-handfused-f64',
    impl,
    node: process.version,
    dtype: 'float64',
    epochs: o.epochs,
    steps: times.length,
    warmup_steps: times.length - timed.length,
    timed_steps: timed.length,
    ms_step: ms,
    flops_step: flops,
    gflops: flops / (ms * 1e6),
    train_wall_s: wall,
    final_loss: finalLoss,
    last_epoch_loss: epochLoss.length > 0 ? epochLoss[epochLoss.length - 1] : NaN,
    test_nll: testNll,
  };
}

// ---------------------------------------------------------------------------------------------------
// The default recipe's model (no ceiling exists for it: the hand-fused code is the post's architecture).

/** The default recipe's step, by TrainStep and by hand, interleaved. */
export interface RecipeTiming {
  config: { dim: number; layers: number; hidden: number; depth: number; batch: number };
  trainStep: Summary;
  byHand: Summary;
}

/**
 * The default recipe's model (`new RealNVP({ dim: 2, layers: 8, hidden: 32, depth: 1 })`: tanh
 * conditioners 1→32→2, Adam lr 1e-3) trained on the two-Gaussian mixture, through TrainStep and by hand.
 * @example defaultRecipeStep({ warmupSteps: 50, rounds: 10, stepsPerBlock: 20 }).trainStep.median; // ms
 */
export function defaultRecipeStep(o: InterleaveOptions, batchSize = 64, seed = 0): RecipeTiming {
  const config = { dim: 2, layers: 8, hidden: 32, depth: 1, batch: batchSize };
  const p = problemFor({ dim: 2, hidden: 32, layers: 8, batch: batchSize }, seed);
  const make = () => new RealNVP({ dim: 2, layers: 8, hidden: 32, depth: 1, rng: new Rng(seed) });
  const a = make(), b = make();
  const step = new TrainStep(a, new Adam(a.parameters(), { lr: 1e-3 }));
  const opt = new Adam(b.parameters(), { lr: 1e-3 });
  const sa = new BatchStream(p, 2, batchSize), sb = new BatchStream(p, 2, batchSize);
  const ta = Tensor.from(batchSize, 2, sa.buffer), tb = Tensor.from(batchSize, 2, sb.buffer);
  const r = interleave([
    { name: 'TrainStep', run: () => (sa.next(), step.run(ta)) },
    {
      name: 'by hand',
      run: () => {
        sb.next();
        opt.zeroGrad();
        const l = nll(b, tb);
        l.backward();
        opt.step();
        return l.item();
      },
    },
  ], o);
  return { config, trainStep: summarize(r.times[0]), byHand: summarize(r.times[1]) };
}
