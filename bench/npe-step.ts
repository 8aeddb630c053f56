/**
 * One NPE training step (the default recipe of `trainNpe`: 5 rational-quadratic spline couplings, ReLU
 * conditioners [|A| + xDim → 50 → 50 → |B|·(3K−1)], K = 10, batch 256, Adam lr 2e-3, through
 * `TrainStep`, as `fit` runs it) on a task's simulations. The `npm run bench` section "npe step" times it
 * on two-moons (θ, x 2-D: conditioners 3 → 50 → 50 → 29) and gaussian-linear (θ, x 10-D: 15 → 50 → 50 →
 * 145). Run alone, `npx tsx bench/npe-step.ts [--against DIR]` also times the same step built from another
 * source tree (DIR/src, e.g. `git archive` of an older commit), interleaved in one process: that is how a
 * kernel change is measured before and after.
 *
 * @module
 */

import { pathToFileURL } from 'node:url';
import * as autograd from '../src/autograd/index.ts';
import * as nn from '../src/nn/index.ts';
import * as flowLib from '../src/flow/real-nvp.ts';
import * as optim from '../src/optim/adam.ts';
import * as rngLib from '../src/rng/rng.ts';
import * as sim from '../src/sbi/simulator.ts';
import * as tasks from '../src/sbi/tasks.ts';
import * as stepLib from '../src/train/step.ts';
import { interleave, summarize, type Contender, type InterleaveOptions, type Summary } from './stats.ts';

/** The modules one step is built from (this tree's, or another tree's for an A/B comparison). */
export interface NpeLib {
  autograd: typeof autograd;
  nn: typeof nn;
  flow: typeof flowLib;
  optim: typeof optim;
  rng: typeof rngLib;
  sim: typeof sim;
  tasks: typeof tasks;
  step: typeof stepLib;
}

/** This tree's modules. */
export const THIS_TREE: NpeLib = { autograd, nn, flow: flowLib, optim, rng: rngLib, sim, tasks, step: stepLib };

/** Loads the same modules from another checkout's `src` (absolute or relative path of the checkout). */
export async function loadTree(dir: string): Promise<NpeLib> {
  const at = (p: string) => import(pathToFileURL(`${dir}/src/${p}`).href);
  return {
    autograd: await at('autograd/index.ts'), nn: await at('nn/index.ts'), flow: await at('flow/real-nvp.ts'), optim: await at('optim/adam.ts'),
    rng: await at('rng/rng.ts'), sim: await at('sbi/simulator.ts'), tasks: await at('sbi/tasks.ts'), step: await at('train/step.ts'),
  };
}

/**
 * A contender running one default-recipe NPE step per call on `task` (2,048 simulations, seed 1, batches
 * of 256 rows [θ | x] taken in turn). Its loss values are those of `trainNpe`'s model on the same rows.
 * @example npeStepContender(THIS_TREE, 'two-moons').run(); // loss of one step
 */
export function npeStepContender(lib: NpeLib, taskName: string, name = taskName, batch = 256): Contender {
  const task = lib.tasks.getTask(taskName);
  const data = lib.sim.simulateDataset(task, 2048, { seed: 1 });
  const dT = data.theta.cols, dX = data.x.cols, rows = data.theta.rows;
  const rng = new lib.rng.Rng(1);
  const flow = new lib.flow.RealNVP({ dim: dT, contextDim: dX, layers: 5, hidden: 50, depth: 2, activation: 'relu', coupling: 'spline', bins: 10, splineBound: 3, rng });
  class Joint extends lib.nn.Module {
    get dim(): number { return dT + dX; }
    logProb(r: autograd.Tensor): autograd.Tensor { return flow.logProb(lib.autograd.sliceCols(r, 0, dT), lib.autograd.sliceCols(r, dT)); }
  }
  const model = new Joint();
  (model as unknown as { flow: unknown }).flow = flow;
  const step = new lib.step.TrainStep(model, new lib.optim.Adam(model.parameters(), { lr: 2e-3 }));
  const buf = new Float64Array(batch * (dT + dX));
  const t = lib.autograd.Tensor.from(batch, dT + dX, buf);
  let at = 0;
  return {
    name,
    run() {
      for (let i = 0; i < batch; i++, at = (at + 1) % rows) {
        for (let c = 0; c < dT; c++) buf[i * (dT + dX) + c] = data.theta.data[at * dT + c]!;
        for (let c = 0; c < dX; c++) buf[i * (dT + dX) + dT + c] = data.x.data[at * dX + c]!;
      }
      return step.run(t);
    },
  };
}

/** ms per NPE step on two-moons and gaussian-linear (this tree), interleaved. */
export function npeSteps(o: InterleaveOptions): { twoMoons: Summary; gaussianLinear: Summary } {
  const r = interleave([npeStepContender(THIS_TREE, 'two-moons'), npeStepContender(THIS_TREE, 'gaussian-linear')], o);
  return { twoMoons: summarize(r.times[0]!), gaussianLinear: summarize(r.times[1]!) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const k = process.argv.indexOf('--against');
  const other = k > 0 ? await loadTree(process.argv[k + 1]!) : null;
  const o: InterleaveOptions = { warmupSteps: 20, rounds: 12, stepsPerBlock: 10 };
  for (const task of ['two-moons', 'gaussian-linear']) {
    const cs = [npeStepContender(THIS_TREE, task, 'this tree')];
    if (other !== null) cs.unshift(npeStepContender(other, task, 'other tree'));
    const r = interleave(cs, o);
    const line = cs.map((c, i) => `${c.name} ${summarize(r.times[i]!).median.toFixed(2)} ms (cpu ${(r.cpuMs[i]! / r.times[i]!.length).toFixed(2)})`).join(', ');
    const same = other !== null && r.values[0]!.every((v, i) => Object.is(v, r.values[1]![i])) ? ', losses bit-identical' : '';
    const ratio = other !== null ? `, new/old ${(summarize(r.times[1]!).median / summarize(r.times[0]!).median).toFixed(3)}` : '';
    console.log(`npe step ${task}: ${line}${ratio}${same}`);
  }
}
