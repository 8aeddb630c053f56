/**
 * The sbibm benchmark (Lueckmann et al. 2021) for flowgrad's NPE: for each task and simulation budget,
 * simulate (seeded), train the default recipe (`NPE_DEFAULTS`, no flag beyond the budget), and for each
 * of the first K observations (our own, made from the simulators with sbibm's seeds) compare 10⁴
 * posterior samples with 10⁴ reference samples by C2ST (sbibm's protocol, `src/sbi/c2st.ts`). Prints
 * one line per (task, budget): mean C2ST over the observations, each one, training time and epochs.
 * Results are appended as JSON lines to bench/sbibm-results.jsonl.
 *
 *   npx tsx bench/sbibm.ts --tasks two-moons,slcp --sims 1000,10000 --observations 3 [--seed 1]
 *   npx tsx bench/sbibm.ts --tasks two-moons --sims 1000 --layers 4 --hidden 32   # recipe overrides, for the choice
 *   npx tsx bench/sbibm.ts --tasks two-moons --recipe '{"coupling":"affine","layers":16}'  # any trainNpe options as JSON
 *   npx tsx bench/sbibm.ts --tasks slcp --sims 10000 --observations 10 --workers 2  # each C2ST's folds in 2 threads, same result
 *   npx tsx bench/sbibm.ts --check-slcp-reference --observations 2               # two SMC runs against each other
 *
 * The slcp reference is tempered SMC on the exact likelihood (`referencePosterior`), 10⁴ particles.
 *
 * @module
 */

import { appendFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Rng } from '../src/rng/rng.ts';
import { c2st } from '../src/sbi/c2st.ts';
import { c2stWorkers } from './c2st-workers.ts';
import { NPE_DEFAULTS, trainNpe, type NpeOptions } from '../src/sbi/npe.ts';
import { observation } from '../src/sbi/observations.ts';
import { referencePosterior } from '../src/sbi/reference.ts';
import { simulateDataset } from '../src/sbi/simulator.ts';
import { getTask, TASK_NAMES } from '../src/sbi/tasks.ts';

const RESULTS = new URL('./sbibm-results.jsonl', import.meta.url);

const SBI_NPE: Record<string, [number, number]> = {
  'two-moons': [0.725, 0.606],
  'gaussian-linear': [0.694, 0.552],
  'gaussian-linear-uniform': [0.696, 0.553],
  'gaussian-mixture': [0.716, 0.615],
  slcp: [0.975, 0.901],
};

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const tasks = (arg('tasks') ?? TASK_NAMES.join(',')).split(',');
const budgets = (arg('sims') ?? '1000,10000').split(',').map(Number);
const K = Number(arg('observations') ?? 3);
/** The first observation's number (default 1): `--from 4 --observations 3` runs observations 4-6. */
const first = Number(arg('from') ?? 1);
const seed = Number(arg('seed') ?? 1);
const samples = Number(arg('samples') ?? 10000);
/** Worker threads for each C2ST's 5 folds (default 1: on the main thread); the result is the same. */
const workers = Number(arg('workers') ?? 1);
const overrides: Record<string, unknown> = arg('recipe') !== undefined ? (JSON.parse(arg('recipe')!) as Record<string, unknown>) : {};
for (const key of ['layers', 'hidden', 'depth', 'batchSize', 'lr', 'patience']) if (arg(key) !== undefined) overrides[key] = Number(arg(key));
if (arg('activation') !== undefined) overrides.activation = arg('activation')!;

if (process.argv.includes('--check-slcp-reference')) {
  const task = getTask('slcp');
  for (let k = 1; k <= K; k++) {
    const x = observation(task, k).x, post = referencePosterior(task, x);
    const t0 = performance.now();
    const a = post.sample(samples, new Rng(100 + k)), b = post.sample(samples, new Rng(200 + k));
    const seconds = (performance.now() - t0) / 2000;
    console.log(`slcp observation ${k}: C2ST between two SMC runs ${c2st(a, b, { rng: new Rng(k) }).toFixed(3)} (${seconds.toFixed(1)} s per run)`);
  }
  process.exit(0);
}

