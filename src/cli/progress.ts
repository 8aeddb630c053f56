/**
 * Training progress for the terminal. Three modes:
 * - `'tty'`: one live line redrawn in place with `\r` (epoch/epochs, a bar, train loss, validation NLL,
 *   steps/s, ETA), at most ten times a second, cleared when training ends;
 * - `'lines'` (output is a pipe or a file): a plain line for the first epoch, every `everyEpochs`
 *   epochs or `everySeconds` seconds, and the last one;
 * - `'silent'` (`--quiet`, `--json`): nothing.
 *
 * @module
 */

import type { EpochInfo } from '../train/fit.ts';

/**
 * Options of {@link Progress}.
 * @example const options: ProgressOptions = { mode: 'lines', write: (s) => process.stderr.write(s), everySeconds: 30 };
 */
export interface ProgressOptions {
  mode: 'tty' | 'lines' | 'silent';
  /** Where the text goes (e.g. `(s) => process.stdout.write(s)`). */
  write: (text: string) => void;
  /** Terminal width for the live line (default 100). */
  columns?: number;
  /** Lines mode: print every this many epochs (default: a tenth of the run). */
  everyEpochs?: number;
  /** Lines mode: print at least this often, seconds (default 10). */
  everySeconds?: number;
  /** Monotonic clock, ms (default `performance.now`). */
  now?: () => number;
}

/**
 * `1h 02m`, `3m 05s`, `12s`.
 * @example formatDuration(185); // '3m 05s'
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** A loss for display: 4 decimals, or `—` when not a number. */
function num(x: number): string {
  return Number.isFinite(x) ? x.toFixed(4) : '—';
}

/**
 * Reports training progress from `fit`'s `onEpoch` (and optionally `onStep`) callbacks.
 *
 * @example
 * const progress = new Progress(epochs, { mode: process.stdout.isTTY ? 'tty' : 'lines', write: (s) => process.stdout.write(s) });
 * fit(flow, data, { ..., onEpoch: (info) => progress.epoch(info) });
 * progress.done();
 */
export class Progress {
  private last: EpochInfo | null = null;
  private lastDraw = -Infinity;
  private lastLine = -Infinity;
  private lastPrinted = 0;
  private drawn = false;
  private stepsInEpoch = 0;
  /** (epoch, time) at the end of the last few epochs, for the ETA. */
  private readonly epochEnds: [number, number][] = [];
  private stepsPerEpoch: number;
  private readonly now: () => number;
  private readonly start: number;

  constructor(
    private readonly epochs: number,
    private readonly options: ProgressOptions,
    /** Steps per epoch, for the within-epoch fraction and ETA before the first epoch ends. */
    stepsPerEpoch = 1,
  ) {
    this.now = options.now ?? (() => performance.now());
    this.start = this.now();
    this.stepsPerEpoch = Math.max(1, stepsPerEpoch);
  }

  /**
   * After each optimizer step: keeps the live line moving within long epochs.
   * @example fit(flow, train, { epochs, batchSize: 64, rng, onStep: (step) => progress.step(step) });
   */
  step(step: number): void {
    if (this.options.mode !== 'tty') return;
    const epochsDone = this.last?.epoch ?? 0;
    this.stepsInEpoch = step - (this.last?.step ?? 0);
    const t = this.now();
    if (t - this.lastDraw >= 100) this.draw(epochsDone + Math.min(1, this.stepsInEpoch / this.stepsPerEpoch), t);
  }

