/**
 * Layers: `Linear` (PyTorch's layout and default initialisation), the activations, `Sequential` and
 * the `MLP` helper.
 *
 * @module
 */

import { leakyRelu, relu, sigmoid, softplus, tanh } from '../autograd/elementwise.ts';
import { mlp, type MlpActivation, type MlpLayer } from '../autograd/fused.ts';
import { linear } from '../autograd/matmul.ts';
import { Tensor } from '../autograd/tensor.ts';
import type { RandomSource } from '../rng/rng.ts';
import { uniform } from './init.ts';
import { Module } from './module.ts';

/**
 * A module that maps one tensor to one tensor.
 * @example class Double extends Layer { forward(x: Tensor): Tensor { return scale(x, 2); } }
 */
export abstract class Layer extends Module {
  /**
   * Applies the layer.
   * @example const y = layer.forward(x);
   */
  abstract forward(x: Tensor): Tensor;
}

/**
 * Options of {@link Linear}.
 * @example new Linear(2, 64, { bias: false, rng: new Rng(0) });
 */
export interface LinearOptions {
  /** Add a bias (default true). */
  bias?: boolean;
  /** The seeded generator for the initial weights (required: flowgrad never uses a hidden global one). */
  rng: RandomSource;
}

function requireRng(where: string, rng: RandomSource | undefined): RandomSource {
  if (rng === undefined || typeof rng.uniform !== 'function') {
    throw new TypeError(`${where}: pass { rng } (a seeded Rng, e.g. new Rng(0)) to initialise the weights`);
  }
  return rng;
}

