/**
 * Gradient clipping by global L2 norm, as PyTorch's `torch.nn.utils.clip_grad_norm_`, except that a
 * non-finite norm is never multiplied into the gradients.
 *
 * @module
 */
import type { Tensor } from '../autograd/tensor.ts';
import { checkBoolean, checkNumber } from './optimizer.ts';

/**
 * Options of {@link clipGradNorm}.
 * @example clipGradNorm(params, 1, { errorIfNonFinite: false });
 */
export interface ClipGradNormOptions {
  /**
   * When the total norm is NaN or ±∞: throw a {@link NonFiniteGradientError} (true, the default) or
   * return the norm and leave every gradient untouched (false), so the caller can skip the step.
   */
  errorIfNonFinite?: boolean;
}

/**
 * Thrown by {@link clipGradNorm} when a gradient holds NaN or ±∞. The message names the first
 * offending parameter and entry.
 *
 * @example
 * try { clipGradNorm(params, 1); } catch (e) { if (e instanceof NonFiniteGradientError) skipBatch(); }
 */
export class NonFiniteGradientError extends Error {
  override readonly name = 'NonFiniteGradientError';
}

/**
 * Rescales the gradients of `params` together so that their global L2 norm is at most `maxNorm`, and
 * returns the norm they had before. Parameters whose grad is null are skipped.
 *
 * As in PyTorch, the total norm is ‖(‖g₁‖, …, ‖gₙ‖)‖₂ = √(Σ gᵢ²) over all entries, and every gradient
 * is multiplied by `maxNorm / (norm + 1e-6)` when that factor is below 1, i.e. when
 * norm > maxNorm − 1e-6 (the 1e-6 guards a zero norm). The clipped norm is then just under maxNorm.
 * If Σ gᵢ² overflows while every entry is finite, the norm is recomputed with scaling, so a huge but
 * finite gradient is clipped rather than reported as infinite.
 *
 * For a maxNorm below ~1e-300 the factor maxNorm/(‖g‖ + 1e-6) is subnormal and rounds to a multiple of
 * 4.9e-324, so the clipped norm can exceed such a maxNorm by that rounding.
 *
 * A non-finite norm (some entry is NaN or ±∞) is never applied: PyTorch by default would multiply
 * every gradient by NaN or 0. Here it throws a {@link NonFiniteGradientError} by default; with
 * `{ errorIfNonFinite: false }` it returns the NaN/∞ norm and leaves the gradients as they are.
 *
 * @example
 * loss.backward();
 * const norm = clipGradNorm(model.parameters(), 1.0); // gradients now have total norm ≤ 1
 * opt.step();
 */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number, options: ClipGradNormOptions = {}): number {
  checkNumber('clipGradNorm', 'maxNorm', maxNorm, 0);
  const errorIfNonFinite = checkBoolean('clipGradNorm', 'errorIfNonFinite', options.errorIfNonFinite ?? true);
  const list = Array.isArray(params) ? (params as readonly Tensor[]) : Array.from(params);
  let sumSquares = 0;
  for (let k = 0; k < list.length; k++) {
    const g = list[k]!.grad;
    if (g === null) continue;
    for (let i = 0; i < g.length; i++) sumSquares += g[i]! * g[i]!;
  }
  let norm = Math.sqrt(sumSquares);
  if (norm === Infinity) norm = scaledNorm(list);
  if (!Number.isFinite(norm)) {
    if (errorIfNonFinite) throw new NonFiniteGradientError(`clipGradNorm: the total gradient norm is ${norm}: ${firstNonFinite(list)}; fix the loss or pass { errorIfNonFinite: false } to skip such steps`);
    return norm;
  }
  const coefficient = maxNorm / (norm + 1e-6);
  if (coefficient < 1) {
    for (let k = 0; k < list.length; k++) {
      const g = list[k]!.grad;
      if (g === null) continue;
      for (let i = 0; i < g.length; i++) g[i] = g[i]! * coefficient;
    }
  }
  return norm;
}

/**
 * √(Σ gᵢ²) computed as s·√(Σ (gᵢ/s)²) with s = max |gᵢ|, which overflows only when the norm itself
 * exceeds the largest double. Called only when the plain sum overflowed, so no entry is NaN.
 */
function scaledNorm(list: readonly Tensor[]): number {
  let s = 0;
  for (let k = 0; k < list.length; k++) {
    const g = list[k]!.grad;
    if (g === null) continue;
    for (let i = 0; i < g.length; i++) {
      const a = Math.abs(g[i]!);
      if (a > s) s = a;
    }
  }
  if (s === Infinity) return Infinity;
  let sum = 0;
  for (let k = 0; k < list.length; k++) {
    const g = list[k]!.grad;
    if (g === null) continue;
    for (let i = 0; i < g.length; i++) {
      const x = g[i]! / s;
      sum += x * x;
    }
  }
  return s * Math.sqrt(sum);
}

function firstNonFinite(list: readonly Tensor[]): string {
  for (let k = 0; k < list.length; k++) {
    const p = list[k]!;
    const g = p.grad;
    if (g === null) continue;
    for (let i = 0; i < g.length; i++) {
      if (!Number.isFinite(g[i]!)) return `parameter ${k} (${p.rows}×${p.cols}) has grad ${g[i]} at entry (${Math.floor(i / p.cols)}, ${i % p.cols})`;
    }
  }
  return 'every gradient entry is finite, but the norm exceeds the largest double';
}
