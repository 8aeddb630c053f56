/**
 * `flowgrad info`: what a run folder holds: the model config, the parameter count, the model tree, how
 * it was trained and its test metrics.
 *
 * @module
 */

import { join } from 'node:path';
import { safetensorsHeader } from '../io/safetensors.ts';
import type { CommandSpec, Flags } from './args.ts';
import { readBytes, readText } from './fsx.ts';
import { formatDuration } from './progress.ts';
import { formatCount, jsonNumbers } from './report.ts';
import { isRegularFile, readRun, RUN_FILES, RUN_LIMITS } from './run-dir.ts';

/**
 * The flags and help text of `flowgrad info`.
 * @example console.log(formatHelp(infoSpec));
 */
export const infoSpec: CommandSpec = {
  name: 'info',
  summary: 'Shows what a run folder holds: the model config, parameter count and layer tree, the tensors in the weights file (names, shapes, dtypes), the training options and data, and the test metrics.',
  usage: '--model DIR [--json]',
  flags: {
    model: { type: 'string', value: 'DIR', help: 'the run folder written by train' },
    json: { type: 'boolean', help: 'print one JSON object: config, parameters, tensors, training, data, metrics' },
  },
  notes: ['Example:', '  flowgrad info --model runs/post'],
};

/**
 * Runs `info`; returns the exit code.
 * @example info(parseArgs(infoSpec, ['--model', 'runs/post', '--json'])); // 0, prints one JSON object
 */
export function info(flags: Flags): number {
  const dir = flags.require<string>('model');
  const run = readRun(dir);
  for (const n of run.notes) process.stderr.write(`flowgrad: note: ${n}\n`);
  // The weights file's own table of contents (read again: it is small, and readRun has validated it).
  const header = safetensorsHeader(readBytes(join(dir, RUN_FILES.weights), { maxBytes: RUN_LIMITS.weightsBytes }));
  const tensors = header.entries.map((e) => ({ name: e.name, shape: e.shape, dtype: e.dtype }));
  const metricsPath = join(dir, RUN_FILES.metrics);
  let metrics: Record<string, unknown> | null = null;
  if (isRegularFile(metricsPath)) {
    try {
      const parsed: unknown = JSON.parse(readText(metricsPath, { maxBytes: 1 << 24 }));
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) metrics = parsed as Record<string, unknown>;
    } catch {
      metrics = null;
    }
  }
  const parameters = run.flow.parameterCount();
  if (flags.boolean('json') === true) {
    process.stdout.write(JSON.stringify({ model: dir, config: run.doc.model, parameters, tensors, training: run.training, data: run.data, metrics }, jsonNumbers) + '\n');
    return 0;
  }
  const c = run.doc.model;
  const lines = [
    `model        ${dir} (format ${run.doc.format} v${run.doc.version})`,
    `preset       ${c.preset}; ${c.layers} coupling layers, hidden ${c.hidden}${c.preset === 'default' ? `, depth ${c.depth}, ${c.coupling === 'spline' ? '' : `scale ${c.scale}${c.scale === 'softclamp' ? ` (bound ${c.bound})` : ''}, `}${c.activation}, permutation ${c.permutation}` : ''}${c.actNorm ? ', ActNorm' : ''}`,
    `coupling     ${c.coupling === undefined || c.coupling === 'affine' ? 'affine' : `${c.coupling === 'spline' ? 'rational-quadratic spline' : 'alternating spline (even layers) and affine (odd layers)'}, ${c.bins} bins on [-${c.splineBound}, ${c.splineBound}]`}`,
    `dim          ${c.dim} (columns ${run.columns.join(', ')})${c.standardize ? '; standardised inside the model' : c.whiten === true ? '; whitened inside the model (PCA, components interleaved)' : ''}`,
    `parameters   ${formatCount(parameters)}`,
  ];
  const d = run.data;
  if (d !== null) {
    const what = d.source === 'dataset' ? `data set ${d.dataset} (${formatCount(d.trainPoints)} points drawn, ${formatCount(d.testPoints)} test points)` : `${d.path} (${formatCount(d.rows)} rows)`;
    lines.push(`data         ${what}: ${formatCount(d.trainRows)} training, ${formatCount(d.valRows)} validation, ${formatCount(d.testRows)} test rows`);
  }
  const t = run.training;
  if (t !== null) {
    lines.push(`training     ${t.preset} recipe, seed ${t.seed}, ${t.epochs} epochs, batch ${t.batchSize}, Adam lr ${t.lr}${t.patience !== null ? `, patience ${t.patience}` : ''}${t.noise !== null && t.noise !== undefined ? `, noise ${t.noise}` : ''}${t.lrPlateau !== null && t.lrPlateau !== undefined ? `, lr plateau ${t.lrPlateau.patience},${t.lrPlateau.factor}${t.lrPlateau.restoreBest ? ',restore' : ''}` : ''}${t.status !== undefined && t.status !== 'completed' ? `; ${t.status} (a checkpoint is kept: flowgrad train --resume ${dir})` : ''}`);
  }
  if (metrics !== null) {
    const m = metrics;
    const num = (k: string) => (typeof m[k] === 'number' ? (m[k] as number) : NaN);
    let text = `test NLL ${num('nll').toFixed(4)} nats, ${num('bitsPerDim').toFixed(4)} bits/dim, n = ${formatCount(num('n'))}`;
    if (typeof m.kl === 'number') text += `; KL ${num('kl').toFixed(4)} ± ${num('klStdErr').toFixed(4)} nats`;
    if (typeof m.entropy === 'number') text += `; entropy ${num('entropy').toFixed(4)}`;
    lines.push(`metrics      ${text}`);
    if (typeof m.epochs === 'number') lines.push(`run          ${m.epochs} epochs (${String(m.stopReason)}) in ${formatDuration(num('trainSeconds'))}${num('bestEpoch') > 0 ? `, best validation epoch ${num('bestEpoch')}` : ''}`);
  }
  const width = Math.max(...tensors.map((t) => t.name.length));
  lines.push('', `tensors      ${tensors.length} in ${RUN_FILES.weights} (name, shape, dtype):`);
  for (const t of tensors) lines.push(`  ${t.name.padEnd(width)}  [${t.shape.join(', ')}]  ${t.dtype}`);
  lines.push('', String(run.flow));
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
