/**
 * Is the posterior any good? One call runs every calibration check on simulations where the truth is
 * known: simulation-based calibration (`sbc.ts`), expected coverage (`coverage.ts`), recovery with
 * z-scores and contraction (`recovery.ts`) and the posterior predictive check (`ppc.ts`), all on one
 * batched set of N pairs and L posterior samples each (`diagnostics-set.ts`). The report is plain data
 * (JSON.stringify-able) with a verdict per check and per dimension, and {@link formatReport} prints it.
 *
 * @module
 */

import { checkOptionKeys } from '../autograd/options.ts';
import type { EcdfBand } from './diagnostics-band.ts';
import { simulateCalibrationSet, type CalibrationSetOptions, type Direction, type Verdict } from './diagnostics-set.ts';
import { expectedCoverage, type CoverageCurve, type CoverageResult } from './coverage.ts';
import { posteriorPredictiveCheck, type PpcResult } from './ppc.ts';
import { recovery, type RecoveryResult } from './recovery.ts';
import { sbc, type SbcResult } from './sbc.ts';

/**
 * The combined verdict for one dimension of θ, with each check's own.
 * @example report.summary[0]; // { dim: 0, name: 'θ₁', verdict: 'calibrated', sbc: 'calibrated', ... }
 */
export interface DimensionSummary {
  dim: number;
  name: string;
  sbc: Verdict;
  coverage: Verdict;
  recovery: Verdict;
  /** The most frequent non-calibrated verdict among the three checks (ties: SBC, then recovery, then coverage), else `calibrated`. */
  verdict: Verdict;
  /** For `biased`: which way (from SBC, else recovery). */
  direction?: Direction;
}

/**
 * Everything {@link checkPosterior} found.
 * @example const report = checkPosterior({ prior, simulate, posterior, rng }); report.verdict;
 */
export interface DiagnosticsReport {
  pairs: number;
  samples: number;
  /** Pairs dropped because the simulator returned non-finite values. */
  dropped: number;
  alpha: number;
  /** Parameter names (θ₁, θ₂, … unless given). */
  names: string[];
  sbc: SbcResult;
  coverage: CoverageResult;
  recovery: RecoveryResult;
  ppc: PpcResult;
  summary: DimensionSummary[];
  /** `calibrated` when every dimension and the joint checks are; else the most frequent problem. */
  verdict: Verdict;
}

/**
 * Options of {@link checkPosterior}: those of the calibration set (prior, simulator, posterior, the
 * generator, N and L; see `simulateCalibrationSet`) and the checks' own.
 * @example checkPosterior({ prior, simulate, posterior, rng: new Rng(0), pairs: 1000, samples: 99 });
 */
export interface CheckPosteriorOptions extends CalibrationSetOptions {
  /** Family-wise level of every check (default 0.01). */
  alpha?: number;
  /** Predictive draws per pair for the posterior predictive check (default min(50, L)). */
  draws?: number;
  /** Names of the parameters, for the report and the figures. */
  names?: readonly string[];
  /** A precomputed ECDF band for N and the SBC's K (see `sbc`), to skip its simulation. */
  band?: EcdfBand;
}

const CHECK_KEYS = ['prior', 'simulate', 'posterior', 'rng', 'pairs', 'samples', 'alpha', 'draws', 'names', 'band'];

/**
 * Runs every calibration check on one batched calibration set and returns the report (see the module
 * comment). The cost is one prior draw of N, one simulator call of N, one posterior sampling call of
 * N·L (plus two log-density calls when the posterior has `logProb`) and one simulator call of N·P.
 *
 * @example
 * const report = checkPosterior({ prior, simulate, posterior, rng: new Rng(7) });
 * report.summary.map((s) => `${s.name}: ${s.verdict}`); // ['θ₁: calibrated', 'θ₂: calibrated']
 * JSON.stringify(report); // the JSON report
 */
export function checkPosterior(options: CheckPosteriorOptions): DiagnosticsReport {
  checkOptionKeys('checkPosterior', options, CHECK_KEYS);
  const { rng } = options;
  const alpha = options.alpha ?? 0.01;
  const set = simulateCalibrationSet({
    prior: options.prior,
    simulate: options.simulate,
    posterior: options.posterior,
    rng,
    ...(options.pairs !== undefined ? { pairs: options.pairs } : {}),
    ...(options.samples !== undefined ? { samples: options.samples } : {}),
  });
  const d = set.theta.cols;
  const names = options.names !== undefined ? [...options.names] : defaultNames(d);
  if (names.length !== d) throw new RangeError(`checkPosterior: ${names.length} names for ${d} parameters`);
  const sbcResult = sbc(set, { rng, alpha, ...(options.band !== undefined ? { band: options.band } : {}) });
  const coverage = expectedCoverage(set, { rng, alpha });
  const rec = recovery(set, { alpha });
  const ppc = posteriorPredictiveCheck(set, { simulate: options.simulate, rng, alpha, ...(options.draws !== undefined ? { draws: options.draws } : {}) });
  const summary: DimensionSummary[] = names.map((name, j) => {
    const s = sbcResult.dimensions[j]!, c = coverage.central[j]!, r = rec.dimensions[j]!;
    const verdict = combine([s.verdict, r.verdict, c.verdict]);
    const out: DimensionSummary = { dim: j, name, sbc: s.verdict, coverage: c.verdict, recovery: r.verdict, verdict };
    if (verdict === 'biased') out.direction = (s.direction ?? r.direction)!;
    return out;
  });
  const joint: Verdict[] = summary.map((s) => s.verdict);
  if (coverage.hpd !== null) joint.push(coverage.hpd.verdict);
  joint.push(ppc.joint.verdict, ...ppc.dimensions.map((p) => p.verdict));
  return { pairs: set.theta.rows, samples: set.perPair, dropped: set.dropped, alpha, names, sbc: sbcResult, coverage, recovery: rec, ppc, summary, verdict: combine(joint) };
}

