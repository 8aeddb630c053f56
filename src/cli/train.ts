/**
 * `flowgrad train`: trains a RealNVP on a toy data set or a CSV file and writes a run folder (see
 * `run-dir.ts`): the weights, the config, the history, the test metrics and the figures.
 *
 * @module
 */

import { basename, join } from 'node:path';
import { datasets } from '../data/datasets.ts';
import { Rng } from '../rng/rng.ts';
import type { Target } from '../data/target.ts';
import { RealNVP } from '../flow/real-nvp.ts';
import { Standardize } from '../flow/standardize.ts';
import { saveModel } from '../io/model.ts';
import { evaluate, type Evaluation } from '../train/evaluate.ts';
import { TrainingDivergedError, type History } from '../train/fit.ts';
import type { CommandSpec, Flags } from './args.ts';
import { datasetByName, readCsv, splitDataset, splitRows, streams, defaultColumns, type DataSplit } from './data.ts';
import { CliError, UsageError } from './errors.ts';
import { makeFigures } from './figures.ts';
import { fitInWorker } from './fit-worker.ts';
import { existsSync, readdirSync } from 'node:fs';
import { checkOutDir, mkdirp, removeIfPresent, writeFileAtomic } from './fsx.ts';
import { formatDuration, Progress } from './progress.ts';
import { DEFAULT_RECIPE, POST_RECIPE, recipeFor, type Recipe } from './recipes.ts';
import { historyCsv, parseHistoryCsv, RUN_FILES, type DataSource, type TrainingRecord } from './run-dir.ts';
import { formatCount, formatEvaluation, jsonNumbers } from './report.ts';

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
  usage: '--dataset NAME | --data FILE.csv  --out DIR  [options]',
  flags: {
    dataset: { type: 'string', value: 'NAME', choices: Object.keys(datasets), help: 'train on a toy data set with a known density' },
    data: { type: 'string', value: 'FILE.csv', help: 'train on a numeric CSV file (optional header row)' },
    out: { type: 'string', value: 'DIR', help: 'the run folder to write (refused if it exists and is not empty, unless --force)' },
    preset: { type: 'string', choices: ['default', 'post'], help: "the recipe: 'post' = the blog post's model and training; 'default' = ours (default)" },
    layers: { type: 'integer', min: 1, max: 10_000, help: `coupling layers (${both((r) => r.model.layers ?? CLASS_DEFAULTS.layers)})` },
    hidden: { type: 'integer', min: 1, max: 100_000, help: `hidden width of the conditioners (${both((r) => r.model.hidden ?? CLASS_DEFAULTS.hidden)})` },
    depth: { type: 'integer', min: 1, max: 100, help: `hidden layers per conditioner, default preset only (${DEFAULT_RECIPE.model.depth ?? CLASS_DEFAULTS.depth})` },
    epochs: { type: 'integer', min: 1, help: `passes over the training rows (${both((r) => r.epochs)})` },
    'batch-size': { type: 'integer', min: 1, value: 'N', help: `rows per minibatch (${both((r) => r.batchSize)})` },
    lr: { type: 'number', min: 0, exclusiveMin: true, help: `Adam's learning rate (${both((r) => r.lr)})` },
    seed: { type: 'integer', min: 0, max: 4294967295, value: 'S', help: 'seed of the data, weights, shuffles and figures (0)' },
    n: { type: 'integer', min: 2, help: `training points drawn from --dataset (${both((r) => r.trainPoints)})` },
    'test-n': { type: 'integer', min: 1, value: 'N', help: `fresh test points drawn from --dataset (${both((r) => r.testPoints)})` },
    'val-fraction': { type: 'number', min: 0, max: 1, exclusiveMax: true, value: 'F', help: `training rows held out for validation, 0 = none (${both((r) => r.valFraction)})` },
    'test-fraction': { type: 'number', min: 0, max: 1, exclusiveMin: true, exclusiveMax: true, value: 'F', help: `rows of --data held out as the test set (${both((r) => r.testFraction)})` },
    standardize: { type: 'boolean', help: `standardise features inside the model; --no-standardize to turn off (${both((r) => (r.standardize ? 'on' : 'off'))})` },
    patience: { type: 'integer', min: 0, help: `stop after N epochs without a better validation NLL, 0 = never (${both((r) => r.patience ?? 'never')})` },
    ema: { type: 'number', min: 0, max: 1, exclusiveMax: true, value: 'D', help: `average the weights with decay D for validation and the result, 0 = off (${both((r) => r.ema ?? 'off')})` },
    'clip-grad-norm': { type: 'number', min: 0, exclusiveMin: true, value: 'X', help: `clip the gradient norm to X (${both((r) => r.clipGradNorm ?? 'off')})` },
    quiet: { type: 'boolean', help: 'print only the final summary' },
    json: { type: 'boolean', help: 'print one JSON object at the end (and nothing else on stdout)' },
    force: { type: 'boolean', help: 'write into an existing --out DIR' },
  },
  notes: [
    `Data sets: ${Object.keys(datasets).join(', ')}.`,
    'Toy data: --n training points and --test-n fresh test points. CSV: --test-fraction of the rows are the test set.',
    'Ctrl-C stops training after the current step and still writes the run folder with the best (or last)',
    'weights (exit code 130); a second Ctrl-C quits at once. A run that diverges (NaN loss) writes nothing.',
    '',
    'Examples:',
    '  flowgrad train --dataset post-mixture --preset post --out runs/post',
    '  flowgrad train --data measurements.csv --out runs/mine',
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
  standardize: boolean;
  trainPoints: number;
  testPoints: number;
  layers: number | undefined;
  hidden: number | undefined;
  depth: number | undefined;
}

