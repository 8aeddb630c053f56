/**
 * An independent gradient check: central differences of the projection L = Σ upstream ⊙ f(inputs),
 * written here and not taken from `src/autograd/gradcheck.ts`, so that a bug in the library's
 * `gradcheck` cannot hide a bug in an op (and the other way round).
 *
 * Everything works on plain nested arrays: the tensors are rebuilt from numbers on every evaluation,
 * so no call can mutate the caller's values.
 */
import { gradcheck, tensor, type Tensor } from '../../src/autograd/index.ts';
import { assertClose, type Tol } from './assert.ts';

/** A matrix as a list of rows. */
export type Matrix = number[][];

/** An op under test, applied to tensors built from the inputs. */
export type Fn = (inputs: Tensor[]) => Tensor;

/** Tolerances for central differences with h = 1e-6 in float64 on smooth ops. */
export const FD_TOL: Tol = { rtol: 1e-5, atol: 1e-6 };

/** A rows×cols matrix read row-major from the front of `pool` (throws if the pool is too short). */
export function reshape(pool: readonly number[], rows: number, cols: number): Matrix {
  if (pool.length < rows * cols) throw new Error(`reshape: pool of ${pool.length} values is too short for ${rows}×${cols}`);
  const out: Matrix = [];
  for (let i = 0; i < rows; i++) out.push(pool.slice(i * cols, (i + 1) * cols));
  return out;
}

function copy(inputs: readonly Matrix[]): Matrix[] {
  return inputs.map((m) => m.map((row) => row.slice()));
}

/** L = Σ upstream ⊙ f(inputs), on tensors that do not record a graph. */
function project(f: Fn, inputs: readonly Matrix[], upstream: Matrix): number {
  const out = f(inputs.map((m) => tensor(m)));
  if (out.rows !== upstream.length || out.cols !== (upstream[0]?.length ?? 0)) {
    throw new Error(`project: output is ${out.rows}×${out.cols}, upstream is ${upstream.length}×${upstream[0]?.length ?? 0}`);
  }
  let s = 0;
  for (let i = 0; i < out.rows; i++) for (let j = 0; j < out.cols; j++) s += upstream[i]![j]! * out.data[i * out.cols + j]!;
  return s;
}

/** ∂L/∂inputs by central differences with step h, one input entry at a time. */
export function numericGrads(f: Fn, inputs: readonly Matrix[], upstream: Matrix, h = 1e-6): Matrix[] {
  return inputs.map((m, n) =>
    m.map((row, i) =>
      row.map((_, j) => {
        const plus = copy(inputs), minus = copy(inputs);
        plus[n]![i]![j]! += h;
        minus[n]![i]![j]! -= h;
        return (project(f, plus, upstream) - project(f, minus, upstream)) / (2 * h);
      }),
    ),
  );
}

/** The output and ∂L/∂inputs from one `backward(upstream)` on fresh tensors (zeros where no gradient arrived). */
export function analyticGrads(f: Fn, inputs: readonly Matrix[], upstream: Matrix): { output: Matrix; grads: Matrix[] } {
  const ts = inputs.map((m) => tensor(m, { requiresGrad: true }));
  const out = f(ts);
  out.backward(upstream);
  return { output: out.toArray(), grads: ts.map((t, n) => t.gradArray() ?? inputs[n]!.map((row) => row.map(() => 0))) };
}

/**
 * Fails unless backward(upstream) matches central differences for every entry of every input. The
 * upstream gradient is read from `pool` in the output's shape (a random projection, not a one-hot
 * seed, so that every output entry takes part).
 */
export function assertBackwardMatchesFD(f: Fn, inputs: readonly Matrix[], pool: readonly number[], label: string, tol: Tol = FD_TOL): void {
  const probe = f(inputs.map((m) => tensor(m)));
  const upstream = reshape(pool, probe.rows, probe.cols);
  const { grads } = analyticGrads(f, inputs, upstream);
  const numeric = numericGrads(f, inputs, upstream);
  grads.forEach((g, n) => {
    if (g.length !== inputs[n]!.length || (g[0]?.length ?? 0) !== (inputs[n]![0]?.length ?? 0)) {
      throw new Error(`${label}: gradient of input ${n} is ${g.length}×${g[0]?.length ?? 0}, the input is ${inputs[n]!.length}×${inputs[n]![0]?.length ?? 0}`);
    }
    assertClose(g, numeric[n]!, `${label}: gradient of input ${n} vs central differences`, tol);
  });
}

/**
 * Both gradient checks on fresh tensors: the independent central differences above (random upstream
 * projection) and the library's own `gradcheck` (full Jacobian and linearity in dOut).
 */
export function assertGradients(f: Fn, inputs: readonly Matrix[], pool: readonly number[], label: string, tol: Tol = FD_TOL): void {
  assertBackwardMatchesFD(f, inputs, pool, label, tol);
  gradcheck((...ts) => f(ts), inputs.map((m) => tensor(m, { requiresGrad: true })));
}
