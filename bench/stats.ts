/**
 * Small helpers shared by the benchmarks: order statistics of timings, the interleaved A/B timer, and
 * fixed-width tables.
 *
 * @module
 */

/** Order statistics of a sample of timings (ms). */
export interface Summary {
  n: number;
  median: number;
  p10: number;
  p90: number;
  min: number;
  max: number;
}

/** The q-quantile (0..1) of a sorted array, linear interpolation. */
function quantileSorted(s: Float64Array, q: number): number {
  if (s.length === 0) return NaN;
  const at = q * (s.length - 1), lo = Math.floor(at), hi = Math.ceil(at);
  return s[lo] + (s[hi] - s[lo]) * (at - lo);
}

/** Median, p10, p90, min and max. @example summarize([1, 2, 3]).median; // 2 */
export function summarize(xs: ArrayLike<number>): Summary {
  const s = Float64Array.from(xs).sort();
  return { n: s.length, median: quantileSorted(s, 0.5), p10: quantileSorted(s, 0.1), p90: quantileSorted(s, 0.9), min: s[0] ?? NaN, max: s[s.length - 1] ?? NaN };
}

/** The median of a sample. @example median([3, 1, 2]); // 2 */
export function median(xs: ArrayLike<number>): number {
  return summarize(xs).median;
}

/** One contender of {@link interleave}: `run()` does one unit of work (a training step) and returns a number (its loss). */
export interface Contender {
  name: string;
  run(): number;
}

/** How long {@link interleave} runs. */
export interface InterleaveOptions {
  /** Untimed steps of each contender first (alternating), so that both are compiled and warm. */
  warmupSteps: number;
  /** Number of A-B rounds (each contender runs one block per round, in the same order). */
  rounds: number;
  /** Steps per block. */
  stepsPerBlock: number;
  /** Stop starting new rounds after this many ms (at least `minRounds` are run). */
  budgetMs?: number;
  /** Rounds always run, whatever the budget (default 2). */
  minRounds?: number;
}

/** Per-step times (ms) of each contender, the values `run()` returned, and the per-round medians. */
export interface InterleaveResult {
  times: number[][];
  /** CPU time (user + system, ms) of each contender over all its timed blocks: on a shared machine this
   * counts only the time the process ran, not the time it waited for the core. */
  cpuMs: number[];
  values: number[][];
  blockMedians: number[][];
  rounds: number;
}

/**
 * Times contenders interleaved in one process: warm-up, then rounds of A B A B ..., each a block of
 * `stepsPerBlock` steps, every step timed on its own with `performance.now()`. Interleaving spreads
 * slow phases of a shared machine over all contenders instead of penalising whichever ran then.
 *
 * @example
 * const r = interleave([engine, ceiling], { warmupSteps: 100, rounds: 20, stepsPerBlock: 50 });
 * summarize(r.times[0]).median; // engine ms/step
 */
export function interleave(contenders: Contender[], o: InterleaveOptions): InterleaveResult {
  for (let k = 0; k < o.warmupSteps; k++) for (const c of contenders) c.run();
  const times = contenders.map(() => [] as number[]);
  const values = contenders.map(() => [] as number[]);
  const blockMedians = contenders.map(() => [] as number[]);
  const cpuMs = contenders.map(() => 0);
  const start = performance.now();
  const minRounds = o.minRounds ?? 2;
  let rounds = 0;
  for (; rounds < o.rounds; rounds++) {
    if (rounds >= minRounds && o.budgetMs !== undefined && performance.now() - start > o.budgetMs) break;
    for (let c = 0; c < contenders.length; c++) {
      const block: number[] = [];
      const run = contenders[c];
      const cpu0 = process.cpuUsage();
      for (let k = 0; k < o.stepsPerBlock; k++) {
        const t0 = performance.now();
        const v = run.run();
        const dt = performance.now() - t0;
        block.push(dt);
        times[c].push(dt);
        values[c].push(v);
      }
      const cpu = process.cpuUsage(cpu0);
      cpuMs[c] += (cpu.user + cpu.system) / 1000;
      blockMedians[c].push(median(block));
    }
  }
  return { times, cpuMs, values, blockMedians, rounds };
}

/** Formats a number with a fixed count of significant-looking decimals, '-' for non-finite. */
export function fmt(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return '-';
  return x.toFixed(digits);
}

/**
 * A fixed-width text table: first column left-aligned, the others right-aligned.
 * @example console.log(table(['a', 'b'], [['x', '1']]));
 */
export function table(head: string[], rows: string[][]): string {
  const w = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((v, c) => (c === 0 ? v.padEnd(w[c]) : v.padStart(w[c]))).join('  ');
  return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}
