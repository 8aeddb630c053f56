/**
 * File helpers: atomic writes leave either the old or the new file and no temporary file; the output
 * directory policy; read errors as one readable line.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CliError } from '../../src/cli/errors.ts';
import { checkOutDir, checkOutFile, mkdirp, readBytes, readText, writeFileAtomic } from '../../src/cli/fsx.ts';
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
  checkOutDir(join(root, 'missing'), false);
  mkdirSync(join(root, 'empty'));
  checkOutDir(join(root, 'empty'), false);
  assertThrows(() => checkOutDir(join(root, 'x'), false), ['already exists', '--force'], CliError);
  checkOutDir(join(root, 'x'), true);
  assertThrows(() => checkOutDir(join(root, 'a.json'), true), ['is not a directory'], CliError);
  assertThrows(() => checkOutFile(join(root, 'a.json'), false), ['already exists', '--force'], CliError);
  checkOutFile(join(root, 'a.json'), true);
});

test('reading a missing file or a directory says so in one line', () => {
  assertThrows(() => readText(join(root, 'missing.csv')), ['cannot read', 'missing.csv: no such file or directory'], CliError);
  assertThrows(() => readBytes(join(root, 'x')), ['cannot read', 'it is a directory'], CliError);
});

test.after(() => rmSync(root, { recursive: true, force: true }));

test.run();
