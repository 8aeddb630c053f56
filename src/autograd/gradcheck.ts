/**
 * Gradient checking by central finite differences, in float64, after PyTorch's `gradcheck`.
 *
 * @module
 */

import { noGrad, type Tensor } from './tensor.ts';

/**
 * Options of {@link gradcheck}; the defaults are PyTorch's.
 * @example gradcheck(f, [x], { eps: 1e-6, atol: 1e-5, rtol: 1e-3, raiseOnFailure: false });
 */
export interface GradcheckOptions {
  /** Finite-difference step. Default 1e-6. */
  eps?: number;
  /** Absolute tolerance. Default 1e-5. */
  atol?: number;
  /** Relative tolerance (relative to the numerical value). Default 1e-3. */
  rtol?: number;
  /** Throw a {@link GradcheckError} when the check fails. Default true; false returns the failing report instead. */
  raiseOnFailure?: boolean;
}

/**
 * Per-input part of a {@link GradcheckReport}.
 * @example gradcheck(f, [x], { raiseOnFailure: false }).inputs[0].maxAbsError; // e.g. 3e-11
 */
export interface InputReport {
  /** Position of the input in the `inputs` array. */
  input: number;
  /** Shape of the input. */
  shape: readonly [number, number];
  /** Largest |analytic - numeric| over the input's entries and the function's outputs. */
  maxAbsError: number;
  /** Largest |analytic - numeric| / max(|numeric|, tiny) at the same points. */
  maxRelError: number;
  /** Where the worst violation (relative to the tolerance) is: input entry (row, col) and output entry. */
  worst: { row: number; col: number; outputIndex: number; analytic: number; numeric: number };
}

/**
 * What {@link gradcheck} found.
 * @example
 * const report = gradcheck(f, [x], { raiseOnFailure: false });
 * if (!report.ok) console.log(report.summary);
 */
export interface GradcheckReport {
  /** True when every entry is within `atol + rtol·|numeric|` and backward is linear in dOut. */
  ok: boolean;
  inputs: InputReport[];
  /** Largest violation of backward's linearity in dOut (relative). */
  linearityError: number;
  /** Human-readable summary, one line per input. */
  summary: string;
}

/**
 * Thrown by {@link gradcheck} on failure; carries the report.
 * @example
 * try { gradcheck(f, [x]); } catch (e) { if (e instanceof GradcheckError) console.log(e.report.summary); }
 */
export class GradcheckError extends Error {
  override readonly name = 'GradcheckError';
  constructor(readonly report: GradcheckReport) {
    super(`gradcheck failed:\n${report.summary}`);
  }
}

