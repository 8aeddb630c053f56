/**
 * Neural posterior estimation (G. Papamakarios & I. Murray, "Fast ε-free inference of simulation
 * models with Bayesian conditional density estimation", NeurIPS 2016; D. S. Greenberg, M. Nonnenmacher &
 * J. H. Macke, "Automatic posterior transformation for likelihood-free inference", ICML 2019, the
 * single-round form that sbi's NPE and sbibm's "NPE" run): a conditional coupling flow q(θ | x) (by
 * default a neural spline flow: C. Durkan, A. Bekasov, I. Murray & G. Papamakarios, NeurIPS 2019) trained on
 * simulated pairs (θᵢ, xᵢ) with θᵢ from the prior by minimising −(1/n) Σ log q(θᵢ | xᵢ); for any new
 * observation it then samples the posterior in one pass, with no further simulation (amortized).
 *
 * Inside the model, saved with it: θ and x are z-scored by the training simulations' mean and standard
 * deviation (θ after the box bijection when the prior is a box), and for a box prior a
 * {@link BoxSupport} is the flow's first step, so every sample lies inside the prior's support (sbi #741).
 * Training is `fit` itself (validation split, early stopping with the best weights restored, progress
 * callbacks) on the rows [θ | x], read by a view whose log-density is log q(θ | x).
 *
 * @module
 */

import { sliceCols } from '../autograd/shape.ts';
import { columnMeanStd } from '../autograd/stats.ts';
import { noGrad, Tensor } from '../autograd/tensor.ts';
import { checkOptionKeys } from '../autograd/options.ts';
import { BoxSupport } from '../flow/box-support.ts';
import { RealNVP, type CouplingKind } from '../flow/real-nvp.ts';
import { loadModel, readModelConfig, saveModel, type SavedModel } from '../io/model.ts';
import { Module } from '../nn/module.ts';
import { Adam } from '../optim/adam.ts';
import type { ActivationName, Layer } from '../nn/layers.ts';
import type { RandomSource, Rng } from '../rng/rng.ts';
import { checkLrPlateau, fit, TrainingDivergedError, type EpochInfo, type History, type StopSignal } from '../train/fit.ts';
import { CheckpointError, checkpointFromDict, checkpointJson, checkpointToDict, copyTensors, parseCheckpointJson, type FitState } from '../train/checkpoint.ts';
import type { PosteriorEstimate } from './diagnostics-set.ts';
import type { Box } from './prior.ts';

/**
 * The default NPE recipe, chosen by measurement (bench/sbibm-recipes.ts, bench/sbibm.md "Default recipe"):
 * a neural spline flow as sbi's NPE (5 rational-quadratic spline couplings, K = 10 bins on [−3, 3] of the
 * z-scored θ, conditioners of two hidden layers of 50 ReLU units), batches of 256, Adam 2·10⁻³ halved
 * after 10 epochs without a better validation loss, 10 % validation, early stopping after 20. Of the
 * candidates it had the lowest held-out NLL on two-moons (10³ and 10⁴ simulations) and slcp (10⁴) and
 * trained 10⁴ simulations in under 60 CPU s; the earlier default (16 affine couplings × two tanh layers
 * of 32, batch 128, Adam 10⁻³) took 60-175 s and was 0.08-1.2 nats worse, except on gaussian-mixture
 * at 10⁴ (0.01 nats better). `coupling: 'affine'` (with `bins` and `splineBound` left out) gives affine couplings.
 *
 * `candidates`: after it, a small flow (3 spline couplings × one hidden layer of 16, K = 4) trains on
 * the same split and is kept where its validation NLL is lower (bench/sbibm.md, "The 10-D tasks": it is
 * on gaussian-linear and gaussian-linear-uniform at 10⁴, where the main flow overfits within 5 epochs,
 * and nowhere in 2-D or on slcp), and stops as soon as it has trained as many epochs as the main flow
 * without beating it. They apply only to the default architecture: with any of layers, hidden, depth,
 * activation, coupling, bins, splineBound or an embedding given, the flow asked for is trained alone.
 * @example NPE_DEFAULTS.hidden; // 50
 */
