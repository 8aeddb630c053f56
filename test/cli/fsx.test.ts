/**
 * File helpers: atomic writes leave either the old or the new file and no temporary file; the output
 * directory policy; read errors as one readable line.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CliError } from '../../src/cli/errors.ts';
import { checkOutFile, checkPlaceForFiles, mkdirp, readBytes, readText, resetFaults, writeFileAtomic } from '../../src/cli/fsx.ts';
import { planOut } from '../../src/cli/run-out.ts';
import { assertThrows } from '../helpers/assert.ts';

const root = mkdtempSync(join(tmpdir(), 'flowgrad-fsx-'));

test('an atomic write replaces the file and leaves no temporary file behind', () => {
  const path = join(root, 'a.json');
  writeFileSync(path, 'old');
  writeFileAtomic(path, '{"new": true}');
  assert.is(readFileSync(path, 'utf8'), '{"new": true}');
  writeFileAtomic(path, new Uint8Array([1, 2, 3]));
  assert.equal(Array.from(readFileSync(path)), [1, 2, 3]);
  assert.equal(readdirSync(root), ['a.json']);
});

test('an atomic write into a missing directory fails with one line naming the file', () => {
  const err = assertThrows(() => writeFileAtomic(join(root, 'nope', 'b.txt'), 'x'), ['cannot write', 'b.txt', 'no such file or directory'], CliError);
  assert.not.match(err.message, /\n/);
});

test('mkdirp creates parents and accepts an existing directory', () => {
  mkdirp(join(root, 'x', 'y', 'z'));
  mkdirp(join(root, 'x', 'y', 'z'));
  assert.equal(readdirSync(join(root, 'x', 'y')), ['z']);
});

test('an existing non-empty output directory is refused unless forced; a missing or empty one is fine', () => {
  const plan = (dir: string, force: boolean) => {
    const p = planOut(dir, { force, resume: false, writes: ['model.safetensors'] });
    rmSync(p.staging, { recursive: true, force: true });
    return p;
  };
  assert.is(plan(join(root, 'missing'), false).exists, false);
  mkdirSync(join(root, 'empty'));
  plan(join(root, 'empty'), false);
  assertThrows(() => plan(join(root, 'x'), false), ['already exists', '--force'], CliError);
  assert.equal(plan(join(root, 'x'), true).foreign, ['y'], 'the user\'s own folder is carried over');
  assertThrows(() => plan(join(root, 'a.json'), true), ['exists and is a file, not a folder'], CliError);
  assertThrows(() => checkOutFile(join(root, 'a.json'), false), ['already exists', '--force'], CliError);
  checkOutFile(join(root, 'a.json'), true);
});

test('outputs on /proc, through links, or onto special files are refused before any work', () => {
  assertThrows(() => checkPlaceForFiles('/proc/flowgrad-x', '--out'), ['/proc', 'pseudo file system'], CliError);
  assertThrows(() => checkOutFile('/dev/null', true), ['/dev', 'pseudo file system'], CliError);
  execFileSync('mkfifo', [join(root, 'fifo')]);
  assertThrows(() => checkOutFile(join(root, 'fifo'), true), ['FIFO', 'not a regular file', 'does not replace special files'], CliError);
  assertThrows(() => readBytes(join(root, 'fifo')), ['FIFO', 'not a regular file'], CliError);
  symlinkSync(join(root, 'a.json'), join(root, 'link.json'));
  assertThrows(() => checkOutFile(join(root, 'link.json'), true), ['symbolic link'], CliError);
  assertThrows(() => planOut(join(root, 'link.json'), { force: true, resume: false, writes: [] }), ['symbolic link'], CliError);
});

test('reads take regular files only, within a size limit', () => {
  assertThrows(() => readBytes('/dev/zero'), ['character device', 'not a regular file'], CliError);
  symlinkSync('/dev/zero', join(root, 'zero'));
  assertThrows(() => readBytes(join(root, 'zero')), ['character device'], CliError);
  writeFileSync(join(root, 'big'), new Uint8Array(1000));
  assertThrows(() => readBytes(join(root, 'big'), { maxBytes: 999 }), ['1000 bytes', 'over the limit of 999 bytes'], CliError);
  assert.is(readBytes(join(root, 'big'), { maxBytes: 1000 }).length, 1000);
});

test('the fault hook fails exactly the k-th write', () => {
  resetFaults();
  process.env.FLOWGRAD_FAULT_AT = '2';
  try {
    writeFileAtomic(join(root, 'f1'), 'a'); // operations 1 (write) and 2 (rename): the rename fails
    assert.unreachable('the second operation fails');
  } catch (e) {
    assert.match((e as Error).message, 'injected fault at operation 2');
  } finally {
    delete process.env.FLOWGRAD_FAULT_AT;
  }
  assert.not.ok(readdirSync(root).some((f) => f.startsWith('.f1')), 'no temporary file left');
});

test('reading a missing file or a directory says so in one line', () => {
  assertThrows(() => readText(join(root, 'missing.csv')), ['cannot read', 'missing.csv: no such file or directory'], CliError);
  assertThrows(() => readBytes(join(root, 'x')), ['cannot read', 'it is a directory'], CliError);
});

test.after(() => rmSync(root, { recursive: true, force: true }));

test.run();
