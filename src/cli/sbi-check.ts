/**
 * `flowgrad sbi check --model DIR`: is the posterior any good? Runs the calibration diagnostics
 * (`checkPosterior`: simulation-based calibration, expected coverage, recovery with z-scores and
 * contraction, the posterior predictive check) on fresh simulations of the prior and simulator the model
 * was trained on, prints a verdict per check and per dimension with its numbers, and writes:
 * ```
 * REPORTDIR/report.json        the verdicts and the numbers behind them (no per-pair arrays; small)
 * REPORTDIR/pairs.csv          one row per pair: θ*, posterior mean, sd, z, contraction and SBC rank per
 *                              parameter, the predictive quantile per data column, the joint predictive p
 * REPORTDIR/figures/*.svg      sbc-ranks, sbc-ecdf, coverage, recovery, z-contraction
 * ```
 * each file atomically. REPORTDIR defaults to DIR/check; it is refreshed on every run, and a folder
 * holding files the check did not write is refused unless `--force`.
 *
 * Exit codes: 0 calibrated, {@link CHECK_FAILED_EXIT} when a check flags the posterior, 1 for an error
 * and 2 for a wrong command line (as every command).
 *
 * @module
 */

import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readModelConfig } from '../io/model.ts';
import { coverageFigure } from '../plot/coverage.ts';
import { recoveryFigure, zScoreContractionFigure } from '../plot/recovery.ts';
import { sbcEcdfFigure, sbcRankFigure } from '../plot/sbc.ts';
import { Rng } from '../rng/rng.ts';
import { checkPosterior, formatReport, type DiagnosticsReport } from '../sbi/diagnostics.ts';
import type { NeuralPosterior } from '../sbi/npe.ts';
import type { Simulator } from '../sbi/simulator.ts';
import { getTask } from '../sbi/tasks.ts';
import type { CommandSpec, Flags } from './args.ts';
import { CliError, UsageError } from './errors.ts';
import { mkdirp, readText, writeFileAtomic } from './fsx.ts';
import { loadSimulator } from './sbi-simulator.ts';
import { readPosterior } from './sbi-npe.ts';

/**
 * The exit code of `sbi check` when the posterior is not calibrated (0 when it is; 1 and 2 stay the
 * error codes of every command).
 * @example if ((await main(['sbi', 'check', '--model', dir])) === CHECK_FAILED_EXIT) console.log('do not trust it');
 */
export const CHECK_FAILED_EXIT = 3;

/** The defaults: sbi recommends 1,000 pairs (and warns below 100); 99 samples give ranks 0..99. */
const DEFAULT_PAIRS = 1000, DEFAULT_SAMPLES = 99, WARN_PAIRS = 100;

/** What the check writes inside REPORTDIR (and nothing else). */
const OUTPUT = { report: 'report.json', pairs: 'pairs.csv', figures: 'figures' } as const;
const FIGURES = ['sbc-ranks.svg', 'sbc-ecdf.svg', 'coverage.svg', 'recovery.svg', 'z-contraction.svg'] as const;

/**
 * The flags of `flowgrad sbi check`.
 * @example parseArgs(sbiCheckSpec, ['--model', 'runs/tm', '--pairs', '1000']);
 */
