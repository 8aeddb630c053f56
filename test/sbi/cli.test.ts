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
import { main } from '../../src/cli/main.ts';
import { simulateInWorkers } from '../../src/cli/sbi-workers.ts';
import { simulateDataset } from '../../src/sbi/simulator.ts';
import { getTask } from '../../src/sbi/tasks.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowgrad-sbi-'));

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(args: readonly string[]): Promise<Result> {
  let stdout = '', stderr = '';
  const write = { out: process.stdout.write, err: process.stderr.write };
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
  try {
    return { code: await main(args), stdout, stderr };
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
}

function oneLine(r: Result, code: number, patterns: (string | RegExp)[], label = 'error'): void {
  assert.is(r.code, code, `${label}: exit code (stderr: ${r.stderr})`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.is(lines.length, 1, `${label}: one line, got ${JSON.stringify(r.stderr)}`);
  for (const p of patterns) assert.ok(typeof p === 'string' ? lines[0]!.includes(p) : p.test(lines[0]!), `${label}: "${lines[0]}" should match ${p}`);
}

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

test.run();