export const NPE_DEFAULTS = Object.freeze({
  coupling: 'spline' as CouplingKind,
  layers: 5,
  hidden: 50,
  depth: 2,
  activation: 'relu' as ActivationName,
  bins: 10,
  splineBound: 3,
  batchSize: 256,
  lr: 2e-3,
  epochs: 1000,
  patience: 20,
  lrPlateau: Object.freeze({ patience: 10, factor: 0.5 }) as { readonly patience: number; readonly factor: number; readonly restoreBest?: boolean } | null,
  validationFraction: 0.1,
  candidates: Object.freeze([Object.freeze({ layers: 3, hidden: 16, depth: 1, bins: 4 })]) as readonly NpeArchitecture[],
});

/**
 * An architecture for {@link NpeOptions.candidates}: fields override the main recipe's.
 * @example const small: NpeArchitecture = { layers: 3, hidden: 16, depth: 1, bins: 4 };
 */
export interface NpeArchitecture {
  coupling?: CouplingKind;
  layers?: number;
  hidden?: number;
  depth?: number;
  activation?: ActivationName;
  bins?: number;
  splineBound?: number;
}

/**
 * What {@link trainNpe} tried: the main architecture (`'main'`) and each candidate, with the best
 * validation NLL each reached, its epochs, and which one was kept.
 * @example trainNpe(theta, x, { rng, candidates: [{ hidden: 16 }] }).candidates.find((c) => c.chosen);
 */
export interface CandidateResult {
  architecture: 'main' | NpeArchitecture;
  /** Its best validation NLL (NaN when it diverged). */
  bestValNll: number;
  epochs: number;
  chosen: boolean;
  /**
   * Stopped before its own early stop: it had trained as many epochs as the main flow without a lower
   * validation NLL than the best so far (a race it lost), or it diverged (a candidate that diverges is
   * dropped; the run goes on). Always false for the main flow.
   */
  dropped: boolean;
}

const ARCH_KEYS = ['coupling', 'layers', 'hidden', 'depth', 'activation', 'bins', 'splineBound'] as const;

function checkCandidates(options: NpeOptions): readonly NpeArchitecture[] {
  // The default candidates belong to the default architecture: a flow asked for is trained as asked.
  const custom = options.embedding !== undefined || ARCH_KEYS.some((k) => options[k] !== undefined);
  const list = options.candidates ?? (custom ? [] : NPE_DEFAULTS.candidates);
  if (!Array.isArray(list)) throw new TypeError(`trainNpe: candidates must be an array of architectures, got ${String(list)}`);
  if (list.length > 0 && options.embedding !== undefined) throw new RangeError('trainNpe: candidates with an embedding network are not supported (each candidate would need its own); give candidates: []');
  list.forEach((arch, k) => {
    if (arch === null || typeof arch !== 'object') throw new TypeError(`trainNpe: candidates[${k}] must be an object, got ${String(arch)}`);
    checkOptionKeys(`trainNpe: candidates[${k}]`, arch, ARCH_KEYS);
  });
  return list;
}

/**
 * Options of {@link trainNpe}; absent fields take {@link NPE_DEFAULTS}.
 * @example trainNpe(theta, x, { rng: new Rng(0), support: task.prior.support, onEpoch: (e) => console.log(e.epoch, e.valNll) });
 */
