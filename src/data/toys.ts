/**
 * Toy data sets that are easy to sample but have no usable closed-form density: the pinwheel and the two
 * spirals. Useful to look at (samples beside data), not to compute a KL divergence against.
 *
 * @module
 */

import type { Tensor } from '../autograd/tensor.ts';
import type { RandomSource } from '../rng/rng.ts';
import { checkCount, sample2d, type Target } from './target.ts';

const PINWHEEL = { arms: 5, radialStd: 0.3, tangentialStd: 0.1, rate: 0.25, scale: 2 } as const;

/**
 * A pinwheel of 5 curved arms, from M. J. Johnson, D. Duvenaud, A. B. Wiltschko, S. R. Datta & R. P. Adams,
 * "Composing graphical models with neural networks for structured representations and fast inference",
 * NeurIPS 2016 (`make_pinwheel_data`), with FFJORD's parameters (radial std 0.3, tangential std 0.1, rate
 * 0.25, 5 arms, × 2). Per row: an arm k uniform in 0..4, f = (1 + 0.3·ε₁, 0.1·ε₂), angle
 * a = 2πk/5 + 0.25·exp(f₁), point 2·(f₁ cos a + f₂ sin a, -f₁ sin a + f₂ cos a). The arm is drawn at
 * random (one uniform, then two normals) rather than in equal blocks, so rows are independent.
 * No log-density: undoing the twist a(f₁) has no closed form.
 *
 * @example
 * pinwheel.sample(500, new Rng(0)); // 500×2
 */
export const pinwheel: Target = {
  name: 'pinwheel',
  dim: 2,
  description:
    'A pinwheel of 5 curved arms: make_pinwheel_data of M. J. Johnson et al., "Composing graphical models with ' +
    'neural networks for structured representations and fast inference", NeurIPS 2016, with the parameters of ' +
    'the FFJORD toy (radial std 0.3, tangential std 0.1, rate 0.25, scaled by 2). Sampling only.',
  sample(n: number, rng: RandomSource): Tensor {
    checkCount('pinwheel', n);
    const { arms, radialStd, tangentialStd, rate, scale } = PINWHEEL;
    return sample2d(n, (out, o) => {
      const k = Math.floor(arms * rng.uniform());
      const f1 = 1 + radialStd * rng.normal();
      const f2 = tangentialStd * rng.normal();
      const a = (2 * Math.PI * k) / arms + rate * Math.exp(f1);
      const c = Math.cos(a), s = Math.sin(a);
      out[o] = scale * (f1 * c + f2 * s);
      out[o + 1] = scale * (-f1 * s + f2 * c);
    });
  },
};

/**
 * Two interleaved spirals, the FFJORD toy "2spirals" (W. Grathwohl, R. T. Q. Chen et al., ICLR 2019,
 * `lib/toy_data.py`). Per row: an arm s = ±1 (one uniform), n = √u·3π (540° of turn), the point
 * s·(-n cos n + 0.5·u₁, n sin n + 0.5·u₂)/3 plus N(0, 0.1²I) noise (three more uniforms, then two normals).
 * The arm is drawn at random rather than in two equal halves, so rows are independent. Sampling only: the
 * uniform jitter makes the density a convolution with no closed form. Spans about [-3.5, 3.5]².
 *
 * @example
 * twoSpirals.sample(500, new Rng(0)); // 500×2
 */
export const twoSpirals: Target = {
  name: 'two-spirals',
  dim: 2,
  description:
    'Two interleaved spirals of 540° each, with uniform jitter and N(0, 0.1²I) noise: the "2spirals" toy of ' +
    'W. Grathwohl, R. T. Q. Chen et al., FFJORD, ICLR 2019. Sampling only.',
  sample(n: number, rng: RandomSource): Tensor {
    checkCount('two-spirals', n);
    return sample2d(n, (out, o) => {
      const sign = rng.uniform() < 0.5 ? 1 : -1;
      const t = Math.sqrt(rng.uniform()) * 3 * Math.PI;
      const jitterX = 0.5 * rng.uniform(), jitterY = 0.5 * rng.uniform();
      const x = -Math.cos(t) * t + jitterX;
      const y = Math.sin(t) * t + jitterY;
      out[o] = (sign * x) / 3 + 0.1 * rng.normal();
      out[o + 1] = (sign * y) / 3 + 0.1 * rng.normal();
    });
  },
};
