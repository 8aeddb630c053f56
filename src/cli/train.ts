/**
 * `flowgrad train`: trains a RealNVP on a toy data set or a CSV file and writes a run folder (see
 * `run-dir.ts`): the weights, the config, the history, the test metrics and the figures.
 *
 * @module
 */

import { totalmem } from 'node:os';
import { basename, join, relative, resolve as resolvePath } from 'node:path';
import { datasets } from '../data/datasets.ts';
import type { Target } from '../data/target.ts';
import { COUPLING_KINDS, RealNVP, SPLINE_DEFAULTS, type CouplingKind } from '../flow/real-nvp.ts';
import { Standardize } from '../flow/standardize.ts';
import { Whiten } from '../flow/whiten.ts';
import { readModelConfig, saveModel } from '../io/model.ts';
import { loadSafetensors } from '../io/safetensors.ts';
import { Rng } from '../rng/rng.ts';
import type { CommandSpec, Flags } from './args.ts';
import { checkColumnScales, datasetByName, defaultColumns, readCsv, splitDataset, splitRows, streams, type CsvOptions, type DataSplit } from './data.ts';
import { CliError, UsageError } from './errors.ts';
import { runInWorker } from './fit-worker.ts';
import { faultCount, formatBytes, readBytes, removeTree } from './fsx.ts';
import { formatDuration, Progress } from './progress.ts';
import { DEFAULT_RECIPE, POST_RECIPE, recipeFor, SPLINE_RECIPE, type LrPlateau, type Recipe } from './recipes.ts';
import { csvPathOf, isRegularFile, RUN_LIMITS, type DataSource, type TrainingRecord } from './run-dir.ts';
import { besideRun, planOut, recoverSwap, RUN_FILES } from './run-out.ts';
import { formatCount, formatEvaluation, jsonNumbers } from './report.ts';
import { RUN_METADATA, type JobOutcome, type Matrix, type RunSpec, type TrainJob } from './train-job.ts';

/** The RealNVP class's own defaults, for the help text. */
const CLASS_DEFAULTS = (() => {
  const c = new RealNVP({ dim: 2, rng: new Rng(0) }).config;
  return { layers: c.layers, hidden: c.hidden, depth: c.depth };
})();

/** `default: X, post: Y`, or `X` when the presets agree. */
function both(get: (r: Recipe) => string | number): string {
  const d = get(DEFAULT_RECIPE), p = get(POST_RECIPE);
  return d === p ? `default: ${d}` : `default preset: ${d}; post: ${p}`;
}

/**
 * The flags and help text of `flowgrad train`, with each default read from the recipes.
 * @example parseArgs(trainSpec, ['--dataset', 'post-mixture', '--out', 'runs/post', '--epochs', '100']);
 */