export interface NpeOptions {
  /** The seeded generator: initial weights, the validation split, the shuffles. */
  rng: Rng;
  /** The prior's box support (from `prior.support`), or null/absent for an unbounded prior. */
  support?: Box | null;
  /** Coupling layers. */
  layers?: number;
  /** Hidden width of the conditioners. */
  hidden?: number;
  /** Hidden layers per conditioner. */
  depth?: number;
  /** Conditioner activation. */
  activation?: ActivationName;
  /**
   * An embedding network for x, trained with the flow (an `MLPEmbedding`, a `DeepSetEmbedding` for data
   * that are a set of i.i.d. draws, or any Layer taking xDim columns); it reads x after z-scoring.
   * These two describe themselves, so the posterior saves and loads with them. Default: none.
   */
  embedding?: Layer;
  /** The couplings (default `'spline'`: rational-quadratic spline couplings, as sbi's NSF); `'affine'` or `'alternating'` (see RealNVP's `coupling`). */
  coupling?: CouplingKind;
  /** Bins of the spline couplings (default 10); not with `coupling: 'affine'`. */
  bins?: number;
  /** The spline couplings' interval [−splineBound, splineBound] in the standardised space (default 3); not with `coupling: 'affine'`. */
  splineBound?: number;
  /** Minibatch rows. */
  batchSize?: number;
  /** Adam's learning rate. */
  lr?: number;
  /** Maximum epochs. */
  epochs?: number;
  /** Stop after this many epochs without a better validation loss. */
  patience?: number;
  /**
   * Reduce the learning rate on a plateau (fit's `lrPlateau`, PyTorch's `ReduceLROnPlateau`): after
   * `patience` epochs without a better validation loss (and again after each further `patience`),
   * multiply it by `factor`; with `restoreBest`, also go back to the best weights so far at each cut.
   * `null`: a constant rate.
   */
  lrPlateau?: { readonly patience: number; readonly factor: number; readonly restoreBest?: boolean } | null;
  /** Fraction of the simulations held out for validation. */
  validationFraction?: number;
  /**
   * Other architectures trained after the main one on the same split and data, the one with the
   * lowest best validation NLL kept: the capacity chosen by validation (see `candidates` in the result).
   * Each entry overrides the main recipe's layers, hidden, depth, activation, coupling, bins, splineBound.
   * A candidate that has trained as many epochs as the main flow without a lower validation NLL than
   * the best so far stops there (it cannot be chosen), so a losing candidate costs at most the main
   * flow's epochs. Default: {@link NPE_DEFAULTS}' small flow with the default architecture, none when an
   * architecture option or an embedding is given; `[]` trains the main architecture only. Not with an
   * embedding.
   */
  candidates?: readonly NpeArchitecture[];
  /** Called as each architecture starts training (and on resume, for the one resumed): its index (0 the main one) and the count. */
  onArchitecture?: (index: number, count: number, architecture: 'main' | NpeArchitecture) => void;
  /** Names of θ's and x's columns, kept with the model. */
  parameterNames?: readonly string[];
  dataNames?: readonly string[];
  /** The task's name, kept with the model (so a model of another task is refused). */
  task?: string | null;
  /**
   * Progress after each epoch (fit's; each architecture counts its epochs from 1, see `onArchitecture`).
   * Returning `'stop'` ends the whole run there: the best flow so far is kept (the one stopped included)
   * and no further candidate trains.
   */
  onEpoch?: (info: EpochInfo) => void | 'stop';
  /** Progress after each step (fit's). */
  onStep?: (step: number, loss: number) => void;
  /** Stops cleanly when aborted, as `'stop'` from `onEpoch` does, with `history.stopReason` `'aborted'`. */
  signal?: StopSignal;
  /**
   * Checkpoints: `save` receives an {@link NpeState} (which architecture is training, the results of
   * those before it, the best of them so far, and fit's state of the one training) every `every` epochs
   * or `seconds`, when aborted and when the main flow diverges (then marked diverged).
   */
  checkpoint?: { every?: number; seconds?: number; save: (state: NpeState) => void };
  /**
   * Continue from a checkpoint written with the same θ, x, seed and options (candidates included): the
   * split, the z-scoring and the initial weights come again from `rng` and the data, the architectures
   * finished before are taken from the checkpoint (the best of them with its weights), and fit restores
   * the running one's weights, Adam's state (its current learning rate too, after any `lrPlateau` cut)
   * and the shuffle generator, so the run ends bit-identical to one that never stopped. A bare
   * `FitState` is the main flow's.
   */
  resume?: NpeState | FitState;
}

/**
 * The state of a {@link trainNpe} run between two steps: which architecture is training (0 the main one,
 * k the k-th candidate), the results of the ones finished before it, the best of them so far (its index,
 * weights and training history), and fit's state of the running one. {@link npeStateToDict} and
 * {@link npeStateFromDict} turn it into one safetensors file and back.
 * @example trainNpe(theta, x, { rng, checkpoint: { every: 1, save: (s: NpeState) => keep(npeStateToDict(s)) } });
 */
export interface NpeState {
  /** The run's architectures, in order: 'main', then the candidates (a resume checks those up to `phase`). */
  architectures: ('main' | NpeArchitecture)[];
  phase: number;
  done: CandidateResult[];
  leader: { index: number; model: Record<string, Tensor>; history: Omit<History, 'state'> } | null;
  fit: FitState;
}

