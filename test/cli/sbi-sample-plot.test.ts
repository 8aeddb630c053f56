/**
 * `flowgrad sbi sample ... --plot FILE.svg [--theta FILE.csv]` on the checked-in gaussian-linear
 * posterior: the corner plot of exactly the samples written (the CSV is the same as without --plot),
 * the true θ marked, the reference posterior overlaid; one figure per observation; bad flags and files
 * refused before any sample is drawn.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assertOneLine, runCli } from '../helpers/cli.ts';

const fixture = fileURLToPath(new URL('../fixtures/sbi-gaussian-linear', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'flowgrad-sbi-plot-'));
const header = Array.from({ length: 10 }, (_, j) => `x${j + 1}`).join(',');
const row = (v: number) => Array.from({ length: 10 }, (_, j) => (v + 0.05 * j).toFixed(2)).join(',');
const file = (name: string, text: string) => {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
};
const obs = file('obs.csv', `${header}\n${row(0.2)}\n`);
const obs2 = file('obs2.csv', `${header}\n${row(0.2)}\n${row(-0.3)}\n`);
const theta = file('theta.csv', `${Array.from({ length: 10 }, (_, j) => `theta${j + 1}`).join(',')}\n${row(0.1)}\n`);

const count = (svg: string, pattern: RegExp) => (svg.match(pattern) ?? []).length;

test('--plot writes the corner plot of the written samples, true θ marked, reference overlaid; the CSV is unchanged', async () => {
  const plain = join(tmp, 'plain.csv'), out = join(tmp, 'post.csv'), svgPath = join(tmp, 'post.svg');
  assert.is((await runCli(['sbi', 'sample', '--model', fixture, '--observation', obs, '-n', '2000', '--out', plain, '--seed', '3'])).code, 0);
  const r = await runCli(['sbi', 'sample', '--model', fixture, '--observation', obs, '-n', '2000', '--out', out, '--seed', '3', '--plot', svgPath, '--theta', theta]);
  assert.is(r.code, 0, r.stderr);
  assert.is(readFileSync(out, 'utf8'), readFileSync(plain, 'utf8'), 'the samples do not depend on --plot');
  assert.match(r.stderr, /wrote the corner plot .*post\.svg/);
  const svg = readFileSync(svgPath, 'utf8');
  assert.ok(svg.startsWith('<svg') && svg.trimEnd().endsWith('</svg>'));
  assert.is(count(svg, /<g class="panel"/g), 55, 'a 10×10 lower triangle');
  assert.ok(count(svg, /class="truth"/g) > 10, 'the true θ marked');
  assert.ok(count(svg, /class="reference"/g) >= 10, 'the reference posterior overlaid');
  assert.ok(svg.includes('gaussian-linear posterior'));
  assert.ok(svg.includes('theta10'));
});

test('several observations give one figure each; no --theta, no truth marks', async () => {
  const out = join(tmp, 'post2.csv'), svgPath = join(tmp, 'two.svg');
  const r = await runCli(['sbi', 'sample', '--model', fixture, '--observation', obs2, '-n', '500', '--out', out, '--plot', svgPath]);
  assert.is(r.code, 0, r.stderr);
  for (const k of [1, 2]) {
    const svg = readFileSync(join(tmp, `two-${k}.svg`), 'utf8');
    assert.ok(svg.includes(`observation ${k}`), `figure ${k} names its observation`);
    assert.is(count(svg, /class="truth"/g), 0);
  }
  assert.not.ok(existsSync(svgPath));
});

test('bad --plot and --theta are refused in one line before any sample is written', async () => {
  const out = join(tmp, 'never.csv');
  assertOneLine(await runCli(['sbi', 'sample', '--model', fixture, '--observation', obs, '-n', '10', '--out', out, '--theta', theta]), 2, ['--theta goes with --plot']);
  assertOneLine(await runCli(['sbi', 'sample', '--model', fixture, '--observation', obs, '-n', '10', '--out', out, '--plot', join(tmp, 'a.png')]), 2, ['--plot writes an SVG file']);
  const narrow = file('narrow.csv', 'a,b\n1,2\n');
  assertOneLine(await runCli(['sbi', 'sample', '--model', fixture, '--observation', obs, '-n', '10', '--out', out, '--plot', join(tmp, 'b.svg'), '--theta', narrow]), 1, ['narrow.csv', 'θ has 2 columns', '10 parameters']);
  assertOneLine(await runCli(['sbi', 'sample', '--model', fixture, '--observation', obs, '-n', '10', '--out', out, '--plots', join(tmp, 'b.svg')]), 2, ['unknown flag --plots', 'did you mean --plot?']);
  assert.not.ok(existsSync(out), 'nothing sampled');
  const taken = file('taken.svg', '<svg/>');
  assertOneLine(await runCli(['sbi', 'sample', '--model', fixture, '--observation', obs, '-n', '10', '--out', out, '--plot', taken]), 1, ['taken.svg already exists', '--force']);
  assert.not.ok(existsSync(out), 'nothing sampled');
});

test.run();