export const trainSpec: CommandSpec = {
  name: 'train',
  summary: 'Trains a RealNVP normalizing flow on a toy data set or on your CSV file, and writes DIR/model.safetensors, DIR/config.json, DIR/history.csv, DIR/metrics.json and DIR/figures/*.svg.',
  usage: '--dataset NAME | --data FILE.csv|-  --out DIR  [options]   or   --resume DIR [--epochs N] [--lr X]',
  flags: {
    dataset: { type: 'string', value: 'NAME', choices: Object.keys(datasets), help: 'train on a toy data set with a known density' },
    data: { type: 'string', value: 'FILE.csv', help: "train on a numeric CSV file (optional header row); '-' reads standard input" },
    out: { type: 'string', value: 'DIR', help: 'the run folder to write (refused if it exists and is not empty, unless --force)' },
    preset: { type: 'string', choices: ['default', 'post'], help: "the recipe: 'post' = the blog post's model and training; 'default' = ours (default)" },
    layers: { type: 'integer', min: 1, max: 10_000, help: `coupling layers (${both((r) => r.model.layers ?? CLASS_DEFAULTS.layers)})` },
    hidden: { type: 'integer', min: 1, max: 100_000, help: `hidden width of the conditioners (${both((r) => r.model.hidden ?? CLASS_DEFAULTS.hidden)})` },
    depth: { type: 'integer', min: 1, max: 100, help: `hidden layers per conditioner, default preset only (${DEFAULT_RECIPE.model.depth ?? CLASS_DEFAULTS.depth})` },
    coupling: { type: 'string', choices: COUPLING_KINDS, help: `the couplings, default preset only: affine, spline (rational-quadratic splines; the spline recipe: ${SPLINE_RECIPE.model.layers} layers, hidden ${SPLINE_RECIPE.model.hidden}) or alternating (spline and affine in turn) (${DEFAULT_RECIPE.model.coupling ?? 'affine'})` },
    bins: { type: 'integer', min: 2, max: 64, value: 'K', help: `spline bins, with --coupling spline|alternating (spline: ${SPLINE_RECIPE.model.bins}; alternating: ${SPLINE_DEFAULTS.bins})` },
    bound: { type: 'number', min: 0, exclusiveMin: true, value: 'B', help: `the splines act on [-B, B] of the standardised (or whitened) features, identity outside, with --coupling spline|alternating (spline: ${SPLINE_RECIPE.model.splineBound}; alternating: ${SPLINE_DEFAULTS.splineBound})` },
    epochs: { type: 'integer', min: 1, help: `passes over the training rows (${both((r) => r.epochs)})` },
    'batch-size': { type: 'integer', min: 1, value: 'N', help: `rows per minibatch (${both((r) => r.batchSize)})` },
    lr: { type: 'number', min: 0, exclusiveMin: true, help: `Adam's learning rate (${both((r) => r.lr)})` },
    seed: { type: 'integer', min: 0, max: 4294967295, value: 'S', help: 'seed of the data, weights, shuffles and figures (0)' },
    n: { type: 'integer', min: 2, help: `training points drawn from --dataset (${both((r) => r.trainPoints)})` },
    'test-n': { type: 'integer', min: 1, value: 'N', help: `fresh test points drawn from --dataset (${both((r) => r.testPoints)})` },
    'val-fraction': { type: 'number', min: 0, max: 1, exclusiveMax: true, value: 'F', help: `training rows held out for validation, 0 = none (${both((r) => r.valFraction)})` },
    'test-fraction': { type: 'number', min: 0, max: 1, exclusiveMin: true, exclusiveMax: true, value: 'F', help: `rows of --data held out as the test set (${both((r) => r.testFraction)})` },
    standardize: { type: 'boolean', help: `standardise features inside the model; --no-standardize to turn off (${both((r) => (r.standardize && !r.whiten ? 'on' : 'off'))}; spline: ${SPLINE_RECIPE.standardize && !SPLINE_RECIPE.whiten ? 'on' : 'off'})` },
    whiten: { type: 'boolean', help: `whiten features inside the model instead (PCA: principal components of unit variance, interleaved between the coupling halves), default preset only; --no-whiten to standardise instead (default: ${DEFAULT_RECIPE.whiten ? 'on' : 'off'}; spline: ${SPLINE_RECIPE.whiten ? 'on' : 'off'})` },
    patience: { type: 'integer', min: 0, help: `stop after N epochs without a better validation NLL, 0 = never (${both((r) => r.patience ?? 'never')}; spline: ${SPLINE_RECIPE.patience ?? 'never'})` },
    ema: { type: 'number', min: 0, max: 1, exclusiveMax: true, value: 'D', help: `average the weights with decay D for validation and the result, 0 = off (${both((r) => r.ema ?? 'off')})` },
    noise: { type: 'number', min: 0, value: 'F', help: `add Gaussian noise of F × each feature's std to every training batch (noise regularisation), 0 = off (${both((r) => r.noise ?? 'off')}; spline: ${SPLINE_RECIPE.noise ?? 'off'})` },
    'lr-plateau': { type: 'string', value: 'P[,F[,restore]]', help: `multiply the learning rate by F (0.5) after every P epochs without a better validation NLL; 'restore' also puts the best weights back at each cut; 0 = a constant rate (${both((r) => describePlateau(r.lrPlateau))}; spline: ${describePlateau(SPLINE_RECIPE.lrPlateau)})` },
    'clip-grad-norm': { type: 'number', min: 0, exclusiveMin: true, value: 'X', help: `clip the gradient norm to X (${both((r) => r.clipGradNorm ?? 'off')})` },
    quiet: { type: 'boolean', help: 'print only the final summary' },
    json: { type: 'boolean', help: 'print one JSON object at the end (and nothing else on stdout)' },
    force: { type: 'boolean', help: "replace an earlier run in --out DIR (only the files a flowgrad run wrote; yours are kept)" },
    resume: { type: 'string', value: 'DIR', help: 'continue an interrupted or diverged run from its checkpoint (--epochs, --lr, --clip-grad-norm may change)' },
    'checkpoint-every': { type: 'number', min: 0, value: 'SECONDS', help: 'seconds between checkpoints, 0 = every epoch (10)' },
    figures: { type: 'boolean', help: 'draw DIR/figures/*.svg; --no-figures to skip them (faster for large models; flowgrad plot draws them later)' },
    'allow-large': { type: 'boolean', help: 'allow a model, data set or file above the size limits (a memory estimate is checked first)' },
    header: { type: 'boolean', help: 'the CSV file has a header row (--no-header: it has none; default: detected)' },
    delimiter: { type: 'string', value: 'CHAR', help: "the CSV field separator (','; 'tab' for tabs)" },
    columns: { type: 'string', value: 'A,B,...', help: 'the CSV columns to train on, by name or 0-based index (default: all but an index column)' },
  },
  notes: [
    `Data sets: ${Object.keys(datasets).join(', ')}.`,
    'Toy data: --n training points and --test-n fresh test points. CSV: --test-fraction of the rows are the test set.',
    'Ctrl-C stops training after the current step and writes the run folder with the best (or last) weights',
    'and a checkpoint (exit code 130); continue with --resume DIR. A second Ctrl-C skips the evaluation and',
    'figures: only the checkpoint is written; a third quits at once (the last checkpoint, at most',
    '--checkpoint-every seconds old, stays beside DIR). A run that diverges (NaN, or an exploding loss) keeps',
    'its last good state in DIR, marked diverged, and exits 1 with what to try.',
    '',
    'Examples:',
    '  flowgrad train --dataset post-mixture --preset post --out runs/post',
    '  flowgrad train --data measurements.csv --out runs/mine',
    '  flowgrad train --data export.csv --delimiter ";" --columns height,weight --out runs/hw',
    '  flowgrad train --resume runs/mine',
  ],
};