/** The metadata key of an {@link NpeState}'s own fields in a checkpoint dict. */
const STATE_KEY = 'npe-state';

/**
 * An {@link NpeState} as named tensors and string metadata for `saveSafetensors(tensors, metadata)`:
 * fit's state as `checkpointToDict` writes it, the best finished flow's weights as `leader.<name>`, and
 * the rest as JSON under `metadata['npe-state']`; extra metadata is kept as given.
 * @example const { tensors, metadata } = npeStateToDict(state, { run: JSON.stringify(spec) }); saveSafetensors(tensors, metadata);
 */
export function npeStateToDict(state: NpeState, extra: Record<string, string> = {}): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  const { tensors, metadata } = checkpointToDict(state.fit, extra);
  // The leader's weights are the state's own copy (trainNpe keeps it, unchanged, while training goes on).
  if (state.leader !== null) for (const [name, t] of Object.entries(state.leader.model)) tensors[`leader.${name}`] = t;
  const own = { architectures: state.architectures, phase: state.phase, done: state.done, leader: state.leader === null ? null : { index: state.leader.index, history: state.leader.history } };
  // JSON has no NaN or ±∞ (a diverged candidate's NLL is NaN): such numbers are written as strings.
  metadata[STATE_KEY] = checkpointJson(own);
  return { tensors, metadata };
}

/**
 * Reads back what {@link npeStateToDict} wrote (after `loadSafetensors`); a dict of fit's alone (no
 * `npe-state` entry) is the main flow's state. A malformed one is a `CheckpointError` naming the field.
 * @example const state = npeStateFromDict(loaded.tensors, loaded.metadata); state.phase; // 0
 */
export function npeStateFromDict(tensors: Readonly<Record<string, Tensor>>, metadata: Readonly<Record<string, string>>): NpeState {
  const fitState = checkpointFromDict(tensors, metadata);
  const text = metadata[STATE_KEY];
  if (text === undefined) return { architectures: ['main'], phase: 0, done: [], leader: null, fit: fitState };
  let j: { architectures?: unknown; phase?: unknown; done?: unknown; leader?: unknown };
  try {
    j = parseCheckpointJson(text) as typeof j;
  } catch {
    throw new CheckpointError(`checkpoint: metadata["${STATE_KEY}"] is not valid JSON`);
  }
  if (typeof j !== 'object' || j === null || !Number.isSafeInteger(j.phase) || (j.phase as number) < 0) throw new CheckpointError(`checkpoint: ${STATE_KEY}.phase must be an integer >= 0`);
  if (!Array.isArray(j.architectures) || j.architectures.length <= (j.phase as number) || j.architectures[0] !== 'main') throw new CheckpointError(`checkpoint: ${STATE_KEY}.architectures must list 'main' and the candidates, more than phase ${String(j.phase)}`);
  if (!Array.isArray(j.done) || j.done.length !== j.phase) throw new CheckpointError(`checkpoint: ${STATE_KEY}.done must list the ${String(j.phase)} architectures before the running one`);
  let leader: NpeState['leader'] = null;
  if (j.leader !== null) {
    const l = j.leader as { index?: unknown; history?: unknown } | undefined;
    if (typeof l !== 'object' || l === null || !Number.isSafeInteger(l.index) || (l.index as number) < 0 || (l.index as number) >= (j.phase as number) || typeof l.history !== 'object' || l.history === null) {
      throw new CheckpointError(`checkpoint: ${STATE_KEY}.leader must be null or { index < phase, history }`);
    }
    const model: Record<string, Tensor> = {};
    for (const [name, t] of Object.entries(tensors)) if (name.startsWith('leader.')) model[name.slice(7)] = t;
    if (Object.keys(model).length === 0) throw new CheckpointError('checkpoint: the best finished flow\'s weights (tensors "leader.*") are missing');
    leader = { index: l.index as number, model, history: l.history as Omit<History, 'state'> };
  } else if ((j.phase as number) > 0) throw new CheckpointError(`checkpoint: ${STATE_KEY}.leader is missing for phase ${String(j.phase)}`);
  return { architectures: j.architectures as NpeState['architectures'], phase: j.phase as number, done: j.done as CandidateResult[], leader, fit: fitState };
}

