/**
 * RealNVP (L. Dinh, J. Sohl-Dickstein & S. Bengio, Density estimation using Real NVP, ICLR 2017): a
 * composition of affine coupling layers, each followed by a fixed permutation, over a standard normal
 * base. Direction: `forward` is data -> latent, `inverse` is latent -> data (see `bijection.ts`).
 *
 * **A composition.** A RealNVP is a list of steps run by the one composition routine (`cascade` in
 * `bijection.ts`): [Standardize? or Whiten?] then, per layer, the chain [ActNorm?, coupling, permutation]. `forward`,
 * `inverse`, `trace`, `forwardSteps` and `inverseSteps` all walk that list; the permutations add no
 * log-det work.
 *
 * **Two models, one each way of building:**
 * - `new RealNVP({ dim, rng })`, the default ({@link REALNVP_DEFAULTS}, which is also the command line's
 *   default recipe): 8 couplings whose conditioner has one hidden layer of 32 tanh units, better behaved
 *   than the post's. The log-scale is bounded by a soft clamp (the post's raw `exp(-s)` can overflow and
 *   diverge); the conditioner's last layer starts at zero, so the untrained flow is the identity up to its
 *   fixed permutations (exactly the identity with an even number of reversals) and training starts from
 *   the base density instead of a random warp; the conditioner has no activation after its last layer
 *   (the post's final LeakyReLU squashes negative log-scales and shifts by 100×, so the layer can shrink
 *   or shift one way much more easily than the other); one conditioner with two heads computes s and t
 *   together (half the matrix products of two separate nets); its activation is tanh, so s and t (and
 *   with them the density) are smooth, where the post's LeakyReLU nets make them piecewise linear, with
 *   creases in the learned density (tanh measured better on the post's target: KL 0.032 against 0.051
 *   with relu, same seed and recipe).
 * - {@link RealNVP.post} (and {@link postFromTorch}): the post's model exactly, a factory that builds
 *   {@link PostCoupling}s and swaps of halves, for reproduction and comparison.
 *
 * **Conditional flows** (`contextDim > 0`): q(θ | x) for amortized inference. Every coupling's
 * conditioner reads the context beside its half of the features; an optional embedding network (trained
 * with the flow, `nn/embedding.ts`) and a fixed standardisation of x come first. `logProb(θ, x)` and
 * `sample(m, x, rng)` (m samples per row of x, all rows in one pass).
 *
 * @module
 */

import { add, neg } from '../autograd/elementwise.ts';
import { mean } from '../autograd/reduce.ts';
import { checkOptionKeys } from '../autograd/options.ts';
import { noGrad, Tensor } from '../autograd/tensor.ts';
import { Rng, type RandomSource } from '../rng/rng.ts';
import type { ActivationName, Layer } from '../nn/layers.ts';
import { embeddingFromConfig, type EmbeddingConfig } from '../nn/embedding.ts';
import { ActNorm } from './actnorm.ts';
import { AffineCoupling, type ScaleMode } from './affine-coupling.ts';
import { BoxSupport } from './box-support.ts';
import { Bijection, cascade, Chain, checkContext, checkFinite, checkWidth, ContextError, type Direction, type FlowResult } from './bijection.ts';
import { StandardNormal } from './base.ts';
import { repeatRows } from '../autograd/shape.ts';
import { Permutation } from './permutation.ts';
import { PostCoupling } from './post-coupling.ts';
import { SplineCoupling } from './spline-coupling.ts';
import { Standardize } from './standardize.ts';
import { Whiten } from './whiten.ts';

/**
 * Which permutation follows each coupling.
 * @example new RealNVP({ dim: 4, permutation: 'random', rng: new Rng(0) });
 */
export type PermutationKind = 'swap' | 'reverse' | 'random' | 'none';

/**
 * Which coupling each layer is: `'affine'` ({@link AffineCoupling}, the default), `'spline'`
 * ({@link SplineCoupling}: a rational-quadratic spline per feature, Durkan et al. 2019), or
 * `'alternating'` (a spline coupling at layers 0, 2, 4, ..., an affine one at layers 1, 3, ...).
 * @example new RealNVP({ dim: 2, coupling: 'spline', bins: 8, splineBound: 4, rng: new Rng(0) });
 */
export type CouplingKind = 'affine' | 'spline' | 'alternating';

/** The coupling kinds, for validation and the command line. */
export const COUPLING_KINDS: readonly CouplingKind[] = Object.freeze(['affine', 'spline', 'alternating']);

/**
 * The spline couplings' defaults (used when `coupling` is `'spline'` or `'alternating'` and `bins` or
 * `splineBound` is absent): K = 8 bins on [−3, 3], as nflows' and zuko's defaults.
 * @example SPLINE_DEFAULTS.bins; // 8
 */
export const SPLINE_DEFAULTS = Object.freeze({ bins: 8, splineBound: 3 });

/**
 * The most bins a RealNVP's spline couplings may have (and a model file may ask for): 1024, far above
 * any useful K (8-16 is usual) and a bound on what a hostile config can allocate per feature.
 * @example MAX_BINS; // 1024
 */
export const MAX_BINS = 1024;

/**
 * The default architecture: what `new RealNVP({ dim, rng })` builds, and what the command line's default
 * recipe trains (its `model` is read from here). Chosen by measurement on ~900 training points of the
 * post's target over data seeds 0-4 (bench/quality.ts): KL 0.024 mean (0.018-0.029) with 8 couplings of
 * one hidden layer of 32, against 0.035 (0.028-0.042) with 8 couplings of two hidden layers of 64; a
 * flow this size overfits long before it runs out of capacity. (Standardising the features needs the
 * data, so it is an option, `standardize: { mean, std }`, that the recipe fills from the training rows.)
 *
 * @example REALNVP_DEFAULTS.layers; // 8
 */
export const REALNVP_DEFAULTS = Object.freeze({
  layers: 8,
  hidden: 32,
  depth: 1,
  scale: 'softclamp' as ScaleMode,
  bound: 3,
  activation: 'tanh' as ActivationName,
  permutation: 'reverse' as PermutationKind,
  actNorm: false,
});

