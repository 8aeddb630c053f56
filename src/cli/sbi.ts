/**
 * `flowgrad sbi <subcommand>`: simulation-based inference from the command line. Subcommands:
 * `tasks` (the benchmark tasks, their dimensions and priors), `simulate` (simulations from a task or
 * a user's simulator module, in parallel worker threads, to CSV with θ's columns first), `train`,
 * `sample`, `eval` (neural posterior estimation, `sbi-npe.ts`; `sample --plot` in `sbi-sample-plot.ts`)
 * and `check` (the calibration diagnostics, `sbi-check.ts`).
 *
 * @module
 */

import { availableParallelism } from 'node:os';
import { Tensor } from '../autograd/tensor.ts';
import { toCsv } from '../data/csv.ts';
import { allTasks } from '../sbi/tasks.ts';
import { formatHelp, parseArgs, wantsHelp, type CommandSpec, type Flags } from './args.ts';
import { UsageError } from './errors.ts';
import { checkOutFile, writeAtomicChunks } from './fsx.ts';
import { loadSimulator, simulatorSource } from './sbi-simulator.ts';
import { sbiEval, sbiEvalSpec, sbiTrain, sbiTrainSpec } from './sbi-npe.ts';
import { sbiSamplePlotSpec, sbiSampleWithPlot } from './sbi-sample-plot.ts';
import { simulateInWorkers } from './sbi-workers.ts';
import { sbiCheck, sbiCheckSpec } from './sbi-check.ts';

/**
 * The flags of `flowgrad sbi tasks`.
 * @example formatHelp(sbiTasksSpec);
 */
export const sbiTasksSpec: CommandSpec = {
  name: 'sbi tasks',
  summary: 'Lists the benchmark tasks (sbibm, Lueckmann et al. 2021): names, dimensions of θ and x, priors and reference posteriors.',
  usage: '',
  flags: {},
};

/**
 * The flags of `flowgrad sbi simulate`.
 * @example parseArgs(sbiSimulateSpec, ['--task', 'two-moons', '-n', '1000', '--out', 'sims.csv']);
 */
export const sbiSimulateSpec: CommandSpec = {
  name: 'sbi simulate',
  summary: 'Draws θ from the prior and simulates x, N times, in worker threads (the same rows for any number of workers); writes CSV with θ columns then x columns. Simulations returning NaN or ±∞ are counted and dropped.',
  usage: '(--task NAME | --simulator FILE.mjs) -n N --out FILE.csv [--seed S] [--workers W] [--force]',
  flags: {
    task: { type: 'string', value: 'NAME', help: 'a benchmark task (see flowgrad sbi tasks); sbibm spelling accepted' },
    simulator: { type: 'string', value: 'FILE.mjs', help: 'a module exporting prior, dataDim and simulate(theta, rng)' },
    n: { type: 'integer', short: 'n', min: 1, max: 100_000_000, help: 'number of simulations' },
    out: { type: 'string', value: 'FILE.csv', help: 'the CSV file to write (atomically)' },
    seed: { type: 'integer', min: 0, max: 4294967295, value: 'S', help: 'seed (0)' },
    workers: { type: 'integer', min: 1, max: 256, value: 'W', help: 'worker threads (default: the available cores, at most 8)' },
    force: { type: 'boolean', help: 'overwrite an existing --out file' },
  },
  notes: ['Examples:', '  flowgrad sbi simulate --task slcp -n 10000 --out slcp.csv --seed 1', '  flowgrad sbi simulate --simulator ./sim.mjs -n 100000 --out sims.csv --workers 4'],
};