const OPTIONS = ['rng', 'support', 'layers', 'hidden', 'depth', 'activation', 'embedding', 'coupling', 'bins', 'splineBound', 'batchSize', 'lr', 'epochs', 'patience', 'lrPlateau', 'validationFraction', 'candidates', 'onArchitecture', 'parameterNames', 'dataNames', 'task', 'onEpoch', 'onStep', 'signal', 'checkpoint', 'resume'] as const;

/**
 * What a trained posterior keeps besides its flow.
 * @example posterior.meta.task; // 'two-moons'
 */
export interface PosteriorMeta {
  task: string | null;
  thetaDim: number;
  xDim: number;
  parameterNames: string[];
  dataNames: string[];
  support: { low: number[]; high: number[] } | null;
  /** Simulations trained on (after dropping non-finite ones) and held out. */
  trainRows: number;
  validationRows: number;
}

/** The key under which a saved model keeps the posterior's metadata. */
const META_KEY = 'sbi';

/**
 * Thrown for an observation that does not fit the posterior: wrong width, NaN or ±∞.
 * @example try { posterior.sample(10, [1, 2, 3], rng); } catch (e) { e instanceof ObservationError; }
 */
export class ObservationError extends Error {
  override name = 'ObservationError';
}

/**
 * A trained amortized posterior q(θ | x). It is a {@link PosteriorEstimate}, so `checkPosterior` takes
 * it as it is (batched `sample(m, x)` for N observations in one pass, `logProb(θ, x)` row by row).
 *
 * @example
 * const { posterior } = trainNpe(theta, x, { rng: new Rng(0), support: task.prior.support });
 * posterior.sample(10_000, xObs, new Rng(1)); // 10000×thetaDim, every row inside the prior box
 * posterior.logProb(theta, xObs); // log q(θ | x) per row
 * checkPosterior({ prior: task.prior, simulate: task.simulate, posterior, rng: new Rng(2) }).verdict; // 'calibrated'
 */
export class NeuralPosterior implements PosteriorEstimate {
  constructor(
    readonly flow: RealNVP,
    readonly meta: PosteriorMeta,
  ) {
    if (flow.contextDim !== meta.xDim || flow.dim !== meta.thetaDim) throw new RangeError(`NeuralPosterior: the flow is ${flow.dim}-dimensional with context ${flow.contextDim}, the metadata says θ ${meta.thetaDim}, x ${meta.xDim}`);
  }

  /** One observation (xDim numbers) or k×xDim observations, checked. */
  observations(x: ArrayLike<number> | Tensor): Tensor {
    const d = this.meta.xDim;
    const t = x instanceof Tensor ? x : Tensor.from(1, x.length, Float64Array.from(x));
    if (t.cols !== d) throw new ObservationError(`the observation has ${t.cols} numbers, this posterior${this.meta.task !== null ? ` (task ${this.meta.task})` : ''} expects ${d} (${this.meta.dataNames.join(', ')})`);
    for (let k = 0; k < t.data.length; k++) {
      if (!Number.isFinite(t.data[k]!)) throw new ObservationError(`observation ${Math.floor(k / d) + 1}, column ${this.meta.dataNames[k % d]} is ${t.data[k]}`);
    }
    return t;
  }

  /**
   * n samples of θ for each observation: one observation gives n×thetaDim; k observations give
   * (k·n)×thetaDim, rows [i·n, (i+1)·n) for observation i, in one pass.
   * @example posterior.sample(1000, [0.1, -0.2], new Rng(0));
   */
  sample(n: number, x: ArrayLike<number> | Tensor, rng: RandomSource): Tensor {
    return this.flow.sample(n, this.observations(x), rng);
  }

  /**
   * log q(θ | x) for each row of θ: x is one observation (used for every row) or one row per row of θ.
   * @example posterior.logProb(theta, xObs);
   */
  logProb(theta: Tensor, x: ArrayLike<number> | Tensor): Float64Array {
    const obs = this.observations(x);
    let context = obs;
    if (obs.rows === 1 && theta.rows !== 1) {
      const rep = new Float64Array(theta.rows * obs.cols);
      for (let i = 0; i < theta.rows; i++) rep.set(obs.data, i * obs.cols);
      context = Tensor.from(theta.rows, obs.cols, rep);
    }
    return noGrad(() => this.flow.logProb(theta, context).data.slice());
  }

