/**
 * Embedding networks: learned summaries of the conditioning data of a conditional flow, trained end to
 * end with it (the flow's loss backpropagates into them).
 *
 * - {@link MLPEmbedding}: an MLP on x (sbi's `FCEmbedding`).
 * - {@link DeepSetEmbedding}: a permutation-invariant network for data that are a set of i.i.d. draws
 *   (M. Zaheer et al., Deep Sets, NeurIPS 2017): a per-item network φ applied to each item, the mean of
 *   the items' features, then a network ρ: e(x) = ρ((1/K) Σ_k φ(x_k)). Reordering the items leaves
 *   e(x) unchanged (up to the rounding of the sum). BayesFlow's `DeepSet` and sbi's
 *   `PermutationInvariantEmbedding` are of this form.
 *
 * Both know their sizes (`inFeatures`, `outFeatures`) and describe themselves with a JSON-serialisable
 * `config` that {@link embeddingFromConfig} rebuilds (the weights then come from a state dict).
 *
 * @module
 */

import { add, scale } from '../autograd/elementwise.ts';
import { sliceCols } from '../autograd/shape.ts';
import { formatShape, ShapeError, type Tensor } from '../autograd/tensor.ts';
import { checkOptionKeys } from '../autograd/options.ts';
import { Rng, type RandomSource } from '../rng/rng.ts';
import { Layer, MLP, type ActivationName } from './layers.ts';

/**
 * The config of an {@link MLPEmbedding}.
 * @example const c: MLPEmbeddingConfig = { type: 'mlp', inFeatures: 8, hidden: [64], outFeatures: 16, activation: 'relu' };
 */
export interface MLPEmbeddingConfig {
  type: 'mlp';
  inFeatures: number;
  hidden: number[];
  outFeatures: number;
  activation: ActivationName;
}

/**
 * The config of a {@link DeepSetEmbedding}.
 * @example const c: DeepSetEmbeddingConfig = { type: 'deepset', items: 4, itemDim: 2, phiHidden: [32], pooledDim: 32, rhoHidden: [32], outFeatures: 8, activation: 'relu' };
 */
export interface DeepSetEmbeddingConfig {
  type: 'deepset';
  items: number;
  itemDim: number;
  phiHidden: number[];
  pooledDim: number;
  rhoHidden: number[];
  outFeatures: number;
  activation: ActivationName;
}

/**
 * The config of either embedding network.
 * @example embeddingFromConfig(flow.config.embedding as EmbeddingConfig);
 */
export type EmbeddingConfig = MLPEmbeddingConfig | DeepSetEmbeddingConfig;

/**
 * A layer that maps n×inFeatures to n×outFeatures and can describe itself for rebuilding.
 * @example const e: Embedding = new MLPEmbedding({ inFeatures: 8, outFeatures: 4, rng }); e.outFeatures; // 4
 */
export abstract class Embedding extends Layer {
  abstract readonly inFeatures: number;
  abstract readonly outFeatures: number;
  /** JSON-serialisable description; {@link embeddingFromConfig} rebuilds the network from it. */
  abstract readonly config: EmbeddingConfig;
}

function sizeList(where: string, name: string, v: unknown): number[] {
  if (!Array.isArray(v) || v.some((n) => !Number.isInteger(n) || n < 1)) throw new RangeError(`${where}: ${name} must be an array of positive integers, got ${JSON.stringify(v)}`);
  return [...(v as number[])];
}

function positive(where: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new RangeError(`${where}: ${name} must be a positive integer, got ${String(v)}`);
  return v;
}

function checkInput(where: string, x: Tensor, width: number): void {
  if (x.cols !== width) throw new ShapeError(`${where}: expected input with ${width} columns (n×${width}), got ${formatShape(x.rows, x.cols)}`);
}

/**
 * Options of {@link MLPEmbedding}.
 * @example new MLPEmbedding({ inFeatures: 10, hidden: [64, 64], outFeatures: 20, rng: new Rng(0) });
 */
