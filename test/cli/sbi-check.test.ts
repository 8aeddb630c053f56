/**
 * `flowgrad sbi check` in this process, on the small checked-in NPE posterior of gaussian-linear
 * (test/fixtures/sbi-gaussian-linear, made by scripts/sbi-check-fixture.ts): it passes (exit 0) and the
 * report, pairs.csv and figures are written; the same model checked against a simulator that is not the
 * one it learned (an offset in x) is flagged as biased the right way (exit 3); a model of one's own
 * simulations asks for --simulator; bad flags get one line.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CHECK_FAILED_EXIT } from '../../src/cli/sbi-check.ts';
import { assertOneLine, runCli } from '../helpers/cli.ts';

const fixture = fileURLToPath(new URL('../fixtures/sbi-gaussian-linear', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'flowgrad-sbi-check-'));
const FIGURES = ['sbc-ranks.svg', 'sbc-ecdf.svg', 'coverage.svg', 'recovery.svg', 'z-contraction.svg'];

// The fixture as if trained with --data sims.csv: no task in its metadata.
const own = join(tmp, 'own-model');
cpSync(fixture, own, { recursive: true });
{
  const config = JSON.parse(readFileSync(join(own, 'config.json'), 'utf8'));
  config.sbi.task = null;
  config.training.source = 'sims.csv';
  writeFileSync(join(own, 'config.json'), JSON.stringify(config));
}

// gaussian-linear as a simulator module, with an offset added to x (0 reproduces the task).
function linearModule(name: string, offset: number): string {
  const path = join(tmp, name);
  writeFileSync(
    path,
    `export const prior = { mean: new Array(10).fill(0), variance: new Array(10).fill(0.1) };
export const dataDim = 10;
export function simulate(theta, rng) {
  const out = new Float64Array(theta.rows * 10);
  for (let k = 0; k < out.length; k++) out[k] = theta.data[k] + ${offset} + Math.sqrt(0.1) * rng.normal();
  return out;
}
`,
  );
  return path;
}

test('a calibrated posterior passes: exit 0, a verdict per check and parameter, report, pairs and figures written', async () => {
  const out = join(tmp, 'pass');
  const r = await runCli(['sbi', 'check', '--model', fixture, '--pairs', '300', '--out', out, '--seed', '1']);
  assert.is(r.code, 0, r.stderr);
  for (const s of ['300 pairs × 99 posterior samples', 'SBC        theta1', 'coverage   HPD', 'recovery   theta10', 'predictive joint', 'verdict    all      calibrated', 'calibrated: no check flags this posterior']) {
    assert.ok(r.stdout.includes(s), `stdout lacks "${s}"`);
  }
  assert.is(r.stdout.split('\n').filter((l) => l.startsWith('verdict ')).length, 11, 'a verdict per parameter and one for all');
  assert.match(r.stderr, /task gaussian-linear: checking .* on 300 fresh pairs × 99 posterior samples \(seed 1\)/);
  const text = readFileSync(join(out, 'report.json'), 'utf8');
  const report = JSON.parse(text);
  assert.is(report.verdict, 'calibrated');
  assert.is(report.pairs, 300);
  assert.is(report.summary.length, 10);
  assert.is(report.source, 'task gaussian-linear');
  assert.is(report.sbc.ranks, undefined, 'no per-pair ranks in the report');
  assert.is(report.recovery.dimensions[0].z, undefined, 'no per-pair z-scores in the report');
  assert.is(report.sbc.ecdfBand.nullGammas, undefined, 'no simulated null statistics');
  const csv = readFileSync(join(out, 'pairs.csv'), 'utf8').trim().split('\n');
  assert.is(csv.length, 301, 'a header and one row per pair');
  assert.is(csv[0]!.split(',').length, 10 * 6 + 10 + 1);
  assert.ok(csv[0]!.startsWith('theta1_true,theta1_mean,theta1_sd,theta1_z,theta1_contraction,theta1_rank,theta2_true'));
  for (const f of FIGURES) {
    const svg = readFileSync(join(out, 'figures', f), 'utf8');
    assert.ok(svg.startsWith('<svg') && svg.trimEnd().endsWith('</svg>'), `${f} is an SVG document`);
  }
});

test('the report does not grow with the number of pairs (per-pair values go to pairs.csv)', async () => {
  const small = join(tmp, 'small'), large = join(tmp, 'large');
  assert.is((await runCli(['sbi', 'check', '--model', fixture, '--pairs', '100', '--out', small])).code, 0);
  assert.is((await runCli(['sbi', 'check', '--model', fixture, '--pairs', '300', '--out', large])).code, 0);
  const a = readFileSync(join(small, 'report.json')).length, b = readFileSync(join(large, 'report.json')).length;
  assert.ok(b < 1.3 * a && b < 60_000, `report.json: ${a} bytes for 100 pairs, ${b} for 300`);
});

test('same seed, same report; the default REPORTDIR is DIR/check and a rerun refreshes it', async () => {
  const model = join(tmp, 'rerun');
  cpSync(fixture, model, { recursive: true });
  const a = await runCli(['sbi', 'check', '--model', model, '--pairs', '100', '--seed', '4']);
  const first = readFileSync(join(model, 'check', 'report.json'), 'utf8');
  const b = await runCli(['sbi', 'check', '--model', model, '--pairs', '100', '--seed', '4']);
  assert.is(a.code, b.code);
  assert.is(a.stdout, b.stdout);
  const strip = (s: string) => s.replace(/"seconds": [^,]*,/, '');
  assert.is(strip(readFileSync(join(model, 'check', 'report.json'), 'utf8')), strip(first));
});

test('a REPORTDIR holding other files is refused without --force', async () => {
  const out = join(tmp, 'busy');
  cpSync(fixture, out, { recursive: true });
  assertOneLine(await runCli(['sbi', 'check', '--model', fixture, '--pairs', '50', '--out', out]), 1, ['holds files the check did not write', 'config.json', '--force']);
  const r = await runCli(['sbi', 'check', '--model', fixture, '--pairs', '50', '--out', out, '--force']);
  assert.ok(r.code === 0 || r.code === CHECK_FAILED_EXIT, r.stderr);
  assert.ok(existsSync(join(out, 'report.json')));
});

test('a model of your own simulations needs --simulator; with the right one it passes', async () => {
  assertOneLine(await runCli(['sbi', 'check', '--model', own, '--pairs', '50']), 1, ['trained on sims.csv', 'pass --simulator FILE.mjs']);
  const r = await runCli(['sbi', 'check', '--model', own, '--simulator', linearModule('linear.mjs', 0), '--pairs', '200', '--out', join(tmp, 'own-pass')]);
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stderr, /simulator .*linear\.mjs: checking/);
});

test('a posterior checked against another simulator than it learned is flagged: biased (above), exit 3', async () => {
  // x = θ + 0.3 + noise: the learned posterior, centred on x/2 = θ/2 + 0.15 + noise/2, sits on average
  // 0.15 (0.7 posterior sd) above θ*.
  const r = await runCli(['sbi', 'check', '--model', own, '--simulator', linearModule('offset.mjs', 0.3), '--pairs', '200', '--out', join(tmp, 'own-fail')]);
  assert.is(r.code, CHECK_FAILED_EXIT, r.stderr);
  assert.is(CHECK_FAILED_EXIT, 3);
  assert.match(r.stdout, /verdict    theta1   biased \(above\)/);
  assert.match(r.stdout, /verdict    all      biased/);
  assert.match(r.stdout, /not calibrated \(overall: biased\) — biased \(above\): theta1, theta2, theta3 and 7 more; HPD coverage overconfident; .*; exit code 3\n$/);
  const report = JSON.parse(readFileSync(join(tmp, 'own-fail', 'report.json'), 'utf8'));
  assert.is(report.verdict, 'biased');
  assert.ok(report.summary.every((s: { verdict: string; direction: string }) => s.verdict === 'biased' && s.direction === 'above'));
});

test('bad command lines get one clear line', async () => {
  assertOneLine(await runCli(['sbi', 'check', '--model', fixture, '--pair', '100']), 2, ['unknown flag --pair', 'did you mean --pairs?']);
  assertOneLine(await runCli(['sbi', 'check', '--model', fixture, '--pairs', '5']), 2, ['--pairs', '10']);
  assertOneLine(await runCli(['sbi', 'check']), 2, ['--model']);
  assertOneLine(await runCli(['sbi', 'check', '--model', join(tmp, 'nowhere')]), 1, ['nowhere']);
  assertOneLine(await runCli(['sbi', 'check', '--model', fixture, '--simulator', linearModule('again.mjs', 0)]), 2, ['trained on task gaussian-linear', 'drop --simulator']);
  assertOneLine(await runCli(['sbi', 'chek']), 2, ['unknown sbi subcommand', 'check']);
});

test('a warning below 100 pairs; the help documents the exit codes', async () => {
  const r = await runCli(['sbi', 'check', '--model', fixture, '--pairs', '40', '--out', join(tmp, 'few')]);
  assert.match(r.stderr, /warning: 40 pairs are few/);
  const help = await runCli(['sbi', 'check', '--help']);
  assert.is(help.code, 0);
  assert.match(help.stdout, /Exit code: 0 when every check calls the posterior calibrated, 3 when one flags it/);
  assert.match((await runCli(['sbi', '--help'])).stdout, /check\s+is the posterior any good\?/);
});

test.run();
