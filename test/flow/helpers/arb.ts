/**
 * Arbitraries for the flow properties. Everything is drawn as plain numbers (sizes, choices and a
 * seed); the tests build the flow and its inputs inside the property from `new Rng(seed)`, so that a
 * shrunk counterexample is rebuilt exactly.
 */
import type { ActivationName } from '../../../src/nn/layers.ts';
import type { MaskSpec } from '../../../src/flow/mask.ts';
import type { ScaleMode } from '../../../src/flow/affine-coupling.ts';
import type { PermutationKind } from '../../../src/flow/real-nvp.ts';
import { fc, numRuns } from '../../helpers/fc.ts';

/** A seed for `new Rng(seed)`. */
export const seed = fc.integer({ min: 0, max: 0x7fffffff });

export const scaleMode = fc.constantFrom<ScaleMode>('exp', 'tanh', 'softclamp');

export const permutationKind = fc.constantFrom<PermutationKind>('swap', 'reverse', 'random', 'none');

/**
 * Smooth, bounded activations for composite flows. Smooth: the numerical Jacobian is taken across every
 * conditioner, and a kink of relu within h = 1e-6 of a point would spoil the central difference (a
 * single coupling is immune: its log-det does not depend on the conditioner's derivative). Bounded:
 * with softplus the raw log-scales of randomised weights grow with the input, layer after layer; in the
 * `'exp'` mode (unbounded, the post's choice) exp then overflows, and in the others the values reach
 * 1e4 and more, where central differences lose the 1e-6 the log-det check asks for. Neither is a bug
 * to find here; softplus and relu are covered by the single-coupling properties.
 */
export const smoothActivation = fc.constantFrom<ActivationName>('tanh', 'sigmoid');

export const anyActivation = fc.constantFrom<ActivationName>('relu', 'leakyRelu', 'tanh', 'softplus', 'sigmoid');

/**
 * A random boolean mask for `dim` features with both parts non-empty by construction: feature `inA`
 * is forced into A and another feature into B.
 */
export function booleanMask(dim: number): fc.Arbitrary<boolean[]> {
  return fc
    .tuple(fc.array(fc.boolean(), { minLength: dim, maxLength: dim }), fc.integer({ min: 0, max: dim - 1 }), fc.integer({ min: 0, max: dim - 2 }))
    .map(([bits, inA, other]) => {
      const mask = bits.slice();
      const inB = other >= inA ? other + 1 : other;
      mask[inA] = true;
      mask[inB] = false;
      return mask;
    });
}

/** 'half', 'alternating' or a random boolean mask. */
export function mask(dim: number): fc.Arbitrary<MaskSpec> {
  return fc.oneof(fc.constant<MaskSpec>('half'), fc.constant<MaskSpec>('alternating'), booleanMask(dim));
}

/** The number of runs of a flow property: modest by default (each run builds and checks a whole flow), FC_NUM_RUNS to run longer. */
export function flowRuns(n: number): number {
  return process.env.FC_NUM_RUNS ? numRuns : n;
}