function checkSize(where: string, name: string, n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${where}: ${name} must be a positive integer, got ${n}`);
}

/**
 * y = x·Wᵀ + b, with W of shape out×in and b of shape 1×out (PyTorch's `nn.Linear`). Weights and bias
 * start uniform in ±1/√in, PyTorch's default.
 *
 * @example
 * const layer = new Linear(2, 64, { rng: new Rng(0) });
 * layer.forward(Tensor.zeros(5, 2)).shape; // [5, 64]
 */
export class Linear extends Layer {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** out×in. */
  weight: Tensor;
  /** 1×out, or null without bias. */
  bias: Tensor | null;

  constructor(inFeatures: number, outFeatures: number, options: LinearOptions) {
    super();
    checkSize('Linear', 'inFeatures', inFeatures);
    checkSize('Linear', 'outFeatures', outFeatures);
    const rng = requireRng('Linear', options?.rng);
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = uniform(Tensor.zeros(outFeatures, inFeatures, { requiresGrad: true }), -bound, bound, rng);
    this.bias = options.bias === false ? null : uniform(Tensor.zeros(1, outFeatures, { requiresGrad: true }), -bound, bound, rng);
  }

  /**
   * x·Wᵀ + b for an n×in input: n×out.
   * @example new Linear(2, 3, { rng: new Rng(0) }).forward(Tensor.zeros(4, 2)).shape; // [4, 3]
   */
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }

  /**
   * One line: the sizes and whether there is a bias.
   * @example new Linear(2, 64, { rng: new Rng(0) }).describe(); // 'Linear(in=2, out=64, bias)'
   */
  override describe(): string {
    return `Linear(in=${this.inFeatures}, out=${this.outFeatures}${this.bias !== null ? ', bias' : ', no bias'})`;
  }
}

/**
 * max(x, 0).
 * @example new ReLU().forward(x);
 */
export class ReLU extends Layer {
  /**
   * max(x, 0) entrywise.
   * @example new ReLU().forward(tensor([[-1, 2]])).toArray(); // [[0, 2]]
   */
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

/**
 * x > 0 ? x : slope·x, slope 0.01 by default (PyTorch's).
 * @example new LeakyReLU(0.2).forward(x);
 */
export class LeakyReLU extends Layer {
  constructor(readonly slope = 0.01) {
    super();
  }
  /**
   * x > 0 ? x : slope·x entrywise.
   * @example new LeakyReLU(0.1).forward(tensor([[-1, 2]])).toArray(); // [[-0.1, 2]]
   */
  forward(x: Tensor): Tensor {
    return leakyRelu(x, this.slope);
  }
  /**
   * One line with the slope.
   * @example new LeakyReLU().describe(); // 'LeakyReLU(slope=0.01)'
   */
  override describe(): string {
    return `LeakyReLU(slope=${this.slope})`;
  }
}

/**
 * tanh(x).
 * @example new Tanh().forward(x);
 */
export class Tanh extends Layer {
  /**
   * tanh(x) entrywise.
   * @example new Tanh().forward(tensor([[0]])).toArray(); // [[0]]
   */
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

/**
 * 1 / (1 + e^-x).
 * @example new Sigmoid().forward(x);
 */
export class Sigmoid extends Layer {
  /**
   * 1 / (1 + e^-x) entrywise.
   * @example new Sigmoid().forward(tensor([[0]])).toArray(); // [[0.5]]
   */
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

/**
 * log(1 + eˣ).
 * @example new Softplus().forward(x);
 */
export class Softplus extends Layer {
  /**
   * log(1 + eˣ) entrywise.
   * @example new Softplus().forward(tensor([[0]])).toArray(); // [[0.6931471805599453]]
   */
  forward(x: Tensor): Tensor {
    return softplus(x);
  }
}

/**
 * Layers applied in order; children are named 0, 1, 2... as in PyTorch.
 * @example const net = new Sequential(new Linear(2, 8, { rng }), new ReLU(), new Linear(8, 1, { rng }));
 */
export class Sequential extends Layer {
  readonly layers: Layer[];
  /**
   * Run a stack of `Linear` layers and activations as one fused `mlp` node (same values, fewer passes
   * over memory; `explain(out, { expand: true })` shows the layer-by-layer reference). Default true; set
   * false to run layer by layer (the readable reference path).
   */
  fuse = true;

  constructor(...layers: Layer[]) {
    super();
    this.layers = layers;
  }

  /**
   * Applies the layers in order (as one fused `mlp` node when `fuse` is on and the layers allow it).
   * The fused form is read from the layers at every call (nothing is cached), so a reassigned weight
   * (`net.layers[0].weight = ...`) or a replaced layer is used by the next forward.
   * @example net.forward(Tensor.zeros(5, 2)).shape; // [5, 1] for the net above
   */
  forward(x: Tensor): Tensor {
    if (this.fuse) {
      const plan = fusedPlan(this.layers);
      if (plan !== null) return mlp(x, plan);
    }
    let h = x;
    for (const layer of this.layers) h = layer.forward(h);
    return h;
  }

  /**
   * Children are named by index alone ("0.weight"), as PyTorch names them.
   * @example new Sequential(new Linear(2, 8, { rng }), new ReLU()).namedChildren().map(([n]) => n); // ['0', '1']
   */
  override namedChildren(): [string, Module][] {
    return this.layers.map((m, i) => [String(i), m]);
  }
}

/**
 * Activation names accepted by {@link MLP}.
 * @example new MLP([2, 32, 2], { activation: 'leakyRelu', rng: new Rng(0) });
 */
export type ActivationName = 'relu' | 'leakyRelu' | 'tanh' | 'sigmoid' | 'softplus';

/**
 * Makes an activation layer from its name.
 * @example activation('tanh'); // Tanh
 */
export function activation(name: ActivationName): Layer {
  switch (name) {
    case 'relu':
      return new ReLU();
    case 'leakyRelu':
      return new LeakyReLU();
    case 'tanh':
      return new Tanh();
    case 'sigmoid':
      return new Sigmoid();
    case 'softplus':
      return new Softplus();
    default:
      throw new RangeError(`activation: unknown activation "${String(name)}" (choose relu, leakyRelu, tanh, sigmoid or softplus)`);
  }
}

/**
 * Options of {@link MLP}.
 * @example new MLP([2, 64, 1], { activation: 'tanh', finalActivation: 'softplus', rng: new Rng(0) });
 */
export interface MLPOptions {
  /** Activation between layers (default 'relu'). */
  activation?: ActivationName;
  /** Activation after the last layer (default none). */
  finalActivation?: ActivationName | null;
  /** The seeded generator for the initial weights. */
  rng: RandomSource;
}

/**
 * A multilayer perceptron from layer sizes: Linear(sizes[0], sizes[1]), activation, ..., Linear(last).
 * @example const net = new MLP([2, 64, 64, 2], { activation: 'tanh', rng: new Rng(0) });
 */
export class MLP extends Sequential {
  constructor(sizes: readonly number[], options: MLPOptions) {
    if (sizes.length < 2) throw new RangeError(`MLP: needs at least two sizes (input and output), got [${sizes.join(', ')}]`);
    const rng = requireRng('MLP', options?.rng);
    const layers: Layer[] = [];
    for (let i = 0; i + 1 < sizes.length; i++) {
      layers.push(new Linear(sizes[i]!, sizes[i + 1]!, { rng }));
      const last = i + 2 === sizes.length;
      if (!last) layers.push(activation(options.activation ?? 'relu'));
      else if (options.finalActivation != null) layers.push(activation(options.finalActivation));
    }
    super(...layers);
  }

  /**
   * The last Linear layer (e.g. to zero it so that a coupling starts as the identity).
   * @example zeros(net.lastLinear.weight);
   */
  get lastLinear(): Linear {
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const layer = this.layers[i];
      if (layer instanceof Linear) return layer;
    }
    throw new Error('MLP: no Linear layer');
  }
}

/**
 * The fused form of a layer list, when it is Linear layers each followed by at most one activation the
 * fused kernel knows (relu, tanh, leakyRelu with a positive slope); null otherwise. Built from the
 * layers' current fields at every forward (a few instanceof tests), never kept.
 */
function fusedPlan(layers: readonly Layer[]): MlpLayer[] | null {
  const plan: MlpLayer[] = [];
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i]!;
    if (!(layer instanceof Linear)) return null;
    let activation: MlpActivation = 'identity';
    const next = layers[i + 1];
    if (next instanceof ReLU) activation = 'relu';
    else if (next instanceof Tanh) activation = 'tanh';
    else if (next instanceof LeakyReLU && next.slope > 0) activation = { leakyRelu: next.slope };
    else if (next !== undefined && !(next instanceof Linear)) return null;
    if (activation !== 'identity') i++;
    plan.push({ weight: layer.weight, bias: layer.bias, activation });
  }
  return plan.length > 0 ? plan : null;
}
