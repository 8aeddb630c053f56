/**
 * `npm run bench`: the benchmarks of issue 6 in one run, a table on stdout and `bench/results.json`.
 *
 *   npm run bench                       # full run, a few minutes
 *   npm run bench -- --quick            # under a minute: fewer steps, a smaller scaling grid
 *   npm run bench -- --only train,ops   # sections: train, scaling, ops, kernels, npe, spline, memory
 *   node --import tsx bench/main.ts --peer-mode --epochs 20 [--impl engine|ceiling]
 *                                       # the peers' protocol: one RESULT_JSON line for run_all.sh
 *   node --cpu-prof --import tsx bench/main.ts --profile-steps 3000
 *                                       # only engine steps on the post's model, for a CPU profile
 *
 * Unless told `--no-respawn` (or in peer mode, which run_all.sh pins itself), the script re-runs itself
 * as `taskset -c 0 node --expose-gc --import tsx bench/main.ts ...`: pinned to vCPU 0 (the two vCPUs of
 * the reference machine differ in speed by ~1.65×) and with `gc()` for the memory section.
 *
 * @module
 */

import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Tensor } from '../src/autograd/tensor.ts';
import { Rng } from '../src/rng/rng.ts';
import { RealNVP } from '../src/flow/real-nvp.ts';
import { Adam } from '../src/optim/adam.ts';
import { TrainStep } from '../src/train/step.ts';
import { memoryReport, type MemoryReport } from './memory.ts';
import { kernelTimings, matmulThroughput, opOverhead, type KernelTiming, type MatmulTiming, type OpTiming } from './ops.ts';
import { fmt, table } from './stats.ts';
import { SPLINE_OP_HEAD, SPLINE_STEP_HEAD, splineOpTimings, splineStepTimings } from './spline.ts';
import { npeSteps } from './npe-step.ts';
import { compareTrainStep, defaultRecipeStep, runPeerProblem, type Comparison, type RecipeTiming, type StepConfig } from './train-step.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const argv = process.argv.slice(2);

/** The value after `--name`, or undefined. */
function flag(name: string): string | undefined {
  const k = argv.indexOf(`--${name}`);
  return k >= 0 ? argv[k + 1] : undefined;
}
const has = (name: string) => argv.includes(`--${name}`);

// ---------------------------------------------------------------------------------------------------
// Peer mode: the peers' problem, one RESULT_JSON line.

