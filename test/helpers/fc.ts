/**
 * One seed policy for every property test: pinned under CI, fresh locally, `FC_SEED` to replay,
 * `FC_NUM_RUNS` to run longer. The seed is printed once per process.
 */
import fc from 'fast-check';

const pinned = 20261128;
const envSeed = process.env.FC_SEED;
export const seed: number = envSeed !== undefined && envSeed !== '' ? Number(envSeed) : process.env.CI ? pinned : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
export const numRuns: number = process.env.FC_NUM_RUNS ? Number(process.env.FC_NUM_RUNS) : 100;

let printed = false;
if (!printed) {
  printed = true;
  console.log(`fast-check seed ${seed} (replay with FC_SEED=${seed})`);
}

/** fc.assert with the project's seed policy and the assertion text included in the report. */
export function check<Ts extends [unknown, ...unknown[]]>(property: fc.IProperty<Ts> | fc.IAsyncProperty<Ts>, runs: number = numRuns): void | Promise<void> {
  return fc.assert(property as fc.IProperty<Ts>, { seed, numRuns: runs, includeErrorInReport: true, endOnFailure: true });
}

export { fc };