  /**
   * The model as config JSON and safetensors weights (src/io's model format, with the posterior's
   * metadata under `sbi`), for `NeuralPosterior.load`.
   * @example const { configJson, weights } = posterior.save({ training: { seconds: 12 } });
   */
  save(extra: Record<string, unknown> = {}): SavedModel {
    return saveModel(this.flow, { ...extra, [META_KEY]: this.meta });
  }

  /**
   * Rebuilds a saved posterior; a model file without posterior metadata (an unconditional flow) is refused.
   * @example const posterior = NeuralPosterior.load(configJson, weights);
   */
  static load(configJson: string, weights: Uint8Array): NeuralPosterior {
    const doc = readModelConfig(configJson);
    const meta = doc.extra[META_KEY] as PosteriorMeta | undefined;
    if (meta === undefined || typeof meta !== 'object' || !Number.isInteger(meta.thetaDim) || !Number.isInteger(meta.xDim)) {
      throw new RangeError('NeuralPosterior.load: this model file holds no posterior (no "sbi" section); it was not trained by NPE');
    }
    return new NeuralPosterior(loadModel(configJson, weights), meta);
  }
}

/** fit's view of a conditional flow: rows [θ | x], log-density log q(θ | x). */
class JointRows extends Module {
  constructor(
    readonly flow: RealNVP,
    readonly thetaDim: number,
  ) {
    super();
  }
  get dim(): number {
    return this.thetaDim + this.flow.contextDim;
  }
  logProb(rows: Tensor): Tensor {
    return this.flow.logProb(sliceCols(rows, 0, this.thetaDim), sliceCols(rows, this.thetaDim));
  }
}

function safeStd(std: Float64Array): Float64Array {
  return std.map((s) => (s > 0 && Number.isFinite(s) ? s : 1));
}

/**
 * Trains q(θ | x) on simulations (θ: n×thetaDim, x: n×xDim; non-finite rows must be dropped first, as
 * `simulateDataset` does).
 *
 * @example
 * const task = getTask('two-moons');
 * const { theta, x } = simulateDataset(task, 10_000, { seed: 1 });
 * const { posterior, history } = trainNpe(theta, x, { rng: new Rng(0), support: task.prior.support, task: task.name });
 * history.stopReason; // 'early-stopped'
 */