if (has('peer-mode')) {
  const epochs = Number(flag('epochs') ?? 20);
  const impl = (flag('impl') ?? 'engine') as 'engine' | 'ceiling';
  if (impl !== 'engine' && impl !== 'ceiling') throw new RangeError(`--impl must be engine or ceiling, got ${String(impl)}`);
  const r = runPeerProblem({ epochs, impl, seed: Number(flag('seed') ?? 0) });
  console.log(`peer                 ${r.peer}`);
  console.log(`epochs / steps       ${r.epochs} / ${r.steps} (batch 64, 1000 train points)`);
  console.log(`ms/step (median)     ${r.ms_step.toFixed(4)}  (over ${r.timed_steps} steps after ${r.warmup_steps} warm-up)`);
  console.log(`GFLOP/s              ${r.gflops.toFixed(3)}  (${r.flops_step} model FLOPs / median step)`);
  console.log(`final train loss     ${r.final_loss.toFixed(4)}  (post's loss, no log(2pi) term)`);
  console.log(`test NLL             ${r.test_nll.toFixed(4)} nats`);
  console.log('RESULT_JSON ' + JSON.stringify(r));
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------------
// Re-run pinned and with --expose-gc.

if (process.env.FLOWGRAD_BENCH_CHILD !== '1' && !has('no-respawn')) {
  const script = fileURLToPath(import.meta.url);
  let pin: string[] = [];
  try {
    execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
    pin = ['taskset', '-c', '0'];
  } catch {
    console.log('note: taskset is not available; timings are not pinned to one CPU');
  }
  const cmd = [...pin, process.execPath, '--expose-gc', '--import', 'tsx', script, ...argv];
  const child = spawnSync(cmd[0], cmd.slice(1), { cwd: root, stdio: 'inherit', env: { ...process.env, FLOWGRAD_BENCH_CHILD: '1', FLOWGRAD_BENCH_PINNED: pin.length > 0 ? 'taskset -c 0' : '' } });
  process.exit(child.status ?? 1);
}

// ---------------------------------------------------------------------------------------------------
// Profile mode: engine steps only.

if (flag('profile-steps') !== undefined) {
  const steps = Number(flag('profile-steps'));
  const rng = new Rng(0);
  const flow = RealNVP.post({ dim: 2, rng });
  const step = new TrainStep(flow, new Adam(flow.parameters(), { lr: 2e-4 }));
  const batch = Tensor.from(64, 2, Float64Array.from({ length: 128 }, () => 2 * rng.normal()));
  const t0 = performance.now();
  for (let k = 0; k < steps; k++) step.run(batch);
  console.log(`${steps} engine steps, ${((performance.now() - t0) / steps).toFixed(3)} ms/step (mean, including warm-up)`);
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------------

const quick = has('quick');
const sections = new Set((flag('only') ?? 'train,scaling,ops,kernels,npe,spline,memory').split(','));
const started = Date.now();
const loadStart = loadavg();
const say = (s = '') => console.log(s);

function gitState(): { commit: string; dirtySrc: boolean } {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: root }).toString().trim() !== '';
    return { commit, dirtySrc: dirty };
  } catch {
    return { commit: 'unknown', dirtySrc: false };
  }
}

const machine = {
  date: new Date().toISOString(),
  node: process.version,
  v8: process.versions.v8,
  platform: `${process.platform} ${process.arch}`,
  cpu: cpus()[0]?.model ?? 'unknown',
  cpus: cpus().length,
  memoryGiB: +(totalmem() / 2 ** 30).toFixed(1),
  pinned: process.env.FLOWGRAD_BENCH_PINNED || 'no',
  exposeGc: typeof (globalThis as { gc?: unknown }).gc === 'function',
  loadAverageAtStart: loadStart.map((x) => +x.toFixed(2)),
  git: gitState(),
  mode: quick ? 'quick' : 'full',
};

say(`flowgrad benchmarks (${machine.mode}) — ${machine.date}`);
say(`node ${machine.node} (V8 ${machine.v8}), ${machine.cpu} × ${machine.cpus}, pinned: ${machine.pinned}, gc exposed: ${machine.exposeGc}`);
say(`git ${machine.git.commit}${machine.git.dirtySrc ? ' + uncommitted changes in src/' : ''}; load average ${machine.loadAverageAtStart.join(' ')}`);
say('Timings on a shared machine are noisy: read the medians, the spread columns say how noisy.');

const results: {
  machine: typeof machine;
  trainStep?: Comparison;
  defaultRecipe?: RecipeTiming;
  scaling?: Comparison[];
  ops?: OpTiming[];
  matmul?: MatmulTiming[];
  kernels?: KernelTiming[];
  npeStep?: { twoMoonsMs: number; gaussianLinearMs: number };
  memory?: MemoryReport;
  spline?: { ops: string[][]; steps: string[][] };
  loadAverageAtEnd?: number[];
  seconds?: number;
} = { machine };

// ---------------------------------------------------------------------------------------------------
// 1. The post's training step: engine vs ceiling.

const post: StepConfig = { dim: 2, hidden: 64, layers: 16, batch: 64 };

