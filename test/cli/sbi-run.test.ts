/**
 * `sbi train` never loses a run (in this process, main() with its output captured): the output place
 * is checked before anything is simulated; the simulations are in the run folder before training; a
 * stop keeps them with the best posterior so far and a checkpoint; `--resume DIR` ends on the weights
 * of a run that never stopped, bit for bit, without simulating again; a divergence keeps its last good
 * state; a fault at any write or rename leaves the old run or the new one; `--force` replaces only what
 * a flowgrad run wrote; folders written before all this still load.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { faultCount, resetFaults } from '../../src/cli/fsx.ts';
import { simulateDataset } from '../../src/sbi/simulator.ts';
import { getTask } from '../../src/sbi/tasks.ts';
import { assertOneLine, runCli as run } from '../helpers/cli.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowgrad-sbi-run-'));
const small = ['--task', 'two-moons', '--simulations', '300', '--epochs', '5'];
const marker = join(tmp, 'simulated.txt');
// A simulator that leaves a mark when it runs: proof that a refused --out cost no simulation.
const simulator = join(tmp, 'marking.mjs');
writeFileSync(simulator, `import { appendFileSync } from 'node:fs';
export const prior = { low: [-1, -1], high: [1, 1] };
export const dataDim = 2;
export function simulate(theta, rng) {
  appendFileSync(${JSON.stringify(marker)}, 'x');
  const rows = [];
  for (let i = 0; i < theta.rows; i++) rows.push([theta.data[2 * i] + 0.1 * rng.normal(), theta.data[2 * i + 1] + 0.1 * rng.normal()]);
  return rows;
}
`);

function status(dir: string): unknown {
  return JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).training.status;
}

function sha(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Every file under `dir`, hashed; config.json and the manifest (which hold seconds) only by presence. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(dir)) return { '(no folder)': '' };
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const r = rel === '' ? name : `${rel}/${name}`;
      if (lstatSync(join(dir, r)).isDirectory()) walk(r);
      else out[r] = /^(config\.json|\.flowgrad-run\.json)$/.test(r) ? 'present' : sha(join(dir, r));
    }
  };
  walk('');
  return out;
}

test('a bad --out is refused before anything is simulated: /proc, /sys, /dev, a file, a link, a device, an existing folder', async () => {
  const file = join(tmp, 'a-file'), link = join(tmp, 'a-link'), full = join(tmp, 'full');
  writeFileSync(file, 'mine');
  symlinkSync(tmp, link);
  mkdirSync(full);
  writeFileSync(join(full, 'notes.txt'), 'mine');
  const cases: [string, string][] = [
    ['/proc/flowgrad-run', 'pseudo file system'],
    ['/sys/flowgrad-run', 'pseudo file system'],
    ['/dev/flowgrad-run', 'pseudo file system'],
    ['/dev/null', 'not a folder'],
    [file, 'is a file, not a folder'],
    [link, 'symbolic link'],
    [join(file, 'inside'), 'not a directory'],
    [full, 'already exists and is not empty'],
  ];
  for (const [out, message] of cases) {
    assertOneLine(await run(['sbi', 'train', '--simulator', simulator, '--workers', '1', '--simulations', '300', '--epochs', '1', '--out', out]), 1, [message], out);
  }
  assert.not.ok(existsSync(marker), 'the simulator never ran');
  assert.equal(readdirSync(tmp).filter((f) => f.includes('flowgrad-')), [], 'no staging folder left');
  assert.equal(readdirSync(full), ['notes.txt']);
  // The same simulator does run when the place is good (the marker is a working proof).
  const ok = await run(['sbi', 'train', '--simulator', simulator, '--workers', '1', '--simulations', '300', '--epochs', '1', '--out', join(tmp, 'marked')]);
  assert.is(ok.code, 0, ok.stderr);
  assert.ok(existsSync(marker), 'the simulator ran for a good --out');
});

test('a stop during training keeps the simulations and the best posterior (interrupted, exit 130); --resume ends bit-identical to a run never stopped, without the simulator', async () => {
  const whole = join(tmp, 'whole'), stopped = join(tmp, 'stopped');
  const module = join(tmp, 'once.mjs');
  cpSync(simulator, module);
  const sim = ['--simulator', module, '--workers', '1', '--simulations', '300', '--epochs', '5'];
  assert.is((await run(['sbi', 'train', ...sim, '--out', whole])).code, 0);
  process.env.FLOWGRAD_TEST_STOP_AT_STEP = '5'; // inside epoch 3 (two steps an epoch)
  let r;
  try {
    r = await run(['sbi', 'train', ...sim, '--out', stopped]);
  } finally {
    delete process.env.FLOWGRAD_TEST_STOP_AT_STEP;
  }
  assertOneLine({ ...r, stderr: r.stderr.split('\n').filter((l) => l.startsWith('flowgrad:')).join('\n') }, 130, ['interrupted at epoch 3, step 5', 'the simulations', '"status": "interrupted"', `continue with flowgrad sbi train --resume ${stopped}`]);
  assert.is(status(stopped), 'interrupted');
  assert.ok(existsSync(join(stopped, 'checkpoint.safetensors')));
  assert.is(sha(join(stopped, 'simulations.csv')), sha(join(whole, 'simulations.csv')), 'the simulations, as trained on');
  assertOneLine(await run(['sbi', 'train', ...sim, '--out', stopped]), 1, ['holds an unfinished run', `--resume ${stopped}`, '--force'], 'a fresh run over it');
  assert.is(readFileSync(join(stopped, 'simulations.csv'), 'utf8').split('\n')[0], 'theta1,theta2,x1,x2');
  assert.is(JSON.parse(readFileSync(join(stopped, 'simulations.json'), 'utf8')).dropped, 0);
  // An interrupted posterior is a posterior: sample reads it and says what it is.
  const obs = join(tmp, 'obs.csv'), post = join(tmp, 'post.csv');
  writeFileSync(obs, 'x1,x2\n0.1,0.2\n');
  const s = await run(['sbi', 'sample', '--model', stopped, '--observation', obs, '-n', '10', '--out', post]);
  assert.is(s.code, 0, s.stderr);
  assert.match(s.stderr, /note: .* holds an interrupted training .* --resume/);
  // The resume needs no simulator: the module is gone, and it is not run.
  rmSync(module);
  rmSync(marker, { force: true });
  const resumed = await run(['sbi', 'train', '--resume', stopped]);
  assert.is(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /resuming .* from epoch 2, step 5: 300 simulations from simulations.csv \(none simulated again\)/);
  assert.match(resumed.stderr, /^epoch 3:/m, 'it continues at epoch 3');
  const [mainPart, candidatePart] = resumed.stderr.split(/^architecture 2 of 2: a candidate \(layers 3, hidden 16, depth 1, bins 4\), kept only if its validation −log q is lower/m);
  assert.ok(candidatePart !== undefined, `the default candidate trains after the main flow: ${resumed.stderr}`);
  assert.not.match(mainPart!, /^epoch 1:/m, 'it does not start over');
  assert.match(candidatePart!, /^epoch 1:/m, 'the candidate starts at its epoch 1');
  assert.match(resumed.stderr, /\); kept the main flow \(validation −log q -?\d+\.\d+ against the candidate's -?\d+\.\d+\); wrote /);
  assert.not.ok(existsSync(marker), 'nothing simulated');
  assert.is(sha(join(stopped, 'model.safetensors')), sha(join(whole, 'model.safetensors')), 'the same weights, bit for bit (the simulations read back exactly)');
  assert.is(status(stopped), 'completed');
  assert.not.ok(existsSync(join(stopped, 'checkpoint.safetensors')), 'a completed run keeps no checkpoint');
  const again = await run(['sbi', 'sample', '--model', stopped, '--observation', obs, '-n', '10', '--out', post, '--force']);
  assert.not.match(again.stderr, 'note:', 'no note for a completed run');
  assertOneLine(await run(['sbi', 'train', '--resume', stopped]), 1, ['has no checkpoint to resume from'], 'nothing left to resume');
  assertOneLine(await run(['sbi', 'train', '--resume', stopped, '--seed', '3']), 2, ['--seed cannot be given with --resume'], 'options are the run\'s own');
});

test('a failure after the simulations are written keeps them and a checkpoint beside DIR, and --resume DIR continues from there, bit for bit', async () => {
  const probe = join(tmp, 'probe'), dir = join(tmp, 'crashed');
  process.env.FLOWGRAD_TEST_STOP_AT_STEP = '5';
  try {
    resetFaults();
    assert.is((await run(['sbi', 'train', ...small, '--out', probe])).code, 130);
    // The last seven operations swap the run in: weights, config and manifest (write, rename each), the folder's rename.
    process.env.FLOWGRAD_FAULT_AT = String(faultCount() - 6);
    resetFaults();
    const r = await run(['sbi', 'train', ...small, '--out', dir]);
    assertOneLine({ ...r, stderr: r.stderr.split('\n').filter((l) => l.startsWith('flowgrad:')).join('\n') }, 1, ['cannot write', 'model.safetensors', 'the simulations and the last checkpoint are kept in', `--resume ${dir}`]);
  } finally {
    delete process.env.FLOWGRAD_TEST_STOP_AT_STEP;
    delete process.env.FLOWGRAD_FAULT_AT;
  }
  assert.not.ok(existsSync(dir), 'no run folder');
  assert.ok(existsSync(join(tmp, '.crashed.flowgrad-new', 'simulations.csv')), 'the simulations beside it');
  const resumed = await run(['sbi', 'train', '--resume', dir]);
  assert.is(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, 'from epoch 2, step 5');
  const whole = join(tmp, 'whole-task');
  assert.is((await run(['sbi', 'train', ...small, '--out', whole])).code, 0);
  assert.is(sha(join(dir, 'model.safetensors')), sha(join(whole, 'model.safetensors')));
  assert.not.ok(existsSync(join(tmp, '.crashed.flowgrad-new')));
});

test('a stop while the candidate trains keeps the main posterior; --resume finishes the candidate and ends bit-identical', async () => {
  const whole = join(tmp, 'whole-select'), dir = join(tmp, 'in-candidate');
  const w = await run(['sbi', 'train', ...small, '--out', whole]);
  assert.is(w.code, 0, w.stderr);
  const record = JSON.parse(readFileSync(join(whole, 'config.json'), 'utf8')).training.candidates as { architecture: unknown; epochs: number; dropped: boolean; chosen: boolean }[];
  assert.is(record.length, 2, 'config.json lists both architectures');
  assert.is(record[0]!.epochs, 5);
  // Steps 1-10 are the main flow's five epochs of two steps; step 13 is inside the candidate's epoch 2.
  process.env.FLOWGRAD_TEST_STOP_AT_STEP = '13';
  let r;
  try {
    r = await run(['sbi', 'train', ...small, '--out', dir]);
  } finally {
    delete process.env.FLOWGRAD_TEST_STOP_AT_STEP;
  }
  assertOneLine({ ...r, stderr: r.stderr.split('\n').filter((l) => l.startsWith('flowgrad:')).join('\n') }, 130, ['interrupted in architecture 2 of 2 (a candidate) at its epoch 2', '"status": "interrupted"', `--resume ${dir}`]);
  assert.is(status(dir), 'interrupted');
  const resumed = await run(['sbi', 'train', '--resume', dir]);
  assert.is(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /resuming .* from epoch 1 of architecture 2 \(the candidates before it are done\), step 3/);
  assert.not.match(resumed.stderr, /architecture 1 of 2/, 'the main flow is not trained again');
  assert.is(sha(join(dir, 'model.safetensors')), sha(join(whole, 'model.safetensors')), 'the same weights, bit for bit');
  assert.equal(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).training.candidates, record);
});

test('a diverging run keeps its last good state marked diverged and exits 1 with a lower --lr; resumed at a sane rate it ends where a fresh run does', async () => {
  const dir = join(tmp, 'diverged'), fresh = join(tmp, 'sane');
  const r = await run(['sbi', 'train', ...small, '--lr', '1e300', '--out', dir]);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /flowgrad: training diverged at epoch 1, step \d+: the loss is (Infinity|NaN).*"status": "diverged".*flowgrad sbi train --resume .*diverged --lr 1e\+299/);
  assert.is(status(dir), 'diverged');
  assert.ok(existsSync(join(dir, 'checkpoint.safetensors')));
  const sims = readFileSync(join(dir, 'simulations.csv'), 'utf8').trim().split('\n');
  const lib = simulateDataset(getTask('two-moons'), 300, { seed: 0 });
  assert.equal(sims[300]!.split(',').map(Number), [...lib.theta.data.subarray(598), ...lib.x.data.subarray(598)], 'the simulations, written exactly');
  const obs = join(tmp, 'obs.csv');
  const s = await run(['sbi', 'sample', '--model', dir, '--observation', obs, '-n', '5', '--out', join(tmp, 'p-div.csv')]);
  assert.is(s.code, 0, s.stderr);
  assert.match(s.stderr, /note: .* diverged .* --lr/);
  const resumed = await run(['sbi', 'train', '--resume', dir, '--lr', '2e-3']);
  assert.is(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /from epoch 0, step 0 \(the run had diverged\)/);
  assert.is((await run(['sbi', 'train', ...small, '--out', fresh])).code, 0);
  assert.is(sha(join(dir, 'model.safetensors')), sha(join(fresh, 'model.safetensors')), 'from its starting state at the default rate: the fresh run');
});

test('--force replaces only what a flowgrad run wrote: the user\'s files are kept, a file of theirs in the way is refused before any work', async () => {
  const dir = join(tmp, 'forced');
  assert.is((await run(['sbi', 'train', ...small, '--out', dir])).code, 0);
  writeFileSync(join(dir, 'notes.txt'), 'mine');
  assert.is((await run(['sbi', 'train', ...small, '--seed', '1', '--out', dir, '--force'])).code, 0);
  assert.is(readFileSync(join(dir, 'notes.txt'), 'utf8'), 'mine');
  assert.is(JSON.parse(readFileSync(join(dir, 'simulations.json'), 'utf8')).seed, 1, 'the new run is in place');
  // A simulations.csv of the user's (not listed by a manifest) in a folder of theirs.
  const theirs = join(tmp, 'theirs');
  mkdirSync(theirs);
  writeFileSync(join(theirs, 'simulations.csv'), 'a,b\n1,2\n');
  rmSync(marker, { force: true });
  assertOneLine(await run(['sbi', 'train', '--simulator', simulator, '--workers', '1', '--simulations', '300', '--out', theirs, '--force']), 1, ['simulations.csv was not written by a flowgrad run']);
  assert.not.ok(existsSync(marker), 'refused before simulating');
  assert.is(readFileSync(join(theirs, 'simulations.csv'), 'utf8'), 'a,b\n1,2\n');
});

test('a folder written before simulations.csv existed still loads, and --force replaces it', async () => {
  const dir = join(tmp, 'old');
  assert.is((await run(['sbi', 'train', ...small, '--out', dir])).code, 0);
  // As the earlier sbi train wrote it: config.json (no status) and model.safetensors, nothing else.
  for (const f of ['simulations.csv', 'simulations.json', '.flowgrad-run.json']) rmSync(join(dir, f));
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  delete config.training.status;
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  const s = await run(['sbi', 'sample', '--model', dir, '--observation', join(tmp, 'obs.csv'), '-n', '5', '--out', join(tmp, 'p-old.csv')]);
  assert.is(s.code, 0, s.stderr);
  assert.not.match(s.stderr, 'note:');
  const e = await run(['sbi', 'eval', '--model', dir, '--observations', '1', '--samples', '200']);
  assert.is(e.code, 0, e.stderr);
  assertOneLine(await run(['sbi', 'train', '--resume', dir]), 1, ['has no checkpoint to resume from']);
  assert.is((await run(['sbi', 'train', ...small, '--out', dir, '--force'])).code, 0);
  assert.ok(existsSync(join(dir, 'simulations.csv')));
});

test('a fault at every write and rename of sbi train --force leaves the old run or the new one, whole', async () => {
  const dir = join(tmp, 'faults'), pristine = join(tmp, 'faults-pristine');
  const args = (seed: string) => ['sbi', 'train', '--task', 'two-moons', '--simulations', '300', '--epochs', '2', '--seed', seed, '--out', dir, '--force'];
  process.env.FLOWGRAD_WORKER = '0';
  try {
    assert.is((await run(args('0'))).code, 0);
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    const old = tree(dir);
    cpSync(dir, pristine, { recursive: true });
    assert.is((await run(args('1'))).code, 0);
    const fresh = tree(dir);
    assert.not.equal(fresh['simulations.csv'], old['simulations.csv']);
    let oldSeen = 0, k = 0;
    for (;;) {
      k++;
      assert.ok(k < 100, 'the run ends within 100 operations');
      rmSync(dir, { recursive: true, force: true });
      for (const f of readdirSync(tmp)) if (f.startsWith('.faults.')) rmSync(join(tmp, f), { recursive: true, force: true });
      cpSync(pristine, dir, { recursive: true });
      process.env.FLOWGRAD_FAULT_AT = String(k);
      resetFaults();
      let r;
      try {
        r = await run(args('1'));
      } finally {
        delete process.env.FLOWGRAD_FAULT_AT;
      }
      const now = tree(dir);
      const same = (a: Record<string, string>) => JSON.stringify(a) === JSON.stringify(now);
      assert.ok(same(old) || same(fresh), `fault at operation ${k} (exit ${r.code}: ${r.stderr.trim()}): neither the old run nor the new one: ${JSON.stringify(now)}`);
      if (r.code === 0) break;
      assert.match(r.stderr, /injected fault/, `fault ${k} is reported`);
      if (same(old)) oldSeen++;
    }
    assert.ok(k > 8, `the run writes and renames (${k - 1} operations)`);
    assert.ok(oldSeen > 0, 'faults before the swap keep the old run');
  } finally {
    delete process.env.FLOWGRAD_WORKER;
  }
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));

test.run();