/**
 * The post's architecture ({@link RealNVP.post}): 16 of its couplings with hidden width 64.
 * @example POST_DEFAULTS.hidden; // 64
 */
export const POST_DEFAULTS = Object.freeze({ layers: 16, hidden: 64 });

/** A fixed standardisation: `true` for a placeholder to be loaded, or its mean and std. */
type StandardizeSpec = boolean | { mean: ArrayLike<number>; std: ArrayLike<number> };

/** A fixed whitening: `true` for a placeholder to be loaded, or its mean and d×d matrix (row-major). */
type WhitenSpec = boolean | { mean: ArrayLike<number>; matrix: ArrayLike<number> };

/**
 * The conditioning options, shared by {@link RealNVP} and {@link RealNVP.post}.
 * @example const c: ConditionalOptions = { contextDim: 8, embedding: new MLPEmbedding({ inFeatures: 8, outFeatures: 4, rng }) };
 */
export interface ConditionalOptions {
  /** Width c of the conditioning input x (default 0: an unconditional flow). */
  contextDim?: number;
  /**
   * A network applied to the context before the couplings read it, trained with the flow (an
   * `MLPEmbedding`, a `DeepSetEmbedding`, or any `Layer`); it maps n×c to n×e, and the couplings read e
   * columns. Default: none (the couplings read the context itself).
   */
  embedding?: Layer;
  /** Standardise the context inside the model, before the embedding: `true` for a placeholder to be loaded, or mean and std. */
  standardizeContext?: StandardizeSpec;
}

/**
 * The bounded-support option, shared by {@link RealNVP} and {@link RealNVP.post}.
 * @example new RealNVP({ dim: 2, support: { lo: [-1, -1], hi: [1, 1] }, rng }); // every sample in (-1, 1)²
 */
export interface SupportOption {
  /**
   * A box support (lo, hi)^d for the features, e.g. a uniform prior's: a {@link BoxSupport} is the first
   * step, so the flow works in the unbounded logit space and every sample lies inside the box (sbi
   * #741). `standardize`, if given, then acts in that logit space (fit it to `new BoxSupport(lo,
   * hi).forwardPoints(theta)`).
   */
  support?: { lo: ArrayLike<number>; hi: ArrayLike<number> };
}

/**
 * Options of {@link RealNVP}; absent fields take {@link REALNVP_DEFAULTS}.
 * @example const options: RealNVPOptions = { dim: 2, layers: 8, hidden: 32, depth: 1, rng: new Rng(0) };
 */
export interface RealNVPOptions extends ConditionalOptions, SupportOption {
  /** Number of features (>= 2). */
  dim: number;
  /** Number of coupling layers (default 8). */
  layers?: number;
  /** Hidden width of the conditioners (default 32). */
  hidden?: number;
  /** Hidden layers per conditioner (default 1). */
  depth?: number;
  /** Log-scale bound (default `'softclamp'`). */
  scale?: ScaleMode;
  /** B of the soft clamp (default 3). */
  bound?: number;
  /** Conditioner activation (default 'tanh'). */
  activation?: ActivationName;
  /** Permutation after each coupling (default 'reverse'). */
  permutation?: PermutationKind;
  /** Explicit permutation indices per layer (overrides `permutation`; used when rebuilding a saved model). */
  permutationIndices?: readonly (readonly number[])[];
  /** An ActNorm before each coupling (default false). */
  actNorm?: boolean;
  /** The coupling of each layer (default `'affine'`); see {@link CouplingKind}. */
  coupling?: CouplingKind;
  /** Bins K of the spline couplings, 2..{@link MAX_BINS} (default 8; spline and alternating only). */
  bins?: number;
  /** The spline couplings act on [−splineBound, splineBound], identity outside (default 3; spline and alternating only). */
  splineBound?: number;
  /** Standardise features inside the model: `true` for a placeholder to be loaded, or mean and std. */
  standardize?: StandardizeSpec;
  /**
   * Whiten the features inside the model instead ({@link Whiten}: principal components of unit variance,
   * interleaved between the coupling halves): `true` for a placeholder to be loaded, or the mean and the
   * d×d matrix (row-major) of `Whiten.fit(train)`. Not with `standardize`.
   */
  whiten?: WhitenSpec;
  /** Seeded generator for the initial weights (and a random permutation). */
  rng: RandomSource & Partial<Pick<Rng, 'permutation'>>;
}

const OPTION_KEYS = ['dim', 'layers', 'hidden', 'depth', 'scale', 'bound', 'activation', 'permutation', 'permutationIndices', 'actNorm', 'coupling', 'bins', 'splineBound', 'standardize', 'whiten', 'rng', 'contextDim', 'embedding', 'standardizeContext', 'support'];

/**
 * Options of {@link RealNVP.post}.
 * @example RealNVP.post({ dim: 2, layers: 16, hidden: 64, rng: new Rng(0) });
 */
export interface PostOptions extends ConditionalOptions, SupportOption {
  /** Number of features (>= 2). */
  dim: number;
  /** Number of coupling layers, even (default 16). */
  layers?: number;
  /** Hidden width of both nets of each coupling (default 64). */
  hidden?: number;
  /** Standardise features inside the model (not in the post). */
  standardize?: StandardizeSpec;
  /** Accept an odd number of layers (the post refuses them; a saved or PyTorch model may have one). */
  allowOddLayers?: boolean;
  /** Seeded generator for the initial weights. */
  rng: RandomSource;
}

const POST_KEYS = ['dim', 'layers', 'hidden', 'standardize', 'allowOddLayers', 'rng', 'contextDim', 'embedding', 'standardizeContext', 'support'];

/**
 * Everything needed to rebuild a model (its weights live in the state dict). JSON-serialisable. The
 * three conditioning fields are present only for a conditional model (an unconditional model's config
 * is exactly what earlier versions wrote).
 * @example const config: RealNVPConfig = JSON.parse(JSON.stringify(flow.config)); RealNVP.fromConfig(config);
 */