/**
 * The report as lines of text, one per check and dimension: the verdict (and direction) with the numbers
 * behind it.
 *
 * @example
 * console.log(formatReport(report).join('\n'));
 * // SBC         θ₁  calibrated      χ² p 0.412  ECDF p 0.620  mean rank 0.497
 * // ...
 */
export function formatReport(report: DiagnosticsReport): string[] {
  const lines: string[] = [];
  const width = Math.max(5, ...report.names.map((n) => n.length));
  const label = (v: Verdict, dir?: Direction) => (v === 'biased' && dir !== undefined ? `biased (${dir})` : v).padEnd(16);
  const name = (s: string) => s.padEnd(width);
  lines.push(`${report.pairs} pairs × ${report.samples} posterior samples${report.dropped > 0 ? ` (${report.dropped} non-finite simulations dropped)` : ''}, family-wise α = ${report.alpha} per check`);
  for (const s of report.sbc.dimensions) {
    lines.push(`SBC        ${name(report.names[s.dim]!)}  ${label(s.verdict, s.direction)} χ² p ${p3(s.chiSquareP)}  ECDF p ${p3(s.ecdfP)}  mean rank ${s.meanRank.toFixed(3)}  shift z ${s.shiftZ.toFixed(2)}  spread z ${s.spreadZ.toFixed(2)}`);
  }
  const curve = (c: CoverageCurve, what: string) =>
    `coverage   ${name(what)}  ${label(c.verdict)} dip below ${c.dipBelow.toFixed(3)} (p ${p3(c.overconfidenceP)})  rise above ${c.riseAbove.toFixed(3)} (p ${p3(c.underconfidenceP)})`;
  if (report.coverage.hpd !== null) lines.push(curve(report.coverage.hpd, 'HPD'));
  for (const c of report.coverage.central) lines.push(curve(c, report.names[c.dim!]!));
  for (const r of report.recovery.dimensions) {
    lines.push(`recovery   ${name(report.names[r.dim]!)}  ${label(r.verdict, r.direction)} median z ${r.medianZ.toFixed(2)}  mean z² ${r.meanZ2.toFixed(2)} (calibrated ${r.expectedZ2.toFixed(2)})  contraction ${r.medianContraction.toFixed(3)}  r ${r.correlation.toFixed(3)}`);
  }
  for (const p of report.ppc.dimensions) {
    lines.push(`predictive ${name(`x${subscript(p.dim + 1)}`)}  ${label(p.verdict, p.direction)} mean quantile ${p.meanQuantile.toFixed(3)} (p ${p3(p.shiftP)})  outside central ${(100 * (1 - report.ppc.tail)).toFixed(0)}%: ${(100 * p.outsideFraction).toFixed(1)}%`);
  }
  const j = report.ppc.joint;
  lines.push(`predictive ${name('joint')}  ${label(j.verdict)} outliers (p ≤ ${report.ppc.tail}) ${(100 * j.outlierFraction).toFixed(1)}% against a bound of ${(100 * j.bound).toFixed(0)}% (p ${p3(j.p)})`);
  for (const s of report.summary) lines.push(`verdict    ${name(s.name)}  ${label(s.verdict, s.direction)}`);
  lines.push(`verdict    ${name('all')}  ${report.verdict}`);
  return lines;
}

// The most frequent non-calibrated verdict, earlier entries winning ties; `calibrated` when there is none.
function combine(verdicts: readonly Verdict[]): Verdict {
  let best: Verdict = 'calibrated', bestCount = 0;
  for (const v of verdicts) {
    if (v === 'calibrated') continue;
    const count = verdicts.filter((w) => w === v).length;
    if (count > bestCount) {
      best = v;
      bestCount = count;
    }
  }
  return best;
}

function defaultNames(d: number): string[] {
  return Array.from({ length: d }, (_, j) => `θ${subscript(j + 1)}`);
}

function subscript(k: number): string {
  return String(k).replace(/\d/g, (c) => '₀₁₂₃₄₅₆₇₈₉'[Number(c)]!);
}

function p3(p: number): string {
  return p < 0.001 ? p.toExponential(1) : p.toFixed(3);
}
