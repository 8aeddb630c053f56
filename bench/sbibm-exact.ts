/**
 * Exact quality of the NPE posterior on the sbibm tasks whose reference posterior has a closed-form
 * log-density (gaussian-linear, gaussian-linear-uniform, gaussian-mixture, two-moons): where C2ST trains
 * a classifier to tell samples apart (an estimate from below, and a weak one in 10-D), these two numbers
 * use both densities directly.
 *
 * - **Expected KL**, E_x KL(p(θ | x) ‖ q(θ | x)) = E[log p(θ | x) − log q(θ | x)] over (θ, x) drawn from
 *   the simulator (fresh simulations, not the training ones): the held-out NLL's excess over the exact
 *   posterior's, in nats, with its standard error.
 * - **Bayes accuracy** for each observation: the accuracy of the best possible classifier between p and
 *   q with equal classes, ½ + TV(p, q)/2, with TV = E_p[(1 − q/p)₊] = E_q[(1 − p/q)₊] estimated on
 *   `--samples` draws of each side (the mean of the two estimates). sbibm's C2ST can only be lower.
 *
 *   npx tsx bench/sbibm-exact.ts --tasks gaussian-linear,gaussian-linear-uniform --sims 1000,10000 --observations 5
 *   npx tsx bench/sbibm-exact.ts --tasks two-moons --recipe '{"lr":1e-3}'   # any trainNpe options as JSON
 *
 * One JSON line per (task, budget) on stdout, also appended to bench/sbibm-exact.jsonl.
 *
 * @module
 */

import { appendFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Tensor } from '../src/autograd/tensor.ts';
import { Rng } from '../src/rng/rng.ts';
import { NPE_DEFAULTS, trainNpe, type NpeOptions } from '../src/sbi/npe.ts';
import { observation } from '../src/sbi/observations.ts';
import { referencePosterior } from '../src/sbi/reference.ts';
import { simulateDataset } from '../src/sbi/simulator.ts';
import { getTask } from '../src/sbi/tasks.ts';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const tasks = (arg('tasks') ?? 'gaussian-linear,gaussian-linear-uniform,gaussian-mixture,two-moons').split(',');
const budgets = (arg('sims') ?? '1000,10000').split(',').map(Number);
const K = Number(arg('observations') ?? 5);
const testRows = Number(arg('test') ?? 2000);
const samples = Number(arg('samples') ?? 20000);
const seed = Number(arg('seed') ?? 1);
const recipe = JSON.parse(arg('recipe') ?? '{}') as Partial<NpeOptions>;
const out = new URL('./sbibm-exact.jsonl', import.meta.url);

for (const name of tasks) {
  const task = getTask(name);
  const test = simulateDataset(task, testRows, { seed: 99 });
  // log p(θ_r | x_r) for each held-out row: one reference posterior per row.
  const refLp = new Float64Array(test.theta.rows);
  for (let r = 0; r < test.theta.rows; r++) {
    const ref = referencePosterior(task, test.x.data.subarray(r * task.xDim, (r + 1) * task.xDim));
    if (ref.logProb === null) throw new Error(`${task.name}: the reference posterior has no closed-form log-density`);
    refLp[r] = ref.logProb(Tensor.from(1, task.thetaDim, test.theta.data.slice(r * task.thetaDim, (r + 1) * task.thetaDim)))[0]!;
  }
  for (const n of budgets) {
    const data = simulateDataset(task, n, { seed });
    const cpu0 = process.cpuUsage();
    const { posterior, history } = trainNpe(data.theta, data.x, { rng: new Rng(seed), support: task.prior.support, task: task.name, ...recipe });
    const cpu = process.cpuUsage(cpu0);
    const lq = posterior.logProb(test.theta, test.x);
    let mean = 0, sq = 0;
    for (let r = 0; r < lq.length; r++) {
      const d = refLp[r]! - lq[r]!;
      mean += d / lq.length;
      sq += (d * d) / lq.length;
    }
    const se = Math.sqrt(Math.max(0, sq - mean * mean) / lq.length);
    const bayes: number[] = [];
    for (let k = 1; k <= K; k++) {
      const x = observation(task, k).x;
      const ref = referencePosterior(task, x);
      const sp = ref.sample(samples, new Rng(5000 + k)), sq2 = posterior.sample(samples, x, new Rng(6000 + k));
      const lpp = ref.logProb!(sp), lqp = posterior.logProb(sp, x), lpq = ref.logProb!(sq2), lqq = posterior.logProb(sq2, x);
      let a = 0, b = 0;
      for (let i = 0; i < samples; i++) {
        a += Math.max(0, 1 - Math.exp(lqp[i]! - lpp[i]!)) / samples;
        b += Math.max(0, 1 - Math.exp(lpq[i]! - lqq[i]!)) / samples;
      }
      bayes.push(0.5 + (a + b) / 4);
    }
    const line = {
      date: new Date().toISOString(), task: task.name, simulations: n, seed, recipe: { ...NPE_DEFAULTS, ...recipe },
      trainCpuSeconds: +((cpu.user + cpu.system) / 1e6).toFixed(1), epochs: history.epochs, bestEpoch: history.bestEpoch,
      expectedKl: +mean.toFixed(4), expectedKlSe: +se.toFixed(4), testRows,
      bayesAccuracy: bayes.map((v) => +v.toFixed(3)), bayesAccuracyMean: +(bayes.reduce((s, v) => s + v, 0) / K).toFixed(3), samples,
      load: +loadavg()[0]!.toFixed(1),
    };
    console.log(JSON.stringify(line));
    appendFileSync(out, `${JSON.stringify(line)}\n`);
  }
}
