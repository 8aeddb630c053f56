/**
 * SHA-256 of the weights of the default NPE recipe trained on two-moons (10³ simulations, seed 1): the
 * bit-identity check of the engine's kernels (`npx tsx bench/npe-hash.ts`; full training of the main flow
 * and the raced small candidate, which is not kept here, so the hash is the main flow's).
 * @module
 */
import { createHash } from 'node:crypto';
import { Rng } from '../src/rng/rng.ts';
import { trainNpe } from '../src/sbi/npe.ts';
import { simulateDataset } from '../src/sbi/simulator.ts';
import { getTask } from '../src/sbi/tasks.ts';

const task = getTask('two-moons');
const data = simulateDataset(task, 1000, { seed: 1 });
const t0 = process.cpuUsage();
const { posterior, history } = trainNpe(data.theta, data.x, { rng: new Rng(1), support: task.prior.support, task: task.name });
const cpu = process.cpuUsage(t0);
const w = posterior.save().weights as unknown;
const bytes = w instanceof Uint8Array ? w : new TextEncoder().encode(typeof w === 'string' ? w : JSON.stringify(w));
console.log(`two-moons 10³ seed 1: ${history.epochs} epochs, ${((cpu.user + cpu.system) / 1e6).toFixed(2)} CPU s, weights sha256 ${createHash('sha256').update(bytes).digest('hex')}`);