const SUBCOMMANDS: Readonly<Record<string, { spec: CommandSpec; brief: string; run: (flags: Flags) => number | Promise<number> }>> = {
  tasks: { spec: sbiTasksSpec, brief: 'the benchmark tasks with dimensions and priors', run: tasks },
  simulate: { spec: sbiSimulateSpec, brief: 'simulations (θ, x) from a task or your simulator, to CSV', run: simulate },
  train: { spec: sbiTrainSpec, brief: 'train a neural posterior on simulations (a task, your simulator, or a CSV)', run: sbiTrain },
  sample: { spec: sbiSamplePlotSpec, brief: 'posterior samples for observations in a CSV file (--plot: their corner plot)', run: sbiSampleWithPlot },
  eval: { spec: sbiEvalSpec, brief: "C2ST against the task's reference posterior for fresh observations", run: sbiEval },
  check: { spec: sbiCheckSpec, brief: 'is the posterior any good? calibration checks (SBC, coverage, recovery), report and figures', run: sbiCheck },
};

function sbiHelp(): string {
  const lines = ['Usage: flowgrad sbi <subcommand> [flags]', '', 'Simulation-based inference.', '', 'Subcommands:'];
  for (const [name, s] of Object.entries(SUBCOMMANDS)) lines.push(`  ${name.padEnd(12)}${s.brief}`);
  lines.push('', "'flowgrad sbi <subcommand> --help' for its flags.");
  return lines.join('\n') + '\n';
}

/**
 * Runs `flowgrad sbi ...` (argv after `sbi`) and returns the exit code; errors are thrown for main's reporter.
 * @example await sbiMain(['tasks']); // prints the table, 0
 */
export async function sbiMain(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(sbiHelp());
    return 0;
  }
  if (!Object.prototype.hasOwnProperty.call(SUBCOMMANDS, name)) {
    throw new UsageError(`unknown sbi subcommand "${name}"; the subcommands are ${Object.keys(SUBCOMMANDS).join(', ')}; see flowgrad sbi --help`);
  }
  const sub = SUBCOMMANDS[name]!;
  if (wantsHelp(rest)) {
    process.stdout.write(formatHelp(sub.spec));
    return 0;
  }
  return await sub.run(parseArgs(sub.spec, rest));
}

function tasks(): number {
  const rows = allTasks().map((t) => [t.name, t.sbibmName, String(t.thetaDim), String(t.xDim), t.prior.describe(), t.summary]);
  const header = ['task', 'sbibm name', 'θ dim', 'x dim', 'prior', 'about'];
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j]!.length)));
  const line = (r: string[]): string => r.map((c, j) => (j < r.length - 1 ? c.padEnd(widths[j]! + 2) : c)).join('').trimEnd();
  process.stdout.write([line(header), ...rows.map(line)].join('\n') + '\n');
  return 0;
}

async function simulate(flags: Flags): Promise<number> {
  const source = simulatorSource(flags, 'sbi simulate');
  const n = flags.require<number>('n');
  const out = flags.require<string>('out');
  checkOutFile(out, flags.boolean('force') === true);
  const { simulator, label } = await loadSimulator(source);
  const workers = flags.integer('workers') ?? Math.min(8, availableParallelism());
  const started = performance.now();
  const data = await simulateInWorkers(source, n, { seed: flags.integer('seed') ?? 0, workers });
  const seconds = (performance.now() - started) / 1000;
  const columns = [...simulator.parameterNames, ...simulator.dataNames];
  const both = new Float64Array(data.theta.rows * columns.length);
  for (let i = 0; i < data.theta.rows; i++) {
    both.set(data.theta.data.subarray(i * simulator.thetaDim, (i + 1) * simulator.thetaDim), i * columns.length);
    both.set(data.x.data.subarray(i * simulator.xDim, (i + 1) * simulator.xDim), i * columns.length + simulator.thetaDim);
  }
  writeAtomicChunks(out, [toCsv(Tensor.from(data.theta.rows, columns.length, both), columns)]);
  const dropped = data.dropped > 0 ? `, dropped ${data.dropped} that returned NaN or ±∞` : '';
  process.stderr.write(`${label}: ${data.simulated} simulations in ${seconds.toFixed(2)} s on ${workers} worker${workers > 1 ? 's' : ''}${dropped}; wrote ${data.theta.rows} rows (${simulator.thetaDim} parameter columns first) to ${out}\n`);
  return 0;
}
