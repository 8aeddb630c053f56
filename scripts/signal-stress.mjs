#!/usr/bin/env node
// Ctrl-C at random moments under every launcher, as a terminal sends it: SIGINT to the whole process
// group. Each run must end with its work kept: a complete run folder (with a checkpoint when it was
// interrupted) or, for a stop before any training, nothing at all; an interrupted run must resume.
//
//   node scripts/signal-stress.mjs [--runs N] [--launchers tsx,npm-cli,npm-start,bin] [--max-delay MS] [--presses 1|2] [--resume-every K] [--epochs E]
//
// With few --epochs (say 40) and --max-delay around the run's length, many Ctrl-Cs land after training,
// during the evaluation, the figures and the writing.
//
// Launchers: `npx tsx src/cli/main.ts` (tsx), `npm run cli --` (npm-cli), `npm start` (npm-start, the
// post's recipe into runs/post), and the built bin `dist/cli/main.js` run through its shebang, as the
// installed `flowgrad` is (bin; run `npm run build` first). Prints one line per run and a summary.
// test/cli/signals.test.ts runs a few of these in `npm test`.

import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : process.argv[i + 1];
};
const runs = Number(arg('runs', '10'));
const launchers = arg('launchers', 'tsx,npm-cli,npm-start,bin').split(',');
const maxDelay = Number(arg('max-delay', '9000'));
const presses = Number(arg('presses', '1'));
const resumeEvery = Number(arg('resume-every', '5'));
const epochs = arg('epochs', '400');
const tmp = mkdtempSync(join(tmpdir(), 'flowgrad-signals-'));

// A seeded generator for the delays, so that a failing sequence can be replayed (SEED=...).
let seed = Number(process.env.SEED ?? Date.now() % 1e9);
console.log(`seed ${seed}`);
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

function command(launcher, out) {
  const train = ['train', '--dataset', 'two-moons', '--epochs', epochs, '--patience', '0', '--out', out, '--force', '--checkpoint-every', '2'];
  switch (launcher) {
    case 'tsx': return ['npx', ['tsx', 'src/cli/main.ts', ...train]];
    case 'npm-cli': return ['npm', ['run', '--silent', 'cli', '--', ...train]];
    case 'npm-start': return ['npm', ['start', '--silent']];
    case 'bin': {
      chmodSync(join(repo, 'dist/cli/main.js'), 0o755);
      return [join(repo, 'dist/cli/main.js'), train];
    }
    default: throw new Error(`unknown launcher ${launcher}`);
  }
}

/** One run: start, SIGINT the group after `delay` ms (and again after `gap` ms), wait for the end. */
function once(launcher, delay, out) {
  return new Promise((resolve) => {
    const [cmd, args] = command(launcher, out);
    const child = spawn(cmd, args, { cwd: repo, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '', stdout = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => (stdout += d));
    const kill = () => {
      try {
        process.kill(-child.pid, 'SIGINT');
      } catch {
        // already gone
      }
    };
    setTimeout(kill, delay);
    if (presses >= 2) setTimeout(kill, delay + 700);
    const started = performance.now();
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, ms: performance.now() - started }));
  });
}

const outOf = (launcher) => (launcher === 'npm-start' ? join(repo, 'runs/post') : join(tmp, launcher));
const results = [];
for (let i = 0; i < runs; i++) {
  for (const launcher of launchers) {
    const out = outOf(launcher);
    const staging = join(out, '..', `.${out.split('/').at(-1)}.flowgrad-new`);
    rmSync(out, { recursive: true, force: true });
    rmSync(staging, { recursive: true, force: true });
    const delay = Math.round(200 + random() * maxDelay);
    const r = await once(launcher, delay, out);
    const trained = /epoch\s+\d+\//.test(r.stdout) || /stopping after the current step/.test(r.stderr);
    const complete = existsSync(join(out, 'model.safetensors')) && existsSync(join(out, '.flowgrad-run.json'));
    const checkpoint = existsSync(join(out, 'checkpoint.safetensors')) || existsSync(join(staging, 'checkpoint.safetensors'));
    const finished = complete && !checkpoint;
    // Kept: the finished run; or the interrupted run with its checkpoint; or nothing trained yet.
    const kept = finished || (complete && checkpoint) || (checkpoint && presses >= 2) || (!trained && !complete);
    let resumed = null;
    if (kept && checkpoint && resumeEvery > 0 && results.filter((x) => x.checkpoint).length % resumeEvery === 0) {
      const again = spawnSync('npx', ['tsx', 'src/cli/main.ts', 'train', '--resume', out, '--quiet', '--no-figures'], { cwd: repo, encoding: 'utf8' });
      resumed = again.status === 0;
    }
    const status = !kept ? 'LOST' : finished ? 'finished' : checkpoint ? 'interrupted, kept' : 'stopped before training';
    results.push({ launcher, delay, kept, checkpoint, resumed, status });
    console.log(`${launcher.padEnd(9)} Ctrl-C at ${String(delay).padStart(5)} ms: ${status}${resumed === null ? '' : resumed ? ', resumed' : ', RESUME FAILED'} (exit ${r.code ?? r.signal}, ${Math.round(r.ms)} ms)${!kept ? `\n  stderr: ${r.stderr.trim().split('\n').join('\n  ')}` : ''}`);
    if (launcher === 'npm-start') rmSync(out, { recursive: true, force: true });
  }
}
console.log('\nlauncher   runs  kept  interrupted+kept  finished  before-training  resumed  lost');
for (const launcher of launchers) {
  const mine = results.filter((r) => r.launcher === launcher);
  const count = (f) => mine.filter(f).length;
  console.log(`${launcher.padEnd(10)} ${String(mine.length).padStart(4)}  ${String(count((r) => r.kept)).padStart(4)}  ${String(count((r) => r.status === 'interrupted, kept')).padStart(16)}  ${String(count((r) => r.status === 'finished')).padStart(8)}  ${String(count((r) => r.status === 'stopped before training')).padStart(15)}  ${String(count((r) => r.resumed === true)).padStart(3)}/${String(count((r) => r.resumed !== null)).padEnd(3)}  ${count((r) => !r.kept)}`);
}
rmSync(tmp, { recursive: true, force: true });
const lost = results.filter((r) => !r.kept || r.resumed === false).length;
process.exitCode = lost > 0 ? 1 : 0;