function resolve(flags: Flags): Resolved {
  const preset = (flags.string('preset') ?? 'default') as 'default' | 'post';
  const recipe = recipeFor(preset);
  if (preset === 'post' && flags.has('depth')) throw new UsageError("train: --depth applies to the default preset only (the post's conditioners have one hidden layer); see flowgrad train --help");
  const valFraction = flags.number('val-fraction') ?? recipe.valFraction;
  let patience = flags.integer('patience') ?? recipe.patience;
  if (patience === 0) patience = null;
  if (patience !== null && valFraction === 0) {
    if (flags.has('patience')) throw new UsageError('train: --patience needs validation rows (--val-fraction > 0); see flowgrad train --help');
    patience = null;
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
    standardize: flags.boolean('standardize') ?? recipe.standardize,
    trainPoints: flags.integer('n') ?? recipe.trainPoints,
    testPoints: flags.integer('test-n') ?? recipe.testPoints,
    layers: flags.integer('layers') ?? recipe.model.layers,
    hidden: flags.integer('hidden') ?? recipe.model.hidden,
    depth: flags.integer('depth') ?? recipe.model.depth,
  };
}

/**
 * Runs `train`; returns the exit code.
 * @example await train(parseArgs(trainSpec, ['--dataset', 'two-moons', '--out', 'runs/moons'])); // 0, or 130 after Ctrl-C
 */