export interface RealNVPConfig {
  /** Which factory rebuilds it: `'default'` (`new RealNVP`) or `'post'` ({@link RealNVP.post}). */
  preset: 'default' | 'post';
  dim: number;
  layers: number;
  hidden: number;
  depth: number;
  scale: ScaleMode;
  bound: number;
  activation: ActivationName;
  permutation: PermutationKind;
  permutationIndices: number[][];
  actNorm: boolean;
  standardize: boolean;
  /** Whether the features are whitened inside the model ({@link Whiten}; present only when true). */
  whiten?: boolean;
  /** The coupling kind (present only for spline and alternating models: a config without it is affine, as earlier versions wrote). */
  coupling?: CouplingKind;
  /** Bins K of the spline couplings (spline and alternating models only). */
  bins?: number;
  /** The spline couplings' interval [−splineBound, splineBound] (spline and alternating models only). */
  splineBound?: number;
  /** Width of the context (conditional models only). */
  contextDim?: number;
  /** Whether the context is standardised inside the model (conditional models only). */
  standardizeContext?: boolean;
  /** The embedding network's config; `'custom'` for a network that cannot describe itself (pass it to fromConfig); null for none. */
  embedding?: EmbeddingConfig | 'custom' | null;
  /** The box support's edges (present only for a model built with `support`). */
  support?: { lo: number[]; hi: number[] };
}

/**
 * The pieces of a RealNVP, as a factory hands them to the constructor (how {@link RealNVP.post} builds
 * the post's model without any branch in the general constructor). `config` must say how
 * {@link RealNVP.fromConfig} rebuilds the same pieces.
 *
 * @example new RealNVP({ couplings, permutations, norms: [], standardize: null, support: null, conditioning: conditioning('MyFactory', {}), config });
 */
export interface RealNVPParts {
  /** One coupling per layer (all reading the same context width: the embedding's output, or contextDim). */
  couplings: Bijection[];
  /** The permutation after each coupling. */
  permutations: Permutation[];
  /** An ActNorm before each coupling, or none. */
  norms: ActNorm[];
  standardize: Standardize | null;
  /** The whitening (after the support, instead of a standardisation), or null or absent. */
  whiten?: Whiten | null;
  /** The box support (first step), or null. */
  support: BoxSupport | null;
  conditioning: Conditioning;
  config: RealNVPConfig;
}

/**
 * The conditioning front of a flow: the context width, its standardisation and embedding, and the width
 * the couplings read.
 * @example const c = conditioning('RealNVP', { contextDim: 3 }); c.embeddedDim; // 3
 */
export interface Conditioning {
  contextDim: number;
  standardizeContext: Standardize | null;
  embedding: Layer | null;
  /** What the couplings read: the embedding's output width, or contextDim. */
  embeddedDim: number;
}

function positiveInt(where: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new RangeError(`${where}: ${name} must be a positive integer, got ${String(v)}`);
  return v;
}

function requireRng(where: string, rng: RandomSource | undefined): RandomSource {
  if (rng === undefined || rng === null || typeof rng.uniform !== 'function') throw new TypeError(`${where}: pass { rng } (a seeded Rng, e.g. new Rng(0)) to initialise the weights`);
  return rng;
}

function checkDim(where: string, dim: unknown): number {
  if (typeof dim !== 'number' || !Number.isInteger(dim) || dim < 2) throw new RangeError(`${where}: dim must be an integer >= 2 (a coupling needs features on both sides), got ${String(dim)}`);
  return dim;
}

function makeStandardize(where: string, what: string, spec: StandardizeSpec | undefined, dim: number): Standardize | null {
  if (spec === undefined || spec === false) return null;
  const st = spec === true ? new Standardize(new Float64Array(dim), new Float64Array(dim).fill(1)) : new Standardize(spec.mean, spec.std);
  if (st.dim !== dim) throw new RangeError(`${where}: ${what} has ${st.dim} features for ${what === 'standardize' ? 'dim' : 'contextDim'} ${dim}`);
  return st;
}

/**
 * Resolves the conditioning options: the context width, its standardisation, the embedding and the width
 * the couplings will read (the embedding's `outFeatures`, else measured on one row of zeros).
 * @example conditioning('RealNVP', { contextDim: 8, embedding }).embeddedDim; // embedding.outFeatures
 */
export function conditioning(where: string, options: ConditionalOptions): Conditioning {
  const contextDim = options.contextDim ?? 0;
  if (typeof contextDim !== 'number' || !Number.isInteger(contextDim) || contextDim < 0) throw new RangeError(`${where}: contextDim must be a non-negative integer, got ${String(options.contextDim)}`);
  if (contextDim === 0) {
    if (options.embedding !== undefined) throw new RangeError(`${where}: an embedding needs a context; give contextDim (the width of x)`);
    if (options.standardizeContext !== undefined && options.standardizeContext !== false) throw new RangeError(`${where}: standardizeContext needs a context; give contextDim (the width of x)`);
    return { contextDim: 0, standardizeContext: null, embedding: null, embeddedDim: 0 };
  }
  const standardizeContext = makeStandardize(where, 'standardizeContext', options.standardizeContext, contextDim);
  const embedding = options.embedding ?? null;
  let embeddedDim = contextDim;
  if (embedding !== null) {
    if (typeof (embedding as { forward?: unknown }).forward !== 'function') throw new TypeError(`${where}: embedding must be a Layer (a module with forward(x))`);
    const declared = (embedding as { outFeatures?: unknown }).outFeatures;
    const inFeatures = (embedding as { inFeatures?: unknown }).inFeatures;
    if (typeof inFeatures === 'number' && inFeatures !== contextDim) throw new RangeError(`${where}: the embedding reads ${inFeatures} features but contextDim is ${contextDim}`);
    embeddedDim = typeof declared === 'number' ? declared : noGrad(() => embedding.forward(Tensor.zeros(1, contextDim))).cols;
  }
  return { contextDim, standardizeContext, embedding, embeddedDim };
}