/** A fixed pseudo-random sequence in [-1, 1) for the linearity probe (no global randomness). */
function probe(n: number, salt: number): Float64Array {
  const out = new Float64Array(n);
  let s = (0x9e3779b9 ^ salt) >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/**
 * Checks the gradients of `f` at `inputs` against central finite differences: the full Jacobian, one
 * backward pass per output entry against two forward passes per input entry, then that backward is
 * linear in dOut. Inputs that do not require grad are left out. The inputs' `data` is perturbed in
 * place during the check and restored; their `grad` is restored too.
 *
 * @example
 * const x = tensor([[0.5, -1.2]], { requiresGrad: true });
 * gradcheck((t) => tanh(t), [x]).ok; // true (throws a GradcheckError with the report otherwise)
 */
export function gradcheck(f: (...inputs: Tensor[]) => Tensor, inputs: readonly Tensor[], options: GradcheckOptions = {}): GradcheckReport {
  const eps = options.eps ?? 1e-6, atol = options.atol ?? 1e-5, rtol = options.rtol ?? 1e-3;
  const saved = inputs.map((t) => t.grad);
  const checked = inputs.map((t, i) => ({ t, i })).filter(({ t }) => t.requiresGrad);
  if (checked.length === 0) throw new Error('gradcheck: no input requires grad; create inputs with { requiresGrad: true }');

  const out0 = f(...inputs);
  const m = out0.size;
  const evaluate = () => noGrad(() => f(...inputs).data.slice());

  // Analytic Jacobian: jac[c][o * n + e] = d out[o] / d input_c[e]
  const analytic = checked.map(({ t }) => new Float64Array(m * t.size));
  for (let o = 0; o < m; o++) {
    for (const { t } of checked) t.grad = null;
    const out = o === 0 ? out0 : f(...inputs);
    const seed = new Float64Array(m);
    seed[o] = 1;
    out.backward(seed);
    checked.forEach(({ t }, c) => {
      if (t.grad !== null) analytic[c]!.set(t.grad, o * t.size);
    });
  }

  const reports: InputReport[] = [];
  let ok = true;
  checked.forEach(({ t, i }, c) => {
    const n = t.size;
    const rep: InputReport = {
      input: i,
      shape: [t.rows, t.cols],
      maxAbsError: 0,
      maxRelError: 0,
      worst: { row: 0, col: 0, outputIndex: 0, analytic: 0, numeric: 0 },
    };
    let worstRatio = -1;
    for (let e = 0; e < n; e++) {
      const x0 = t.data[e]!;
      t.data[e] = x0 + eps;
      const plus = evaluate();
      t.data[e] = x0 - eps;
      const minus = evaluate();
      t.data[e] = x0;
      for (let o = 0; o < m; o++) {
        const numeric = (plus[o]! - minus[o]!) / (2 * eps);
        const an = analytic[c]![o * n + e]!;
        const err = Math.abs(an - numeric);
        const ratio = err / (atol + rtol * Math.abs(numeric));
        rep.maxAbsError = Math.max(rep.maxAbsError, err);
        rep.maxRelError = Math.max(rep.maxRelError, err / Math.max(Math.abs(numeric), 1e-300));
        if (!(ratio <= 1)) ok = false;
        if (ratio > worstRatio || Number.isNaN(ratio)) {
          worstRatio = Number.isNaN(ratio) ? Infinity : ratio;
          rep.worst = { row: Math.floor(e / t.cols), col: e % t.cols, outputIndex: o, analytic: an, numeric };
        }
      }
    }
    reports.push(rep);
  });

  // Linearity in dOut: grad(2·r1 + 3·r2) = 2·grad(r1) + 3·grad(r2).
  const r1 = probe(m, 1), r2 = probe(m, 2);
  const gradsFor = (seed: Float64Array) => {
    for (const { t } of checked) t.grad = null;
    f(...inputs).backward(seed);
    return checked.map(({ t }) => (t.grad ?? new Float64Array(t.size)).slice());
  };
  const g1 = gradsFor(r1), g2 = gradsFor(r2);
  const combo = new Float64Array(m);
  for (let o = 0; o < m; o++) combo[o] = 2 * r1[o]! + 3 * r2[o]!;
  const g12 = gradsFor(combo);
  let linearityError = 0;
  g12.forEach((g, c) => {
    for (let e = 0; e < g.length; e++) {
      const expected = 2 * g1[c]![e]! + 3 * g2[c]![e]!;
      linearityError = Math.max(linearityError, Math.abs(g[e]! - expected) / (1 + Math.abs(expected)));
    }
  });
  if (!(linearityError <= 1e-10)) ok = false;

  inputs.forEach((t, i) => (t.grad = saved[i]!));
  const summary = reports
    .map((r) => `input ${r.input} (${r.shape[0]}×${r.shape[1]}): max abs error ${r.maxAbsError.toExponential(3)}, max rel error ${r.maxRelError.toExponential(3)}; worst at (${r.worst.row}, ${r.worst.col}) for output ${r.worst.outputIndex}: analytic ${r.worst.analytic}, numeric ${r.worst.numeric}`)
    .concat([`backward linear in dOut: error ${linearityError.toExponential(3)}`])
    .join('\n');
  const report: GradcheckReport = { ok, inputs: reports, linearityError, summary };
  if (!ok && options.raiseOnFailure !== false) throw new GradcheckError(report);
  return report;
}