/** The resolved options of a training run. */
interface Resolved {
  recipe: Recipe;
  seed: number;
  epochs: number;
  batchSize: number;
  lr: number;
  valFraction: number;
  testFraction: number;
  patience: number | null;
  clipGradNorm: number | null;
  ema: number | null;
  noise: number | null;
  lrPlateau: LrPlateau | null;
  standardize: boolean;
  whiten: boolean;
  trainPoints: number;
  testPoints: number;
  layers: number | undefined;
  hidden: number | undefined;
  depth: number | undefined;
  coupling: CouplingKind | undefined;
  bins: number | undefined;
  splineBound: number | undefined;
}

function resolve(flags: Flags): Resolved {
  const preset = (flags.string('preset') ?? 'default') as 'default' | 'post';
  const recipe = recipeFor(preset, flags.string('coupling') as CouplingKind | undefined);
  if (preset === 'post' && flags.has('depth')) throw new UsageError("train: --depth applies to the default preset only (the post's conditioners have one hidden layer); see flowgrad train --help");
  if (preset === 'post' && flags.has('coupling')) throw new UsageError("train: --coupling applies to the default preset only (the post's couplings are affine); see flowgrad train --help");
  const coupling = (flags.string('coupling') as CouplingKind | undefined) ?? recipe.model.coupling;
  const splineFlag = ['bins', 'bound'].find((f) => flags.has(f));
  if (splineFlag !== undefined && (coupling === undefined || coupling === 'affine')) throw new UsageError(`train: --${splineFlag} applies to spline couplings; add --coupling spline (or alternating); see flowgrad train --help`);
  const spline = coupling !== undefined && coupling !== 'affine';
  if (preset === 'post' && flags.boolean('whiten') === true) throw new UsageError("train: --whiten applies to the default preset only (the post's model standardises at most); see flowgrad train --help");
  if (flags.boolean('whiten') === true && flags.boolean('standardize') === true) throw new UsageError('train: --whiten and --standardize exclude each other (whitening also centres and scales the features); give one; see flowgrad train --help');
  // Whitening replaces the standardisation: --standardize turns a recipe's whitening off, --whiten its standardisation.
  const whiten = preset === 'default' && (flags.boolean('whiten') ?? (flags.boolean('standardize') === true ? false : recipe.whiten));
  const valFraction = flags.number('val-fraction') ?? recipe.valFraction;
  let patience = flags.integer('patience') ?? recipe.patience;
  if (patience === 0) patience = null;
  if (patience !== null && valFraction === 0) {
    if (flags.has('patience')) throw new UsageError('train: --patience needs validation rows (--val-fraction > 0); see flowgrad train --help');
    patience = null;
  }
  const plateauText = flags.string('lr-plateau');
  let lrPlateau = plateauText !== undefined ? parseLrPlateau(plateauText) : recipe.lrPlateau;
  if (lrPlateau !== null && valFraction === 0) {
    if (plateauText !== undefined) throw new UsageError('train: --lr-plateau needs validation rows (--val-fraction > 0); see flowgrad train --help');
    lrPlateau = null;
  }
  return {
    recipe,
    seed: flags.integer('seed') ?? 0,
    epochs: flags.integer('epochs') ?? recipe.epochs,
    batchSize: flags.integer('batch-size') ?? recipe.batchSize,
    lr: flags.number('lr') ?? recipe.lr,
    valFraction,
    testFraction: flags.number('test-fraction') ?? recipe.testFraction,
    patience,
    clipGradNorm: flags.number('clip-grad-norm') ?? recipe.clipGradNorm,
    ema: flags.has('ema') ? (flags.number('ema')! > 0 ? flags.number('ema')! : null) : recipe.ema,
    noise: flags.has('noise') ? (flags.number('noise')! > 0 ? flags.number('noise')! : null) : recipe.noise,
    lrPlateau,
    standardize: !whiten && (flags.boolean('standardize') ?? recipe.standardize),
    whiten,
    trainPoints: flags.integer('n') ?? recipe.trainPoints,
    testPoints: flags.integer('test-n') ?? recipe.testPoints,
    layers: flags.integer('layers') ?? recipe.model.layers,
    hidden: flags.integer('hidden') ?? recipe.model.hidden,
    depth: flags.integer('depth') ?? recipe.model.depth,
    coupling,
    bins: spline ? flags.integer('bins') ?? recipe.model.bins : undefined,
    splineBound: spline ? flags.number('bound') ?? recipe.model.splineBound : undefined,
  };
}

/**
 * Parses `--lr-plateau P[,F[,restore]]`: P epochs without a better validation NLL (an integer >= 1),
 * the factor F in (0, 1) (default 0.5), and 'restore' to go back to the best weights at each cut;
 * `0` is a constant rate (null).
 * @example parseLrPlateau('40'); // { patience: 40, factor: 0.5, restoreBest: false }
 * parseLrPlateau('20,0.3,restore'); // { patience: 20, factor: 0.3, restoreBest: true }
 */