function makeWhiten(where: string, spec: WhitenSpec | undefined, dim: number): Whiten | null {
  if (spec === undefined || spec === false) return null;
  if (spec !== true && (spec === null || typeof spec !== 'object')) throw new TypeError(`${where}: whiten must be true, false or { mean, matrix }, got ${String(spec)}`);
  if (spec !== true) checkOptionKeys(`${where} whiten`, spec, ['mean', 'matrix']);
  const identity = (): Float64Array => {
    const m = new Float64Array(dim * dim);
    for (let j = 0; j < dim; j++) m[j * dim + j] = 1;
    return m;
  };
  const wh = spec === true ? new Whiten(new Float64Array(dim), identity()) : new Whiten(spec.mean, spec.matrix);
  if (wh.dim !== dim) throw new RangeError(`${where}: whiten has ${wh.dim} features for dim ${dim}`);
  return wh;
}

function makeSupport(where: string, spec: SupportOption['support'], dim: number): BoxSupport | null {
  if (spec === undefined) return null;
  if (spec === null || typeof spec !== 'object') throw new TypeError(`${where}: support must be { lo, hi }, got ${String(spec)}`);
  checkOptionKeys(`${where} support`, spec, ['lo', 'hi']);
  const box = new BoxSupport(spec.lo, spec.hi);
  if (box.dim !== dim) throw new RangeError(`${where}: support has ${box.dim} features for dim ${dim}`);
  return box;
}

function supportConfig(box: BoxSupport | null): Partial<RealNVPConfig> {
  return box === null ? {} : { support: { lo: Array.from(box.lo.data), hi: Array.from(box.hi.data) } };
}

function conditioningConfig(c: Conditioning): Partial<RealNVPConfig> {
  if (c.contextDim === 0) return {};
  const e = c.embedding;
  const embedding = e === null ? null : isEmbeddingConfig((e as { config?: unknown }).config) ? ((e as unknown as { config: EmbeddingConfig }).config) : 'custom';
  return { contextDim: c.contextDim, standardizeContext: c.standardizeContext !== null, embedding };
}

function isEmbeddingConfig(v: unknown): v is EmbeddingConfig {
  return typeof v === 'object' && v !== null && ((v as { type?: unknown }).type === 'mlp' || (v as { type?: unknown }).type === 'deepset');
}

/** The default model's pieces: AffineCouplings and the chosen permutations. */
function defaultParts(options: RealNVPOptions): RealNVPParts {
  const where = 'RealNVP';
  checkOptionKeys(where, options, OPTION_KEYS);
  const dim = checkDim(where, options.dim);
  const rng = requireRng(where, options.rng) as RealNVPOptions['rng'];
  const d = REALNVP_DEFAULTS;
  const layers = positiveInt(where, 'layers', options.layers ?? d.layers);
  const hidden = positiveInt(where, 'hidden', options.hidden ?? d.hidden);
  const depth = positiveInt(where, 'depth', options.depth ?? d.depth);
  const permutation = options.permutation ?? d.permutation;
  if (!['swap', 'reverse', 'random', 'none'].includes(permutation)) throw new RangeError(`${where}: permutation must be 'swap', 'reverse', 'random' or 'none', got ${String(permutation)}`);
  const scale = options.scale ?? d.scale, bound = options.bound ?? d.bound, activation = options.activation ?? d.activation;
  const actNorm = options.actNorm ?? d.actNorm;
  const standardize = makeStandardize(where, 'standardize', options.standardize, dim);
  const whiten = makeWhiten(where, options.whiten, dim);
  if (standardize !== null && whiten !== null) throw new RangeError(`${where}: give standardize or whiten, not both (whitening also centres and scales the features)`);
  const support = makeSupport(where, options.support, dim);
  const cond = conditioning(where, options);
  const coupling = options.coupling ?? 'affine';
  if (!COUPLING_KINDS.includes(coupling)) throw new RangeError(`${where}: coupling must be ${COUPLING_KINDS.map((k) => `'${k}'`).join(', ')}, got ${String(coupling)}`);
  if (coupling === 'affine') {
    for (const key of ['bins', 'splineBound'] as const) {
      if (options[key] !== undefined) throw new RangeError(`${where}: ${key} applies to spline couplings; give coupling: 'spline' (or 'alternating')`);
    }
  }
  const bins = options.bins ?? SPLINE_DEFAULTS.bins;
  if (typeof bins !== 'number' || !Number.isInteger(bins) || bins < 2 || bins > MAX_BINS) throw new RangeError(`${where}: bins must be an integer in 2..${MAX_BINS}, got ${String(options.bins)}`);
  const splineBound = options.splineBound ?? SPLINE_DEFAULTS.splineBound;
  if (typeof splineBound !== 'number' || !Number.isFinite(splineBound) || !(splineBound > 0)) throw new RangeError(`${where}: splineBound must be a positive finite number, got ${String(options.splineBound)}`);
  const given = options.permutationIndices;
  if (given !== undefined && given.length !== layers) throw new RangeError(`${where}: permutationIndices has ${given.length} entries for ${layers} layers`);
  const couplings: Bijection[] = [], permutations: Permutation[] = [];
  for (let i = 0; i < layers; i++) {
    const common = { dim, hidden, depth, activation, contextDim: cond.embeddedDim, rng };
    const spline = coupling === 'spline' || (coupling === 'alternating' && i % 2 === 0);
    couplings.push(spline ? new SplineCoupling({ ...common, bins, bound: splineBound }) : new AffineCoupling({ ...common, scale, bound }));
    const indices = given?.[i];
    if (indices !== undefined) {
      if (indices.length !== dim) throw new RangeError(`${where}: permutationIndices[${i}] has ${indices.length} entries for dim ${dim}`);
      permutations.push(new Permutation(indices));
    } else if (permutation === 'swap') permutations.push(Permutation.swapHalves(dim));
    else if (permutation === 'reverse') permutations.push(Permutation.reverse(dim));
    else if (permutation === 'none') permutations.push(new Permutation(Array.from({ length: dim }, (_, j) => j)));
    else {
      if (typeof rng.permutation !== 'function') throw new TypeError(`${where}: permutation 'random' needs an Rng with permutation()`);
      permutations.push(new Permutation(rng.permutation(dim)));
    }
  }
  const norms = actNorm ? Array.from({ length: layers }, () => new ActNorm(dim)) : [];
  const config: RealNVPConfig = {
    preset: 'default', dim, layers, hidden, depth, scale, bound, activation, permutation,
    permutationIndices: permutations.map((p) => Array.from(p.indices)),
    actNorm, standardize: standardize !== null, ...(whiten !== null ? { whiten: true } : {}), ...(coupling !== 'affine' ? { coupling, bins, splineBound } : {}),
    ...conditioningConfig(cond), ...supportConfig(support),
  };
  return { couplings, permutations, norms, standardize, whiten, support, conditioning: cond, config };
}

