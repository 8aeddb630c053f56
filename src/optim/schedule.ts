/**
 * Learning-rate schedules: small objects that set `optimizer.lr` on every `step()`, with PyTorch's
 * `StepLR`, `ExponentialLR` and `CosineAnnealingLR` formulas.
 *
 * Each schedule computes the rate from its closed form, lr(epoch) from the base rate, as PyTorch's
 * `_get_closed_form_lr` does. PyTorch's own `step()` uses an equivalent recursive ("chainable") form;
 * the two agree to rounding (about 1e-16 relative per epoch). The closed form does not drift, and a
 * schedule resumes exactly from its epoch alone.
 *
 * @module
 */
import { checkNumber, checkOptionKeys, describe } from './optimizer.ts';

/**
 * Anything whose learning rate a schedule can set: every Optimizer.
 * @example const target: HasLearningRate = new SGD(params, { lr: 0.1 });
 */
export interface HasLearningRate {
  lr: number;
}

/**
 * The saved state of a schedule: plain JSON.
 * @example { scheduler: 'StepLR', epoch: 30, baseLr: 0.1 }
 */
export interface SchedulerStateDict {
  /** The schedule's class name, checked on load. */
  scheduler: string;
  /** How many times `step()` has been called. */
  epoch: number;
  /** The optimizer's learning rate when the schedule was created. */
  baseLr: number;
}

/**
 * The base of every schedule. On creation it records the optimizer's current lr as the base rate at
 * epoch 0; each `step()` advances the epoch by one and sets `optimizer.lr = lrAt(epoch)`. Call it once
 * per epoch, after that epoch's `optimizer.step()` calls (PyTorch's order).
 *
 * @example
 * class Halving extends LRScheduler {
 *   constructor(opt: HasLearningRate) { super('Halving', opt); }
 *   lrAt(epoch: number) { return this.baseLr * 0.5 ** epoch; }
 * }
 */
export abstract class LRScheduler {
  /** The optimizer whose `lr` this schedule sets. */
  readonly optimizer: HasLearningRate;
  /** The learning rate at epoch 0 (the optimizer's lr when the schedule was made). */
  baseLr: number;
  /** How many times `step()` has been called (PyTorch's `last_epoch`). */
  epoch = 0;
  private readonly label: string;

  protected constructor(label: string, optimizer: HasLearningRate) {
    this.label = label;
    if (optimizer === null || typeof optimizer !== 'object' || typeof optimizer.lr !== 'number') {
      throw new TypeError(`${label}: expected an optimizer with a numeric lr, got ${describe(optimizer)}`);
    }
    this.optimizer = optimizer;
    this.baseLr = optimizer.lr;
  }

  /**
   * The learning rate at `epoch` (0 gives the base rate).
   * @example new StepLR(opt, { stepSize: 10 }).lrAt(25); // baseLr · 0.1²
   */
  abstract lrAt(epoch: number): number;

  /**
   * Advances one epoch, sets the optimizer's lr and returns it.
   * @example for (let e = 0; e < 100; e++) { train(); schedule.step(); }
   */
  step(): number {
    this.epoch += 1;
    const lr = this.lrAt(this.epoch);
    this.optimizer.lr = lr;
    return lr;
  }

  /**
   * The learning rate at the current epoch.
   * @example schedule.lr; // what optimizer.lr was last set to
   */
  get lr(): number {
    return this.lrAt(this.epoch);
  }

  /**
   * The schedule's state as plain JSON.
   * @example const saved = JSON.stringify(schedule.stateDict());
   */
  stateDict(): SchedulerStateDict {
    return { scheduler: this.label, epoch: this.epoch, baseLr: this.baseLr };
  }

  /**
   * Restores a state from {@link LRScheduler.stateDict} and sets the optimizer's lr to match it.
   * @example schedule.loadStateDict(JSON.parse(saved));
   */
  loadStateDict(dict: SchedulerStateDict): void {
    const where = `${this.label}.loadStateDict`;
    if (dict === null || typeof dict !== 'object') throw new TypeError(`${where}: expected a state dict object, got ${describe(dict)}`);
    if (dict.scheduler !== this.label) throw new TypeError(`${where}: this is the state of ${describe(dict.scheduler)}, not ${this.label}`);
    if (typeof dict.epoch !== 'number' || !Number.isInteger(dict.epoch) || dict.epoch < 0) {
      throw new RangeError(`${where}: epoch must be an integer >= 0, got ${describe(dict.epoch)}`);
    }
    checkNumber(where, 'baseLr', dict.baseLr, 0);
    this.epoch = dict.epoch;
    this.baseLr = dict.baseLr;
    this.optimizer.lr = this.lrAt(this.epoch);
  }
}

/**
 * Options of {@link StepLR}.
 * @example { stepSize: 30, gamma: 0.1 }
 */
export interface StepLROptions {
  /** Decay every `stepSize` epochs (a positive integer). */
  stepSize: number;
  /** Multiplicative factor of each decay, ≥ 0. Default 0.1. */
  gamma?: number;
}