console.log(`recipe ${JSON.stringify({ ...NPE_DEFAULTS, ...overrides })}, seed ${seed}, ${K} observations, ${samples} samples each`);
for (const name of tasks) {
  const task = getTask(name);
  for (let b = 0; b < budgets.length; b++) {
    const n = budgets[b]!;
    const data = simulateDataset(task, n, { seed });
    const t0 = performance.now(), cpu0 = process.cpuUsage();
    const { posterior, history } = trainNpe(data.theta, data.x, { rng: new Rng(seed), support: task.prior.support, task: task.name, ...(overrides as Partial<NpeOptions>) });
    const trainSeconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0), trainCpuSeconds = (cpu.user + cpu.system) / 1e6;
    const scores: number[] = [], c2stEpochs: number[][] = [];
    let refSeconds = 0, c2stSeconds = 0, c2stCpuSeconds = 0;
    for (let k = first; k < first + K; k++) {
      const obs = observation(task, k);
      const t1 = performance.now();
      const ref = referencePosterior(task, obs.x).sample(samples, new Rng(1000 + k));
      const t2 = performance.now();
      const q = posterior.sample(samples, obs.x, new Rng(2000 + k));
      const c0 = process.cpuUsage();
      const report = await c2stWorkers(ref, q, { rng: new Rng(3000 + k) }, workers);
      const c = process.cpuUsage(c0);
      scores.push(report.accuracy);
      c2stEpochs.push(report.folds.map((f) => f.epochs));
      refSeconds += (t2 - t1) / 1000;
      c2stSeconds += (performance.now() - t2) / 1000;
      c2stCpuSeconds += (c.user + c.system) / 1e6;
      // Each observation as it completes (printed, and a JSON line of kind "observation"): a C2ST can take
      // minutes, and a stopped run keeps what it finished.
      appendFileSync(RESULTS, JSON.stringify({ kind: 'observation', date: new Date().toISOString(), task: task.name, simulations: n, seed, observation: k, c2st: report.accuracy, c2stEpochs: report.folds.map((f) => f.epochs), c2stCpuSeconds: (c.user + c.system) / 1e6, trainCpuSeconds, epochs: history.epochs, workers, load: loadavg()[0] }) + '\n');
      console.log(`  ${task.name} ${n} sims, observation ${k}: C2ST ${report.accuracy.toFixed(3)} (folds' epochs ${report.folds.map((f) => f.epochs).join(' ')}, ${((c.user + c.system) / 1e6).toFixed(1)} s CPU)`);
    }
    const mean = scores.reduce((s, v) => s + v, 0) / scores.length;
    const target = n === 1000 ? SBI_NPE[task.name]?.[0] : n === 10000 ? SBI_NPE[task.name]?.[1] : undefined;
    console.log(
      `${task.name.padEnd(24)} ${String(n).padStart(6)} sims  C2ST ${mean.toFixed(3)}  [${scores.map((s) => s.toFixed(3)).join(' ')}]` +
        `${target !== undefined ? `  sbi NPE ${target}` : ''}  train ${trainSeconds.toFixed(1)} s wall, ${trainCpuSeconds.toFixed(1)} s CPU (${history.epochs} epochs, ${history.stopReason}, best ${history.bestEpoch})` +
        `  reference ${refSeconds.toFixed(1)} s, c2st ${c2stSeconds.toFixed(1)} s wall, ${c2stCpuSeconds.toFixed(1)} s CPU`,
    );
    appendFileSync(
      RESULTS,
      JSON.stringify({ date: new Date().toISOString(), task: task.name, simulations: n, seed, recipe: { ...NPE_DEFAULTS, ...overrides }, observations: Array.from({ length: K }, (_, i) => first + i), c2st: scores, mean, trainSeconds, trainCpuSeconds, epochs: history.epochs, c2stEpochs, c2stCpuSeconds, dropped: data.dropped, workers, load: loadavg()[0] }) + '\n',
    );
  }
}
