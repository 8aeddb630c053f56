/** Numeric assertions with tolerances, reporting the index and both values. */
import * as assert from 'uvu/assert';

export interface Tol {
  rtol?: number;
  atol?: number;
}

type Numbers = ArrayLike<number> | readonly (readonly number[])[];

function flatten(x: Numbers | number): number[] {
  if (typeof x === 'number') return [x];
  const out: number[] = [];
  for (let i = 0; i < x.length; i++) {
    const v = (x as ArrayLike<unknown>)[i];
    if (typeof v === 'number') out.push(v);
    else out.push(...flatten(v as Numbers));
  }
  return out;
}

/** Fails unless |actual - expected| <= atol + rtol·|expected| everywhere (and shapes agree). */
export function assertClose(actual: Numbers | number, expected: Numbers | number, label: string, tol: Tol = {}): void {
  const rtol = tol.rtol ?? 1e-10, atol = tol.atol ?? 0;
  const a = flatten(actual), e = flatten(expected);
  if (a.length !== e.length) assert.unreachable(`${label}: got ${a.length} values, expected ${e.length}`);
  for (let i = 0; i < a.length; i++) {
    const ok = Math.abs(a[i]! - e[i]!) <= atol + rtol * Math.abs(e[i]!) || (a[i] === e[i]);
    if (!ok) assert.unreachable(`${label}: at index ${i} got ${a[i]}, expected ${e[i]} (|diff| ${Math.abs(a[i]! - e[i]!)}, rtol ${rtol}, atol ${atol})`);
  }
}

/** Fails unless `fn` throws an error whose message matches every pattern (and is of `type`, if given). */
export function assertThrows(fn: () => unknown, patterns: (RegExp | string)[], type?: new (...args: never[]) => Error): Error {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  if (caught === undefined) assert.unreachable(`expected an error matching ${patterns.join(', ')}, nothing was thrown`);
  const err = caught as Error;
  if (type !== undefined && !(err instanceof type)) assert.unreachable(`expected ${type.name}, got ${(caught as Error)?.constructor?.name}: ${(caught as Error)?.message}`);
  for (const p of patterns) {
    const hit = typeof p === 'string' ? err.message.includes(p) : p.test(err.message);
    if (!hit) assert.unreachable(`error message "${err.message}" does not match ${p}`);
  }
  return err;
}
