/**
 * `flowgrad plot`: redraws a run's figures into DIR/figures, from the saved model, the saved history and
 * the training data (rebuilt from the data set and seed, re-read from the CSV file, or given with --data).
 * A CSV file named in config.json is used only when its SHA-256 is the one recorded at training time,
 * checked before anything of it is parsed or shown.
 *
 * @module
 */

import { basename, join } from 'node:path';
import type { Tensor } from '../autograd/tensor.ts';
import type { Target } from '../data/target.ts';
import type { CommandSpec, Flags } from './args.ts';
import { datasetByName, readCsv, splitDataset, splitRows, streams } from './data.ts';
import { CliError } from './errors.ts';
import { makeFigures } from './figures.ts';
import { mkdirp, readText, writeFileAtomic } from './fsx.ts';
import { csvPathOf, isRegularFile, parseHistoryCsv, readRun, RUN_FILES, type HistoryRows } from './run-dir.ts';

/**
 * The flags and help text of `flowgrad plot`.
 * @example parseArgs(plotSpec, ['--model', 'runs/post']);
 */
export const plotSpec: CommandSpec = {
  name: 'plot',
  summary: "Redraws a run's figures into DIR/figures: layers.svg (the post's Figure 1), samples.svg, density.svg (2-D data) and loss.svg.",
  usage: '--model DIR [--data FILE.csv]',
  flags: {
    model: { type: 'string', value: 'DIR', help: 'the run folder written by train' },
    data: { type: 'string', value: 'FILE.csv', help: 'the points to overlay (default: the training rows, rebuilt from config.json)' },
  },
  notes: ['Example:', '  flowgrad plot --model runs/post'],
};

/**
 * Runs `plot`; returns the exit code.
 * @example plot(parseArgs(plotSpec, ['--model', 'runs/post'])); // 0, rewrites runs/post/figures/*.svg
 */
export function plot(flags: Flags): number {
  const dir = flags.require<string>('model');
  const run = readRun(dir);
  for (const n of run.notes) process.stderr.write(`flowgrad: note: ${n}\n`);
  const seed = run.training?.seed ?? 0;
  const s = streams(seed);
  let train: Tensor, target: Target | undefined, name: string;
  const dataPath = flags.string('data');
  const configPath = join(dir, RUN_FILES.config);
  if (dataPath !== undefined) {
    const csv = readCsv(dataPath);
    if (csv.data.cols !== run.flow.dim) throw new CliError(`${dataPath} has ${csv.data.cols} columns, the model in ${dir} expects ${run.flow.dim}`);
    train = csv.data;
    name = basename(dataPath);
  } else if (run.data?.source === 'dataset') {
    target = datasetByName(run.data.dataset);
    train = splitDataset(target, run.data.trainPoints, run.data.testPoints, run.training?.valFraction ?? 0, s).train;
    name = run.data.dataset;
  } else if (run.data?.source === 'csv') {
    const d = run.data;
    if (d.path === '-') throw new CliError(`${dir} was trained on standard input; pass --data FILE.csv`);
    const path = csvPathOf(dir, d);
    if (!isRegularFile(path)) throw new CliError(`the training data ${d.path} (from ${configPath}, resolved from the run folder to ${path}) is not there; pass --data FILE.csv`);
    if (d.sha256 === null) throw new CliError(`${configPath} records no hash of its training data, so ${path} cannot be checked to be it; pass --data FILE.csv`);
    const csv = readCsv(path, {
      header: d.header, delimiter: d.delimiter, ...(d.select !== null ? { columns: d.select.map(String) } : {}), dropIndex: false,
      expectSha256: d.sha256, mismatch: `${path} is not the file ${dir} was trained on (its SHA-256 differs from the one in config.json: it changed since, or config.json points elsewhere); pass --data FILE.csv to draw other points`,
    });
    train = splitRows(csv.data, run.training?.testFraction ?? 0.1, run.training?.valFraction ?? 0, s).train;
    name = basename(path);
  } else {
    throw new CliError(`${configPath} does not say what the model was trained on; pass --data FILE.csv`);
  }
  const historyPath = join(dir, RUN_FILES.history);
  const history: HistoryRows | undefined = isRegularFile(historyPath) ? parseHistoryCsv(readText(historyPath, { maxBytes: 1 << 28 }), historyPath) : undefined;
  const figures = makeFigures({ flow: run.flow, train, columns: run.columns, name, rng: s.figures, ...(target !== undefined ? { target } : {}), ...(history !== undefined ? { history } : {}) });
  mkdirp(join(dir, RUN_FILES.figures));
  for (const f of figures) writeFileAtomic(join(dir, RUN_FILES.figures, f.file), f.svg);
  process.stdout.write(`Wrote ${figures.map((f) => join(dir, RUN_FILES.figures, f.file)).join(', ')}\n`);
  return 0;
}
