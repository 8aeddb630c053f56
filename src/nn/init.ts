/**
 * Initialisers that fill any tensor in place from a seeded generator (PyTorch's `nn.init`). For a 2-D
 * weight of shape out×in, fanIn = in (columns) and fanOut = out (rows).
 *
 * @module
 */

import type { Tensor } from '../autograd/tensor.ts';
import type { RandomSource } from '../rng/rng.ts';

/**
 * Nonlinearities whose gain {@link gain} knows (PyTorch's `calculate_gain`).
 * @example kaimingNormal(w, rng, 'leakyRelu', 0.2);
 */
export type Nonlinearity = 'linear' | 'sigmoid' | 'tanh' | 'relu' | 'leakyRelu';

/**
 * The recommended gain for a nonlinearity: 1 for linear/sigmoid, 5/3 for tanh, √2 for relu,
 * √(2 / (1 + slope²)) for leakyRelu.
 * @example gain('relu'); // 1.4142135623730951
 */
export function gain(nonlinearity: Nonlinearity, slope = 0.01): number {
  switch (nonlinearity) {
    case 'linear':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leakyRelu':
      return Math.sqrt(2 / (1 + slope * slope));
  }
}

/**
 * Fills with zeros.
 * @example zeros(lastLayer.weight); // a fresh coupling becomes the identity
 */
export function zeros(t: Tensor): Tensor {
  t.data.fill(0);
  return t;
}

/**
 * Fills with a constant.
 * @example constant(bias, 0.1);
 */
export function constant(t: Tensor, value: number): Tensor {
  t.data.fill(value);
  return t;
}

/**
 * Fills with U(a, b).
 * @example uniform(w, -0.1, 0.1, rng);
 */
export function uniform(t: Tensor, a: number, b: number, rng: RandomSource): Tensor {
  if (!(a <= b)) throw new RangeError(`uniform: need a <= b, got a=${a}, b=${b}`);
  const d = t.data;
  for (let i = 0; i < d.length; i++) d[i] = a + (b - a) * rng.uniform();
  return t;
}

/**
 * Fills with N(mean, std²).
 * @example normal(w, 0, 0.02, rng);
 */
export function normal(t: Tensor, mean: number, std: number, rng: RandomSource): Tensor {
  if (!(std >= 0)) throw new RangeError(`normal: std must be >= 0, got ${std}`);
  const d = t.data;
  for (let i = 0; i < d.length; i++) d[i] = mean + std * rng.normal();
  return t;
}

/**
 * Kaiming/He uniform: U(±gain·√(3 / fanIn)) (K. He et al., Delving Deep into Rectifiers, ICCV 2015).
 * @example kaimingUniform(w, rng, 'relu');
 */
export function kaimingUniform(t: Tensor, rng: RandomSource, nonlinearity: Nonlinearity = 'leakyRelu', slope = 0.01): Tensor {
  const bound = gain(nonlinearity, slope) * Math.sqrt(3 / t.cols);
  return uniform(t, -bound, bound, rng);
}

/**
 * Kaiming/He normal: N(0, (gain / √fanIn)²).
 * @example kaimingNormal(w, rng, 'relu');
 */
export function kaimingNormal(t: Tensor, rng: RandomSource, nonlinearity: Nonlinearity = 'leakyRelu', slope = 0.01): Tensor {
  return normal(t, 0, gain(nonlinearity, slope) / Math.sqrt(t.cols), rng);
}

/**
 * Xavier/Glorot uniform: U(±gain·√(6 / (fanIn + fanOut))) (X. Glorot & Y. Bengio, AISTATS 2010).
 * @example xavierUniform(w, rng);
 */
export function xavierUniform(t: Tensor, rng: RandomSource, gainValue = 1): Tensor {
  const bound = gainValue * Math.sqrt(6 / (t.rows + t.cols));
  return uniform(t, -bound, bound, rng);
}

/**
 * Xavier/Glorot normal: N(0, gain²·2 / (fanIn + fanOut)).
 * @example xavierNormal(w, rng);
 */
export function xavierNormal(t: Tensor, rng: RandomSource, gainValue = 1): Tensor {
  return normal(t, 0, gainValue * Math.sqrt(2 / (t.rows + t.cols)), rng);
}