export interface MLPEmbeddingOptions {
  inFeatures: number;
  /** Hidden widths (default [64]). */
  hidden?: readonly number[];
  outFeatures: number;
  /** Activation between layers (default 'relu', as sbi's FCEmbedding); none after the last. */
  activation?: ActivationName;
  rng: RandomSource;
}

/**
 * An MLP embedding: x (n×inFeatures) -> Linear -> activation -> ... -> Linear -> n×outFeatures.
 *
 * @example
 * const embed = new MLPEmbedding({ inFeatures: 8, outFeatures: 4, rng: new Rng(0) });
 * embed.forward(x).shape; // [n, 4]
 */
export class MLPEmbedding extends Embedding {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly config: MLPEmbeddingConfig;
  net: MLP;

  constructor(options: MLPEmbeddingOptions) {
    super();
    checkOptionKeys('MLPEmbedding', options, ['inFeatures', 'hidden', 'outFeatures', 'activation', 'rng']);
    const inFeatures = positive('MLPEmbedding', 'inFeatures', options.inFeatures);
    const outFeatures = positive('MLPEmbedding', 'outFeatures', options.outFeatures);
    const hidden = sizeList('MLPEmbedding', 'hidden', options.hidden ?? [64]);
    const activation = options.activation ?? 'relu';
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.net = new MLP([inFeatures, ...hidden, outFeatures], { activation, rng: options.rng });
    this.config = { type: 'mlp', inFeatures, hidden, outFeatures, activation };
  }

  /**
   * The embedding of each row: n×inFeatures -> n×outFeatures.
   * @example embed.forward(Tensor.zeros(3, 8)).shape; // [3, 4]
   */
  forward(x: Tensor): Tensor {
    checkInput('MLPEmbedding.forward', x, this.inFeatures);
    return this.net.forward(x);
  }

  /**
   * One line with the sizes.
   * @example new MLPEmbedding({ inFeatures: 8, outFeatures: 4, rng }).describe(); // 'MLPEmbedding(8 -> [64] -> 4, relu)'
   */
  override describe(): string {
    return `MLPEmbedding(${this.inFeatures} -> [${this.config.hidden.join(', ')}] -> ${this.outFeatures}, ${this.config.activation})`;
  }
}

/**
 * Options of {@link DeepSetEmbedding}.
 * @example new DeepSetEmbedding({ items: 4, itemDim: 2, outFeatures: 8, rng: new Rng(0) });
 */
export interface DeepSetEmbeddingOptions {
  /** Number of items K in each row. */
  items: number;
  /** Features per item d: a row is K·d numbers, item k at columns [k·d, (k+1)·d). */
  itemDim: number;
  /** Hidden widths of φ (default [64]). */
  phiHidden?: readonly number[];
  /** Width of φ's output, the pooled features (default 64). */
  pooledDim?: number;
  /** Hidden widths of ρ (default [64]). */
  rhoHidden?: readonly number[];
  /** Width of the embedding. */
  outFeatures: number;
  /** Activation (default 'relu'); φ ends with it, ρ does not. */
  activation?: ActivationName;
  rng: RandomSource;
}

/**
 * A DeepSet: e(x) = ρ((1/K) Σ_k φ(x_k)), for rows that hold K items of d features each (see the module
 * comment). The same φ (shared weights) reads every item.
 *
 * @example
 * const embed = new DeepSetEmbedding({ items: 4, itemDim: 2, outFeatures: 8, rng: new Rng(0) });
 * embed.forward(x).shape; // x n×8 (4 items of 2) -> [n, 8]
 */
export class DeepSetEmbedding extends Embedding {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly items: number;
  readonly itemDim: number;
  readonly config: DeepSetEmbeddingConfig;
  /** The per-item network φ: d -> pooledDim. */
  phi: MLP;
  /** The network on the pooled features ρ: pooledDim -> outFeatures. */
  rho: MLP;

