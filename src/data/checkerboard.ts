/**
 * The checkerboard: uniform on the dark squares of a 4×4 board. Its density is exact and piecewise
 * constant, so a flow's smooth density can only approximate the sharp edges.
 *
 * @module
 */

import type { Tensor } from '../autograd/tensor.ts';
import type { RandomSource } from '../rng/rng.ts';
import { checkColumns, checkCount, sample2d, type Target } from './target.ts';

const LOG_8 = Math.log(8);

/**
 * Uniform on 8 of the 16 unit squares of the board [-2, 2)²: the square [i, i+1) × [j, j+1) (i, j integers in
 * -2..1) is filled when i + j is even. The squares are half-open, so a point on the right or top edge of the
 * board is outside. Density 1/8 inside, 0 outside: `logDensity` returns log(1/8) = -2.0794 or `-Infinity`.
 * Entropy log 8 = 2.0794 nats. This is the FFJORD toy "checkerboard" (W. Grathwohl, R. T. Q. Chen et al.,
 * ICLR 2019, `lib/toy_data.py`) without its final ×2 scaling. `sample` draws two uniforms per row: x₁
 * uniform on [-2, 2), then x₂ uniform on the two squares of the right parity in that column.
 *
 * @example
 * checkerboard.logDensity!(tensor([[0.5, 0.5], [0.5, -0.5]])); // [-2.0794, -Infinity]
 */
export const checkerboard: Target = {
  name: 'checkerboard',
  dim: 2,
  entropy: LOG_8,
  description:
    'Uniform on the 8 squares [i, i+1)×[j, j+1) of the board [-2, 2)² with i + j even: the "checkerboard" toy of ' +
    'W. Grathwohl, R. T. Q. Chen et al., FFJORD, ICLR 2019 (without its ×2 scaling). Exact density 1/8 inside, ' +
    '0 outside (log-density -Infinity); entropy log 8 = 2.0794 nats.',
  sample(n: number, rng: RandomSource): Tensor {
    checkCount('checkerboard', n);
    return sample2d(n, (out, o) => {
      const x = 4 * rng.uniform() - 2; // [-2, 2)
      const column = Math.floor(x); // -2..1
      // u in [0, 2): its integer part picks the lower or the upper square, its fraction the height inside it.
      const u = 2 * rng.uniform();
      const lower = u < 1 ? -2 : 0; // rows -2 and 0 are the even rows
      const parity = ((column % 2) + 2) % 2; // 0 for columns -2 and 0, 1 for -1 and 1
      out[o] = x;
      out[o + 1] = lower + parity + (u - Math.floor(u));
    });
  },
  logDensity(x: Tensor): Float64Array {
    checkColumns('checkerboard', x, 2);
    const out = new Float64Array(x.rows);
    for (let i = 0; i < x.rows; i++) {
      const a = x.data[2 * i]!, b = x.data[2 * i + 1]!;
      const inside = a >= -2 && a < 2 && b >= -2 && b < 2 && (((Math.floor(a) + Math.floor(b)) % 2) + 2) % 2 === 0;
      out[i] = inside ? -LOG_8 : -Infinity;
    }
    return out;
  },
};
