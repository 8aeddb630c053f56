/**
 * `flowgrad eval`: the test NLL of a trained model on a CSV file or on fresh points of a toy data set,
 * and KL(p‖q) with its standard error where the data set's density is known. By default the points of
 * a toy data set are the run's own test points (its seed and test size), so that `eval` reproduces
 * metrics.json exactly.
 *
 * @module
 */

import type { Tensor } from '../autograd/tensor.ts';
import { datasets } from '../data/datasets.ts';
import type { Target } from '../data/target.ts';
import { evaluate } from '../train/evaluate.ts';
import type { CommandSpec, Flags } from './args.ts';
import { datasetByName, readCsv, streams, type CsvOptions } from './data.ts';
import { CliError, UsageError } from './errors.ts';
import { formatCount, formatEvaluation, jsonNumbers } from './report.ts';
import { readRun } from './run-dir.ts';

/** The most points `eval --dataset` draws (about 80 bytes each per dimension during the evaluation). */
const MAX_POINTS = 10_000_000;

/**
 * The flags and help text of `flowgrad eval`.
 * @example parseArgs(evalSpec, ['--model', 'runs/post', '--dataset', 'post-mixture']);
 */
export const evalSpec: CommandSpec = {
  name: 'eval',
  summary: 'Evaluates a trained model: test NLL in nats and bits/dim, and KL(p‖q) ± its standard error and the entropy H(p) when the data set\'s density is known.',
  usage: '--model DIR  --data FILE.csv|- | --dataset NAME  [--n N] [--seed S] [--json]',
  flags: {
    model: { type: 'string', value: 'DIR', help: 'the run folder written by train' },
    data: { type: 'string', value: 'FILE.csv', help: "evaluate on every row of a CSV file ('-': standard input)" },
    dataset: { type: 'string', value: 'NAME', choices: Object.keys(datasets), help: 'evaluate on fresh points of a toy data set' },
    n: { type: 'integer', min: 1, max: MAX_POINTS, help: "points drawn from --dataset (default: the run's test points)" },
    seed: { type: 'integer', min: 0, max: 4294967295, value: 'S', help: "the run seed whose test stream is drawn (default: the run's, which reproduces metrics.json)" },
    header: { type: 'boolean', help: 'the CSV file has a header row (--no-header: none; default: detected)' },
    delimiter: { type: 'string', value: 'CHAR', help: "the CSV field separator (default: the training data's, or ',')" },
    columns: { type: 'string', value: 'A,B,...', help: "the CSV columns, by name or 0-based index (default: the training columns by name, when the file has a header)" },
    json: { type: 'boolean', help: 'print one JSON object: nll, nllStdErr, bitsPerDim, n and, where known, kl, klStdErr, entropy' },
  },
  notes: ['Example:', '  flowgrad eval --model runs/post --dataset post-mixture --json'],
};

/**
 * Runs `eval`; returns the exit code.
 * @example evalCommand(parseArgs(evalSpec, ['--model', 'runs/post', '--dataset', 'post-mixture'])); // 0, prints the test NLL and KL
 */
export function evalCommand(flags: Flags): number {
  const dir = flags.require<string>('model');
  const dataPath = flags.string('data');
  const datasetName = flags.string('dataset');
  if ((dataPath === undefined) === (datasetName === undefined)) throw new UsageError('eval: give exactly one of --data FILE.csv or --dataset NAME; see flowgrad eval --help');
  if (dataPath !== undefined && (flags.has('n') || flags.has('seed'))) throw new UsageError('eval: --n and --seed apply to --dataset only; see flowgrad eval --help');
  if (datasetName !== undefined) for (const f of ['header', 'delimiter', 'columns']) if (flags.has(f)) throw new UsageError(`eval: --${f} applies to --data only; see flowgrad eval --help`);
  const json = flags.boolean('json') === true;
  const run = readRun(dir);
  for (const n of run.notes) process.stderr.write(`flowgrad: note: ${n}\n`);
  let x: Tensor, target: Target | undefined, name: string;
  if (datasetName !== undefined) {
    target = datasetByName(datasetName);
    if (target.dim !== run.flow.dim) throw new CliError(`${datasetName} has ${target.dim} columns, the model in ${dir} expects ${run.flow.dim}`);
    // The run's own test points by default: the same stream (streams(seed).test) and count as training used.
    const sameData = run.data?.source === 'dataset' && run.data.dataset === datasetName;
    const n = flags.integer('n') ?? (sameData && run.data?.source === 'dataset' ? run.data.testPoints : 10_000);
    const seed = flags.integer('seed') ?? run.training?.seed ?? 0;
    x = target.sample(n, streams(seed).test);
    name = datasetName;
  } else {
    const recorded = run.data?.source === 'csv' ? run.data : null;
    const delimiter = flags.string('delimiter');
    const columns = flags.string('columns');
    const options: CsvOptions = {
      ...(flags.has('header') ? { header: flags.boolean('header')! } : {}),
      delimiter: delimiter === 'tab' ? '\t' : delimiter ?? recorded?.delimiter ?? ',',
      ...(columns !== undefined ? { columns: columns.split(',').map((c) => c.trim()) } : {}),
    };
    let csv = readCsv(dataPath!, options);
    // A file with a header and more columns than the model: the training columns by name.
    if (columns === undefined && csv.hasHeader && csv.data.cols !== run.flow.dim && run.data !== null && run.columns.every((c) => csv.columns.includes(c))) {
      csv = readCsv(dataPath!, { ...options, columns: run.columns });
    }
    if (!json) for (const n of csv.notes) process.stderr.write(`flowgrad: note: ${n}\n`);
    if (csv.data.cols !== run.flow.dim) throw new CliError(`${dataPath} has ${csv.data.cols} columns${csv.dropIndex ? ' (besides its index column)' : ''}, the model in ${dir} expects ${run.flow.dim}`);
    if (csv.hasHeader && csv.columns.join(',') !== run.columns.join(',') && run.data !== null) {
      throw new CliError(`${dataPath} has columns ${csv.columns.join(', ')}, the model was trained on ${run.columns.join(', ')} (choose them with --columns)`);
    }
    x = csv.data;
    name = dataPath === '-' ? 'stdin' : dataPath!;
  }
  // Progress on long evaluations (on stderr, at most every two seconds).
  let last = performance.now();
  const onProgress = (done: number, total: number) => {
    const t = performance.now();
    if (!json && total >= 200_000 && t - last >= 2000) {
      last = t;
      process.stderr.write(`flowgrad: evaluated ${formatCount(done)} of ${formatCount(total)} rows\n`);
    }
  };
  const e = evaluate(run.flow, x, target, { onProgress });
  if (json) {
    process.stdout.write(JSON.stringify({ model: dir, data: name, ...e }, jsonNumbers) + '\n');
  } else {
    process.stdout.write(`Model ${dir} on ${name}:\n`);
    process.stdout.write(formatEvaluation(e, name));
  }
  return 0;
}
