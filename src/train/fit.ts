/**
 * Training a flow by maximum likelihood: shuffled minibatches every epoch, an optimizer step per batch,
 * validation NLL per epoch, early stopping with the best weights kept, clean stops on an AbortSignal,
 * and a clear error (with the last good weights restored) when training diverges.
 *
 * @module
 */

import { checkOptionKeys } from '../autograd/options.ts';
import { columnMeanStd } from '../autograd/stats.ts';
import { firstNonFinite, noGrad, Tensor } from '../autograd/tensor.ts';
import type { Rng } from '../rng/rng.ts';
import type { Module } from '../nn/module.ts';
import { Adam } from '../optim/adam.ts';
import type { Optimizer } from '../optim/optimizer.ts';
import { copyTensors, type FitState } from './checkpoint.ts';
import { NonFiniteStepError, TrainStep } from './step.ts';

/**
 * What `fit` needs of a model: parameters and a differentiable per-row log-density.
 * @example const model: Trainable = new RealNVP({ dim: 2, rng: new Rng(0) });
 */
export type Trainable = Module & { logProb(x: Tensor): Tensor; readonly dim: number };

/**
 * What `fit` reads of an `AbortSignal`: only `aborted`. Typed structurally so that the library's
 * declarations need neither the DOM nor Node's types (an `AbortController`'s signal fits).
 *
 * @example
 * const controller = new AbortController();
 * fit(flow, train, { epochs: 100, batchSize: 64, rng, signal: controller.signal }); // controller.abort() stops it
 */
export interface StopSignal {
  readonly aborted: boolean;
}

/**
 * Progress reported after every epoch.
 * @example fit(flow, train, { epochs, batchSize: 64, rng, onEpoch: (info) => console.log(info.epoch, info.trainLoss) });
 */
export interface EpochInfo {
  /** 1-based epoch number. */
  epoch: number;
  /** Total epochs requested. */
  epochs: number;
  /** Mean training loss (NLL, nats) over the epoch's batches. */
  trainLoss: number;
  /** Validation NLL (nats) or NaN without validation data. */
  valNll: number;
  /** Best validation NLL so far (NaN without validation). */
  bestValNll: number;
  /** Epoch of the best validation NLL (0 without validation). */
  bestEpoch: number;
  /** Optimizer steps per second in this epoch. */
  stepsPerSecond: number;
  /** Seconds since training started. */
  elapsed: number;
  /** Steps done so far. */
  step: number;
}

/**
 * Options of {@link fit}.
 * @example const options: FitOptions = { epochs: 200, batchSize: 64, lr: 1e-3, rng: new Rng(0), validation: val, patience: 20 };
 */
