/**
 * `flowgrad sbi` in this process (main() with stdout and stderr captured): the task list, simulations to
 * CSV from a task and from a simulator module, the same rows for one worker and two, NaN rows dropped
 * and reported, and one clear line for each mistake.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { simulateInWorkers } from '../../src/cli/sbi-workers.ts';
import { simulateDataset } from '../../src/sbi/simulator.ts';
import { getTask } from '../../src/sbi/tasks.ts';
import { assertOneLine, runCli } from '../helpers/cli.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowgrad-sbi-'));

const run = runCli;
const oneLine = assertOneLine;

function module(name: string, body: string): string {
  const path = join(tmp, name);
  writeFileSync(path, body);
  return path;
}

const GOOD = `export const prior = { low: [0, 0], high: [1, 1] };
export const dataDim = 1;
export const parameterNames = ['a', 'b'];
export function simulate(theta, rng) {
  const rows = [];
  for (let i = 0; i < theta.rows; i++) rows.push([theta.data[2 * i] > 0.8 ? NaN : theta.data[2 * i] + 0.1 * rng.normal()]);
  return rows;
}
`;

test('sbi tasks lists the five tasks with dimensions and priors', async () => {
  const r = await run(['sbi', 'tasks']);
  assert.is(r.code, 0);
  for (const s of ['two-moons', 'gaussian_linear_uniform', 'U(-3, 3)^5', 'N(0, 0.1)^10 (mean, variance)']) assert.ok(r.stdout.includes(s), s);
  assert.is(r.stdout.trim().split('\n').length, 6);
});

test('sbi simulate writes θ columns then x columns; one worker and two give the same file', async () => {
  const one = join(tmp, 'one.csv'), two = join(tmp, 'two.csv');
  const a = await run(['sbi', 'simulate', '--task', 'two_moons', '-n', '2500', '--out', one, '--seed', '3', '--workers', '1']);
  const b = await run(['sbi', 'simulate', '--task', 'two-moons', '-n', '2500', '--out', two, '--seed', '3', '--workers', '2']);
  assert.is(a.code, 0, a.stderr);
  assert.is(b.code, 0, b.stderr);
  assert.match(b.stderr, /2500 simulations .* on 2 workers/);
  const text = readFileSync(one, 'utf8');
  assert.is(text, readFileSync(two, 'utf8'));
  const lines = text.trim().split('\n');
  assert.is(lines[0], 'theta1,theta2,x1,x2');
  assert.is(lines.length, 2501);
  // The same rows as the library's simulateDataset.
  const lib = simulateDataset(getTask('two-moons'), 2500, { seed: 3 });
  assert.equal(lines[2500]!.split(',').map(Number), [...lib.theta.data.subarray(4998), ...lib.x.data.subarray(4998)]);
});

test('a simulator module: NaN rows are dropped and reported; workers agree with one thread', async () => {
  const path = module('good.mjs', GOOD), out = join(tmp, 'mod.csv');
  const r = await run(['sbi', 'simulate', '--simulator', path, '-n', '3000', '--out', out, '--seed', '1', '--workers', '2']);
  assert.is(r.code, 0, r.stderr);
  const dropped = Number(/dropped (\d+) that returned NaN/.exec(r.stderr)?.[1]);
  assert.ok(dropped > 450 && dropped < 750, `dropped ${dropped} of 3000, expected about 600`);
  const lines = readFileSync(out, 'utf8').trim().split('\n');
  assert.is(lines[0], 'a,b,x1');
  assert.is(lines.length - 1 + dropped, 3000);
  const inThreads = await simulateInWorkers({ kind: 'module', path }, 3000, { seed: 1, workers: 2 });
  const inPlace = await simulateInWorkers({ kind: 'module', path }, 3000, { seed: 1, workers: 1 });
  assert.equal(Array.from(inThreads.x.data), Array.from(inPlace.x.data));
});

test('mistakes give one line: unknown task, a throwing module, a wrong shape (said which), missing exports, both sources', async () => {
  const out = join(tmp, 'bad.csv');
  oneLine(await run(['sbi', 'simulate', '--task', 'two-moon', '-n', '10', '--out', out]), 1, ['unknown task "two-moon"', 'did you mean "two-moons"']);
  const throws = module('throws.mjs', GOOD.replace('const rows = [];', 'throw new Error("no licence");'));
  oneLine(await run(['sbi', 'simulate', '--simulator', throws, '-n', '10', '--out', out, '--workers', '1']), 1, ['throws.mjs: simulate threw: no licence'], 'throws');
  oneLine(await run(['sbi', 'simulate', '--simulator', throws, '-n', '2000', '--out', out, '--workers', '2']), 1, ['throws.mjs: simulate threw: no licence'], 'throws in a worker');
  const short = module('short.mjs', GOOD.replace('return rows;', 'return rows.slice(1);'));
  oneLine(await run(['sbi', 'simulate', '--simulator', short, '-n', '10', '--out', out, '--workers', '1']), 1, ['simulate returned 9 rows for 10 parameter rows'], 'rows');
  const wide = module('wide.mjs', GOOD.replace('export const dataDim = 1;', 'export const dataDim = 2;'));
  oneLine(await run(['sbi', 'simulate', '--simulator', wide, '-n', '10', '--out', out, '--workers', '1']), 1, ['row 0 of 1 numbers, expected 2 (dataDim)'], 'width');
  const noPrior = module('noprior.mjs', GOOD.replace('export const prior', 'export const notPrior'));
  oneLine(await run(['sbi', 'simulate', '--simulator', noPrior, '-n', '10', '--out', out]), 1, ['must export prior'], 'prior');
  oneLine(await run(['sbi', 'simulate', '--simulator', join(tmp, 'nope.mjs'), '-n', '10', '--out', out]), 1, ['nope.mjs: no such file'], 'missing');
  oneLine(await run(['sbi', 'simulate', '--task', 'slcp', '--simulator', noPrior, '-n', '10', '--out', out]), 2, ['exactly one of --task']);
  oneLine(await run(['sbi', 'fly']), 2, ['unknown sbi subcommand "fly"', 'tasks, simulate']);
});

test('sbi train → sample → eval on a task: files written, samples in the box, a clear line for each mistake', async () => {
  const dir = join(tmp, 'tm'), obs = join(tmp, 'obs.csv'), post = join(tmp, 'post.csv');
  const t = await run(['sbi', 'train', '--task', 'two_moons', '--simulations', '300', '--out', dir, '--seed', '4', '--epochs', '5']);
  assert.is(t.code, 0, t.stderr);
  assert.match(t.stderr, /task two-moons: 300 simulations; training on 300/);
  assert.match(t.stderr, /trained in .* wrote/);
  oneLine(await run(['sbi', 'train', '--task', 'two-moons', '--simulations', '300', '--out', dir]), 1, ['already exists and is not empty', '--force'], 'overwrite');
  writeFileSync(obs, 'x1,x2\n-0.03,0.65\n0.1,0.1\n');
  const s = await run(['sbi', 'sample', '--model', dir, '--observation', obs, '-n', '200', '--out', post]);
  assert.is(s.code, 0, s.stderr);
  const lines = readFileSync(post, 'utf8').trim().split('\n');
  assert.is(lines[0], 'observation,theta1,theta2');
  assert.is(lines.length, 401);
  for (const line of lines.slice(1)) for (const v of line.split(',').slice(1).map(Number)) assert.ok(v > -1 && v < 1, `sample ${v} outside the prior box`);
  writeFileSync(obs, 'x1,x2,x3\n1,2,3\n');
  oneLine(await run(['sbi', 'sample', '--model', dir, '--observation', obs, '-n', '5', '--out', post, '--force']), 1, ['has 3 columns', 'expects 2 (x1, x2)'], 'width');
  writeFileSync(obs, 'x1,x2\n1,NaN\n');
  oneLine(await run(['sbi', 'sample', '--model', dir, '--observation', obs, '-n', '5', '--out', post, '--force']), 1, ['row 1, column x2 is NaN'], 'NaN');
  oneLine(await run(['sbi', 'eval', '--model', dir, '--task', 'slcp']), 1, ['trained for task two-moons, not slcp'], 'other task');
  const e = await run(['sbi', 'eval', '--model', dir, '--observations', '1', '--samples', '300']);
  assert.is(e.code, 0, e.stderr);
  assert.match(e.stdout, /task two-moons: mean C2ST 0\.\d{3} over 1 fresh observations/);
  oneLine(await run(['sbi', 'sample', '--model', tmp, '--observation', obs, '-n', '5', '--out', post, '--force']), 1, ['no config.json'], 'not a model');
});

test('sbi train --data: the first K columns are θ; NaN rows are counted and dropped; the model has no task to eval', async () => {
  const csv = join(tmp, 'sims.csv'), dir = join(tmp, 'data-model');
  const rows = ['a,b,y1,y2'];
  for (let i = 0; i < 300; i++) rows.push(i % 10 === 0 ? `${i / 300},0.5,NaN,1` : `${i / 300},${(i % 7) / 7},${i / 300 + 0.01 * (i % 3)},${(i % 7) / 7}`);
  writeFileSync(csv, rows.join('\n') + '\n');
  const t = await run(['sbi', 'train', '--data', csv, '--params', '2', '--out', dir, '--epochs', '3']);
  assert.is(t.code, 0, t.stderr);
  assert.match(t.stderr, /300 simulations, 30 dropped \(NaN or ±∞\); training on 270/);
  oneLine(await run(['sbi', 'eval', '--model', dir]), 1, ['simulations of your own', 'no reference posterior'], 'no task');
  oneLine(await run(['sbi', 'train', '--data', csv, '--params', '4', '--out', dir, '--force']), 1, ['--params 4 leaves no data columns'], 'params');
  oneLine(await run(['sbi', 'train', '--data', csv, '--task', 'slcp', '--params', '2', '--out', dir, '--force']), 2, ['--data takes no --task'], 'both');
});

test.run();
