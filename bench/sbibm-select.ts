/**
 * The capacity chosen by validation (bench/sbibm.md, "The 10-D tasks"): for each task and budget, train
 * the default recipe (its candidates are `NPE_DEFAULTS.candidates`, the small flow, 3 spline couplings ×
 * 1×16, K = 4, unless `--candidates` is given) and print which architecture was kept, each one's best
 * validation NLL, epochs and whether it was dropped (the race), the held-out NLL of the kept posterior on
 * 5,000 fresh simulations, the training CPU seconds (all flows) and a hash of the kept weights.
 *
 *   npx tsx bench/sbibm-select.ts --tasks two-moons,slcp --sims 1000,10000 [--candidates JSON]
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { loadavg } from 'node:os';
import { Rng } from '../src/rng/rng.ts';
import { trainNpe } from '../src/sbi/npe.ts';
import { simulateDataset } from '../src/sbi/simulator.ts';
import { getTask } from '../src/sbi/tasks.ts';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const given = arg('candidates');
const candidates = given !== undefined ? JSON.parse(given) : undefined;
for (const name of (arg('tasks') ?? 'two-moons').split(',')) {
  for (const n of (arg('sims') ?? '1000,10000').split(',').map(Number)) {
    const task = getTask(name);
    const data = simulateDataset(task, n, { seed: 1 });
    const test = simulateDataset(task, 5000, { seed: 99 });
    const cpu0 = process.cpuUsage();
    const r = trainNpe(data.theta, data.x, { rng: new Rng(1), support: task.prior.support, task: task.name, ...(candidates !== undefined ? { candidates } : {}) });
    const cpu = process.cpuUsage(cpu0);
    const lp = r.posterior.logProb(test.theta, test.x);
    let testNll = 0;
    for (const v of lp) testNll -= v / lp.length;
    const tried = r.candidates.map((t) => ({ architecture: t.architecture, bestValNll: +t.bestValNll.toFixed(4), epochs: t.epochs, chosen: t.chosen, dropped: t.dropped }));
    const hash = createHash('sha256').update(r.posterior.save().weights).digest('hex').slice(0, 8);
    console.log(JSON.stringify({ task: task.name, simulations: n, trainCpuSeconds: +((cpu.user + cpu.system) / 1e6).toFixed(1), tried, testNll: +testNll.toFixed(4), hash, load: +loadavg()[0]!.toFixed(1) }));
  }
}