export interface FitOptions {
  /** Number of passes over the data. */
  epochs: number;
  /** Rows per minibatch (the last batch of an epoch may be smaller). */
  batchSize: number;
  /** An optimizer over the model's parameters; default Adam with `lr`. */
  optimizer?: Optimizer;
  /** Learning rate of the default Adam (default 1e-3). Ignored when `optimizer` is given. */
  lr?: number;
  /** Seeded generator for the shuffles. */
  rng: Rng;
  /** Held-out rows: validation NLL is computed after every epoch. */
  validation?: Tensor;
  /** Stop after this many epochs without a better validation NLL (needs `validation`). */
  patience?: number;
  /** Keep the weights of the best validation epoch at the end (default true with validation). */
  restoreBest?: boolean;
  /** Clip the gradients' total L2 norm to this value before each step. */
  clipGradNorm?: number;
  /**
   * Keep an exponential moving average of the weights with this decay (e.g. 0.995; B. T. Polyak & A. B.
   * Juditsky, SIAM J. Control Optim. 1992). Validation, early stopping and the returned model use the
   * averaged weights, which generalise better than the last iterate on small data sets.
   */
  ema?: number;
  /**
   * Add Gaussian noise to every training batch, with this standard deviation as a fraction of each
   * feature's standard deviation (noise regularisation, J. Rothfuss et al., 2019). Small values (0.02-0.1)
   * curb overfitting on a few thousand points at a negligible bias.
   */
  noise?: number;
  /** Called after every epoch; return `'stop'` to end training after it. */
  onEpoch?: (info: EpochInfo) => void | 'stop';
  /** Called after every step with the step's loss (for progress bars). */
  onStep?: (step: number, loss: number) => void;
  /** Stops cleanly after the current step when aborted. */
  signal?: StopSignal;
  /** A monotonic clock in milliseconds (default `performance.now`), for steps per second. */
  now?: () => number;
  /**
   * Checkpoints: `save` receives a {@link FitState} (copies, safe to keep) every `every` epochs (default
   * 1) or, with `seconds`, at the first epoch end at least that many seconds after the last one; and
   * always when training is aborted (mid-epoch, before the best weights are put back) and when it
   * diverges (marked diverged: the state at the last epoch end for models up to 200,000 parameters, kept
   * in memory every epoch, else the last one saved).
   */
  checkpoint?: { every?: number; seconds?: number; save: (state: FitState) => void };
  /**
   * Lower the learning rate on a plateau (PyTorch's `ReduceLROnPlateau`, counted in epochs): after
   * `patience` epochs without a better validation loss, and again after each further `patience` of
   * them, multiply the optimizer's rate by `factor`. With `restoreBest`, each cut also puts the best
   * weights so far back (and the weight average, with `ema`), so the lower rate goes on from the best
   * point rather than from where the run has drifted since. Needs validation data. Stateless beyond
   * what a checkpoint holds (the epochs since the best, the best weights, the optimizer's rate), so a
   * resumed run cuts at the same epochs.
   */
  lrPlateau?: { readonly patience: number; readonly factor: number; readonly restoreBest?: boolean };
  /** Continue from a checkpoint: the other options must be those of the run that wrote it. */
  resume?: FitState;
  /**
   * A step whose loss exceeds the first step's loss L₀ by more than `maxLossRise · max(d, |L₀|)` nats
   * counts as diverged, though finite (default 1000; `Infinity` turns the check off): a learning rate
   * far too high can send the loss to 1e17 without ever making it NaN.
   */
  maxLossRise?: number;
}

/** The option names of {@link fit}, for the did-you-mean of a typo. */
const FIT_OPTIONS = ['epochs', 'batchSize', 'optimizer', 'lr', 'rng', 'validation', 'patience', 'restoreBest', 'clipGradNorm', 'ema', 'noise', 'lrPlateau', 'onEpoch', 'onStep', 'signal', 'now', 'checkpoint', 'resume', 'maxLossRise'];

/**
 * The record of a training run.
 * @example const history: History = fit(flow, train, options); history.stopReason; // 'early-stopped'
 */
export interface History {
  /** Mean training loss per epoch. */
  trainLoss: number[];
  /** Validation NLL per epoch (empty without validation). */
  valNll: number[];
  /** Steps per second per epoch. */
  stepsPerSecond: number[];
  /** Epochs run. */
  epochs: number;
  /** Steps run. */
  steps: number;
  /** Best validation NLL and its epoch (NaN and 0 without validation). */
  bestValNll: number;
  bestEpoch: number;
  /** Why training ended. */
  stopReason: 'completed' | 'early-stopped' | 'aborted' | 'stopped-by-callback';
  /** The state at the end (before the best or averaged weights are put back), for a checkpoint. */
  state?: FitState;
  /** Wall time in seconds. */
  seconds: number;
}

/**
 * Thrown when the loss or a gradient becomes NaN or infinite, or the loss explodes (see `maxLossRise`).
 * By then the model's parameters have been restored to the last values that gave a finite loss and
 * finite gradients (for an exploding loss: those of the last checkpoint, or the start). `state` is the
 * last checkpointed state (or the start of this run), marked diverged, for the caller to keep.
 *
 * @example
 * try { fit(flow, train, { epochs: 10, batchSize: 64, lr: 10, rng }); } catch (e) { if (e instanceof TrainingDivergedError) console.log(e.epoch, e.step); }
 */
