/**
 * The NPE recipe choice (bench/sbibm.md, "Default recipe"): for each task and each candidate recipe,
 * train on the same 10⁴ seeded simulations and report training CPU time, epochs, the held-out NLL on
 * 10⁴ fresh simulations (−mean log q(θ | x), an average over observations, lower is better) and C2ST on
 * the first K observations with `--samples` posterior and reference samples (sbibm uses 10⁴; fewer
 * rank recipes at a fraction of the cost). One JSON line per (task, recipe) on stdout.
 *
 *   npx tsx bench/sbibm-recipes.ts --tasks two-moons,slcp --sims 1000,10000 --observations 3 --samples 2000 \
 *     --recipes '[{}, {"layers":8,"hidden":32,"depth":1,"activation":"relu"}]'
 *
 * @module
 */

import { loadavg } from 'node:os';
import { Rng } from '../src/rng/rng.ts';
import { c2st } from '../src/sbi/c2st.ts';
import { NPE_DEFAULTS, trainNpe, type NpeOptions } from '../src/sbi/npe.ts';
import { observation } from '../src/sbi/observations.ts';
import { referencePosterior } from '../src/sbi/reference.ts';
import { simulateDataset } from '../src/sbi/simulator.ts';
import { getTask } from '../src/sbi/tasks.ts';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const tasks = (arg('tasks') ?? 'two-moons').split(',');
const budgets = (arg('sims') ?? '10000').split(',').map(Number);
const K = Number(arg('observations') ?? 3);
const samples = Number(arg('samples') ?? 2000);
const recipes = JSON.parse(arg('recipes') ?? '[{}]') as Partial<NpeOptions>[];

for (const name of tasks) {
  const task = getTask(name);
  const test = simulateDataset(task, 10000, { seed: 99 });
  const refs = Array.from({ length: K }, (_, k) => {
    const x = observation(task, k + 1).x;
    return { x, ref: referencePosterior(task, x).sample(samples, new Rng(1000 + k + 1)) };
  });
  for (const n of budgets) {
    const data = simulateDataset(task, n, { seed: 1 });
    for (const recipe of recipes) {
      const cpu0 = process.cpuUsage();
      const { posterior, history } = trainNpe(data.theta, data.x, { rng: new Rng(1), support: task.prior.support, task: task.name, ...recipe });
      const cpu = process.cpuUsage(cpu0), trainCpuSeconds = (cpu.user + cpu.system) / 1e6;
      const lp = posterior.logProb(test.theta, test.x);
      let testNll = 0;
      for (const v of lp) testNll -= v / lp.length;
      const scores = refs.map(({ x, ref }, k) => c2st(ref, posterior.sample(samples, x, new Rng(2000 + k + 1)), { rng: new Rng(3000 + k + 1) }));
      const mean = scores.reduce((s, v) => s + v, 0) / scores.length;
      const epochSeconds = trainCpuSeconds / history.epochs;
      console.log(JSON.stringify({ task: task.name, simulations: n, recipe: { ...NPE_DEFAULTS, ...recipe }, trainCpuSeconds: +trainCpuSeconds.toFixed(1), epochs: history.epochs, bestEpoch: history.bestEpoch, epochCpuSeconds: +epochSeconds.toFixed(3), testNll: +testNll.toFixed(4), samples, c2st: scores.map((s) => +s.toFixed(3)), mean: +mean.toFixed(3), load: +loadavg()[0]!.toFixed(1) }));
    }
  }
}