function comparisonRow(c: Comparison): string[] {
  return [
    `${c.config.dim}`, `${c.config.hidden}`, `${c.config.batch}`,
    fmt(c.engine.median), `${fmt(c.engine.p10)}-${fmt(c.engine.p90)}`,
    fmt(c.ceiling.median), `${fmt(c.ceiling.p10)}-${fmt(c.ceiling.p90)}`,
    `${fmt(c.ratio, 2)}×`, `${fmt(c.roundRatio.min, 2)}-${fmt(c.roundRatio.max, 2)}`, `${fmt(c.cpuRatio, 2)}×`,
    fmt(c.engineGflops, 2), fmt(c.ceilingGflops, 2), `${c.stepsEach}`, c.diverged !== null ? 'DIVERGED' : c.lossAgreement.toExponential(0),
  ];
}
const comparisonHead = ['dim', 'hidden', 'batch', 'engine ms', 'p10-p90', 'ceiling ms', 'p10-p90', 'ratio', 'per-round', 'cpu ratio', 'eng GF/s', 'ceil GF/s', 'steps', 'loss diff'];

let sectionStart = performance.now();
const sectionDone = () => {
  say(`(${((performance.now() - sectionStart) / 1000).toFixed(1)} s)`);
  sectionStart = performance.now();
};

if (sections.has('train')) {
  say();
  say('== Training step of the post\'s model (dim 2, 16 couplings, hidden 64, batch 64, Adam lr 2e-4) ==');
  say('engine = TrainStep on RealNVP.post + Adam (as fit() runs it); ceiling = bench/handfused.ts; same weights,');
  say('same batches (the peers\' data, init and order), interleaved A B A B in blocks, after a warm-up.');
  const c = quick
    ? compareTrainStep(post, { warmupSteps: 60, rounds: 10, stepsPerBlock: 20, byHand: true })
    : compareTrainStep(post, { warmupSteps: 300, rounds: 30, stepsPerBlock: 50, byHand: true });
  results.trainStep = c;
  say(table(comparisonHead, [comparisonRow(c)]));
  const h = c.byHand!;
  say(`by hand (opt.zeroGrad(); l = nll(flow, batch); l.backward(); opt.step()), same weights and batches, in the same`);
  say(`interleaved run: ${fmt(h.summary.median)} ms (p10-p90 ${fmt(h.summary.p10)}-${fmt(h.summary.p90)}), ${fmt(h.ratio, 2)}× the ceiling (per-round ${fmt(h.roundRatio.min, 2)}-${fmt(h.roundRatio.max, 2)}, cpu ratio ${fmt(h.cpuRatio, 2)}×), loss diff ${h.lossAgreement.toExponential(0)}`);
  const d = quick
    ? defaultRecipeStep({ warmupSteps: 60, rounds: 10, stepsPerBlock: 20 })
    : defaultRecipeStep({ warmupSteps: 300, rounds: 30, stepsPerBlock: 50 });
  results.defaultRecipe = d;
  say(`default recipe's model (dim 2, 8 couplings, tanh conditioners 1→32→2, batch 64, Adam lr 1e-3; no ceiling exists for it):`);
  say(`  TrainStep ${fmt(d.trainStep.median)} ms (p10-p90 ${fmt(d.trainStep.p10)}-${fmt(d.trainStep.p90)}), by hand ${fmt(d.byHand.median)} ms (p10-p90 ${fmt(d.byHand.p10)}-${fmt(d.byHand.p90)})`);
  say(`FLOPs per step ${c.flopsPerStep.toLocaleString('en-US')} (peers' convention). ratio = median engine / median ceiling; per-round = min-max of the`);
  say(`ratio of each round's block medians; cpu ratio = the same from process CPU time (not counting time spent waiting for a shared core); loss diff = largest relative difference between the two runs' losses at the same`);
  say(`step (they train in lockstep; rounding differences start near 1e-16 and grow slowly over hundreds of steps).`);
  sectionDone();
}

// ---------------------------------------------------------------------------------------------------
// 2. Scaling.

