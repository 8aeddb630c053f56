/**
 * Small models, data and weight snapshots for the training tests: a 2-layer RealNVP with 8 hidden units
 * (a few hundred parameters, fast enough to train for twenty epochs in a fraction of a second), the
 * post-mixture data, and exact (bit-for-bit) comparisons of parameter sets.
 */
import * as assert from 'uvu/assert';
import type { Tensor } from '../../../src/autograd/tensor.ts';
import { getDataset } from '../../../src/data/datasets.ts';
import { Rng } from '../../../src/rng/rng.ts';
import { RealNVP } from '../../../src/flow/real-nvp.ts';

/** The blog post's two-Gaussian target (exact density and entropy). */
export const postMixture = getDataset('post-mixture');

/** A small default-preset RealNVP whose weights depend only on `seed`. */
export function smallFlow(seed = 0): RealNVP {
  return new RealNVP({ dim: 2, layers: 2, hidden: 8, rng: new Rng(seed) });
}

/** n rows of the post-mixture, a function of `seed` only. */
export function postData(n: number, seed: number): Tensor {
  return postMixture.sample(n, new Rng(seed));
}

/** Copies of every parameter's values, in `parameters()` order. */
export function snapshot(model: { parameters(): Tensor[] }): Float64Array[] {
  return model.parameters().map((p) => p.data.slice());
}

/** Writes a snapshot back into a model with the same architecture. */
export function load(model: { parameters(): Tensor[] }, values: readonly Float64Array[]): void {
  const params = model.parameters();
  assert.is(params.length, values.length, 'number of parameter tensors');
  params.forEach((p, k) => p.data.set(values[k]!));
}

/** Fails unless both parameter sets are bit-identical (Object.is per entry), naming the first difference. */
export function assertSameWeights(actual: readonly Float64Array[], expected: readonly Float64Array[], label: string): void {
  assert.is(actual.length, expected.length, `${label}: number of parameter tensors`);
  for (let k = 0; k < actual.length; k++) {
    const a = actual[k]!, e = expected[k]!;
    assert.is(a.length, e.length, `${label}: size of parameter ${k}`);
    for (let i = 0; i < a.length; i++) {
      if (!Object.is(a[i], e[i])) assert.unreachable(`${label}: parameter ${k} entry ${i} is ${a[i]}, expected exactly ${e[i]}`);
    }
  }
}

/** The largest |a - b| over all entries of two parameter sets of the same shapes. */
export function maxAbsDiff(a: readonly Float64Array[], b: readonly Float64Array[]): number {
  let m = 0;
  for (let k = 0; k < a.length; k++) for (let i = 0; i < a[k]!.length; i++) m = Math.max(m, Math.abs(a[k]![i]! - b[k]![i]!));
  return m;
}

/** True when every entry of every parameter is finite. */
export function allFinite(values: readonly Float64Array[]): boolean {
  return values.every((a) => a.every((v) => Number.isFinite(v)));
}

/** The total L2 norm of the parameters' gradients (null grads count as zero). */
export function gradNorm(params: readonly Tensor[]): number {
  let s = 0;
  for (const p of params) if (p.grad !== null) for (let i = 0; i < p.grad.length; i++) s += p.grad[i]! ** 2;
  return Math.sqrt(s);
}