export class TrainingDivergedError extends Error {
  override readonly name = 'TrainingDivergedError';
  constructor(
    message: string,
    /** 1-based epoch where it happened. */
    readonly epoch: number,
    /** 1-based step (counted over the whole run). */
    readonly step: number,
    /** The last good state, marked diverged (null when none was taken). */
    readonly state: FitState | null = null,
  ) {
    super(message);
  }
}

/**
 * Refuses a malformed `lrPlateau` ({@link FitOptions.lrPlateau}) with `where` in the message: unknown keys
 * (did-you-mean), a patience that is not an integer ≥ 1, a factor outside (0, 1), a non-boolean restoreBest.
 * @example checkLrPlateau('trainNpe', { patience: 10, factor: 0.5 });
 */
export function checkLrPlateau(where: string, plateau: unknown): void {
  if (plateau === null || typeof plateau !== 'object') throw new TypeError(`${where}: lrPlateau must be { patience, factor, restoreBest? }, got ${String(plateau)}`);
  checkOptionKeys(`${where}: lrPlateau`, plateau, ['patience', 'factor', 'restoreBest']);
  const p = plateau as { patience?: unknown; factor?: unknown; restoreBest?: unknown };
  if (typeof p.patience !== 'number' || !Number.isInteger(p.patience) || p.patience < 1) throw new RangeError(`${where}: lrPlateau.patience must be an integer >= 1, got ${String(p.patience)}`);
  if (!(typeof p.factor === 'number' && p.factor > 0 && p.factor < 1)) throw new RangeError(`${where}: lrPlateau.factor must be in (0, 1), got ${String(p.factor)}`);
  if (p.restoreBest !== undefined && typeof p.restoreBest !== 'boolean') throw new TypeError(`${where}: lrPlateau.restoreBest must be true or false, got ${String(p.restoreBest)}`);
}

function checkInt(name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new RangeError(`fit: ${name} must be an integer >= ${min}, got ${String(v)}`);
  return v;
}

// The optimizer must update the model's parameters: one over another model's tensors would train nothing.
function checkOptimizer(optimizer: Optimizer, params: readonly Tensor[]): void {
  if (optimizer === null || typeof optimizer !== 'object' || typeof optimizer.step !== 'function' || !Array.isArray(optimizer.params)) {
    throw new TypeError('fit: optimizer must be an Optimizer (e.g. new Adam(model.parameters(), { lr }))');
  }
  const own = new Set(params);
  const foreign = optimizer.params.findIndex((p) => !own.has(p));
  if (foreign >= 0) {
    const p = optimizer.params[foreign]!;
    throw new RangeError(`fit: the optimizer's parameter ${foreign} (${p.rows}×${p.cols}) is not one of the model's parameters; build the optimizer over model.parameters()`);
  }
}


/**
 * The mean NLL of `x` in batches, without recording a graph.
 * @example meanNll(flow, test); // nats per row
 */
export function meanNll(model: { logProb(x: Tensor): Tensor }, x: Tensor, batchSize = 4096): number {
  return noGrad(() => {
    let total = 0;
    for (let start = 0; start < x.rows; start += batchSize) {
      const rows = Math.min(batchSize, x.rows - start);
      const batch = Tensor.from(rows, x.cols, x.data.subarray(start * x.cols, (start + rows) * x.cols));
      const lp = model.logProb(batch).data;
      for (let i = 0; i < rows; i++) total -= lp[i]!;
    }
    return total / x.rows;
  });
}

/**
 * Trains `model` on the rows of `data` by minimising the mean negative log-likelihood.
 *
 * @example
 * const rng = new Rng(0);
 * const flow = new RealNVP({ dim: 2, rng });
 * const history = fit(flow, trainData, { epochs: 100, batchSize: 64, lr: 1e-3, rng, validation: valData, patience: 20 });
 * history.valNll.at(-1); // validation NLL in nats
 */