/** The post's pieces: its couplings and the swap of halves after each. */
function postParts(options: PostOptions): RealNVPParts {
  const where = 'RealNVP.post';
  checkOptionKeys(where, options, POST_KEYS);
  const dim = checkDim(where, options.dim);
  const rng = requireRng(where, options.rng);
  const layers = positiveInt(where, 'layers', options.layers ?? POST_DEFAULTS.layers);
  const hidden = positiveInt(where, 'hidden', options.hidden ?? POST_DEFAULTS.hidden);
  if (layers % 2 !== 0 && options.allowOddLayers !== true) {
    throw new RangeError(`${where}: layers must be a positive even integer (the post asserts "num_flows must be a positive even integer"), got ${layers}`);
  }
  const standardize = makeStandardize(where, 'standardize', options.standardize, dim);
  const support = makeSupport(where, options.support, dim);
  const cond = conditioning(where, options);
  const dimA = Math.floor(dim / 2);
  const couplings: Bijection[] = [], permutations: Permutation[] = [];
  for (let i = 0; i < layers; i++) {
    couplings.push(new PostCoupling(dim, dimA, hidden, rng, { contextDim: cond.embeddedDim }));
    permutations.push(Permutation.swapHalves(dim, dimA));
  }
  const config: RealNVPConfig = {
    preset: 'post', dim, layers, hidden, depth: 1, scale: 'exp', bound: 3, activation: 'leakyRelu', permutation: 'swap',
    permutationIndices: permutations.map((p) => Array.from(p.indices)),
    actNorm: false, standardize: standardize !== null, ...conditioningConfig(cond), ...supportConfig(support),
  };
  return { couplings, permutations, norms: [], standardize, support, conditioning: cond, config };
}

const PART_KEYS = ['couplings', 'permutations', 'norms', 'standardize', 'whiten', 'support', 'conditioning', 'config'];

/**
 * A RealNVP normalizing flow, unconditional (a density q(x)) or conditional (q(θ | x)).
 *
 * @example
 * const rng = new Rng(0);
 * const flow = new RealNVP({ dim: 2, rng });   // REALNVP_DEFAULTS: 8 couplings, 1×32 tanh
 * const loss = nll(flow, batch);               // mean negative log-likelihood, nats
 * const x = flow.sample(1000, rng);            // 1000×2 samples
 * const logp = flow.logProb(x);                // 1000×1 log-densities
 *
 * const post = new RealNVP({ dim: 2, contextDim: 3, rng }); // q(θ | x), x with 3 columns
 * post.logProb(theta, x);                      // one row of x per row of θ
 * post.sample(1000, xObs, rng);                // 1000 samples per row of xObs (k·1000 rows)
 */
export class RealNVP extends Bijection {
  readonly dim: number;
  override readonly contextDim: number;
  readonly config: RealNVPConfig;
  /** The box support (the very first step of `forward`), or null. */
  readonly support: BoxSupport | null;
  /** Standardisation of the features (first step of `forward` after the support), or null. */
  readonly standardize: Standardize | null;
  /** Whitening of the features (in place of a standardisation), or null. */
  readonly whiten: Whiten | null;
  /** The ActNorm before each coupling (empty unless `actNorm`). */
  readonly norms: ActNorm[];
  /** The coupling layers. */
  readonly flows: Bijection[];
  /** The permutation after each coupling (not trainable). */
  readonly perms: Permutation[];
  /** Standardisation of the context (conditional models), or null. */
  readonly standardizeContext: Standardize | null;
  /** The embedding network on the context (conditional models), or null. */
  readonly embedding: Layer | null;
  /** The base distribution. */
  readonly base: StandardNormal;
  /** The steps of the composition: [BoxSupport?, Standardize? or Whiten?, per layer Chain[ActNorm?, coupling, permutation]]. */
  readonly #steps: Bijection[];

  /**
   * `new RealNVP(options)` builds the default model ({@link REALNVP_DEFAULTS} for absent options);
   * `new RealNVP(parts)` assembles pieces a factory built (see {@link RealNVPParts}).
   */
  constructor(options: RealNVPOptions | RealNVPParts) {
    super();
    if (options === null || typeof options !== 'object') throw new TypeError('RealNVP: options must be an object');
    const parts = 'couplings' in options ? checkParts(options) : defaultParts(options);
    const dim = parts.config.dim;
    this.dim = dim;
    this.contextDim = parts.conditioning.contextDim;
    this.config = parts.config;
    this.support = parts.support;
    this.standardize = parts.standardize;
    this.whiten = parts.whiten ?? null;
    this.norms = parts.norms;
    this.flows = parts.couplings;
    this.perms = parts.permutations;
    this.standardizeContext = parts.conditioning.standardizeContext;
    this.embedding = parts.conditioning.embedding;
    this.base = new StandardNormal(dim);
    const layers = this.flows.map((coupling, i) => new Chain(this.norms.length > 0 ? [this.norms[i]!, coupling, this.perms[i]!] : [coupling, this.perms[i]!]));
    this.#steps = [...(this.support !== null ? [this.support] : []), ...(this.standardize !== null ? [this.standardize] : []), ...(this.whiten !== null ? [this.whiten] : []), ...layers];
  }

  /**
   * The steps of the composition, in the forward order: the box support and the standardisation (if
   * any), then one Chain [ActNorm?, coupling, permutation] per layer.
   * @example flow.steps.length; // layers (+1 with standardisation or whitening, +1 with a support)
   */
  get steps(): readonly Bijection[] {
    return this.#steps;
  }