export const sbiCheckSpec: CommandSpec = {
  name: 'sbi check',
  summary:
    'Is the posterior any good? Simulation-based calibration, expected coverage, recovery (z-score, contraction) and a posterior predictive check on N fresh simulations of the prior and simulator the model was trained on; prints a verdict per check and per parameter (calibrated / overconfident / underconfident / biased) and writes report.json, pairs.csv and figures/*.svg.',
  usage: '--model DIR [--pairs N] [--samples L] [--seed S] [--out REPORTDIR] [--simulator FILE.mjs] [--force]',
  flags: {
    model: { type: 'string', value: 'DIR', help: 'the folder written by sbi train' },
    pairs: { type: 'integer', min: 10, max: 1_000_000, value: 'N', help: `(θ*, x*) pairs from the prior and the simulator (${DEFAULT_PAIRS}, as sbi recommends)` },
    samples: { type: 'integer', min: 4, max: 100_000, value: 'L', help: `posterior samples per pair (${DEFAULT_SAMPLES}: SBC ranks 0..${DEFAULT_SAMPLES})` },
    seed: { type: 'integer', min: 0, max: 4294967295, value: 'S', help: 'seed of the pairs, samples and bands (0)' },
    out: { type: 'string', value: 'REPORTDIR', help: 'where the report and figures go (DIR/check)' },
    simulator: { type: 'string', value: 'FILE.mjs', help: 'for a model trained on --simulator or --data: the simulator module to draw fresh pairs from' },
    force: { type: 'boolean', help: 'write into a REPORTDIR that holds other files' },
  },
  notes: [
    `Exit code: 0 when every check calls the posterior calibrated, ${CHECK_FAILED_EXIT} when one flags it, 1 for an error, 2 for a wrong command line.`,
    'Each check is a test at family-wise level 0.01 (Bonferroni over its tests and dimensions), so a calibrated posterior is flagged by one check with probability ≤ 1%.',
    'Examples:',
    '  flowgrad sbi check --model runs/two-moons',
    '  flowgrad sbi check --model runs/mine --simulator ./sim.mjs --pairs 2000 --out runs/mine-check',
  ],
};

/**
 * Runs `sbi check` and returns 0 (calibrated) or {@link CHECK_FAILED_EXIT}.
 * @example await sbiCheck(parseArgs(sbiCheckSpec, ['--model', 'runs/tm']));
 */
export async function sbiCheck(flags: Flags): Promise<number> {
  const dir = flags.require<string>('model');
  const posterior = readPosterior(dir);
  const out = flags.string('out') ?? join(dir, 'check');
  checkReportDir(out, flags.boolean('force') === true);
  const { simulator, label } = await checkSimulator(dir, posterior, flags.string('simulator'));
  const pairs = flags.integer('pairs') ?? DEFAULT_PAIRS, samples = flags.integer('samples') ?? DEFAULT_SAMPLES, seed = flags.integer('seed') ?? 0;
  if (pairs < WARN_PAIRS) process.stderr.write(`warning: ${pairs} pairs are few for these checks (sbi warns below ${WARN_PAIRS} and recommends ${DEFAULT_PAIRS}); a failure is still a failure, a pass means little\n`);
  process.stderr.write(`${label}: checking ${dir} on ${pairs} fresh pairs × ${samples} posterior samples (seed ${seed})\n`);
  const started = performance.now();
  const report = checkPosterior({
    prior: simulator.prior,
    simulate: (theta, rng) => simulator.simulate(theta, rng),
    posterior,
    rng: new Rng(seed),
    pairs,
    samples,
    names: posterior.meta.parameterNames,
  });
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(formatReport(report).join('\n') + '\n');

  mkdirp(join(out, OUTPUT.figures));
  const figures = checkFigures(report, posterior.meta.task ?? basename(flags.string('simulator') ?? 'simulator'));
  for (const [file, svg] of figures) writeFileAtomic(join(out, OUTPUT.figures, file), svg);
  writeFileAtomic(join(out, OUTPUT.pairs), pairsCsv(report, posterior.meta.dataNames));
  const document = { model: dir, source: label, seed, seconds, files: { pairs: OUTPUT.pairs, figures: FIGURES.map((f) => `${OUTPUT.figures}/${f}`) }, ...trimReport(report) };
  writeFileAtomic(join(out, OUTPUT.report), reportJson(document));
  process.stderr.write(`checked in ${seconds.toFixed(1)} s; wrote ${join(out, OUTPUT.report)}, ${join(out, OUTPUT.pairs)} and ${figures.length} figures in ${join(out, OUTPUT.figures)}\n`);

  if (report.verdict === 'calibrated') {
    process.stdout.write('calibrated: no check flags this posterior\n');
    return 0;
  }
  // Parameters grouped by verdict: `biased (above): theta1, theta2, theta3 and 7 more`.
  const byLabel = new Map<string, string[]>();
  for (const s of report.summary) {
    if (s.verdict === 'calibrated') continue;
    const label = `${s.verdict}${s.direction !== undefined ? ` (${s.direction})` : ''}`;
    byLabel.set(label, [...(byLabel.get(label) ?? []), s.name]);
  }
  const flagged = [...byLabel].map(([label, names]) => `${label}: ${names.length <= 4 ? names.join(', ') : `${names.slice(0, 3).join(', ')} and ${names.length - 3} more`}`);
  const joint = [report.coverage.hpd?.verdict !== 'calibrated' && report.coverage.hpd !== null ? `HPD coverage ${report.coverage.hpd.verdict}` : '', report.ppc.joint.verdict !== 'calibrated' ? `joint predictive ${report.ppc.joint.verdict}` : ''].filter((s) => s !== '');
  const predictive = report.ppc.dimensions.filter((p) => p.verdict !== 'calibrated').length;
  const parts = [...flagged, ...joint, ...(predictive > 0 ? [`${predictive} predictive dimension${predictive > 1 ? 's' : ''} biased`] : [])];
  process.stdout.write(`not calibrated (overall: ${report.verdict}) — ${parts.join('; ')}; exit code ${CHECK_FAILED_EXIT}\n`);
  return CHECK_FAILED_EXIT;
}