if (sections.has('scaling')) {
  say();
  say('== Scaling: engine vs ceiling over dim × hidden × batch (16 couplings) ==');
  const dims = [2, 8, 32, 128];
  const grid: StepConfig[] = [];
  if (quick) {
    for (const dim of dims) grid.push({ dim, hidden: 64, layers: 16, batch: 64 });
  } else {
    for (const dim of dims) for (const hidden of [64, 256]) for (const batch of [64, 512]) grid.push({ dim, hidden, layers: 16, batch });
  }
  const budgetMs = quick ? 1000 : 8000;
  const rows: Comparison[] = [];
  for (const cfg of grid) {
    // a pilot step of each sizes the blocks: a block of ~1/8 of the budget, at least one step
    const pilot = compareTrainStep(cfg, { warmupSteps: 1, rounds: 1, stepsPerBlock: 1, minRounds: 1 });
    const per = pilot.engine.median + pilot.ceiling.median;
    const stepsPerBlock = Math.max(1, Math.floor(budgetMs / 8 / per));
    const c = compareTrainStep(cfg, {
      warmupSteps: Math.max(2, Math.min(50, Math.floor(budgetMs / 10 / per))),
      rounds: 8,
      minRounds: quick ? 2 : 3,
      stepsPerBlock,
      budgetMs,
    });
    rows.push(c);
    say(`  dim ${cfg.dim}, hidden ${cfg.hidden}, batch ${cfg.batch}: engine ${fmt(c.engine.median)} ms, ceiling ${fmt(c.ceiling.median)} ms, ${fmt(c.ratio, 2)}× (cpu ${fmt(c.cpuRatio, 2)}×, ${c.stepsEach} steps each)`);
  }
  results.scaling = rows;
  say();
  say(table(comparisonHead, rows.map(comparisonRow)));
  say(scalingNote(rows));
  sectionDone();
}