  /**
   * The post's model exactly: `layers` (even, default 16) couplings of {@link PostCoupling} with
   * hidden width `hidden` (default 64), each followed by the swap of halves.
   *
   * @example const flow = RealNVP.post({ dim: 2, rng: new Rng(0) }); // 6,176 parameters
   */
  static post(options: PostOptions): RealNVP {
    if (options === null || typeof options !== 'object') throw new TypeError('RealNVP.post: options must be an object');
    return new RealNVP(postParts(options));
  }

  /**
   * Rebuilds a model from its {@link RealNVPConfig} (weights are then loaded with `loadStateDict`). A
   * conditional model whose embedding is a custom network needs it passed as `{ embedding }`.
   * @example const flow = RealNVP.fromConfig(JSON.parse(configText)); flow.loadStateDict(tensors);
   */
  static fromConfig(config: RealNVPConfig, extra: { embedding?: Layer } = {}): RealNVP {
    if (config === null || typeof config !== 'object') throw new TypeError('RealNVP.fromConfig: config must be an object');
    checkOptionKeys('RealNVP.fromConfig', extra, ['embedding']);
    const contextDim = config.contextDim ?? 0;
    const cond: ConditionalOptions & SupportOption = {};
    if (contextDim > 0) {
      cond.contextDim = contextDim;
      if (config.standardizeContext === true) cond.standardizeContext = true;
      const e = config.embedding ?? null;
      if (extra.embedding !== undefined) cond.embedding = extra.embedding;
      else if (e === 'custom') throw new TypeError('RealNVP.fromConfig: this model has a custom embedding network; pass it as fromConfig(config, { embedding })');
      else if (e !== null) cond.embedding = embeddingFromConfig(e);
    }
    const rng = new Rng(0);
    const standardize = config.standardize === true;
    if (config.support !== undefined) cond.support = config.support;
    if (config.preset === 'post') {
      if (config.whiten === true) throw new RangeError("RealNVP.fromConfig: whiten applies to preset 'default' (the post's model standardises at most)");
      const flow = RealNVP.post({ dim: config.dim, layers: config.layers, hidden: config.hidden, standardize, allowOddLayers: true, rng, ...cond });
      const saved = config.permutationIndices;
      if (saved !== undefined && JSON.stringify(saved) !== JSON.stringify(flow.config.permutationIndices)) {
        throw new RangeError('RealNVP.fromConfig: a post model swaps halves after every coupling; permutationIndices say otherwise');
      }
      return flow;
    }
    if (config.preset !== 'default') throw new RangeError(`RealNVP.fromConfig: preset must be 'default' or 'post', got ${String(config.preset)}`);
    return new RealNVP({
      dim: config.dim, layers: config.layers, hidden: config.hidden, depth: config.depth, scale: config.scale, bound: config.bound,
      activation: config.activation, permutation: config.permutation, permutationIndices: config.permutationIndices,
      actNorm: config.actNorm, standardize, ...(config.whiten === true ? { whiten: true } : {}), rng, ...cond,
      ...(config.coupling !== undefined && config.coupling !== 'affine' ? { coupling: config.coupling, bins: config.bins, splineBound: config.splineBound } : {}),
    });
  }