  constructor(options: DeepSetEmbeddingOptions) {
    super();
    checkOptionKeys('DeepSetEmbedding', options, ['items', 'itemDim', 'phiHidden', 'pooledDim', 'rhoHidden', 'outFeatures', 'activation', 'rng']);
    const items = positive('DeepSetEmbedding', 'items', options.items);
    const itemDim = positive('DeepSetEmbedding', 'itemDim', options.itemDim);
    const outFeatures = positive('DeepSetEmbedding', 'outFeatures', options.outFeatures);
    const pooledDim = positive('DeepSetEmbedding', 'pooledDim', options.pooledDim ?? 64);
    const phiHidden = sizeList('DeepSetEmbedding', 'phiHidden', options.phiHidden ?? [64]);
    const rhoHidden = sizeList('DeepSetEmbedding', 'rhoHidden', options.rhoHidden ?? [64]);
    const activation = options.activation ?? 'relu';
    this.items = items;
    this.itemDim = itemDim;
    this.inFeatures = items * itemDim;
    this.outFeatures = outFeatures;
    this.phi = new MLP([itemDim, ...phiHidden, pooledDim], { activation, finalActivation: activation, rng: options.rng });
    this.rho = new MLP([pooledDim, ...rhoHidden, outFeatures], { activation, rng: options.rng });
    this.config = { type: 'deepset', items, itemDim, phiHidden, pooledDim, rhoHidden, outFeatures, activation };
  }

  /**
   * ρ of the mean of φ over the items of each row: n×(K·d) -> n×outFeatures.
   * @example embed.forward(Tensor.zeros(3, 8)).shape; // [3, 8]
   */
  forward(x: Tensor): Tensor {
    checkInput(`DeepSetEmbedding.forward (${this.items} items of ${this.itemDim})`, x, this.inFeatures);
    const d = this.itemDim;
    // pooled = (1/K) Σ_k φ(x[:, k·d : (k+1)·d])
    let pooled = this.phi.forward(sliceCols(x, 0, d));
    for (let k = 1; k < this.items; k++) pooled = add(pooled, this.phi.forward(sliceCols(x, k * d, (k + 1) * d)));
    return this.rho.forward(scale(pooled, 1 / this.items));
  }

  /**
   * One line with the sizes.
   * @example embed.describe(); // 'DeepSetEmbedding(4 items of 2, φ 2 -> [64] -> 64, mean, ρ 64 -> [64] -> 8, relu)'
   */
  override describe(): string {
    const c = this.config;
    return `DeepSetEmbedding(${c.items} items of ${c.itemDim}, φ ${c.itemDim} -> [${c.phiHidden.join(', ')}] -> ${c.pooledDim}, mean, ρ ${c.pooledDim} -> [${c.rhoHidden.join(', ')}] -> ${c.outFeatures}, ${c.activation})`;
  }
}

/**
 * Rebuilds an embedding network from its `config` (weights from `rng`, to be replaced by `loadStateDict`).
 * @example const again = embeddingFromConfig(embed.config); again.loadStateDict(embed.stateDict());
 */
export function embeddingFromConfig(config: EmbeddingConfig, rng: RandomSource = new Rng(0)): Embedding {
  if (config === null || typeof config !== 'object') throw new TypeError(`embeddingFromConfig: config must be an object, got ${String(config)}`);
  if (config.type === 'mlp') {
    return new MLPEmbedding({ inFeatures: config.inFeatures, hidden: config.hidden, outFeatures: config.outFeatures, activation: config.activation, rng });
  }
  if (config.type === 'deepset') {
    return new DeepSetEmbedding({
      items: config.items, itemDim: config.itemDim, phiHidden: config.phiHidden, pooledDim: config.pooledDim,
      rhoHidden: config.rhoHidden, outFeatures: config.outFeatures, activation: config.activation, rng,
    });
  }
  throw new RangeError(`embeddingFromConfig: type must be 'mlp' or 'deepset', got ${String((config as { type: unknown }).type)}`);
}
