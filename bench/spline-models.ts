/**
 * Density models for the spline benchmarks, built as one `Chain` of couplings and permutations (not via
 * `RealNVP` options): [Standardize?, (coupling, reverse permutation) × layers] with a standard normal
 * base, log q(x) = log N(z) + log|det ∂z/∂x|. `kind` picks the coupling: `'affine'` is the default
 * RealNVP's (soft-clamped log-scale, B = 3), `'spline'` the rational-quadratic spline coupling.
 *
 * @module
 */

import { add } from '../src/autograd/elementwise.ts';
import type { Tensor } from '../src/autograd/tensor.ts';
import { AffineCoupling } from '../src/flow/affine-coupling.ts';
import { StandardNormal } from '../src/flow/base.ts';
import { Chain, type Bijection } from '../src/flow/bijection.ts';
import { Permutation } from '../src/flow/permutation.ts';
import { SplineCoupling } from '../src/flow/spline-coupling.ts';
import { Standardize } from '../src/flow/standardize.ts';
import { Module } from '../src/nn/module.ts';
import type { ActivationName } from '../src/nn/layers.ts';
import type { Rng } from '../src/rng/rng.ts';

/** What a model is made of. */
export interface ModelSpec {
  /** `'alternating'`: spline couplings at even layers, affine at odd ones (RealNVP's `coupling: 'alternating'`). */
  kind: 'affine' | 'spline' | 'alternating';
  layers: number;
  hidden: number;
  depth: number;
  /** Spline bins (spline only). */
  bins?: number;
  /** Spline bound B (spline only). */
  bound?: number;
  activation?: ActivationName;
  /** The permutation after each coupling: 'reverse' (default) or 'random' (a fixed random one per layer, from `rng`). */
  permutation?: 'reverse' | 'random';
}

/** A Chain with a standard normal base: what `fit`, `TrainStep` and `evaluate` need. */
export class ChainDensity extends Module {
  readonly dim: number;
  readonly base: StandardNormal;
  constructor(readonly chain: Chain) {
    super();
    this.dim = chain.dim;
    this.base = new StandardNormal(chain.dim);
  }

  /** log q(x) = log N(z) + log|det ∂z/∂x|, n×1. */
  logProb(x: Tensor): Tensor {
    const [z, logDet] = this.chain.forward(x);
    return add(this.base.logProb(z), logDet);
  }
}

/** The model of a spec for `dim` features; `standardize` (fitted on the training rows) goes first. */
export function buildModel(spec: ModelSpec, dim: number, rng: Rng, standardize?: Standardize | Bijection): ChainDensity {
  const steps: Bijection[] = standardize !== undefined ? [standardize] : [];
  for (let l = 0; l < spec.layers; l++) {
    const common = { dim, hidden: spec.hidden, depth: spec.depth, activation: spec.activation ?? 'tanh', rng } as const;
    const affine = spec.kind === 'affine' || (spec.kind === 'alternating' && l % 2 === 1);
    steps.push(affine
      ? new AffineCoupling(common)
      : new SplineCoupling({ ...common, bins: spec.bins ?? 8, bound: spec.bound ?? 3 }));
    steps.push(spec.permutation === 'random' ? Permutation.random(dim, rng) : Permutation.reverse(dim));
  }
  return new ChainDensity(new Chain(steps));
}

/** "spline K=8 B=3, 8×(32×1)" */
export function describeSpec(s: ModelSpec): string {
  return `${s.kind}${s.kind !== 'affine' ? ` K=${s.bins ?? 8} B=${s.bound ?? 3}` : ''}, ${s.layers} layers, hidden ${s.hidden}×${s.depth}${s.permutation === 'random' ? ', random permutations' : ''}`;
}
