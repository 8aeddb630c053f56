/**
 * Memory of the engine's training step: heap in use before and after many steps (after a full GC, so
 * growth means something is kept alive: a leak), bytes allocated per step, and how much time the
 * garbage collector takes.
 *
 * Allocation per step is read, step by step, from two counters that only grow between collections:
 * the used size of V8's young generation (new space and new large-object space, where fresh objects go)
 * and the bytes held by ArrayBuffers (a `Float64Array` of more than 64 bytes keeps its values outside
 * the JS heap, in a backing store). The median over consecutive one-step windows skips the windows in
 * which a collection ran (those show a drop). Forcing `gc()` before each window would not work: it
 * discards compiled code and the measured step then allocates for recompilation, and the freeing of
 * backing stores finishes on a background thread after `gc()` returns.
 * `--expose-gc` is needed for the before/after comparison (otherwise it is reported without a forced GC).
 *
 * @module
 */

import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { Tensor } from '../src/autograd/tensor.ts';
import { Rng } from '../src/rng/rng.ts';
import { RealNVP } from '../src/flow/real-nvp.ts';
import { Adam } from '../src/optim/adam.ts';
import { TrainStep } from '../src/train/step.ts';
import { HandFusedPost } from './handfused.ts';
import { median } from './stats.ts';

/** Heap figures in bytes. */
export interface HeapSnapshot {
  heapUsed: number;
  arrayBuffers: number;
  external: number;
  rss: number;
}

/** Bytes allocated per step (medians over one-step windows without a collection). */
export interface AllocationPerStep {
  /** JS heap: growth of the young generation. */
  heap: number;
  /** ArrayBuffer backing stores (typed arrays' values outside the heap). */
  arrayBuffers: number;
  /** One-step windows measured. */
  windows: number;
}

/** Garbage-collection events seen during the long run. */
export interface GcActivity {
  minor: number;
  major: number;
  incremental: number;
  /** Total GC pause time (ms) and its share of the run's wall time. */
  ms: number;
  share: number;
}

/** The memory report. */
export interface MemoryReport {
  /** Whether a full GC was forced before each snapshot (run with --expose-gc). */
  forcedGc: boolean;
  steps: number;
  before: HeapSnapshot;
  after: HeapSnapshot;
  /** after.heapUsed + after.arrayBuffers - (before...), bytes. */
  growth: number;
  /** GC during the `steps` steps. */
  gc: GcActivity;
  /** Bytes allocated per engine step. */
  allocPerStep: AllocationPerStep;
  /** The same for the hand-fused ceiling (expected 0). */
  ceilingAllocPerStep: AllocationPerStep;
}

type Gc = () => void;
const gc: Gc | undefined = (globalThis as { gc?: Gc }).gc;

function snapshot(): HeapSnapshot {
  if (gc !== undefined) {
    gc();
    gc();
  }
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers, external: m.external, rss: m.rss };
}

function youngUsed(): number {
  let bytes = 0;
  for (const space of getHeapSpaceStatistics()) {
    if (space.space_name === 'new_space' || space.space_name === 'new_large_object_space') bytes += space.space_used_size;
  }
  return bytes;
}

/** Allocation per call of `run`, over `windows` consecutive one-call windows (see the module comment). */
function allocationPerStep(run: () => void, windows: number): AllocationPerStep {
  const heap: number[] = [], ab: number[] = [];
  let y0 = youngUsed(), a0 = process.memoryUsage().arrayBuffers;
  for (let w = 0; w < windows; w++) {
    run();
    const y1 = youngUsed(), a1 = process.memoryUsage().arrayBuffers;
    // a collection in the window shows as a drop of either counter: skip that window
    if (y1 >= y0 && a1 >= a0) {
      heap.push(y1 - y0);
      ab.push(a1 - a0);
    }
    y0 = youngUsed();
    a0 = process.memoryUsage().arrayBuffers;
  }
  return { heap: median(heap), arrayBuffers: median(ab), windows: heap.length };
}

/** {@link allocationPerStep} minus what reading the counters allocates (measured on an empty window). */
function allocationPerStepNet(run: () => void, windows: number): AllocationPerStep {
  const empty = allocationPerStep(() => {}, 100);
  const a = allocationPerStep(run, windows);
  return { heap: Math.max(0, a.heap - empty.heap), arrayBuffers: Math.max(0, a.arrayBuffers - empty.arrayBuffers), windows: a.windows };
}

/** Counts GC events while `fn` runs. */
async function withGcCount(fn: () => void): Promise<GcActivity> {
  const entries: PerformanceEntry[] = [];
  const obs = new PerformanceObserver((list) => entries.push(...list.getEntries()));
  obs.observe({ entryTypes: ['gc'] });
  const t0 = performance.now();
  fn();
  const wall = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 300)); // the observer delivers asynchronously
  obs.disconnect();
  const inRun = entries.filter((e) => e.startTime >= t0 && e.startTime <= t0 + wall);
  // detail.kind: 1 minor (scavenge), 2 major (mark-compact), 4 incremental marking, 8 weak callbacks
  const kind = (e: PerformanceEntry) => (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? 0;
  const ms = inRun.reduce((a, e) => a + e.duration, 0);
  return {
    minor: inRun.filter((e) => kind(e) === 1).length,
    major: inRun.filter((e) => kind(e) === 2).length,
    incremental: inRun.filter((e) => kind(e) === 4).length,
    ms,
    share: ms / wall,
  };
}

/**
 * Trains the post's 2-D model with TrainStep for `steps` steps and compares the heap before and after.
 * @example await memoryReport(10000);
 */
export async function memoryReport(steps: number): Promise<MemoryReport> {
  const rng = new Rng(3);
  const flow = RealNVP.post({ dim: 2, rng });
  const step = new TrainStep(flow, new Adam(flow.parameters(), { lr: 2e-4 }));
  const data = new Float64Array(1024 * 2);
  for (let i = 0; i < 1024; i++) {
    const m = rng.uniform() < 0.5 ? -2 : 2;
    data[2 * i] = m + rng.normal();
    data[2 * i + 1] = m + rng.normal();
  }
  const batch = Tensor.from(64, 2, new Float64Array(128));
  let at = 0;
  const next = () => {
    batch.data.set(data.subarray(at * 2, at * 2 + 128));
    at = (at + 64) % 1024;
  };
  const run = () => {
    next();
    step.run(batch);
  };
  for (let k = 0; k < 200; k++) run(); // warm: compiled code, optimizer state allocated
  const before = snapshot();
  const gcActivity = await withGcCount(() => {
    for (let k = 0; k < steps; k++) run();
  });
  const after = snapshot();
  for (let k = 0; k < 50; k++) run(); // recompile after the forced GCs
  const alloc = allocationPerStepNet(run, Math.min(200, Math.max(50, steps / 10)));

  const hf = new HandFusedPost({ dim: 2 });
  hf.load(flow.namedParameters());
  for (let k = 0; k < 200; k++) hf.step(data, 64);
  const ceilingAlloc = allocationPerStepNet(() => void hf.step(data, 64), 200);
  return {
    forcedGc: gc !== undefined,
    steps,
    before,
    after,
    growth: after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers),
    gc: gcActivity,
    allocPerStep: alloc,
    ceilingAllocPerStep: ceilingAlloc,
  };
}