  /**
   * After each epoch.
   * @example fit(flow, train, { epochs, batchSize: 64, rng, onEpoch: (info) => progress.epoch(info) });
   */
  epoch(info: EpochInfo): void {
    const steps = info.step - (this.last?.step ?? 0);
    if (steps > 0) this.stepsPerEpoch = steps;
    this.last = info;
    this.stepsInEpoch = 0;
    const t = this.now();
    this.epochEnds.push([info.epoch, t]);
    if (this.epochEnds.length > 11) this.epochEnds.shift();
    if (this.options.mode === 'tty') {
      if (t - this.lastDraw >= 100 || info.epoch === info.epochs) this.draw(info.epoch, t);
    } else if (this.options.mode === 'lines') {
      const every = this.options.everyEpochs ?? Math.max(1, Math.round(this.epochs / 10));
      const everyMs = (this.options.everySeconds ?? 10) * 1000;
      if (info.epoch === 1 || info.epoch % every === 0 || info.epoch === info.epochs || t - this.lastLine >= everyMs) {
        this.lastLine = t;
        this.lastPrinted = info.epoch;
        this.options.write(this.text(info.epoch, t) + '\n');
      }
    }
  }

  /**
   * Ends the display: clears the live line (the summary follows), or prints the last epoch in lines mode.
   * @example progress.done(); console.log('done');
   */
  done(): void {
    if (this.options.mode === 'tty' && this.drawn) this.options.write('\r\x1b[2K');
    if (this.options.mode === 'lines' && this.last !== null && this.last.epoch !== this.lastPrinted) {
      this.lastPrinted = this.last.epoch;
      this.options.write(this.text(this.last.epoch, this.now()) + '\n');
    }
    this.drawn = false;
  }

  private draw(position: number, t: number): void {
    this.lastDraw = t;
    this.drawn = true;
    this.options.write(`\r${this.text(position, t, this.options.columns ?? 100)}\x1b[K`);
  }

  /**
   * The status text at `position` epochs done (fractional within an epoch). With `columns` (the live
   * line), it has a bar and is fitted to the width by leaving out, in order, the best validation NLL,
   * the bar and the steps per second.
   */
  private text(position: number, t: number, columns?: number): string {
    const info = this.last;
    const live = columns !== undefined;
    const epochNo = Math.max(Math.min(this.epochs, live ? Math.ceil(position) : Math.floor(position)), info?.epoch ?? 0, 1);
    const epoch = `epoch ${String(epochNo).padStart(String(this.epochs).length)}/${this.epochs}`;
    const cells = 20;
    const filled = Math.round((cells * Math.min(position, this.epochs)) / Math.max(1, this.epochs));
    const bar = live ? `[${'█'.repeat(filled)}${'░'.repeat(cells - filled)}]` : '';
    const loss = info !== null ? `loss ${num(info.trainLoss)}` : '';
    const hasVal = info !== null && !Number.isNaN(info.valNll);
    const val = hasVal ? `val NLL ${num(info.valNll)}` : '';
    const best = hasVal ? `(best ${num(info.bestValNll)} @ ${info.bestEpoch})` : '';
    const speed = info !== null ? `${info.stepsPerSecond.toFixed(0)} steps/s` : '';
    const eta = position > 0 && position < this.epochs ? `ETA ${formatDuration(this.eta(position, t))}` : formatDuration((t - this.start) / 1000);
    const join = (parts: string[]) => parts.filter((p) => p !== '').join('  ').replace(/(val NLL \S+)  \(/, '$1 (');
    let line = join([epoch, bar, loss, val, best, speed, eta]);
    if (columns === undefined) return line;
    for (const drop of [[best], [best, bar], [best, bar, speed]]) {
      if (line.length < columns) break;
      line = join([epoch, bar, loss, val, best, speed, eta].filter((p) => !drop.includes(p)));
    }
    return line.length < columns ? line : line.slice(0, Math.max(0, columns - 1));
  }

  /**
   * Seconds left: the remaining epochs at the pace of the last ten (the first epochs are slow while the
   * JIT warms up, so the pace since the start would overestimate).
   */
  private eta(position: number, t: number): number {
    const ends = this.epochEnds;
    if (ends.length < 2) return ((t - this.start) / 1000 / position) * (this.epochs - position);
    const first = ends[0]!, last = ends[ends.length - 1]!;
    const perEpoch = (last[1] - first[1]) / 1000 / (last[0] - first[0]);
    return perEpoch * (this.epochs - position);
  }
}