export function trainNpe(theta: Tensor, x: Tensor, options: NpeOptions): { posterior: NeuralPosterior; history: History; candidates: CandidateResult[] } {
  checkOptionKeys('trainNpe', options, OPTIONS);
  const rng = options.rng;
  if (rng === undefined || typeof rng.permutation !== 'function') throw new TypeError('trainNpe: pass { rng } (a seeded Rng)');
  if (theta.rows !== x.rows) throw new RangeError(`trainNpe: θ has ${theta.rows} rows and x ${x.rows}; one simulation per row`);
  const n = theta.rows, dTheta = theta.cols, dX = x.cols;
  if (dTheta < 2) throw new RangeError(`trainNpe: θ needs at least 2 columns for a coupling flow, got ${dTheta}`);
  for (const [name, t] of [['θ', theta], ['x', x]] as const) {
    for (let k = 0; k < t.data.length; k++) if (!Number.isFinite(t.data[k]!)) throw new RangeError(`trainNpe: ${name} row ${Math.floor(k / t.cols)}, column ${k % t.cols} is ${t.data[k]}; drop non-finite simulations first`);
  }
  const o = { ...NPE_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as typeof NPE_DEFAULTS & NpeOptions;
  const support = options.support ?? null;

  // θ strictly inside the box: a draw exactly on an edge (probability 2⁻⁵³) has no logit.
  let thetaIn = theta;
  if (support !== null) {
    if (support.low.length !== dTheta) throw new RangeError(`trainNpe: the support has ${support.low.length} dimensions, θ has ${dTheta}`);
    const data = theta.data.slice();
    for (let k = 0; k < data.length; k++) {
      const lo = support.low[k % dTheta]!, hi = support.high[k % dTheta]!;
      if (data[k]! < lo || data[k]! > hi) throw new RangeError(`trainNpe: θ row ${Math.floor(k / dTheta)}, column ${k % dTheta} is ${data[k]}, outside the support [${lo}, ${hi}]`);
      const eps = (hi - lo) * 1e-12;
      data[k] = Math.min(Math.max(data[k]!, lo + eps), hi - eps);
    }
    thetaIn = Tensor.from(n, dTheta, data);
  }

  // Validation split, shuffled.
  const order = rng.permutation(n);
  const nVal = Math.max(1, Math.round(n * o.validationFraction));
  if (n - nVal < 1) throw new RangeError(`trainNpe: ${n} simulations leave none for training after the validation split`);
  const rows = (from: number, to: number): Tensor => {
    const m = to - from, out = new Float64Array(m * (dTheta + dX));
    for (let i = 0; i < m; i++) {
      const r = order[from + i]!;
      out.set(thetaIn.data.subarray(r * dTheta, (r + 1) * dTheta), i * (dTheta + dX));
      out.set(x.data.subarray(r * dX, (r + 1) * dX), i * (dTheta + dX) + dTheta);
    }
    return Tensor.from(m, dTheta + dX, out);
  };
  const val = rows(0, nVal), train = rows(nVal, n);

  // z-scoring from the training rows: θ in the flow's working space (after the box logit), x as is.
  const trainTheta = sliceCols(train, 0, dTheta), trainX = sliceCols(train, dTheta);
  const working = support !== null ? new BoxSupport(support.low, support.high).forwardPoints(trainTheta) : trainTheta;
  const thetaStats = columnMeanStd(working, 1), xStats = columnMeanStd(trainX, 1);
  const plateau = o.lrPlateau ?? null;
  if (plateau !== null) checkLrPlateau('trainNpe', plateau);
  const candidates = checkCandidates(options);
  const archs: ('main' | NpeArchitecture)[] = ['main', ...candidates];
  // A bare FitState is the main flow's, whatever the candidates.
  const resume: NpeState | undefined = options.resume === undefined ? undefined : 'fit' in options.resume ? options.resume : { architectures: archs, phase: 0, done: [], leader: null, fit: options.resume };
  if (resume !== undefined) {
    if (resume.phase >= archs.length) throw new RangeError(`trainNpe: the checkpoint is of architecture ${resume.phase + 1}, this run has ${archs.length}; resume with the candidates of the run that wrote it`);
    // The architectures finished and the one running must be this run's (those after it start afresh).
    resume.architectures.slice(0, resume.phase + 1).forEach((a, k) => {
      if (JSON.stringify(a) !== JSON.stringify(archs[k])) throw new RangeError(`trainNpe: the checkpoint's architecture ${k + 1} is ${JSON.stringify(a)}, this run's ${JSON.stringify(archs[k])}; resume with the candidates of the run that wrote it`);
    });
  }
  /** One architecture's flow (its weights from `rng`, continuing). */
  const build = (arch: 'main' | NpeArchitecture): RealNVP => {
    const main = arch === 'main', a: NpeArchitecture = main ? {} : arch;
    const coupling = a.coupling ?? o.coupling;
    // Affine couplings take no bins or bound: only ones asked for (the caller's for the main flow, the
    // candidate's own for a candidate), which RealNVP then refuses by name.
    const given = main ? options : a;
    return new RealNVP({
      dim: dTheta,
      contextDim: dX,
      layers: a.layers ?? o.layers,
      hidden: a.hidden ?? o.hidden,
      depth: a.depth ?? o.depth,
      activation: a.activation ?? o.activation,
      coupling,
      ...(coupling !== 'affine'
        ? { bins: a.bins ?? o.bins, splineBound: a.splineBound ?? o.splineBound }
        : { ...(given.bins !== undefined ? { bins: given.bins } : {}), ...(given.splineBound !== undefined ? { splineBound: given.splineBound } : {}) }),
      standardize: { mean: thetaStats.mean, std: safeStd(thetaStats.std) },
      standardizeContext: { mean: xStats.mean, std: safeStd(xStats.std) },
      ...(support !== null ? { support: { lo: support.low, hi: support.high } } : {}),
      ...(main && options.embedding !== undefined ? { embedding: options.embedding } : {}),
      rng,
    });
  };

  // The main architecture first (so without candidates the run is what it always was), then each
  // candidate on the same split; the lowest best validation NLL wins (the earlier one on a tie). A
  // candidate not ahead of the best after as many epochs as the main flow trained stops there.
  const tried: CandidateResult[] = resume?.done.map((r) => ({ ...r })) ?? [];
  let leader: { index: number; flow: RealNVP; history: History; saved: NpeState['leader'] } | null = null;
  if (resume?.leader != null) {
    const flow = build(archs[resume.leader.index]!);
    flow.loadStateDict(resume.leader.model);
    flow.eval();
    leader = { index: resume.leader.index, flow, history: { ...resume.leader.history }, saved: resume.leader };
  }
  let stopped: History['stopReason'] | null = null;
  for (let k = resume?.phase ?? 0; k < archs.length && stopped === null; k++) {
    const arch = archs[k]!, main = k === 0;
    options.onArchitecture?.(k, archs.length, arch);
    const flow = build(arch);
    const raceEpochs = main ? Infinity : tried[0]!.epochs;
    let userStop = false;
    const snapshotDone = () => tried.map((r) => ({ ...r }));
    const model = new JointRows(flow, dTheta);
    const optimizer = new Adam(model.parameters(), { lr: o.lr });
    let history: History;
    try {
      history = fit(model, train, {
        epochs: o.epochs,
        batchSize: o.batchSize,
        optimizer,
        rng,
        validation: val,
        patience: o.patience,
        ...(plateau !== null ? { lrPlateau: plateau } : {}),
        onEpoch: (info) => {
          if (options.onEpoch?.(info) === 'stop') {
            userStop = true;
            return 'stop';
          }
          if (info.epoch >= raceEpochs && !(info.bestValNll < leader!.history.bestValNll)) return 'stop';
          return undefined;
        },
        ...(options.onStep !== undefined ? { onStep: options.onStep } : {}),
        ...(options.signal !== undefined ? { signal: options.signal } : {}),
        ...(options.checkpoint !== undefined
          ? {
              checkpoint: {
                ...(options.checkpoint.every !== undefined ? { every: options.checkpoint.every } : {}),
                ...(options.checkpoint.seconds !== undefined ? { seconds: options.checkpoint.seconds } : {}),
                // A diverging candidate is dropped and the run goes on: its diverged state is not the run's.
                save: (state: FitState) => {
                  if (main || state.diverged === null) options.checkpoint!.save({ architectures: archs.map((a) => (a === 'main' ? a : { ...a })), phase: k, done: snapshotDone(), leader: leader?.saved ?? null, fit: state });
                },
              },
            }
          : {}),
        ...(resume !== undefined && k === resume.phase ? { resume: resume.fit } : {}),
      });
    } catch (e) {
      if (main || !(e instanceof TrainingDivergedError)) throw e;
      tried.push({ architecture: arch, bestValNll: NaN, epochs: e.epoch, chosen: false, dropped: true });
      continue;
    }
    flow.eval();
    const dropped = !main && history.stopReason === 'stopped-by-callback' && !userStop;
    tried.push({ architecture: arch, bestValNll: history.bestValNll, epochs: history.epochs, chosen: false, dropped });
    if (history.stopReason === 'aborted' || userStop) stopped = history.stopReason;
    if (leader === null || history.bestValNll < leader.history.bestValNll) {
      const { state: _state, ...kept } = history;
      const saved = k + 1 < archs.length && options.checkpoint !== undefined ? { index: k, model: copyTensors(flow.stateDict()), history: kept } : null;
      leader = { index: k, flow, history, saved };
    }
  }
  const { flow } = leader!;
  // An interrupted selection keeps the best flow so far and says it was interrupted.
  const history: History = stopped !== null && leader!.history.stopReason !== stopped ? { ...leader!.history, stopReason: stopped } : leader!.history;
  tried[leader!.index]!.chosen = true;
  const names = (given: readonly string[] | undefined, d: number, prefix: string): string[] => (given !== undefined ? [...given] : Array.from({ length: d }, (_, i) => `${prefix}${i + 1}`));
  const meta: PosteriorMeta = {
    task: options.task ?? null,
    thetaDim: dTheta,
    xDim: dX,
    parameterNames: names(options.parameterNames, dTheta, 'theta'),
    dataNames: names(options.dataNames, dX, 'x'),
    support: support !== null ? { low: [...support.low], high: [...support.high] } : null,
    trainRows: train.rows,
    validationRows: val.rows,
  };
  return { posterior: new NeuralPosterior(flow, meta), history, candidates: tried };
}