/**
 * Decays the learning rate by `gamma` every `stepSize` epochs:
 * lr(epoch) = baseLr · gamma^⌊epoch / stepSize⌋.
 *
 * @example
 * const schedule = new StepLR(opt, { stepSize: 30, gamma: 0.1 });
 * // lr = 0.1 for epochs 0..29, 0.01 for 30..59, 0.001 for 60..89, ...
 */
export class StepLR extends LRScheduler {
  /** Epochs between decays. */
  readonly stepSize: number;
  /** Factor of each decay. */
  readonly gamma: number;

  constructor(optimizer: HasLearningRate, options: StepLROptions) {
    checkOptionKeys('StepLR', options, ['stepSize', 'gamma']);
    super('StepLR', optimizer);
    this.stepSize = checkPositiveInteger('StepLR', 'stepSize', options.stepSize);
    this.gamma = checkNumber('StepLR', 'gamma', options.gamma ?? 0.1, 0);
  }

  /**
   * baseLr · gamma^⌊epoch / stepSize⌋.
   * @example new StepLR(opt, { stepSize: 2, gamma: 0.5 }).lrAt(5); // baseLr / 4
   */
  lrAt(epoch: number): number {
    return this.baseLr * this.gamma ** Math.floor(epoch / this.stepSize);
  }
}

/**
 * Options of {@link ExponentialLR}.
 * @example { gamma: 0.95 }
 */
export interface ExponentialLROptions {
  /** Multiplicative factor per epoch, ≥ 0. */
  gamma: number;
}

/**
 * Decays the learning rate by `gamma` every epoch: lr(epoch) = baseLr · gamma^epoch.
 *
 * @example
 * const schedule = new ExponentialLR(opt, { gamma: 0.95 });
 * schedule.step(); // opt.lr = 0.95 · baseLr
 */
export class ExponentialLR extends LRScheduler {
  /** Factor per epoch. */
  readonly gamma: number;

  constructor(optimizer: HasLearningRate, options: ExponentialLROptions) {
    checkOptionKeys('ExponentialLR', options, ['gamma']);
    super('ExponentialLR', optimizer);
    this.gamma = checkNumber('ExponentialLR', 'gamma', options.gamma, 0);
  }

  /**
   * baseLr · gamma^epoch.
   * @example new ExponentialLR(opt, { gamma: 0.5 }).lrAt(3); // baseLr / 8
   */
  lrAt(epoch: number): number {
    return this.baseLr * this.gamma ** epoch;
  }
}

/**
 * Options of {@link CosineAnnealingLR}.
 * @example { tMax: 100, etaMin: 1e-5 }
 */
export interface CosineAnnealingLROptions {
  /** Epochs from the base rate down to `etaMin` (a positive integer). */
  tMax: number;
  /** The lowest learning rate, ≥ 0. Default 0. */
  etaMin?: number;
}

/**
 * Cosine annealing (I. Loshchilov & F. Hutter, "SGDR: Stochastic Gradient Descent with Warm
 * Restarts", ICLR 2017), without restarts, as PyTorch's `CosineAnnealingLR`:
 * lr(epoch) = etaMin + (baseLr − etaMin)·(1 + cos(π·epoch / tMax)) / 2.
 * It reaches etaMin at epoch tMax; past it the rate rises again along the same cosine (period
 * 2·tMax), as in PyTorch.
 *
 * @example
 * const schedule = new CosineAnnealingLR(opt, { tMax: 100, etaMin: 1e-5 });
 * for (let e = 0; e < 100; e++) { train(); schedule.step(); } // ends at lr = 1e-5
 */
export class CosineAnnealingLR extends LRScheduler {
  /** Half-period in epochs. */
  readonly tMax: number;
  /** The lowest rate. */
  readonly etaMin: number;

  constructor(optimizer: HasLearningRate, options: CosineAnnealingLROptions) {
    checkOptionKeys('CosineAnnealingLR', options, ['tMax', 'etaMin']);
    super('CosineAnnealingLR', optimizer);
    this.tMax = checkPositiveInteger('CosineAnnealingLR', 'tMax', options.tMax);
    this.etaMin = checkNumber('CosineAnnealingLR', 'etaMin', options.etaMin ?? 0, 0);
  }

  /**
   * etaMin + (baseLr − etaMin)·(1 + cos(π·epoch / tMax)) / 2.
   * @example new CosineAnnealingLR(opt, { tMax: 10 }).lrAt(5); // baseLr / 2
   */
  lrAt(epoch: number): number {
    return this.etaMin + ((this.baseLr - this.etaMin) * (1 + Math.cos((Math.PI * epoch) / this.tMax))) / 2;
  }
}

function checkPositiveInteger(owner: string, option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new RangeError(`${owner}: ${option} must be a positive integer, got ${describe(value)}`);
  }
  return value;
}