/** REPORTDIR may be absent, or a folder holding only what an earlier check wrote (unless --force). */
function checkReportDir(dir: string, force: boolean): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new CliError(`${dir} exists and is not a directory (--out takes the folder for the report)`);
  const own = new Set<string>(Object.values(OUTPUT));
  const foreign = readdirSync(dir).filter((f) => !own.has(f) && !f.startsWith('.'));
  if (foreign.length > 0 && !force) throw new CliError(`${dir} holds files the check did not write (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}); pass --force to write there anyway, or choose another --out`);
}

/** The task the model was trained on, or the --simulator module for a model of one's own simulations. */
async function checkSimulator(dir: string, posterior: NeuralPosterior, module: string | undefined): Promise<{ simulator: Simulator; label: string }> {
  const { task, thetaDim, xDim } = posterior.meta;
  if (task !== null) {
    if (module !== undefined) throw new UsageError(`sbi check: ${dir} was trained on task ${task}, whose prior and simulator the check uses; drop --simulator`);
    return { simulator: getTask(task), label: `task ${task}` };
  }
  if (module === undefined) {
    const source = trainingSource(dir);
    throw new CliError(`${dir} was trained on ${source ?? 'simulations of your own'}; the checks need fresh simulations: pass --simulator FILE.mjs (a module with the prior and simulator those simulations came from)`);
  }
  const loaded = await loadSimulator({ kind: 'module', path: module });
  const s = loaded.simulator;
  if (s.thetaDim !== thetaDim || s.xDim !== xDim) throw new CliError(`${loaded.label} has θ of ${s.thetaDim} and x of ${s.xDim} numbers, the model ${dir} θ of ${thetaDim} and x of ${xDim}`);
  return loaded;
}

// Where the training simulations came from, as `sbi train` recorded it (e.g. `sims.csv`, `simulator ./sim.mjs`).
function trainingSource(dir: string): string | null {
  try {
    const training = readModelConfig(readText(join(dir, 'config.json'))).extra.training as { source?: unknown } | undefined;
    return typeof training?.source === 'string' ? training.source : null;
  } catch {
    return null;
  }
}

/**
 * The five figures of a report, as [file, svg] pairs; `what` names the task or simulator in the titles
 * (kept short: the narrowest figure has two panels).
 * @example for (const [file, svg] of checkFigures(report, 'two-moons')) writeFileAtomic(join(dir, file), svg);
 */
