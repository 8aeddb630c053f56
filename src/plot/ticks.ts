/**
 * "Nice" axis ticks: steps of 1, 2 or 5 times a power of ten, and labels without floating-point noise.
 *
 * @module
 */

/**
 * Ticks for one axis.
 * @example const t: Ticks = niceTicks(0, 1); // values [0, 0.2, …, 1], labels ['0.0', …, '1.0']
 */
export interface Ticks {
  /** The tick values: the multiples of `step` in [min, max], increasing. */
  values: number[];
  /** The step between ticks: 1, 2 or 5 × 10^k. */
  step: number;
  /** The axis start: the given minimum, or with `extend` that rounded down to a multiple of `step`. */
  min: number;
  /** The axis end: the given maximum, or with `extend` that rounded up to a multiple of `step`. */
  max: number;
  /** The labels, one per value, formatted with as many decimals as the step needs. */
  labels: string[];
}

/**
 * About `count` ticks over [min, max] at the multiples of a 1-2-5 step that fall inside it; with `extend`
 * the range is first widened to whole steps, so the first and last ticks sit on the ends. An empty range
 * (min = max) is widened by ±1 (or ±10% of |min|). Tick values are computed as integers divided by a power
 * of ten, so 3 × 0.1 comes out as 0.3, not 0.30000000000000004. The step choice follows d3-array's
 * `tickIncrement` (thresholds √2, √10, √50).
 *
 * @example
 * niceTicks(-4.3, 4.1).values;       // [-4, -2, 0, 2, 4] (step 2)
 * niceTicks(-4.3, 4.1, 5, true).min; // -6
 * niceTicks(0, 1).labels;            // ['0.0', '0.2', '0.4', '0.6', '0.8', '1.0']
 * niceTicks(0.13, 0.46).step;        // 0.05
 */
export function niceTicks(min: number, max: number, count: number = 5, extend: boolean = false): Ticks {
  if (!Number.isFinite(min) || !Number.isFinite(max)) throw new RangeError(`niceTicks: the range must be finite, got [${min}, ${max}]`);
  if (min > max) throw new RangeError(`niceTicks: min ${min} is above max ${max}`);
  if (!(count >= 1)) throw new RangeError(`niceTicks: count must be >= 1, got ${count}`);
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const raw = (max - min) / count;
  const power = Math.floor(Math.log10(raw));
  const error = raw / 10 ** power;
  const mult = error >= Math.sqrt(50) ? 10 : error >= Math.sqrt(10) ? 5 : error >= Math.SQRT2 ? 2 : 1;
  // value(k) = k·mult·10^power, computed as an integer over a power of ten when power < 0.
  const value = (k: number): number => (power >= 0 ? k * mult * 10 ** power : (k * mult) / 10 ** -power);
  const step = value(1);
  // The 1e-9 slack keeps a tick that sits on an end despite rounding (e.g. 0.3 / 0.1 = 2.9999999999999996).
  const k0 = extend ? Math.floor(min / step + 1e-9) : Math.ceil(min / step - 1e-9);
  const k1 = extend ? Math.ceil(max / step - 1e-9) : Math.floor(max / step + 1e-9);
  const values: number[] = [];
  for (let k = k0; k <= k1; k++) values.push(value(k));
  const lo = extend ? value(k0) : min, hi = extend ? value(k1) : max;
  return { values, step, min: lo, max: hi, labels: values.map((v) => formatTick(v, step)) };
}

/**
 * A tick label: as many decimals as `step` needs (step 0.05 -> 2 decimals, so labels of one axis line up),
 * never `-0`; exponent notation for very large values or very small steps (|value| ≥ 1e6 or step < 1e-4).
 *
 * @example
 * formatTick(0.30000000000000004, 0.1); // '0.3'
 * formatTick(0, 0.1);                   // '0.0'
 * formatTick(-0, 1);                    // '0'
 * formatTick(2e-6, 1e-6);               // '2e-6'
 */
export function formatTick(value: number, step: number): string {
  if (Math.abs(value) < step * 1e-9) value = 0; // also turns -0 into 0
  if (Math.abs(value) >= 1e6 || step < 1e-4) {
    if (value === 0) return '0';
    const digits = Math.max(0, Math.min(15, Math.floor(Math.log10(Math.abs(value))) - Math.floor(Math.log10(step) + 1e-9)));
    return value.toExponential(digits).replace(/\.?0+e/, 'e').replace('e+', 'e');
  }
  const decimals = Math.max(0, Math.ceil(-Math.log10(step) - 1e-9));
  return value.toFixed(decimals);
}
