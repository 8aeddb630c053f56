/**
 * Ctrl-C as a terminal sends it — SIGINT to the whole process group — under the launchers the README
 * documents: `npx tsx`, `npm run cli` and the built bin (when dist/ exists). Each run is interrupted at
 * a random moment of its training, must keep its work (the run folder and a checkpoint) and resume.
 * A few runs only, to stay fast; `node scripts/signal-stress.mjs` runs many, at any moment.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { main } from '../../src/cli/main.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'flowgrad-signals-'));
const bin = join(repo, 'dist/cli/main.js');

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Starts `cmd` in its own process group; sends SIGINT to the group `extra` ms after the first epoch line (`presses` times, 0.6 s apart: more than the half second within which a launcher's relay counts as the same press). */
function interrupt(cmd: string, args: string[], extra: number, presses = 1): Promise<Ended> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    for (const k of ['FLOWGRAD_WORKER', 'FLOWGRAD_FAULT_AT', 'FLOWGRAD_TEST_STOP_AT_STEP', 'FLOWGRAD_DEBUG']) delete env[k];
    const child = spawn(cmd, args, { cwd: repo, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '', sent = false;
    const kill = () => {
      try {
        process.kill(-child.pid!, 'SIGINT');
      } catch {
        // gone
      }
    };
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (!sent && /epoch\s+\d+\//.test(stdout)) {
        sent = true;
        for (let k = 0; k < presses; k++) setTimeout(kill, extra + 600 * k);
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

const train = (out: string) => ['train', '--dataset', 'two-moons', '--epochs', '100', '--patience', '0', '--layers', '2', '--hidden', '16', '--out', out, '--checkpoint-every', '0.5'];
// `strict`: the whole run folder must be written. `npx tsx` relays the Ctrl-C and SIGKILLs the child
// when its main thread has not answered within 60 ms, which a heavily loaded machine can cause; there
// the work is kept as the checkpoint (the one written when the Ctrl-C stopped training, or the last
// periodic one) beside the run folder.
const launchers: [string, (out: string) => [string, string[]], boolean][] = [
  ['npx tsx', (out) => ['npx', ['tsx', 'src/cli/main.ts', ...train(out), '--no-figures']], false],
  ['npm run cli', (out) => ['npm', ['run', '--silent', 'cli', '--', ...train(out), '--no-figures']], true],
];
if (existsSync(bin)) {
  // chmod at launch, not at load: a test file that runs earlier may rebuild dist/ (the page tests, npm pack), which writes the bin without +x.
  launchers.push(['the bin (dist/cli/main.js)', (out) => (chmodSync(bin, 0o755), [bin, [...train(out), '--no-figures']]), true]);
}

test('a Ctrl-C to the process group under each launcher keeps the run and its checkpoint; a second one writes only the checkpoint; --resume finishes both', async () => {
  // All at once, so that the test takes the time of the slowest run.
  const twice = join(tmp, 'twice');
  const [ends, end2] = await Promise.all([
    Promise.all(launchers.map(async ([name, make, strict], i) => {
      const out = join(tmp, `run-${i}`);
      const [cmd, args] = make(out);
      return { name, out, strict, end: await interrupt(cmd, args, Math.round(Math.random() * 300)) };
    })),
    // 400,000 test points, so that the evaluation after the first Ctrl-C outlasts the second.
    interrupt('npm', ['run', '--silent', 'cli', '--', ...train(twice), '--test-n', '400000'], 0, 2),
  ]);
  for (const { name, out, end, strict } of ends) {
    assert.match(end.stderr, 'stopping after the current step', `${name}: the first Ctrl-C says what it does`);
    const whole = existsSync(join(out, 'model.safetensors'));
    if (strict || whole) {
      assert.match(end.stderr, `continue with flowgrad train --resume ${out}`, `${name}: and where the run is (stderr: ${end.stderr})`);
      assert.ok(whole, `${name}: the run folder is written`);
      assert.ok(existsSync(join(out, 'checkpoint.safetensors')), `${name}: with its checkpoint`);
      assert.is(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).training.status, 'interrupted');
    } else {
      assert.ok(existsSync(join(tmp, `.run-${ends.findIndex((e) => e.out === out)}.flowgrad-new`, 'checkpoint.safetensors')), `${name}: killed by the launcher, the checkpoint is kept`);
    }
  }
  // One resume to the end (the others are the same code; robust.test.ts checks resumes bit for bit).
  const last = ends.at(-1)!;
  const at = JSON.parse(readFileSync(join(last.out, 'metrics.json'), 'utf8')).epochs as number;
  assert.is((await quietMain(['train', '--resume', last.out, '--epochs', String(at + 1), '--quiet', '--no-figures'])).code, 0, `${last.name}: resumes to the end (one more epoch)`);
  assert.not.ok(existsSync(join(last.out, 'checkpoint.safetensors')));

  assert.match(end2.stderr, 'writing only the checkpoint, then quitting');
  assert.match(end2.stderr, /quit at epoch \d+, step \d+; .*checkpoint.safetensors holds the checkpoint/);
  assert.ok(existsSync(join(tmp, '.twice.flowgrad-new', 'checkpoint.safetensors')), 'the checkpoint beside the run folder');
  const epoch = Number(/quit at epoch (\d+)/.exec(end2.stderr)![1]);
  const { code } = await quietMain(['train', '--resume', twice, '--epochs', String(epoch + 2), '--quiet', '--no-figures']);
  assert.is(code, 0, 'resumed from the checkpoint beside the folder, two more epochs');
  assert.ok(existsSync(join(twice, 'model.safetensors')));
  assert.not.ok(existsSync(join(tmp, '.twice.flowgrad-new')), 'the staging folder became the run');
});

async function quietMain(args: string[]): Promise<{ code: number }> {
  const write = { out: process.stdout.write, err: process.stderr.write };
  process.stdout.write = (() => true) as typeof process.stdout.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    return { code: await main(args) };
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
}

test.after(() => rmSync(tmp, { recursive: true, force: true }));

test.run();
