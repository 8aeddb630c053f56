/**
 * `flowgrad sbi sample ... --plot FILE.svg [--theta FILE.csv]`: `sbi sample` (src/cli/sbi-npe.ts) with
 * the corner plot of the samples it wrote: marginal histograms on the diagonal, pairwise histograms
 * below, the true θ marked when `--theta` gives it, and the task's reference posterior overlaid when the
 * model was trained on a task with a closed-form one (every task but slcp). With several observations,
 * one figure per observation: FILE-1.svg, FILE-2.svg, …
 *
 * The figure is drawn from the CSV `sbi sample` wrote, read back, so it shows exactly those samples.
 *
 * @module
 */

import { Tensor } from '../autograd/tensor.ts';
import { cornerFigure } from '../plot/corner.ts';
import { Rng } from '../rng/rng.ts';
import { referencePosterior } from '../sbi/reference.ts';
import { getTask } from '../sbi/tasks.ts';
import type { CommandSpec, Flags } from './args.ts';
import { CliError, UsageError } from './errors.ts';
import { checkOutFile, writeFileAtomic } from './fsx.ts';
import { readLenientCsv, readPosterior, sbiSample, sbiSampleSpec } from './sbi-npe.ts';

/** Reference posterior samples overlaid on a corner plot. */
const REFERENCE_SAMPLES = 2000;

/**
 * The flags of `flowgrad sbi sample`: those of sbi-npe.ts's command and `--plot`, `--theta`.
 * @example parseArgs(sbiSamplePlotSpec, ['--model', 'runs/tm', '--observation', 'obs.csv', '-n', '10000', '--out', 'post.csv', '--plot', 'post.svg']);
 */
export const sbiSamplePlotSpec: CommandSpec = {
  ...sbiSampleSpec,
  usage: `${sbiSampleSpec.usage} [--plot FILE.svg [--theta FILE.csv]]`,
  flags: {
    ...sbiSampleSpec.flags,
    plot: { type: 'string', value: 'FILE.svg', help: "also write the corner plot of the samples (the task's reference posterior overlaid where it has a closed form); several observations: FILE-1.svg, FILE-2.svg, …" },
    theta: { type: 'string', value: 'FILE.csv', help: 'with --plot: the true θ to mark (a header row, then one row, or one row per observation)' },
  },
  notes: [...(sbiSampleSpec.notes ?? []), '  flowgrad sbi sample --model runs/two-moons --observation obs.csv -n 10000 --out posterior.csv --plot posterior.svg --theta theta.csv'],
};

/**
 * Runs `sbi sample`, then draws the corner plot when `--plot` is given (every input is checked before
 * any sample is drawn).
 * @example sbiSampleWithPlot(parseArgs(sbiSamplePlotSpec, ['--model', 'runs/tm', '--observation', 'obs.csv', '-n', '1000', '--out', 'p.csv', '--plot', 'p.svg']));
 */
export function sbiSampleWithPlot(flags: Flags): number {
  const plot = flags.string('plot'), thetaPath = flags.string('theta');
  if (plot === undefined) {
    if (thetaPath !== undefined) throw new UsageError('sbi sample: --theta goes with --plot (it marks the true θ on the corner plot); see flowgrad sbi sample --help');
    return sbiSample(flags);
  }
  if (!plot.toLowerCase().endsWith('.svg')) throw new UsageError(`sbi sample: --plot writes an SVG file; name it FILE.svg, got ${plot}`);
  const dir = flags.require<string>('model'), out = flags.require<string>('out');
  const { meta } = readPosterior(dir, null); // sbiSample reads it again and gives the note
  const observations = readLenientCsv(flags.require<string>('observation')).data;
  const files = observations.rows === 1 ? [plot] : Array.from({ length: observations.rows }, (_, k) => plot.replace(/\.svg$/i, `-${k + 1}.svg`));
  const force = flags.boolean('force') === true;
  for (const f of files) checkOutFile(f, force);
  const truths = thetaPath !== undefined ? readTruths(thetaPath, meta.thetaDim, meta.parameterNames, observations.rows) : null;

  const code = sbiSample(flags);
  const written = readLenientCsv(out).data;
  const several = observations.rows > 1, d = meta.thetaDim, n = written.rows / observations.rows;
  const task = meta.task !== null ? getTask(meta.task) : null;
  const rng = new Rng(flags.integer('seed') ?? 0).fork();
  const notes: string[] = [];
  files.forEach((file, k) => {
    const samples = new Float64Array(n * d);
    for (let i = 0; i < n; i++) samples.set(written.data.subarray((k * n + i) * written.cols + (several ? 1 : 0), (k * n + i + 1) * written.cols), i * d);
    const x = observations.data.subarray(k * observations.cols, (k + 1) * observations.cols);
    let reference: Tensor | undefined;
    if (task !== null && task.name !== 'slcp') {
      try {
        reference = referencePosterior(task, x).sample(REFERENCE_SAMPLES, rng);
      } catch (e) {
        notes.push(`observation ${k + 1}: no reference overlay (${e instanceof Error ? e.message : String(e)})`);
      }
    }
    const truth = truths === null ? undefined : truths.length === 1 ? truths[0]! : truths[k]!;
    // Short enough for the narrowest (2-parameter) corner plot; the legend names the overlays.
    const title = `${task !== null ? `${task.name} posterior` : 'posterior'}${several ? `, observation ${k + 1}` : ''}`;
    const svg = cornerFigure(Tensor.from(n, d, samples), {
      names: meta.parameterNames,
      title,
      ...(truth !== undefined ? { truth } : {}),
      ...(reference !== undefined ? { reference } : {}),
    });
    writeFileAtomic(file, svg);
  });
  if (task?.name === 'slcp') notes.push('slcp has no closed-form reference posterior; none overlaid');
  for (const line of notes) process.stderr.write(`${line}\n`);
  process.stderr.write(`wrote the corner plot${files.length > 1 ? 's' : ''} ${files.length > 2 ? `${files[0]} … ${files[files.length - 1]}` : files.join(' and ')}\n`);
  return code;
}

/** The true θ rows of a --theta file: one row, or one per observation, each of thetaDim finite numbers. */
function readTruths(path: string, d: number, names: readonly string[], observations: number): number[][] {
  const t = readLenientCsv(path).data;
  if (t.cols !== d) throw new CliError(`${path}: θ has ${t.cols} columns, the model has ${d} parameters (${names.join(', ')})`);
  if (t.rows !== 1 && t.rows !== observations) throw new CliError(`${path}: ${t.rows} rows of θ for ${observations} observations; give one row, or one per observation`);
  for (let k = 0; k < t.data.length; k++) if (!Number.isFinite(t.data[k]!)) throw new CliError(`${path}: row ${Math.floor(k / d) + 1}, column ${names[k % d]} is ${t.data[k]}`);
  return Array.from({ length: t.rows }, (_, r) => Array.from(t.data.subarray(r * d, (r + 1) * d)));
}
