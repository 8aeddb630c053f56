/**
 * Ctrl-C to `sbi train` as a terminal sends it (SIGINT to the process group, under `node --import tsx`
 * as `npm run cli` runs it), at a random moment: during training it keeps the simulations, the best
 * posterior so far and a checkpoint (exit 130) and `--resume` finishes the run; during the simulations
 * (in worker threads, and in this thread) it keeps nothing, and leaves nothing half-written. Three
 * spawned runs, side by side.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli } from '../helpers/cli.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'flowgrad-sbi-signals-'));

interface Ended {
  code: number | null;
  stderr: string;
}

/** `flowgrad <args>` in its own process group; SIGINT to the group `extra` ms after a stderr line matching `when`. */
function interrupt(args: string[], when: RegExp, extra: number): Promise<Ended> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    for (const k of ['FLOWGRAD_WORKER', 'FLOWGRAD_FAULT_AT', 'FLOWGRAD_TEST_STOP_AT_STEP', 'FLOWGRAD_DEBUG']) delete env[k];
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: repo, env, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '', sent = false;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!sent && when.test(stderr)) {
        sent = true;
        setTimeout(() => {
          try {
            process.kill(-child.pid!, 'SIGINT');
          } catch {
            // gone
          }
        }, extra);
      }
    });
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

// Slow on purpose: 150 ms a call (chunks of 1000), so that the Ctrl-C lands while simulating.
const slow = join(tmp, 'slow.mjs');
writeFileSync(slow, `export const prior = { low: [-1, -1], high: [1, 1] };
export const dataDim = 2;
export function simulate(theta, rng) {
  const until = Date.now() + 150;
  while (Date.now() < until);
  const rows = [];
  for (let i = 0; i < theta.rows; i++) rows.push([theta.data[2 * i] + 0.1 * rng.normal(), theta.data[2 * i + 1]]);
  return rows;
}
`);

test('Ctrl-C while training keeps the run (interrupted, exit 130) and --resume finishes it; while simulating, in workers or in this thread, it keeps nothing', async () => {
  const trained = join(tmp, 'trained'), inWorkers = join(tmp, 'workers'), inThread = join(tmp, 'thread');
  const [a, b, c] = await Promise.all([
    interrupt(['sbi', 'train', '--task', 'two-moons', '--simulations', '2000', '--epochs', '100000', '--out', trained], /^epoch 1:/m, Math.round(Math.random() * 300)),
    interrupt(['sbi', 'train', '--simulator', slow, '--workers', '2', '--simulations', '40000', '--out', inWorkers], /simulating 40000/, Math.round(Math.random() * 300)),
    interrupt(['sbi', 'train', '--simulator', slow, '--workers', '1', '--simulations', '40000', '--out', inThread], /simulating 40000/, Math.round(Math.random() * 300)),
  ]);
  assert.is(a.code, 130, a.stderr);
  assert.match(a.stderr, 'stopping after the current step');
  assert.match(a.stderr, `continue with flowgrad sbi train --resume ${trained}`);
  assert.is(JSON.parse(readFileSync(join(trained, 'config.json'), 'utf8')).training.status, 'interrupted');
  for (const f of ['simulations.csv', 'simulations.json', 'model.safetensors', 'checkpoint.safetensors']) assert.ok(existsSync(join(trained, f)), f);
  const at = Number(/interrupted at epoch (\d+)/.exec(a.stderr)![1]);
  const resumed = await runCli(['sbi', 'train', '--resume', trained, '--epochs', String(at + 1)]);
  assert.is(resumed.code, 0, resumed.stderr);
  assert.not.ok(existsSync(join(trained, 'checkpoint.safetensors')));
  for (const [end, dir, name] of [[b, inWorkers, 'workers'], [c, inThread, 'this thread']] as const) {
    assert.is(end.code, 130, `${name}: ${end.stderr}`);
    assert.match(end.stderr, /interrupted while simulating \(\d+ of 40 chunks done\); nothing was kept/, name);
    assert.not.ok(existsSync(dir), `${name}: no run folder`);
  }
  assert.equal(readdirSync(tmp).filter((f) => f.includes('flowgrad-')), [], 'nothing half-written beside the folders');
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));

test.run();