export function fit(model: Trainable, data: Tensor, options: FitOptions): History {
  checkOptionKeys('fit', options, FIT_OPTIONS);
  const epochs = checkInt('epochs', options.epochs, 0);
  const batchSize = checkInt('batchSize', options.batchSize, 1);
  if (options.rng === undefined || typeof options.rng.permutation !== 'function') throw new TypeError('fit: pass { rng } (a seeded Rng) for the shuffles');
  if (data.cols !== model.dim) throw new RangeError(`fit: data has ${data.cols} columns, the model expects ${model.dim}`);
  if (data.rows < 1) throw new RangeError('fit: no training rows');
  const bad = firstNonFinite(data.data);
  if (bad >= 0) throw new RangeError(`fit: training data row ${Math.floor(bad / data.cols)}, column ${bad % data.cols} is ${data.data[bad]}`);
  const val = options.validation;
  if (val !== undefined) {
    if (val.cols !== model.dim) throw new RangeError(`fit: validation data has ${val.cols} columns, the model expects ${model.dim}`);
    if (val.rows < 1) throw new RangeError('fit: no validation rows (leave validation out to train without it)');
    const badVal = firstNonFinite(val.data);
    if (badVal >= 0) throw new RangeError(`fit: validation row ${Math.floor(badVal / val.cols)}, column ${badVal % val.cols} is ${val.data[badVal]}`);
  }
  if (options.patience !== undefined) {
    checkInt('patience', options.patience, 1);
    if (val === undefined) throw new RangeError('fit: patience (early stopping) needs validation data');
  }
  const plateau = options.lrPlateau ?? null;
  if (plateau !== null) {
    checkLrPlateau('fit', plateau);
    if (val === undefined) throw new RangeError('fit: lrPlateau (a rate cut when validation stalls) needs validation data');
  }
  if (options.ema !== undefined && !(options.ema >= 0 && options.ema < 1)) throw new RangeError(`fit: ema must be in [0, 1), got ${options.ema}`);
  if (options.noise !== undefined && !(options.noise >= 0 && Number.isFinite(options.noise))) throw new RangeError(`fit: noise must be a finite number >= 0, got ${options.noise}`);
  if (options.clipGradNorm !== undefined && !(options.clipGradNorm > 0)) throw new RangeError(`fit: clipGradNorm must be > 0, got ${options.clipGradNorm}`);
  const maxLossRise = options.maxLossRise ?? 1000;
  if (!(maxLossRise > 0)) throw new RangeError(`fit: maxLossRise must be > 0 (nats per dimension), got ${maxLossRise}`);
  const checkpoint = options.checkpoint;
  if (checkpoint !== undefined) {
    checkOptionKeys('fit: checkpoint', checkpoint, ['every', 'seconds', 'save']);
    if (typeof checkpoint.save !== 'function') throw new TypeError('fit: checkpoint.save must be a function');
    if (checkpoint.every !== undefined) checkInt('checkpoint.every', checkpoint.every, 1);
    if (checkpoint.seconds !== undefined && !(checkpoint.seconds >= 0)) throw new RangeError(`fit: checkpoint.seconds must be >= 0, got ${checkpoint.seconds}`);
  }
  const params = model.parameters();
  if (options.optimizer !== undefined) checkOptimizer(options.optimizer, params);
  const optimizer = options.optimizer ?? new Adam(params, { lr: options.lr ?? 1e-3 });
  const now = options.now ?? (() => performance.now());
  const restoreBest = options.restoreBest ?? val !== undefined;

  const n = data.rows, d = data.cols;
  const fullBatch = Tensor.from(Math.min(batchSize, n), d, new Float64Array(Math.min(batchSize, n) * d));
  const tail = n % batchSize;
  const tailBatch = tail > 0 && n > batchSize ? Tensor.from(tail, d, new Float64Array(tail * d)) : null;
  const step = new TrainStep(model, optimizer, options.clipGradNorm !== undefined ? { clipGradNorm: options.clipGradNorm } : {});
  const best = restoreBest || plateau?.restoreBest === true ? params.map((p) => p.data.slice()) : null;
  let order = new Int32Array(n);
  // Noise regularisation: per-feature noise scale, from the training rows.
  const noiseScale = columnMeanStd(data, 1).std.map((s) => (options.noise ?? 0) * s);
  const noisy = options.noise !== undefined && options.noise > 0;
  // Weight averaging: the shadow copy, swapped in for validation and at the end.
  const ema = options.ema !== undefined && options.ema > 0 ? options.ema : null;
  const shadow = ema !== null ? params.map((p) => p.data.slice()) : null;
  const swap = () => {
    if (shadow === null) return;
    params.forEach((p, k) => {
      const tmp = p.data.slice();
      p.data.set(shadow[k]!);
      shadow[k]!.set(tmp);
    });
  };

  const history: History = { trainLoss: [], valNll: [], stepsPerSecond: [], epochs: 0, steps: 0, bestValNll: NaN, bestEpoch: 0, stopReason: 'completed', seconds: 0 };
  let sinceBest = 0;
  let firstLoss = NaN;
  let secondsBefore = 0;
  let firstEpoch = 1;
  let resumeAt: { next: number; lossSum: number; batches: number } | null = null;
  if (options.resume !== undefined) {
    const r = options.resume;
    if (r.shadow !== null && shadow === null) throw new RangeError('fit: the checkpoint has a weight average; pass the same ema as the run that wrote it');
    if (r.shadow === null && shadow !== null) throw new RangeError('fit: the checkpoint has no weight average; pass the same ema (none) as the run that wrote it');
    model.loadStateDict(r.model);
    optimizer.loadStateDict(r.optimizer);
    // A learning rate given with the checkpoint wins over the saved one (to continue a diverged run lower).
    if (options.optimizer === undefined && options.lr !== undefined) {
      // With lrPlateau the given rate is the schedule's base: the cuts the run made so far apply to it.
      optimizer.lr = plateau !== null ? options.lr * plateau.factor ** plateauCuts(r.valNll, plateau.patience) : options.lr;
    }
    options.rng.setState(r.rng);
    const copyInto = (to: Float64Array[] | null, from: Float64Array[] | null, what: string) => {
      if (to === null || from === null) return;
      if (from.length !== to.length || from.some((a, k) => a.length !== to[k]!.length)) throw new RangeError(`fit: the checkpoint's ${what} do not fit the model's parameters`);
      to.forEach((a, k) => a.set(from[k]!));
    };
    copyInto(shadow, r.shadow, 'averaged weights');
    copyInto(best, r.best, 'best weights');
    history.trainLoss = r.trainLoss.slice();
    history.valNll = r.valNll.slice();
    history.stepsPerSecond = r.stepsPerSecond.slice();
    history.epochs = r.epoch;
    history.steps = r.steps;
    history.bestValNll = r.bestValNll;
    history.bestEpoch = r.bestEpoch;
    sinceBest = r.sinceBest;
    firstLoss = r.firstLoss;
    secondsBefore = r.seconds;
    firstEpoch = r.epoch + 1;
    if (r.partial !== null) {
      if (r.partial.order.length !== n) throw new RangeError(`fit: the checkpoint stopped inside an epoch over ${r.partial.order.length} rows, the data has ${n}`);
      order = r.partial.order.slice();
      resumeAt = { next: r.partial.next, lossSum: r.partial.lossSum, batches: r.partial.batches };
    }
  }
  if (resumeAt === null && options.resume !== undefined && options.patience !== undefined && sinceBest >= options.patience) {
    // The run that wrote the checkpoint stopped early at its last epoch.
    history.stopReason = 'early-stopped';
    firstEpoch = epochs + 1;
  }
  const start = now();
  const restore = (from: Float64Array[]) => params.forEach((p, k) => p.data.set(from[k]!));
  const snapshot = (partial: FitState['partial']): FitState => ({
    epoch: history.epochs, steps: history.steps, partial,
    trainLoss: history.trainLoss.slice(), valNll: history.valNll.slice(), stepsPerSecond: history.stepsPerSecond.slice(),
    bestValNll: history.bestValNll, bestEpoch: history.bestEpoch, sinceBest, seconds: secondsBefore + (now() - start) / 1000, firstLoss,
    rng: options.rng.getState(),
    model: copyTensors(model.stateDict()),
    optimizer: optimizer.stateDict(),
    best: best === null ? null : best.map((a) => a.slice()),
    shadow: shadow === null ? null : shadow.map((a) => a.slice()),
    diverged: null,
  });
  // The last good state: the start, then every checkpoint.
  let lastState: FitState | null = checkpoint !== undefined ? snapshot(resumeAt === null ? null : options.resume!.partial) : null;
  const startWeights = lastState === null ? params.map((p) => p.data.slice()) : null;
  let lastSaved = now();
  // For small models (a copy of at most 200,000 parameters and their optimizer state; not benchmarked) a
  // snapshot is taken in memory at every epoch end.
  const cheapSnapshots = checkpoint !== undefined && params.reduce((sum, p) => sum + p.size, 0) <= 200_000;
  const diverged = (epoch: number, what: string, exploded: boolean): never => {
    if (exploded) {
      if (lastState !== null) model.loadStateDict(lastState.model);
      else restore(startWeights!);
    } else step.restoreLastGood();
    const state = lastState === null ? null : { ...lastState, diverged: what };
    if (state !== null) checkpoint!.save(state);
    const restored = exploded ? (lastState !== null && lastState.epoch > 0 ? `those of the last checkpoint (epoch ${lastState.epoch})` : 'their starting values') : 'the last finite state';
    throw new TrainingDivergedError(`training diverged at epoch ${epoch}, step ${history.steps}: ${what}; the parameters were restored to ${restored} (try a lower learning rate or clipGradNorm)`, epoch, history.steps, state);
  };

  model.train();
  outer: for (let epoch = firstEpoch; epoch <= epochs; epoch++) {
    let lossSum = 0, batches = 0, b0Start = 0;
    if (resumeAt !== null) {
      ({ lossSum, batches } = resumeAt);
      b0Start = resumeAt.next;
      resumeAt = null;
    } else {
      for (let i = 0; i < n; i++) order[i] = i;
      options.rng.shuffle<number, Int32Array>(order);
    }
    const epochStart = now();
    for (let b0 = b0Start; b0 < n; b0 += batchSize) {
      const rows = Math.min(batchSize, n - b0);
      const batch = rows === fullBatch.rows ? fullBatch : tailBatch!;
      // Gather the batch's rows into the reused buffer (a plain copy: no view objects per row).
      for (let i = 0; i < rows; i++) {
        const from = order[b0 + i]! * d;
        for (let j = 0; j < d; j++) batch.data[i * d + j] = data.data[from + j]!;
      }
      if (noisy) for (let k = 0; k < rows * d; k++) batch.data[k]! += noiseScale[k % d]! * options.rng.normal();
      history.steps++;
      let loss: number;
      try {
        loss = step.run(batch);
        if (shadow !== null) {
          // shadow = ema·shadow + (1 - ema)·weights; it starts from the weights after the first step, so
          // that values set from data in the first forward (ActNorm) are not averaged with placeholders.
          const decay = history.steps === 1 ? 0 : ema!;
          for (let k = 0; k < params.length; k++) {
            const w = params[k]!.data, sh = shadow[k]!;
            for (let i = 0; i < w.length; i++) sh[i] = decay * sh[i]! + (1 - decay) * w[i]!;
          }
        }
      } catch (e) {
        if (e instanceof NonFiniteStepError) diverged(epoch, e.message, false);
        throw e;
      }
      if (Number.isNaN(firstLoss)) firstLoss = loss;
      else if (loss - firstLoss > maxLossRise * Math.max(d, Math.abs(firstLoss))) diverged(epoch, `the loss exploded to ${loss.toPrecision(4)} nats, from ${firstLoss.toPrecision(4)} at the first step`, true);
      lossSum += loss;
      batches++;
      options.onStep?.(history.steps, loss);
      if (options.signal?.aborted === true) {
        history.stopReason = 'aborted';
        // The state to resume from is the one before the partial epoch is recorded.
        const atEnd = b0 + rows >= n;
        const state = atEnd ? null : snapshot({ order: order.slice(), next: b0 + rows, lossSum, batches });
        recordEpoch(epoch, lossSum / batches, batches, epochStart);
        history.state = state ?? snapshot(null);
        if (checkpoint !== undefined) checkpoint.save(history.state);
        break outer;
      }
    }
    const verdict = recordEpoch(epoch, lossSum / batches, batches, epochStart);
    if (verdict !== null) {
      history.stopReason = verdict;
      break;
    }
    if (checkpoint !== undefined && epoch < epochs) {
      const due = checkpoint.seconds !== undefined ? now() - lastSaved >= checkpoint.seconds * 1000 : epoch % (checkpoint.every ?? 1) === 0;
      if (due) {
        lastState = snapshot(null);
        checkpoint.save(lastState);
        lastSaved = now();
      } else if (cheapSnapshots) {
        // Kept in memory only: what a divergence falls back to (and saves) is the last epoch's end.
        lastState = snapshot(null);
      }
    }
  }
  if (history.stopReason !== 'aborted') history.state = snapshot(null);
  if (restoreBest && best !== null && history.bestEpoch > 0) restore(best);
  else if (shadow !== null) swap(); // end on the averaged weights
  history.seconds = secondsBefore + (now() - start) / 1000;
  return history;

  function recordEpoch(epoch: number, trainLoss: number, batches: number, epochStart: number): 'early-stopped' | 'stopped-by-callback' | null {
    const seconds = (now() - epochStart) / 1000;
    history.trainLoss.push(trainLoss);
    history.stepsPerSecond.push(seconds > 0 ? batches / seconds : Infinity);
    history.epochs = epoch;
    let valNll = NaN;
    if (val !== undefined) {
      model.eval();
      swap();
      valNll = meanNll(model, val);
      model.train();
      history.valNll.push(valNll);
      if (!Number.isFinite(valNll)) {
        // A validation point may fall where the model puts no mass only through overflow: treat as no improvement.
        sinceBest++;
      } else if (!(valNll >= history.bestValNll)) {
        history.bestValNll = valNll;
        history.bestEpoch = epoch;
        sinceBest = 0;
        if (best !== null) params.forEach((p, k) => best[k]!.set(p.data));
      } else sinceBest++;
      swap();
      // The plateau rule: a cut at every `patience`-th epoch since the best one.
      if (plateau !== null && sinceBest > 0 && sinceBest % plateau.patience === 0) {
        optimizer.lr *= plateau.factor;
        if (plateau.restoreBest === true && best !== null && history.bestEpoch > 0) {
          restore(best);
          shadow?.forEach((a, k) => a.set(best[k]!));
        }
      }
    }
    const verdict = options.onEpoch?.({
      epoch, epochs, trainLoss, valNll, bestValNll: history.bestValNll, bestEpoch: history.bestEpoch,
      stepsPerSecond: history.stepsPerSecond.at(-1)!, elapsed: (now() - start) / 1000, step: history.steps,
    });
    if (verdict === 'stop') return 'stopped-by-callback';
    if (options.patience !== undefined && sinceBest >= options.patience) return 'early-stopped';
    return null;
  }
}

/**
 * How many times the lrPlateau rule has cut the rate over a validation history: the epochs whose
 * count of epochs since the best one (strictly lower NLL; non-finite values never best) is a positive
 * multiple of `patience`.
 * @example plateauCuts([3, 2, 2.5, 2.4, 2.6, 2.1], 2); // 1 (at epoch 4)
 */
export function plateauCuts(valNll: readonly number[], patience: number): number {
  let best = Infinity, bestEpoch = 0, cuts = 0;
  valNll.forEach((v, i) => {
    if (Number.isFinite(v) && v < best) {
      best = v;
      bestEpoch = i + 1;
    }
    const stale = i + 1 - bestEpoch;
    if (stale > 0 && stale % patience === 0) cuts++;
  });
  return cuts;
}