export async function train(flags: Flags): Promise<number> {
  const datasetName = flags.string('dataset');
  const dataPath = flags.string('data');
  if ((datasetName === undefined) === (dataPath === undefined)) throw new UsageError('train: give exactly one of --dataset NAME or --data FILE.csv; see flowgrad train --help');
  const out = flags.require<string>('out');
  const misplaced = datasetName !== undefined ? ['test-fraction'].filter((f) => flags.has(f)) : ['n', 'test-n'].filter((f) => flags.has(f));
  if (misplaced.length > 0) throw new UsageError(`train: --${misplaced[0]} applies to ${datasetName !== undefined ? '--data' : '--dataset'} only; see flowgrad train --help`);
  const o = resolve(flags);
  const json = flags.boolean('json') === true;
  const quiet = flags.boolean('quiet') === true || json;
  checkOutDir(out, flags.boolean('force') === true);

  // The data.
  const s = streams(o.seed);
  let split: DataSplit, target: Target | undefined, columns: string[], source: DataSource, name: string;
  if (datasetName !== undefined) {
    target = datasetByName(datasetName);
    split = splitDataset(target, o.trainPoints, o.testPoints, o.valFraction, s);
    columns = defaultColumns(target.dim);
    name = datasetName;
    source = { source: 'dataset', dataset: datasetName, trainPoints: o.trainPoints, testPoints: o.testPoints, columns, trainRows: split.train.rows, valRows: split.val?.rows ?? 0, testRows: split.test.rows };
  } else {
    const csv = readCsv(dataPath!);
    if (csv.data.cols < 2) throw new CliError(`${dataPath}: a RealNVP needs at least 2 columns, the file has ${csv.data.cols}`);
    split = splitRows(csv.data, o.testFraction, o.valFraction, s);
    columns = csv.columns;
    name = basename(dataPath!);
    source = { source: 'csv', path: dataPath!, header: csv.hasHeader, rows: csv.data.rows, columns, trainRows: split.train.rows, valRows: split.val?.rows ?? 0, testRows: split.test.rows };
  }
  const dim = split.train.cols;

  // The model.
  let standardize: { mean: Float64Array; std: Float64Array } | undefined;
  if (o.standardize) {
    try {
      const st = Standardize.fit(split.train);
      standardize = { mean: st.mean.data, std: st.std.data };
    } catch (e) {
      const m = /column (\d+) is constant/.exec((e as Error).message);
      if (m !== null) throw new CliError(`${dataPath ?? datasetName}: column ${Number(m[1]) + 1} ("${columns[Number(m[1])]}") is constant in the training rows and cannot be standardised; drop it, or pass --no-standardize`);
      throw e;
    }
  }
  const flow = o.recipe.preset === 'post'
    ? RealNVP.post({ dim, rng: s.init, ...(o.layers !== undefined ? { layers: o.layers } : {}), ...(o.hidden !== undefined ? { hidden: o.hidden } : {}), ...(standardize !== undefined ? { standardize } : {}) })
    : new RealNVP({
        dim,
        rng: s.init,
        ...(o.layers !== undefined ? { layers: o.layers } : {}),
        ...(o.hidden !== undefined ? { hidden: o.hidden } : {}),
        ...(o.depth !== undefined ? { depth: o.depth } : {}),
        ...(standardize !== undefined ? { standardize } : {}),
      });

  const say = (text: string) => {
    if (!quiet) process.stdout.write(text + '\n');
  };
  const c = flow.config;
  say(`Training RealNVP (${c.preset} preset, ${c.layers} layers, hidden ${c.hidden}, ${formatCount(flow.parameterCount())} parameters) on ${name}: ` +
    `${formatCount(split.train.rows)} training${split.val !== undefined ? `, ${formatCount(split.val.rows)} validation` : ''} and ${formatCount(split.test.rows)} test rows, ` +
    `${o.epochs} epochs, batch ${o.batchSize}, Adam lr ${o.lr}${o.patience !== null ? `, patience ${o.patience}` : ''}, seed ${o.seed}`);

  // Training, in a worker so that Ctrl-C stops it cleanly after the current step.
  const stopFlag = new Int32Array(new SharedArrayBuffer(4));
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) {
      process.stderr.write('\nflowgrad: interrupted twice; quitting without saving\n');
      process.exit(130);
    }
    interrupted = true;
    Atomics.store(stopFlag, 0, 1);
    if (!quiet) process.stderr.write('\nflowgrad: stopping after the current step (Ctrl-C again to quit without saving)\n');
  };
  process.on('SIGINT', onSigint);
  const isTTY = process.stdout.isTTY === true;
  const progress = new Progress(o.epochs, {
    mode: quiet ? 'silent' : isTTY ? 'tty' : 'lines',
    write: (text) => process.stdout.write(text),
    columns: process.stdout.columns ?? 100,
  }, Math.ceil(split.train.rows / o.batchSize));
  let history: History;
  try {
    history = await fitInWorker(flow, split.train, split.val, s.shuffle, {
      epochs: o.epochs,
      batchSize: o.batchSize,
      lr: o.lr,
      ...(o.patience !== null ? { patience: o.patience } : {}),
      ...(o.clipGradNorm !== null ? { clipGradNorm: o.clipGradNorm } : {}),
      ...(o.ema !== null ? { ema: o.ema } : {}),
    }, { stopFlag, onEpoch: (info) => progress.epoch(info), onStep: (step) => progress.step(step) });
  } catch (e) {
    progress.done();
    if (e instanceof TrainingDivergedError) {
      const advice = e.message.replace('a lower learning rate or clipGradNorm', 'a lower --lr, or --clip-grad-norm');
      throw new CliError(`${advice}; nothing was written`);
    }
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
  }
  progress.done();
  flow.eval();

  // Test metrics.
  const evaluation = evaluate(flow, split.test, target);
  const training: TrainingRecord = {
    preset: c.preset, seed: o.seed, epochs: o.epochs, batchSize: o.batchSize, lr: o.lr, optimizer: 'adam', standardize: o.standardize,
    valFraction: o.valFraction, testFraction: datasetName === undefined ? o.testFraction : null, patience: o.patience, clipGradNorm: o.clipGradNorm, ema: o.ema,
  };
  const metrics = metricsOf(evaluation, history, dim);
  const historySummary = {
    epochs: history.epochs, steps: history.steps, stopReason: history.stopReason, bestEpoch: history.bestEpoch,
    bestValNll: history.bestValNll, finalTrainLoss: history.trainLoss.at(-1) ?? null, seconds: history.seconds,
  };

  // The run folder.
  const saved = saveModel(flow, { training, data: source, history: historySummary, metrics });
  // With --force into an earlier run's folder: remove what that run wrote (its figures too), so that
  // nothing stale (e.g. a density figure this run does not draw) survives beside the new files.
  removeIfPresent([RUN_FILES.weights, RUN_FILES.config, RUN_FILES.history, RUN_FILES.metrics].map((f) => join(out, f)));
  const figuresDir = join(out, RUN_FILES.figures);
  if (existsSync(figuresDir)) removeIfPresent(readdirSync(figuresDir).filter((f) => f.endsWith('.svg')).map((f) => join(figuresDir, f)));
  mkdirp(figuresDir);
  writeFileAtomic(join(out, RUN_FILES.weights), saved.weights);
  writeFileAtomic(join(out, RUN_FILES.config), saved.configJson);
  const historyText = historyCsv(history);
  writeFileAtomic(join(out, RUN_FILES.history), historyText);
  writeFileAtomic(join(out, RUN_FILES.metrics), JSON.stringify(metrics, jsonNumbers, 2) + '\n');
  const figures = makeFigures({
    flow, train: split.train, columns, name, rng: s.figures, history: parseHistoryCsv(historyText, RUN_FILES.history),
    ...(target !== undefined ? { target } : {}),
  });
  for (const f of figures) writeFileAtomic(join(out, RUN_FILES.figures, f.file), f.svg);

  if (json) {
    process.stdout.write(JSON.stringify({ out, ...metrics, figures: figures.map((f) => join(out, RUN_FILES.figures, f.file)) }, jsonNumbers) + '\n');
  } else {
    const stop = history.stopReason === 'early-stopped' ? `stopped early at epoch ${history.epochs} (best validation NLL ${history.bestValNll.toFixed(4)} at epoch ${history.bestEpoch}, weights restored)`
      : history.stopReason === 'aborted' ? `interrupted at epoch ${history.epochs}, step ${history.steps}${history.bestEpoch > 0 ? ` (best validation epoch ${history.bestEpoch} kept)` : ' (last weights kept)'}`
      : `${history.epochs} epochs`;
    process.stdout.write(`Trained in ${formatDuration(history.seconds)}: ${stop}.\n`);
    process.stdout.write(formatEvaluation(evaluation, name));
    process.stdout.write(`Wrote ${out}/: ${RUN_FILES.weights}, ${RUN_FILES.config}, ${RUN_FILES.history}, ${RUN_FILES.metrics}, ${figures.map((f) => `${RUN_FILES.figures}/${f.file}`).join(', ')}\n`);
  }
  if (interrupted) {
    process.stderr.write(`flowgrad: training was interrupted; ${out} holds the ${history.bestEpoch > 0 ? 'best' : 'last'} weights\n`);
    return 130;
  }
  return 0;
}

/** metrics.json: the evaluation plus how training went. */
function metricsOf(e: Evaluation, history: History, dim: number): Record<string, unknown> {
  return {
    n: e.n,
    dim,
    nll: e.nll,
    nllStdErr: e.nllStdErr,
    bitsPerDim: e.bitsPerDim,
    ...(e.kl !== undefined ? { kl: e.kl, klStdErr: e.klStdErr } : {}),
    ...(e.entropy !== undefined ? { entropy: e.entropy } : {}),
    trainSeconds: history.seconds,
    epochs: history.epochs,
    steps: history.steps,
    stopReason: history.stopReason,
    bestEpoch: history.bestEpoch,
    bestValNll: history.bestValNll,
  };
}