export function parseLrPlateau(text: string): LrPlateau | null {
  const bad = (why: string) => new UsageError(`train: --lr-plateau ${JSON.stringify(text)}: ${why}; give P[,F[,restore]], e.g. 40 or 20,0.3,restore (0 = a constant rate); see flowgrad train --help`);
  const parts = text.split(',');
  if (parts.length > 3) throw bad(`${parts.length} parts, at most 3`);
  const [p, f, r] = parts as [string, string | undefined, string | undefined];
  if (!/^\d+$/.test(p)) throw bad(`P must be a whole number of epochs, got ${JSON.stringify(p)}`);
  const patience = Number(p);
  if (patience === 0) {
    if (parts.length > 1) throw bad('0 (a constant rate) takes no factor');
    return null;
  }
  if (!Number.isSafeInteger(patience)) throw bad(`P is too large`);
  const factor = f === undefined ? 0.5 : /^(\d+\.?\d*|\.\d+)(e-?\d+)?$/i.test(f) ? Number(f) : NaN;
  if (!(factor > 0 && factor < 1)) throw bad(`F must be a number in (0, 1), got ${JSON.stringify(f)}`);
  if (r !== undefined && r !== 'restore') throw bad(`the third part can only be 'restore', got ${JSON.stringify(r)}`);
  return { patience, factor, restoreBest: r === 'restore' };
}

/** `P,F` (`,restore`) as the flag takes it, or 'off'. */
function describePlateau(p: LrPlateau | null): string {
  return p === null ? 'off' : `${p.patience},${p.factor}${p.restoreBest ? ',restore' : ''}`;
}

/**
 * The size of a model and of its training, estimated from the options before anything is allocated.
 * @example estimateSize({ preset: 'post', dim: 2, layers: 16, hidden: 64, depth: 1, batchSize: 64, rows: 1000 }).parameters; // 8,480
 */
export function estimateSize(o: { preset: 'default' | 'post'; dim: number; layers: number; hidden: number; depth: number; batchSize: number; rows: number; bins?: number }): { parameters: number; bytes: number } {
  const dA = Math.floor(o.dim / 2), dB = o.dim - dA, h = o.hidden;
  // Outputs per transformed feature: s and t (affine), or the spline's 3K−1 logits (spline couplings, K = bins).
  const outs = o.bins !== undefined ? 3 * o.bins - 1 : 2;
  const perLayer = o.preset === 'post'
    ? 2 * (Math.max(dA, dB) * h + h + h * Math.max(dA, dB) + Math.max(dA, dB))
    : Math.max(dA, dB) * h + h + (o.depth - 1) * (h * h + h) + h * outs * Math.max(dA, dB) + outs * Math.max(dA, dB);
  const parameters = o.layers * perLayer;
  // Weights, gradients, Adam's two moments, the last good copy, best and averaged weights, checkpoint
  // copies: about 12 copies; activations and their gradients: ~6 per hidden unit per row per layer.
  const activations = Math.min(o.batchSize, o.rows) * h * Math.max(1, o.depth) * o.layers * 6;
  const bytes = 8 * (12 * parameters + activations + 4 * o.rows * o.dim);
  return { parameters, bytes };
}

/** The limits that --allow-large lifts. */
const LIMITS = { parameters: 20_000_000, bytes: Math.min(4e9, totalmem() / 2), dataBytes: 2 ** 30 };

function checkSize(size: { parameters: number; bytes: number }, allowLarge: boolean, what: string): void {
  const budget = allowLarge ? totalmem() * 0.8 : LIMITS.bytes;
  if (size.bytes > budget) {
    throw new CliError(`${what} needs about ${formatBytes(size.bytes)} of memory (${formatCount(size.parameters)} parameters), over ${allowLarge ? "80% of this machine's memory" : `the limit of ${formatBytes(budget)}`}${allowLarge ? '' : '; pass --allow-large to allow up to 80% of the memory'}, or choose fewer --layers / a smaller --hidden / fewer points`);
  }
  if (!allowLarge && size.parameters > LIMITS.parameters) {
    throw new CliError(`${what} has about ${formatCount(size.parameters)} parameters, over the limit of ${formatCount(LIMITS.parameters)}; pass --allow-large if you mean it`);
  }
}

/** The files a run writes (for the --force check of user files in the way). */
const RUN_WRITES = [RUN_FILES.weights, RUN_FILES.config, RUN_FILES.history, RUN_FILES.metrics, RUN_FILES.checkpoint, ...['layers.svg', 'samples.svg', 'density.svg', 'loss.svg'].map((f) => `${RUN_FILES.figures}/${f}`)];

function matrix(t: { rows: number; cols: number; data: Float64Array }): Matrix {
  return { rows: t.rows, cols: t.cols, data: t.data };
}