/** A few sentences on how the cost grows, computed from the rows (nothing in it is written in advance). */
function scalingNote(rows: Comparison[]): string {
  const by = (d: number, h: number, b: number) => rows.find((r) => r.config.dim === d && r.config.hidden === h && r.config.batch === b);
  const lines: string[] = ['Note:'];
  const small = rows.reduce((a, r) => (r.flopsPerStep < a.flopsPerStep ? r : a), rows[0]);
  const big = rows.reduce((a, r) => (r.flopsPerStep > a.flopsPerStep ? r : a), rows[0]);
  const name = (r: Comparison) => `dim ${r.config.dim}/hidden ${r.config.hidden}/batch ${r.config.batch}`;
  if (small !== big) {
    lines.push(`- From ${name(small)} to ${name(big)} the work grows ${fmt(big.flopsPerStep / small.flopsPerStep, 0)}×; the engine's time grows ${fmt(big.engine.median / small.engine.median, 0)}×, the ceiling's ${fmt(big.ceiling.median / small.ceiling.median, 0)}×.`);
    const slow = rows.reduce((a, r) => (r.engineGflops < a.engineGflops ? r : a), rows[0]);
    const fast = rows.reduce((a, r) => (r.engineGflops > a.engineGflops ? r : a), rows[0]);
    lines.push(`- The engine's throughput ranges from ${fmt(slow.engineGflops, 2)} GFLOP/s (${name(slow)}) to ${fmt(fast.engineGflops, 2)} (${name(fast)}); the ceiling's from ${fmt(Math.min(...rows.map((r) => r.ceilingGflops)), 2)} to ${fmt(Math.max(...rows.map((r) => r.ceilingGflops)), 2)}.`);
  }
  const range = (xs: number[], d: number) => (Math.min(...xs) === Math.max(...xs) ? fmt(xs[0], d) : `${fmt(Math.min(...xs), d)}-${fmt(Math.max(...xs), d)}`);
  for (const dim of [...new Set(rows.map((r) => r.config.dim))]) {
    const rs = rows.filter((r) => r.config.dim === dim);
    lines.push(`- dim ${dim}: engine / ceiling ${range(rs.map((r) => r.ratio), 2)}×; engine ${range(rs.map((r) => r.engineGflops), 2)} GFLOP/s, ceiling ${range(rs.map((r) => r.ceilingGflops), 2)}.`);
  }
  const byBatch = rows.filter((r) => r.config.batch === 512).map((r) => ({ r, s: by(r.config.dim, r.config.hidden, 64) })).filter((x) => x.s !== undefined);
  if (byBatch.length > 0) {
    const growth = byBatch.map(({ r, s }) => r.engine.median / s!.engine.median);
    lines.push(`- 8× the batch costs the engine ${fmt(Math.min(...growth), 1)}-${fmt(Math.max(...growth), 1)}× the time (8× would be purely proportional; less means a fixed cost per step is being amortised).`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------------
// 3. Per-op overhead and matmul.

if (sections.has('ops')) {
  say();
  say('== Per-op overhead (µs per op; inputs require grad) ==');
  const ops = opOverhead(quick ? 0.25 : 1);
  results.ops = ops;
  say(table(['op', 'shape', 'fwd µs', 'fwd+bwd µs (1-op graph)', 'fwd+bwd µs per op (chain of 64)'], ops.map((o) => [o.op, o.shape, fmt(o.fwdUs, 2), fmt(o.fwdBwdUs, 2), fmt(o.chainUs, 2)])));
  say('1-op graph: y = op(x); y.backward(ones), so it carries backward()\'s fixed cost. Chain: 64 ops then one backward,');
  say('per op (exp is chained as exp(neg(h)) and the neg chain subtracted). Fastest of several batches of many calls.');
  say();
  say('== matmul n×n · n×n ==');
  const mm = matmulThroughput([64, 256, 512], quick ? 0.3 : 1);
  results.matmul = mm;
  say(table(['n', 'fwd ms', 'fwd GFLOP/s', 'fwd GFLOP/s (cpu)', 'fwd+bwd ms', 'fwd+bwd GFLOP/s', 'fwd+bwd GFLOP/s (cpu)'],
    mm.map((m) => [`${m.n}`, fmt(m.fwdMs, 3), fmt(m.fwdGflops, 2), fmt(m.fwdCpuGflops, 2), fmt(m.fwdBwdMs, 3), fmt(m.fwdBwdGflops, 2), fmt(m.fwdBwdCpuGflops, 2)])));
  say('FLOPs: forward 2n³, forward+backward 6n³ (dA = dOut·Bᵀ and dB = Aᵀ·dOut). Fastest of a few batches; (cpu) from the');
  say('process CPU time of the batch with the least (not counting time spent waiting for a shared core).');
  sectionDone();
}

// ---------------------------------------------------------------------------------------------------
// 4. The kernel table of the fused mlp (src/autograd/fused.ts, MLP_KERNELS): each entry against the path it replaces.

if (sections.has('kernels')) {
  say();
  say('== mlp kernels: each MLP_KERNELS entry against the general fused path, and the fused nodes (mlp, postCouplingOutput) against their reference ops ==');
  const ks = kernelTimings(quick ? 0.3 : 1);
  results.kernels = ks;
  say(table(['kernel', 'shape', 'kernel µs', 'replaced path µs', 'speedup'], ks.map((k) => [k.kernel, k.shape, fmt(k.kernelUs, 1), fmt(k.generalUs, 1), `${fmt(k.speedup, 2)}×`])));
  say('forward + backward inside a BufferArena (as TrainStep runs them), fastest of several batches, the two interleaved.');
  say('A kernel whose speedup is not above 1 is deleted.');
  sectionDone();
}

// ---------------------------------------------------------------------------------------------------
// 4a. NPE step: one training step of trainNpe's default recipe at batch 256 (bench/npe-step.ts).

if (sections.has('npe')) {
  say();
  say("== npe step: trainNpe's default recipe (5 spline couplings, ReLU 50 → 50 conditioners, K = 10), batch 256, TrainStep + Adam ==");
  const r = npeSteps(quick ? { warmupSteps: 10, rounds: 4, stepsPerBlock: 5 } : { warmupSteps: 20, rounds: 12, stepsPerBlock: 10 });
  results.npeStep = { twoMoonsMs: r.twoMoons.median, gaussianLinearMs: r.gaussianLinear.median };
  say(table(['task', 'conditioner', 'ms/step (median)'], [
    ['two-moons (θ, x 2-D)', '3 → 50 → 50 → 29', fmt(r.twoMoons.median, 2)],
    ['gaussian-linear (θ, x 10-D)', '15 → 50 → 50 → 145', fmt(r.gaussianLinear.median, 2)],
  ]));
  say('The two interleaved in one process. Against another source tree: npx tsx bench/npe-step.ts --against DIR.');
  sectionDone();
}

// ---------------------------------------------------------------------------------------------------
// 4b. Spline couplings: the spline op beside other ops, and the spline step against the affine step.

if (sections.has('spline')) {
  say();
  say('== Spline op (rqSpline, K = 8 on [-3, 3]), µs per call, beside exp and a small linear; inputs require grad ==');
  const ops = splineOpTimings(quick ? 0.25 : 1);
  say(table(SPLINE_OP_HEAD, ops));
  say('Fastest of several batches of many calls. The reference is the same spline written with primitive ops.');
  say();
  say('== Training step: spline RealNVP vs the same RealNVP with affine couplings (batch 64, Adam), interleaved ==');
  const steps = splineStepTimings({ quick });
  say(table(SPLINE_STEP_HEAD, steps));
  say('vs affine = median spline step / median affine step; per-round = min-max of the ratio of each round\'s block medians.');
  results.spline = { ops, steps };
  sectionDone();
}

// ---------------------------------------------------------------------------------------------------
// 5. Memory.

if (sections.has('memory')) {
  say();
  const steps = Number(flag('memory-steps') ?? (quick ? 500 : 10000));
  say(`== Memory: the post's model, ${steps.toLocaleString('en-US')} engine training steps ==`);
  const m = await memoryReport(steps);
  results.memory = m;
  const mb = (b: number) => (b / 2 ** 20).toFixed(2);
  const kb = (b: number) => (Number.isFinite(b) ? (b / 1024).toFixed(1) : '-');
  say(table(['', 'heap used MiB', 'ArrayBuffers MiB', 'external MiB', 'rss MiB'], [
    ['before', mb(m.before.heapUsed), mb(m.before.arrayBuffers), mb(m.before.external), mb(m.before.rss)],
    ['after', mb(m.after.heapUsed), mb(m.after.arrayBuffers), mb(m.after.external), mb(m.after.rss)],
  ]));
  say(`growth (heap + ArrayBuffers) ${(m.growth / 1024).toFixed(1)} KiB over ${steps} steps${m.forcedGc ? ' (after gc())' : ' (no --expose-gc: without a forced GC this is not meaningful)'}`);
  say(`GC during the run: ${m.gc.minor} scavenges, ${m.gc.major} mark-compacts, ${m.gc.incremental} incremental marking steps; ${m.gc.ms.toFixed(0)} ms = ${(100 * m.gc.share).toFixed(1)}% of the run's wall time`);
  say(`allocated per step: engine ${kb(m.allocPerStep.heap)} KiB JS heap (young generation) + ${kb(m.allocPerStep.arrayBuffers)} KiB ArrayBuffer backing stores`);
  say(`                    (median of ${m.allocPerStep.windows} one-step windows without a collection);`);
  say(`                    ceiling ${kb(m.ceilingAllocPerStep.heap)} KiB + ${kb(m.ceilingAllocPerStep.arrayBuffers)} KiB (${m.ceilingAllocPerStep.windows} windows).`);
  sectionDone();
}

results.loadAverageAtEnd = loadavg().map((x) => +x.toFixed(2));
results.seconds = (Date.now() - started) / 1000;
const out = `${root}bench/results.json`;
writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
say();
say(`load average at end ${results.loadAverageAtEnd.join(' ')}; ${results.seconds.toFixed(1)} s; wrote bench/results.json`);