  /** The context as the couplings read it: standardised, then embedded (undefined without a context). */
  #embed(context: Tensor | undefined): Tensor | undefined {
    if (context === undefined) return undefined;
    let c = context;
    if (this.standardizeContext !== null) c = this.standardizeContext.forwardPoints(c);
    if (this.embedding !== null) c = this.embedding.forward(c);
    return c;
  }

  /** Checks a context: present exactly when the flow is conditional, one finite row per row of x. */
  #checkContext(where: string, x: Tensor, context: Tensor | undefined): void {
    checkContext(where, x, context, this.contextDim);
    if (context !== undefined) checkFinite(`${where} (context)`, context);
  }

  /**
   * The context as the couplings see it: standardised (if `standardizeContext`), then through the
   * embedding network (if any). n×c -> n×e, differentiable (the embedding trains with the flow).
   * @example flow.embedContext(x).cols; // the embedding's outFeatures
   */
  embedContext(context: Tensor): Tensor {
    if (this.contextDim === 0) throw new ContextError('RealNVP.embedContext: this flow is unconditional (build it with contextDim)');
    checkWidth('RealNVP.embedContext', context, this.contextDim);
    return this.#embed(context)!;
  }

  /** Runs the composition with an already embedded context. */
  #run(h: Tensor, embedded: Tensor | undefined, direction: Direction, visit?: (h: Tensor, k: number) => void): FlowResult {
    return cascade(this.#steps, h, embedded, direction, visit);
  }

  /**
   * Data -> latent through every step (standardisation, then per layer ActNorm, coupling, permutation),
   * with log|det ∂z/∂x| per row; refuses non-finite input. A conditional flow needs its context (n×c).
   * @example const [z, logDet] = flow.forward(x); // z n×dim, logDet n×1
   */
  forward(x: Tensor, context?: Tensor): FlowResult {
    checkWidth('RealNVP.forward', x, this.dim);
    checkFinite('RealNVP.forward', x);
    this.#checkContext('RealNVP.forward', x, context);
    return this.#run(x, this.#embed(context), 'forward');
  }

  /**
   * Latent -> data, undoing the steps in reverse order, with log|det ∂x/∂z| per row.
   * @example const [x, logDet] = flow.inverse(flow.base.sample(100, new Rng(1)));
   */
  inverse(z: Tensor, context?: Tensor): FlowResult {
    checkWidth('RealNVP.inverse', z, this.dim);
    checkFinite('RealNVP.inverse', z);
    this.#checkContext('RealNVP.inverse', z, context);
    return this.#run(z, this.#embed(context), 'inverse');
  }

  /**
   * log q(x) per row (n×1, nats, with the base's full constant): log p_Z(z) + log|det ∂z/∂x|. For a
   * conditional flow, log q(θ | x) with one row of x per row of θ.
   * @example flow.logProb(tensor([[0, 0]])).item();   posterior.logProb(theta, x);
   */
  logProb(x: Tensor, context?: Tensor): Tensor {
    const [z, logDet] = this.forward(x, context);
    return add(this.base.logProb(z), logDet);
  }

  /**
   * Samples (no graph is recorded). Unconditional: `sample(n, rng)`, n×dim. Conditional:
   * `sample(n, context, rng)` with context k×c gives n samples for each of its rows, (k·n)×dim, rows
   * [i·n, (i+1)·n) for row i, all in one pass (the embedded context is repeated by index).
   * @example const x = flow.sample(500, new Rng(1));   const theta = posterior.sample(1000, xObs, rng);
   */
  sample(n: number, rng: RandomSource): Tensor;
  sample(n: number, context: Tensor, rng: RandomSource): Tensor;
  sample(n: number, contextOrRng: Tensor | RandomSource, rng?: RandomSource): Tensor {
    return this.sampleWithLogProb(n, contextOrRng as Tensor, rng as RandomSource)[0];
  }

  /**
   * Samples with their log-densities under the model, from one pass: log q(x) = log p_Z(z) -
   * log|det ∂x/∂z|. Same arguments and row order as {@link RealNVP.sample}.
   * @example const [x, logq] = flow.sampleWithLogProb(500, rng);   posterior.sampleWithLogProb(100, xObs, rng);
   */
  sampleWithLogProb(n: number, rng: RandomSource): [x: Tensor, logProb: Tensor];
  sampleWithLogProb(n: number, context: Tensor, rng: RandomSource): [x: Tensor, logProb: Tensor];
  sampleWithLogProb(n: number, contextOrRng: Tensor | RandomSource, rng?: RandomSource): [x: Tensor, logProb: Tensor] {
    const [context, source] = this.#sampleArgs('RealNVP.sample', n, contextOrRng, rng);
    return noGrad(() => {
      let embedded: Tensor | undefined, rows = n;
      if (context !== undefined) {
        checkWidth('RealNVP.sample (context)', context, this.contextDim);
        checkFinite('RealNVP.sample (context)', context);
        // Embed each observation once, then repeat its row for its n samples.
        embedded = repeatRows(this.#embed(context)!, n);
        rows = context.rows * n;
      }
      const z = this.base.sample(rows, source);
      const [x, logDet] = this.#run(z, embedded, 'inverse');
      return [x, add(this.base.logProb(z), neg(logDet))];
    });
  }

  #sampleArgs(where: string, n: number, contextOrRng: Tensor | RandomSource, rng: RandomSource | undefined): [Tensor | undefined, RandomSource] {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`${where}: n must be a non-negative integer, got ${String(n)}`);
    if (contextOrRng instanceof Tensor) {
      if (this.contextDim === 0) throw new ContextError(`${where}: got a context but this flow is unconditional; call sample(n, rng)`);
      return [contextOrRng, requireRng(where, rng)];
    }
    if (this.contextDim > 0) throw new ContextError(`${where}: this flow is conditional (contextDim ${this.contextDim}); call sample(n, context, rng) with a context of k×${this.contextDim}`);
    if (rng !== undefined) throw new TypeError(`${where}: sample(n, rng) takes two arguments; a third was given`);
    return [undefined, requireRng(where, contextOrRng)];
  }

  /**
   * The points after each layer on the way from latent to data (the post's
   * `reverse_with_intermediates`, used for its Figure 1): entry k is the state after undoing layer
   * `layers - 1 - k` (its permutation, then coupling, then ActNorm); with standardisation (or whitening) a last entry in the
   * original units is added (and with a box support one more, in the box). The last entry is
   * `inverse(z)[0]`. A conditional flow takes its context.
   *
   * @example const steps = flow.trace(flow.base.sample(500, rng)); // steps.length === 8 for 8 layers
   */
  trace(z: Tensor, context?: Tensor): Tensor[] {
    checkWidth('RealNVP.trace', z, this.dim);
    this.#checkContext('RealNVP.trace', z, context);
    const out: Tensor[] = [];
    noGrad(() => this.#run(z, this.#embed(context), 'inverse', (h) => out.push(h)));
    return out;
  }

  /**
   * Alias of {@link RealNVP.trace}.
   * @example flow.inverseSteps(z);
   */
  inverseSteps(z: Tensor, context?: Tensor): Tensor[] {
    return this.trace(z, context);
  }

  /**
   * The points after each step going data -> latent (per layer: ActNorm, coupling, permutation; with
   * standardisation, a first entry in standardised units, after one in logit space with a box support). The last entry is `forward(x)[0]`. Runs in
   * evaluation mode, so a fresh ActNorm is not initialised from these points.
   * @example flow.forwardSteps(x).at(-1); // z
   */
  forwardSteps(x: Tensor, context?: Tensor): Tensor[] {
    checkWidth('RealNVP.forwardSteps', x, this.dim);
    this.#checkContext('RealNVP.forwardSteps', x, context);
    const wasTraining = this.training;
    this.eval();
    try {
      const out: Tensor[] = [];
      noGrad(() => this.#run(x, this.#embed(context), 'forward', (h) => out.push(h)));
      return out;
    } finally {
      this.train(wasTraining);
    }
  }

  /**
   * The post's `reverse` exactly as written, for post models: before undoing each coupling it applies
   * the *forward* swap again. That is the true inverse of a flow whose permutations are the inverse
   * swaps, and it is run as one (the same composition routine). For even `dim` the swap is its own
   * inverse and this equals `inverse(z)[0]`; for odd `dim` it is not, so the post's `reverse` does not
   * invert its `forward`. Kept to reproduce the post's numbers; use `inverse` for the true inverse.
   *
   * @example RealNVP.post({ dim: 2, rng }).reverseAsInPost(z);
   */
  reverseAsInPost(z: Tensor, context?: Tensor): Tensor {
    if (this.config.preset !== 'post') throw new Error("reverseAsInPost: only for the post's model (RealNVP.post)");
    checkWidth('RealNVP.reverseAsInPost', z, this.dim);
    this.#checkContext('RealNVP.reverseAsInPost', z, context);
    const asWritten = this.flows.map((coupling, i) => new Chain([coupling, new Permutation(this.perms[i]!.inverseIndices)]));
    return noGrad(() => cascade(asWritten, z, this.#embed(context), 'inverse')[0]);
  }

  /**
   * One line: the preset and the architecture.
   * @example new RealNVP({ dim: 2, rng: new Rng(0) }).describe(); // 'RealNVP(preset=default, dim=2, layers=8, hidden=32, depth=1, scale=softclamp, permutation=reverse)'
   */
  override describe(): string {
    const c = this.config;
    const context = this.contextDim > 0 ? `, context=${this.contextDim}${this.embedding !== null ? ' (embedded)' : ''}` : '';
    const spline = c.coupling !== undefined && c.coupling !== 'affine' ? `, coupling=${c.coupling}, bins=${c.bins}, splineBound=${c.splineBound}` : '';
    return `RealNVP(preset=${c.preset}, dim=${c.dim}, layers=${c.layers}, hidden=${c.hidden}${c.preset === 'default' ? `, depth=${c.depth}, scale=${c.scale}, permutation=${c.permutation}` : ''}${spline}${c.whiten === true ? ', whiten' : ''}${context})`;
  }
}

/** Checks the pieces a factory hands to the constructor. */
function checkParts(parts: RealNVPParts): RealNVPParts {
  checkOptionKeys('RealNVP (parts)', parts, PART_KEYS);
  const { couplings, permutations, norms, config, conditioning: cond } = parts;
  if (parts.standardize != null && parts.whiten != null) throw new RangeError('RealNVP (parts): give standardize or whiten, not both');
  if (parts.whiten != null && parts.whiten.dim !== config.dim) throw new RangeError(`RealNVP (parts): whiten has dim ${parts.whiten.dim}, the config dim ${config.dim}`);
  if (!Array.isArray(couplings) || couplings.length === 0) throw new RangeError('RealNVP (parts): needs at least one coupling');
  if (!Array.isArray(permutations) || permutations.length !== couplings.length) throw new RangeError(`RealNVP (parts): ${couplings.length} couplings need as many permutations, got ${permutations?.length}`);
  if (!Array.isArray(norms) || (norms.length !== 0 && norms.length !== couplings.length)) throw new RangeError(`RealNVP (parts): norms must be empty or one per coupling, got ${norms?.length}`);
  couplings.forEach((c, i) => {
    if (c.dim !== config.dim) throw new RangeError(`RealNVP (parts): coupling ${i} has dim ${c.dim}, the config dim ${config.dim}`);
    if (c.contextDim !== cond.embeddedDim) throw new RangeError(`RealNVP (parts): coupling ${i} reads a context of ${c.contextDim} columns, the conditioning gives ${cond.embeddedDim}`);
  });
  return parts;
}

/**
 * The training loss: the mean negative log-likelihood of the rows of `x`, in nats (1×1, differentiable).
 * For a conditional flow, the mean of -log q(θ_i | x_i): `nll(flow, theta, x)` (the loss of neural
 * posterior estimation).
 * @example const loss = nll(flow, batch); loss.backward();   nll(posterior, theta, x).backward();
 */
export function nll(flow: { logProb(x: Tensor, context?: Tensor): Tensor }, x: Tensor, context?: Tensor): Tensor {
  return neg(mean(context === undefined ? flow.logProb(x) : flow.logProb(x, context)));
}

/**
 * Values of a PyTorch state dict as nested arrays (a 1-D bias is a flat array).
 * @example const dict: TorchStateDict = JSON.parse(text).state_dict; postFromTorch(dict);
 */
export type TorchStateDict = Readonly<Record<string, readonly number[] | readonly (readonly number[])[] | Tensor>>;

/**
 * Builds the post's model from a PyTorch state dict of the post's `RealNVP` (keys such as
 * `3.s_nn.2.weight`, or with a `flows.` prefix; the post's `b_bb` is accepted for `b_nn`). `dim`,
 * `layers` and `hidden` are read off the shapes. An odd number of layers is accepted here (the
 * model is well defined; only the post's constructor insists on pairs).
 *
 * @example
 * const flow = postFromTorch(JSON.parse(text).state_dict);
 * flow.logProb(x); // matches PyTorch to ~1e-15
 */
export function postFromTorch(stateDict: TorchStateDict): RealNVP {
  if (stateDict === null || typeof stateDict !== 'object') throw new TypeError('postFromTorch: expected an object of named arrays');
  const renamed: Record<string, TorchStateDict[string]> = {};
  let layers = 0;
  for (const [key, value] of Object.entries(stateDict)) {
    const m = /^(?:flows\.)?(\d+)\.(s_nn|b_nn|b_bb)\.(\d+)\.(weight|bias)$/.exec(key);
    if (m === null) throw new RangeError(`postFromTorch: unexpected key "${key}" (expected e.g. "3.s_nn.2.weight")`);
    const layer = Number(m[1]);
    layers = Math.max(layers, layer + 1);
    renamed[`flows.${layer}.${m[2] === 'b_bb' ? 'b_nn' : m[2]}.${m[3]}.${m[4]}`] = value;
  }
  const w0 = stateDict['0.s_nn.0.weight'] ?? stateDict['flows.0.s_nn.0.weight'];
  const w2 = stateDict['0.s_nn.2.weight'] ?? stateDict['flows.0.s_nn.2.weight'];
  const shapeOf = (v: unknown): [number, number] => (v instanceof Tensor ? [v.rows, v.cols] : Array.isArray(v) && Array.isArray(v[0]) ? [v.length, (v[0] as unknown[]).length] : [0, 0]);
  const [hidden, dimA] = shapeOf(w0);
  const [dimB] = shapeOf(w2);
  if (layers === 0 || hidden === 0 || dimA === 0 || dimB === 0) throw new RangeError('postFromTorch: could not read dim and hidden size from "0.s_nn.0.weight" and "0.s_nn.2.weight"');
  const dim = dimA + dimB;
  if (Math.floor(dim / 2) !== dimA) throw new RangeError(`postFromTorch: dim_a = ${dimA} with dim_b = ${dimB}; the post splits at dim_a = ⌊dim/2⌋`);
  const flow = RealNVP.post({ dim, layers, hidden, rng: new Rng(0), allowOddLayers: true });
  flow.loadStateDict(renamed);
  return flow;
}