function csvOptions(flags: Flags): CsvOptions {
  const delimiter = flags.string('delimiter');
  const columns = flags.string('columns');
  const d = delimiter === 'tab' || delimiter === '\\t' ? '\t' : delimiter;
  if (d !== undefined && d.length !== 1) throw new UsageError(`train: --delimiter must be one character (or 'tab'), got ${JSON.stringify(delimiter)}; see flowgrad train --help`);
  return {
    ...(flags.has('header') ? { header: flags.boolean('header')! } : {}),
    ...(d !== undefined ? { delimiter: d } : {}),
    ...(columns !== undefined ? { columns: columns.split(',').map((c) => c.trim()) } : {}),
    maxBytes: flags.boolean('allow-large') === true ? 2 ** 40 : LIMITS.dataBytes,
  };
}

/** The data of a run, rebuilt from its recorded source (resume): a toy data set from its seed, or the CSV file checked by its hash. */
function dataOf(dir: string, source: DataSource, training: TrainingRecord): { split: DataSplit; target: Target | undefined } {
  const s = streams(training.seed);
  if (source.source === 'dataset') {
    const target = datasetByName(source.dataset);
    return { split: splitDataset(target, source.trainPoints, source.testPoints, training.valFraction, s), target };
  }
  if (source.path === '-') throw new CliError(`${dir} was trained on standard input, which cannot be read again; it cannot be resumed`);
  const path = csvPathOf(dir, source);
  const csv = readCsv(path, {
    header: source.header, delimiter: source.delimiter, ...(source.select !== null ? { columns: source.select.map(String) } : {}), dropIndex: false, maxBytes: 2 ** 40,
    ...(source.sha256 !== null ? { expectSha256: source.sha256, mismatch: `${path} has changed since ${dir} was trained on it (its SHA-256 differs); the run cannot be resumed on other data` } : {}),
  });
  return { split: splitRows(csv.data, training.testFraction ?? 0.1, training.valFraction, s), target: undefined };
}

/**
 * Runs `train`; returns the exit code.
 * @example await train(parseArgs(trainSpec, ['--dataset', 'two-moons', '--out', 'runs/moons'])); // 0, or 130 after Ctrl-C
 */
