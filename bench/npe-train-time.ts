/**
 * Training time of the default NPE recipe on 10⁴ simulations (seed 1), process CPU seconds, for the
 * 60 s goal of bench/sbibm.md: with `default` the recipe as it is (the main flow, then the raced small
 * candidate), with `main only` the main flow alone (`candidates: []`); both variants run one after the
 * other in one process, so their ratio is the candidate's cost under the same conditions.
 *
 *   npx tsx bench/npe-train-time.ts two-moons,gaussian-mixture,slcp ['main only,default']
 *
 * @module
 */
import { loadavg } from 'node:os';
import { Rng } from '../src/rng/rng.ts';
import { trainNpe } from '../src/sbi/npe.ts';
import { simulateDataset } from '../src/sbi/simulator.ts';
import { getTask } from '../src/sbi/tasks.ts';

for (const name of (process.argv[2] ?? 'two-moons').split(',')) {
  const task = getTask(name);
  const data = simulateDataset(task, 10_000, { seed: 1 });
  for (const variant of (process.argv[3] ?? 'main only,default').split(',')) {
    if (variant !== 'main only' && variant !== 'default') throw new Error(`unknown variant ${variant}: 'main only' or 'default'`);
    const cpu0 = process.cpuUsage(), t0 = performance.now();
    const r = trainNpe(data.theta, data.x, { rng: new Rng(1), support: task.prior.support, task: task.name, ...(variant === 'main only' ? { candidates: [] } : {}) });
    const c = process.cpuUsage(cpu0);
    console.log(JSON.stringify({ task: name, variant, cpu: +((c.user + c.system) / 1e6).toFixed(1), wall: +((performance.now() - t0) / 1000).toFixed(1), epochs: r.candidates.map((x) => x.epochs), load: +loadavg()[0]!.toFixed(1) }));
  }
}