export function checkFigures(report: DiagnosticsReport, what: string): [string, string][] {
  const names = report.names, about = `(${what}, ${report.pairs} pairs)`;
  return [
    ['sbc-ranks.svg', sbcRankFigure(report.sbc, { names, title: `SBC rank histograms ${about}` })],
    ['sbc-ecdf.svg', sbcEcdfFigure(report.sbc, { names, title: `SBC ECDF difference ${about}` })],
    ['coverage.svg', coverageFigure(report.coverage, { names, title: `expected coverage ${about}` })],
    ['recovery.svg', recoveryFigure(report.recovery, { names, title: `recovery ${about}` })],
    ['z-contraction.svg', zScoreContractionFigure(report.recovery, { names, title: `z-score, contraction ${about}` })],
  ];
}

/**
 * The report without its per-pair arrays (SBC ranks, recovery's truth/mean/sd/z/contraction, the
 * predictive quantiles and p-values: those go to pairs.csv) and without the ECDF band's simulated null
 * statistics, so that its size does not grow with N.
 * @example JSON.stringify(trimReport(report)).length; // a few kB for 1,000 pairs of 2 parameters
 */
export function trimReport(report: DiagnosticsReport): Record<string, unknown> {
  const { ranks: _ranks, ecdfBand: { nullGammas: _g, ...ecdfBand }, ...rest } = report.sbc;
  const sbc = { ...rest, ecdfBand };
  const recovery = { ...report.recovery, dimensions: report.recovery.dimensions.map(({ truth: _t, mean: _m, sd: _s, z: _z, contraction: _c, ...rest }) => rest) };
  const { pValues: _p, ...joint } = report.ppc.joint;
  const ppc = { ...report.ppc, dimensions: report.ppc.dimensions.map(({ quantiles: _q, ...rest }) => rest), joint };
  return { ...report, sbc, recovery, ppc };
}

/**
 * JSON indented by object, with arrays of numbers and strings kept on one line each and fractions
 * rounded to 6 significant digits (ample for p-values and statistics; the per-pair values in pairs.csv
 * keep every digit).
 * @example reportJson({ a: [1, 2 / 3], b: { c: 'x' } }); // '{\n "a": [1,0.666667],\n "b": {\n  "c": "x"\n }\n}\n'
 */
export function reportJson(value: unknown): string {
  const round = (_key: string, v: unknown): unknown => (typeof v === 'number' && Number.isFinite(v) && !Number.isInteger(v) ? Number(v.toPrecision(6)) : v);
  return JSON.stringify(value, round, 1).replace(/\[[^[\]{}]*\]/g, (a) => a.replace(/\s+/g, '')) + '\n';
}

/**
 * The per-pair values as CSV: for each parameter θ*, posterior mean, sd, z-score, contraction and SBC
 * rank; for each data column the predictive quantile of x*; the joint predictive p-value.
 * @example pairsCsv(report, ['x1', 'x2']).split('\n')[0]; // 'theta1_true,theta1_mean,...,ppc_p'
 */
export function pairsCsv(report: DiagnosticsReport, dataNames: readonly string[]): string {
  const header: string[] = [];
  for (const name of report.names) header.push(...['true', 'mean', 'sd', 'z', 'contraction', 'rank'].map((k) => `${name}_${k}`));
  for (const p of report.ppc.dimensions) header.push(`${dataNames[p.dim] ?? `x${p.dim + 1}`}_ppc_quantile`);
  header.push('ppc_p');
  const lines = [header.join(',')];
  for (let i = 0; i < report.pairs; i++) {
    const row: number[] = [];
    report.recovery.dimensions.forEach((r, j) => row.push(r.truth[i]!, r.mean[i]!, r.sd[i]!, r.z[i]!, r.contraction[i]!, report.sbc.ranks[j]![i]!));
    for (const p of report.ppc.dimensions) row.push(p.quantiles[i]!);
    row.push(report.ppc.joint.pValues[i]!);
    lines.push(row.map((v) => (Number.isFinite(v) ? String(v) : '')).join(','));
  }
  return lines.join('\n') + '\n';
}