export async function train(flags: Flags): Promise<number> {
  const json = flags.boolean('json') === true;
  const quiet = flags.boolean('quiet') === true || json;
  const say = (text: string) => {
    if (!quiet) process.stdout.write(text + '\n');
  };
  const note = (text: string) => {
    if (!json) process.stderr.write(`flowgrad: note: ${text}\n`);
  };
  const checkpointSeconds = flags.number('checkpoint-every') ?? 10;
  const allowLarge = flags.boolean('allow-large') === true;
  const resumeDir = flags.string('resume');
  let job: Omit<TrainJob, 'stopFlag' | 'faultsBefore'>;
  let summaryLine: string;
  let dataName: string;
  if (resumeDir !== undefined) {
    const allowed = ['resume', 'epochs', 'lr', 'clip-grad-norm', 'quiet', 'json', 'checkpoint-every', 'allow-large', 'figures'];
    const other = [...flags.values.keys()].find((k) => !allowed.includes(k));
    if (other !== undefined) throw new UsageError(`train: --${other} cannot be changed with --resume (the run continues with its own options; --epochs, --lr and --clip-grad-norm may change); see flowgrad train --help`);
    const r = prepareResume(resumeDir, flags, checkpointSeconds, allowLarge);
    for (const n of r.notes) note(n);
    job = r.job;
    dataName = r.job.name;
    summaryLine = `Resuming ${resumeDir} from epoch ${r.epoch}, step ${r.steps}${r.diverged ? ' (the run had diverged)' : ''}: ${job.fit.epochs} epochs, Adam lr ${job.fit.lr}`;
  } else {
    const r = prepareFresh(flags, checkpointSeconds, allowLarge, note);
    job = r.job;
    dataName = r.job.name;
    summaryLine = r.summary;
  }
  const out = job.plan.dir;
  say(summaryLine);

  // Signals: the main thread only waits from here on, so it answers at once (see fit-worker.ts).
  const stopFlag = new Int32Array(new SharedArrayBuffer(4));
  let presses = 0, lastPress = -Infinity;
  let lastCheckpoint: { epoch: number; step: number; path: string } | null = null;
  const onSignal = () => {
    const t = performance.now();
    // npm and tsx relay the terminal's Ctrl-C to us once more: within half a second it is the same press.
    if (t - lastPress < 500) return;
    lastPress = t;
    presses++;
    if (presses === 1) {
      Atomics.store(stopFlag, 0, 1);
      process.stderr.write(`\nflowgrad: stopping after the current step; writing the run folder and a checkpoint (Ctrl-C again: write only the checkpoint and quit)\n`);
    } else if (presses === 2) {
      Atomics.store(stopFlag, 0, 2);
      process.stderr.write('flowgrad: writing only the checkpoint, then quitting (Ctrl-C again: quit at once, keeping the last checkpoint written)\n');
    } else {
      const where = lastCheckpoint !== null ? `${lastCheckpoint.path} holds epoch ${lastCheckpoint.epoch}, step ${lastCheckpoint.step}; continue with flowgrad train --resume ${out}` : 'no checkpoint had been written yet';
      process.stderr.write(`flowgrad: quitting at once; ${where}\n`);
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const isTTY = process.stdout.isTTY === true;
  const progress = new Progress(job.fit.epochs, {
    mode: quiet ? 'silent' : isTTY ? 'tty' : 'lines',
    write: (text) => process.stdout.write(text),
    columns: process.stdout.columns ?? 100,
  }, Math.ceil(job.train.rows / job.fit.batchSize));
  let outcome: JobOutcome;
  try {
    outcome = await runInWorker({ ...job, stopFlag, faultsBefore: faultCount() }, (m) => {
      if (m.type === 'epoch') progress.epoch(m.info);
      else if (m.type === 'step') {
        progress.step(m.step);
      } else if (m.type === 'checkpoint') {
        lastCheckpoint = { epoch: m.epoch, step: m.step, path: m.path };
      } else if (m.type === 'phase') {
        progress.done();
        if (!quiet && m.phase === 'evaluating' && job.test.rows >= 200_000) process.stderr.write(`flowgrad: evaluating ${formatCount(job.test.rows)} test rows...\n`);
      } else if (m.type === 'note') note(m.text);
    });
  } finally {
    progress.done();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const h = outcome.history;
  if (outcome.status === 'quit') {
    process.stderr.write(`flowgrad: quit at epoch ${h.epochs}, step ${h.steps}; ${outcome.checkpoint} holds the checkpoint; continue with flowgrad train --resume ${out}\n`);
    return 130;
  }
  if (outcome.status === 'diverged') {
    const lower = Number((job.fit.lr / 10).toPrecision(2));
    const kept = outcome.keptEpoch !== null && outcome.keptEpoch > 0 ? `the state of epoch ${outcome.keptEpoch}` : 'the starting state';
    process.stderr.write(`flowgrad: ${outcome.reason}. ${out} holds the last good weights and, in ${RUN_FILES.checkpoint}, ${kept} (config.json says "status": "diverged"). ` +
      `Try a lower learning rate or gradient clipping: flowgrad train --resume ${out} --lr ${lower}${job.fit.clipGradNorm === undefined ? ' --clip-grad-norm 1' : ''}\n`);
    return 1;
  }
  const evaluation = outcome.evaluation!;
  if (json) {
    process.stdout.write(JSON.stringify({ out, ...outcome.metrics, figures: outcome.figures }, jsonNumbers) + '\n');
  } else {
    const stop = h.stopReason === 'early-stopped' ? `stopped early at epoch ${h.epochs} (best validation NLL ${h.bestValNll.toFixed(4)} at epoch ${h.bestEpoch}, weights restored)`
      : h.stopReason === 'aborted' ? `interrupted at epoch ${h.epochs}, step ${h.steps}${h.bestEpoch > 0 ? ` (best validation epoch ${h.bestEpoch} kept)` : ' (last weights kept)'}`
      : `${h.epochs} epochs`;
    process.stdout.write(`Trained in ${formatDuration(h.seconds)}: ${stop}.\n`);
    process.stdout.write(formatEvaluation(evaluation, dataName));
    process.stdout.write(`Wrote ${out}/: ${RUN_FILES.weights}, ${RUN_FILES.config}, ${RUN_FILES.history}, ${RUN_FILES.metrics}, ${outcome.figures.map((f) => `${RUN_FILES.figures}/${f.split('/').at(-1)}`).join(', ')}${outcome.checkpoint !== null ? `, ${RUN_FILES.checkpoint}` : ''}\n`);
  }
  if (outcome.status === 'interrupted') {
    process.stderr.write(`flowgrad: training was interrupted; ${out} holds the ${h.bestEpoch > 0 ? 'best' : 'last'} weights and a checkpoint; continue with flowgrad train --resume ${out}\n`);
    return 130;
  }
  return 0;
}

/** A fresh run: the data, the model, the output place, all checked before any work. */
function prepareFresh(flags: Flags, checkpointSeconds: number, allowLarge: boolean, note: (text: string) => void): { job: Omit<TrainJob, 'stopFlag' | 'faultsBefore'>; summary: string } {
  const datasetName = flags.string('dataset');
  const dataPath = flags.string('data');
  if ((datasetName === undefined) === (dataPath === undefined)) throw new UsageError('train: give exactly one of --dataset NAME or --data FILE.csv (or --resume DIR); see flowgrad train --help');
  const out = flags.require<string>('out');
  const misplaced = datasetName !== undefined ? ['test-fraction', 'header', 'delimiter', 'columns'].filter((f) => flags.has(f)) : ['n', 'test-n'].filter((f) => flags.has(f));
  if (misplaced.length > 0) throw new UsageError(`train: --${misplaced[0]} applies to ${datasetName !== undefined ? '--data' : '--dataset'} only; see flowgrad train --help`);
  const o = resolve(flags);

  // Sizes first: nothing is allocated before the estimate passes.
  const dim0 = datasetName !== undefined ? datasetByName(datasetName).dim : 2;
  const sizeOf = (dim: number, rows: number) => estimateSize({
    preset: o.recipe.preset, dim, layers: o.layers ?? CLASS_DEFAULTS.layers, hidden: o.hidden ?? CLASS_DEFAULTS.hidden, depth: o.depth ?? CLASS_DEFAULTS.depth, batchSize: o.batchSize, rows,
    ...(o.bins !== undefined ? { bins: o.bins } : {}),
  });
  if (datasetName !== undefined) {
    if (!allowLarge && o.trainPoints + o.testPoints > RUN_LIMITS.points) throw new CliError(`train: --n and --test-n together ask for ${formatCount(o.trainPoints + o.testPoints)} points, over the limit of ${formatCount(RUN_LIMITS.points)}; pass --allow-large if you mean it`);
    checkSize(sizeOf(dim0, o.trainPoints + o.testPoints), allowLarge, 'this model');
  } else {
    checkSize(sizeOf(2, 1), allowLarge, 'this model');
  }
  // The output place, before the data is read or anything trains.
  const plan = planOut(out, { force: flags.boolean('force') === true, resume: false, writes: RUN_WRITES });
  try {
    const s = streams(o.seed);
    let split: DataSplit, target: Target | undefined, columns: string[], source: DataSource, name: string;
    if (datasetName !== undefined) {
      target = datasetByName(datasetName);
      split = splitDataset(target, o.trainPoints, o.testPoints, o.valFraction, s);
      columns = defaultColumns(target.dim);
      name = datasetName;
      source = { source: 'dataset', dataset: datasetName, trainPoints: o.trainPoints, testPoints: o.testPoints, columns, trainRows: split.train.rows, valRows: split.val?.rows ?? 0, testRows: split.test.rows };
    } else {
      const csv = readCsv(dataPath!, csvOptions(flags));
      for (const n of csv.notes) note(n);
      if (csv.data.cols < 2) throw new CliError(`${dataPath}: a RealNVP needs at least 2 columns, the file has ${csv.data.cols}${csv.dropIndex ? ' besides its index column' : ''}`);
      checkSize(sizeOf(csv.data.cols, csv.data.rows), allowLarge, 'this model on this data');
      split = splitRows(csv.data, o.testFraction, o.valFraction, s);
      columns = csv.columns;
      name = dataPath === '-' ? 'stdin' : basename(dataPath!);
      // The path as seen from the run folder, so that the folder can move with its data.
      const recorded = dataPath === '-' ? '-' : relative(resolvePath(out), resolvePath(dataPath!)) || '.';
      source = {
        source: 'csv', path: recorded, sha256: csv.sha256, header: csv.hasHeader, delimiter: csv.delimiter, select: csv.select, dropIndex: csv.dropIndex,
        rows: csv.data.rows, columns, trainRows: split.train.rows, valRows: split.val?.rows ?? 0, testRows: split.test.rows,
      };
    }
    const dim = split.train.cols;
    let standardize: { mean: Float64Array; std: Float64Array } | undefined;
    if (o.standardize) {
      checkColumnScales(split.train, columns, dataPath ?? datasetName!);
      const st = Standardize.fit(split.train);
      standardize = { mean: st.mean.data, std: st.std.data };
    }
    let whiten: { mean: Float64Array; matrix: Float64Array } | undefined;
    if (o.whiten) {
      checkColumnScales(split.train, columns, dataPath ?? datasetName!);
      let wh: Whiten;
      try {
        wh = Whiten.fit(split.train);
      } catch (e) {
        if (!(e instanceof RangeError)) throw e;
        throw new CliError(`${dataPath ?? datasetName!}: cannot whiten the training rows: ${e.message.replace(/^Whiten\.fit: /, '')}; or pass --no-whiten`);
      }
      whiten = { mean: wh.mean.data, matrix: wh.matrix.data };
    }
    const flow = o.recipe.preset === 'post'
      ? RealNVP.post({ dim, rng: s.init, ...(o.layers !== undefined ? { layers: o.layers } : {}), ...(o.hidden !== undefined ? { hidden: o.hidden } : {}), ...(standardize !== undefined ? { standardize } : {}) })
      : new RealNVP({
          dim,
          rng: s.init,
          ...(o.layers !== undefined ? { layers: o.layers } : {}),
          ...(o.hidden !== undefined ? { hidden: o.hidden } : {}),
          ...(o.depth !== undefined ? { depth: o.depth } : {}),
          ...(o.coupling !== undefined ? { coupling: o.coupling } : {}),
          ...(o.bins !== undefined ? { bins: o.bins } : {}),
          ...(o.splineBound !== undefined ? { splineBound: o.splineBound } : {}),
          ...(standardize !== undefined ? { standardize } : {}),
          ...(whiten !== undefined ? { whiten } : {}),
        });
    const c = flow.config;
    const training: TrainingRecord = {
      preset: c.preset, seed: o.seed, epochs: o.epochs, batchSize: o.batchSize, lr: o.lr, optimizer: 'adam', standardize: o.standardize,
      valFraction: o.valFraction, testFraction: datasetName === undefined ? o.testFraction : null, patience: o.patience, clipGradNorm: o.clipGradNorm, ema: o.ema, noise: o.noise,
      lrPlateau: o.lrPlateau,
    };
    const saved = saveModel(flow);
    const couplingText = c.coupling !== undefined && c.coupling !== 'affine' ? `, ${c.coupling} couplings K=${c.bins} B=${c.splineBound}` : '';
    const summary = `Training RealNVP (${c.preset} preset, ${c.layers} layers${couplingText}, hidden ${c.hidden}, ${formatCount(flow.parameterCount())} parameters) on ${name}: ` +
      `${formatCount(split.train.rows)} training${split.val !== undefined ? `, ${formatCount(split.val.rows)} validation` : ''} and ${formatCount(split.test.rows)} test rows, ` +
      `${o.epochs} epochs, batch ${o.batchSize}, Adam lr ${o.lr}${o.patience !== null ? `, patience ${o.patience}` : ''}${o.noise !== null ? `, noise ${o.noise}` : ''}${o.lrPlateau !== null ? `, lr plateau ${describePlateau(o.lrPlateau)}` : ''}${o.whiten ? ', whitened' : ''}, seed ${o.seed}`;
    return {
      summary,
      job: {
        plan, configJson: saved.configJson, weights: saved.weights,
        train: matrix(split.train), val: split.val === undefined ? null : matrix(split.val), test: matrix(split.test),
        dataset: datasetName ?? null, columns, name, training, data: source,
        shuffleState: s.shuffle.getState(), figuresState: s.figures.getState(),
        fit: fitOptionsOf(training), checkpointSeconds, resume: null, figures: flags.boolean('figures') ?? true,
      },
    };
  } catch (e) {
    removeTree(plan.staging); // nothing trained yet: leave no trace
    throw e;
  }
}

function fitOptionsOf(t: TrainingRecord): TrainJob['fit'] {
  return {
    epochs: t.epochs, batchSize: t.batchSize, lr: t.lr,
    ...(t.patience !== null ? { patience: t.patience } : {}),
    ...(t.clipGradNorm !== null ? { clipGradNorm: t.clipGradNorm } : {}),
    ...(t.ema !== null && t.ema !== undefined ? { ema: t.ema } : {}),
    ...(t.noise !== null && t.noise !== undefined ? { noise: t.noise } : {}),
    ...(t.lrPlateau !== null && t.lrPlateau !== undefined ? { lrPlateau: { ...t.lrPlateau } } : {}),
  };
}

/** Continuing a run from its checkpoint: in the staging folder (a crash) or in DIR (an interrupt, a divergence). */
function prepareResume(dir: string, flags: Flags, checkpointSeconds: number, allowLarge: boolean): { job: Omit<TrainJob, 'stopFlag' | 'faultsBefore'>; epoch: number; steps: number; diverged: boolean; notes: string[] } {
  const notes: string[] = [];
  const recovered = recoverSwap(dir);
  if (recovered !== null) notes.push(recovered);
  const { staging } = besideRun(dir);
  const candidates = [join(staging, RUN_FILES.checkpoint), join(dir, RUN_FILES.checkpoint)];
  const path = candidates.find((p) => isRegularFile(p));
  if (path === undefined) throw new CliError(`${dir} has no checkpoint to resume from (a run that completed keeps none; train it again with more --epochs instead)`);
  const bytes = readBytes(path, { maxBytes: allowLarge ? 2 ** 40 : RUN_LIMITS.weightsBytes * 4, what: 'checkpoint' });
  let spec: RunSpec, epoch: number, steps: number, diverged: boolean;
  try {
    const loaded = loadSafetensors(bytes);
    const state = JSON.parse(loaded.metadata.state ?? '') as { epoch: number; steps: number; diverged: string | null };
    spec = JSON.parse(loaded.metadata[RUN_METADATA] ?? '') as RunSpec;
    readModelConfig(spec.configJson);
    ({ epoch, steps } = state);
    diverged = state.diverged !== null;
  } catch (e) {
    throw new CliError(`${path}: not a flowgrad checkpoint (${(e as Error).message})`);
  }
  const training: TrainingRecord = {
    ...spec.training,
    epochs: flags.integer('epochs') ?? spec.training.epochs,
    lr: flags.number('lr') ?? spec.training.lr,
    clipGradNorm: flags.number('clip-grad-norm') ?? spec.training.clipGradNorm,
  };
  if (training.epochs < epoch) throw new UsageError(`train: the checkpoint is at epoch ${epoch}; --epochs must be at least that`);
  const { split, target } = dataOf(dir, spec.data, training);
  const plan = planOut(dir, { force: false, resume: true, writes: RUN_WRITES });
  const s = streams(training.seed);
  return {
    epoch, steps, diverged, notes,
    job: {
      plan, configJson: spec.configJson, weights: new Uint8Array(0),
      train: matrix(split.train), val: split.val === undefined ? null : matrix(split.val), test: matrix(split.test),
      dataset: target !== undefined && spec.data.source === 'dataset' ? spec.data.dataset : null, columns: spec.columns, name: spec.name, training, data: spec.data,
      shuffleState: s.shuffle.getState(), figuresState: s.figures.getState(),
      fit: fitOptionsOf(training), checkpointSeconds: flags.has('checkpoint-every') ? checkpointSeconds : spec.checkpointSeconds, resume: bytes, figures: flags.boolean('figures') ?? true,
    },
  };
}
