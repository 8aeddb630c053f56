/**
 * The command line end to end, run as a child process (`node --import tsx src/cli/main.ts ...`) so that
 * exit codes and stderr are real: tiny training runs on a toy data set and on a CSV file in a temporary
 * folder, then eval, sample, plot and info on what they wrote; and every kind of mistake (a wrong flag,
 * an unknown command, a missing file, bad data, a corrupt model) giving one line on stderr, a non-zero
 * exit code and no stack trace.
 *
 * The child processes run a few at a time, started in `before`, so the suite takes seconds, not minutes.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { toCsv, parseCsv } from '../../src/data/csv.ts';
import { Rng } from '../../src/rng/rng.ts';
import { Tensor } from '../../src/autograd/tensor.ts';
import { loadModel, readModelConfig } from '../../src/io/model.ts';
import { main } from '../../src/cli/main.ts';
import { SPLINE_RECIPE } from '../../src/cli/recipes.ts';

// ---------------------------------------------------------------------------------------------------
// Running the CLI

const repo = fileURLToPath(new URL('../..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'flowgrad-cli-'));

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

let running = 0;
const waiting: (() => void)[] = [];

/** Runs `flowgrad <args>` as a child process, at most three at a time. `onStdout` sees output as it comes. */
async function cli(args: readonly string[], onStdout?: (text: string, child: ReturnType<typeof spawn>) => void): Promise<Result> {
  if (running >= 3) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await new Promise<Result>((resolve, reject) => {
      const env = { ...process.env };
      delete env.FLOWGRAD_DEBUG;
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '', stderr = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        onStdout?.(stdout, child);
      });
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/**
 * Runs `main(args)` in this process with stdout and stderr captured: for checks that need no real exit,
 * so that the suite starts fewer processes. Only for commands that do not train.
 */
async function inProcess(args: readonly string[]): Promise<Result> {
  let stdout = '', stderr = '';
  const write = { out: process.stdout.write, err: process.stderr.write };
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
}

/** Fails unless the run failed with `code` and exactly one line `flowgrad: ...` matching every pattern. */
function oneLineError(r: Result, code: number, patterns: (string | RegExp)[], label: string): void {
  assert.is(r.code, code, `${label}: exit code (stderr: ${r.stderr})`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.is(lines.length, 1, `${label}: one line on stderr, got ${JSON.stringify(r.stderr)}`);
  assert.match(lines[0]!, /^flowgrad: /, label);
  assert.not.match(r.stderr, /\n\s+at /, `${label}: no stack trace`);
  assert.not.match(r.stderr, /internal error/, `${label}: not reported as a bug`);
  for (const p of patterns) assert.match(lines[0]!, p, `${label}: ${JSON.stringify(lines[0])} should match ${p}`);
}

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------------
// Fixtures and the runs, started before the tests

const tiny = ['--layers', '2', '--hidden', '8', '--epochs', '3'];
const dirs = {
  dataset: join(tmp, 'run-dataset'),
  csv: join(tmp, 'run-csv'),
  interrupted: join(tmp, 'run-interrupted'),
  truncated: join(tmp, 'run-truncated'),
  garbled: join(tmp, 'run-garbled'),
  replot: join(tmp, 'run-replot'),
  spline: join(tmp, 'run-spline'),
};
const files = {
  good: join(tmp, 'good.csv'),
  nan: join(tmp, 'nan.csv'),
  ragged: join(tmp, 'ragged.csv'),
  constant: join(tmp, 'constant.csv'),
  samples: join(tmp, 'samples.csv'),
};

// 240 rows of three correlated columns under a header.
const good = (() => {
  const rng = new Rng(5);
  const data = new Float64Array(240 * 3);
  for (let i = 0; i < 240; i++) {
    const a = rng.normal(), b = rng.normal();
    data.set([a, a + 0.5 * b, 2 * b - 1], 3 * i);
  }
  return Tensor.from(240, 3, data);
})();
writeFileSync(files.good, toCsv(good, ['u', 'v', 'w']));
writeFileSync(files.nan, 'x,y\n1,2\n3,NaN\n5,6\n');
writeFileSync(files.ragged, 'x,y\n1,2\n3,4\n5\n');
writeFileSync(files.constant, 'x,y\n' + Array.from({ length: 30 }, (_, i) => `${i},7`).join('\n') + '\n');
// A non-empty folder, to be overwritten with --force.
mkdirSync(dirs.csv);
writeFileSync(join(dirs.csv, 'old.txt'), 'old');

const runs: Record<string, Promise<Result>> = {};

test.before(() => {
  const trainDataset = cli(['train', '--dataset', 'post-mixture', ...tiny, '--out', dirs.dataset]);
  const trainCsv = cli(['train', '--data', files.good, ...tiny, '--out', dirs.csv, '--force', '--json']);
  runs.trainDataset = trainDataset;
  runs.trainCsv = trainCsv;
  // --coupling spline takes the spline recipe's bins (no --bins here); --bound and the tiny flags override it.
  runs.trainSpline = cli(['train', '--dataset', 'checkerboard', ...tiny, '--coupling', 'spline', '--bound', '3.5', '--out', dirs.spline, '--json']);
  runs.infoSpline = runs.trainSpline.then(() => cli(['info', '--model', dirs.spline]));

  // Mistakes that need no model.
  runs.badFlag = cli(['train', '--dataset', 'post-mixture', '--out', join(tmp, 'never-flag'), '--epoch', '3']);
  runs.unknownCommand = cli(['trian']);
  runs.missingFile = cli(['train', '--data', join(tmp, 'missing.csv'), '--out', join(tmp, 'never-missing')]);
  runs.nanCsv = cli(['train', '--data', files.nan, '--out', join(tmp, 'never-nan')]);
  runs.raggedCsv = cli(['train', '--data', files.ragged, '--out', join(tmp, 'never-ragged')]);
  runs.diverged = cli(['train', '--dataset', 'post-mixture', '--preset', 'post', '--layers', '2', '--hidden', '8', '--lr', '50', '--epochs', '20', '--out', join(tmp, 'diverged')]);
  runs.missingModel = cli(['eval', '--model', join(tmp, 'no-such-run'), '--dataset', 'post-mixture']);
  runs.help = cli(['train', '--help']);
  // Two runs started at once into one --out: each either finishes or is told another run holds the folder.
  runs.raceA = cli(['train', '--dataset', 'post-mixture', ...tiny, '--out', join(tmp, 'race'), '--force']);
  runs.raceB = cli(['train', '--dataset', 'post-mixture', ...tiny, '--out', join(tmp, 'race'), '--force']);

  // Ctrl-C during a long run: stop after the current step, still write the run folder.
  runs.interrupted = cli(['train', '--dataset', 'post-mixture', '--layers', '2', '--hidden', '8', '--epochs', '100000', '--out', dirs.interrupted], (text, child) => {
    if (/epoch/.test(text.split('\n').slice(1).join('\n')) && child.exitCode === null && !child.killed) child.kill('SIGINT');
  });

  // Everything that needs the trained models.
  const afterDataset = trainDataset.then(() => {
    for (const dir of [dirs.truncated, dirs.garbled, dirs.replot]) cpSync(dirs.dataset, dir, { recursive: true });
    truncateSync(join(dirs.truncated, 'model.safetensors'), 100);
    const config = readFileSync(join(dirs.garbled, 'config.json'), 'utf8');
    writeFileSync(join(dirs.garbled, 'config.json'), config.replace('"layers": 2', '"layers": "two"'));
    rmSync(join(dirs.replot, 'figures'), { recursive: true });
  });
  const afterBoth = Promise.all([afterDataset, trainCsv]);
  runs.evalJson = afterBoth.then(() => cli(['eval', '--model', dirs.dataset, '--dataset', 'post-mixture', '--n', '2000', '--json']));
  runs.evalCsv = afterBoth.then(() => cli(['eval', '--model', dirs.csv, '--data', files.good, '--json']));
  runs.sampleStdout = afterBoth.then(() => cli(['sample', '--model', dirs.csv, '-n', '123', '--seed', '4']));
  runs.sampleFile = afterBoth.then(() => cli(['sample', '--model', dirs.dataset, '-n', '50', '--out', files.samples]));
  runs.replot = afterBoth.then(() => cli(['plot', '--model', dirs.replot]));
  runs.info = afterBoth.then(() => cli(['info', '--model', dirs.dataset]));
  runs.exists = afterBoth.then(() => cli(['train', '--dataset', 'post-mixture', ...tiny, '--out', dirs.dataset]));
  runs.truncated = afterBoth.then(() => cli(['eval', '--model', dirs.truncated, '--dataset', 'post-mixture']));
  runs.garbled = afterBoth.then(() => cli(['info', '--model', dirs.garbled]));
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------------------
// Training

test('train on a data set writes the weights, config, history, metrics and figures, and prints NLL, entropy and KL', async () => {
  const r = await runs.trainDataset!;
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, '');
  assert.match(r.stdout, /test NLL +\d+\.\d{4} ± \d+\.\d{4} nats/);
  assert.match(r.stdout, /entropy H\(p\) +3\.5244 nats/);
  assert.match(r.stdout, /KL\(p‖q\) +\d+\.\d{4} ± \d+\.\d{4} nats/);

  const configJson = readFileSync(join(dirs.dataset, 'config.json'), 'utf8');
  const doc = readModelConfig(configJson);
  assert.is(doc.model.layers, 2);
  assert.is(doc.model.hidden, 8);
  assert.is(doc.model.standardize, true);
  const training = doc.extra.training as Record<string, unknown>;
  assert.equal([training.seed, training.epochs, training.batchSize, training.lr, training.valFraction], [0, 3, 64, 1e-3, 0.1]);
  const data = doc.extra.data as Record<string, unknown>;
  assert.equal([data.source, data.dataset, data.trainPoints, data.trainRows, data.valRows, data.testRows], ['dataset', 'post-mixture', 1000, 900, 100, 10_000]);
  assert.equal(data.columns, ['x0', 'x1']);

  const flow = loadModel(configJson, new Uint8Array(readFileSync(join(dirs.dataset, 'model.safetensors'))));
  assert.is(flow.dim, 2);

  const history = readFileSync(join(dirs.dataset, 'history.csv'), 'utf8').trim().split('\n');
  assert.is(history[0], 'epoch,train_loss,val_nll,steps_per_second');
  assert.is(history.length, 1 + 3);
  assert.equal(history.slice(1).map((line) => line.split(',').length), [4, 4, 4]);

  const metrics = readJson(join(dirs.dataset, 'metrics.json'));
  for (const key of ['nll', 'bitsPerDim', 'n', 'kl', 'klStdErr', 'entropy', 'trainSeconds']) assert.type(metrics[key], 'number', key);
  assert.is(metrics.n, 10_000);

  const figures = readdirSync(join(dirs.dataset, 'figures')).sort();
  assert.equal(figures, ['density.svg', 'layers.svg', 'loss.svg', 'samples.svg']);
  for (const f of figures) assert.match(readFileSync(join(dirs.dataset, 'figures', f), 'utf8'), /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/, f);
  // The post's Figure 1: one panel per pair of layers (here one), with the training data in red.
  const layers = readFileSync(join(dirs.dataset, 'figures', 'layers.svg'), 'utf8');
  assert.match(layers, 'after 2 of 2 layers');
  assert.match(layers, 'training data');
  // No temporary file is left behind.
  assert.not.ok(readdirSync(dirs.dataset).some((f) => f.endsWith('.tmp')));
});

test('train on a CSV file with --json prints one JSON object and keeps the header as the columns', async () => {
  const r = await runs.trainCsv!;
  assert.is(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.is(lines.length, 1, r.stdout);
  const out = JSON.parse(lines[0]!) as Record<string, unknown>;
  for (const key of ['nll', 'bitsPerDim', 'n']) assert.type(out[key], 'number', key);
  assert.not.ok('kl' in out, 'no KL without a known density');
  assert.is(out.n, 24, '10% of 240 rows are the test set');
  const doc = readModelConfig(readFileSync(join(dirs.csv, 'config.json'), 'utf8'));
  const data = doc.extra.data as Record<string, unknown>;
  assert.equal([data.source, data.path, data.header, data.rows, data.trainRows, data.valRows, data.testRows], ['csv', '../good.csv', true, 240, 194, 22, 24]);
  assert.match(data.sha256 as string, /^[0-9a-f]{64}$/, 'the data file\'s hash, checked before plot uses it');
  assert.equal(data.columns, ['u', 'v', 'w']);
  assert.is(readFileSync(join(dirs.csv, 'history.csv'), 'utf8').trim().split('\n').length, 4);
  // 3-D data: no density map, the other figures show the first two columns.
  assert.equal(readdirSync(join(dirs.csv, 'figures')).sort(), ['layers.svg', 'loss.svg', 'samples.svg']);
  assert.ok(existsSync(join(dirs.csv, 'old.txt')), '--force writes into the folder without emptying it');
});

test('an existing run folder is not overwritten without --force', async () => {
  const r = await runs.exists!;
  oneLineError(r, 1, ['already exists', '--force'], 'existing --out');
});

test('Ctrl-C stops training after the current step and still writes the run folder', async () => {
  const r = await runs.interrupted!;
  assert.is(r.code, 130, r.stderr);
  assert.match(r.stderr, 'stopping after the current step');
  assert.match(r.stderr, /training was interrupted; .* holds the best weights/);
  assert.not.match(r.stderr, /\n\s+at /);
  const metrics = readJson(join(dirs.interrupted, 'metrics.json'));
  assert.is(metrics.stopReason, 'aborted');
  assert.ok((metrics.epochs as number) < 100000);
  const history = readFileSync(join(dirs.interrupted, 'history.csv'), 'utf8').trim().split('\n');
  assert.is(history.length, 1 + (metrics.epochs as number));
  loadModel(readFileSync(join(dirs.interrupted, 'config.json'), 'utf8'), new Uint8Array(readFileSync(join(dirs.interrupted, 'model.safetensors'))));
});

// ---------------------------------------------------------------------------------------------------
// eval, sample, plot, info

test('eval --json prints nll, bitsPerDim, n, kl and klStdErr for a data set with a known density', async () => {
  const r = await runs.evalJson!;
  assert.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Record<string, unknown>;
  for (const key of ['nll', 'bitsPerDim', 'n', 'kl', 'klStdErr', 'entropy']) assert.type(out[key], 'number', key);
  assert.is(out.n, 2000);
  assert.ok(Math.abs((out.nll as number) - (out.entropy as number) - (out.kl as number)) < 0.2, 'KL ≈ NLL - H');
  const text = await inProcess(['eval', '--model', dirs.dataset, '--dataset', 'post-mixture', '--n', '2000']);
  assert.is(text.code, 0, text.stderr);
  assert.match(text.stdout, /test NLL +\d/);
  assert.match(text.stdout, /KL\(p‖q\)/);
});

test('eval on a CSV file reports the NLL of every row', async () => {
  const r = await runs.evalCsv!;
  assert.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.is(out.n, 240);
  assert.type(out.nll, 'number');
  assert.not.ok('kl' in out);
});

test('sample writes a CSV with the training columns to stdout, or to a file', async () => {
  const r = await runs.sampleStdout!;
  assert.is(r.code, 0, r.stderr);
  const table = parseCsv(r.stdout);
  assert.equal(table.columns, ['u', 'v', 'w']);
  assert.is(table.data.rows, 123);
  const f = await runs.sampleFile!;
  assert.is(f.code, 0, f.stderr);
  assert.is(f.stdout, '');
  const saved = parseCsv(readFileSync(files.samples, 'utf8'));
  assert.equal(saved.columns, ['x0', 'x1']);
  assert.is(saved.data.rows, 50);
});

test('plot redraws exactly the figures train drew', async () => {
  const r = await runs.replot!;
  assert.is(r.code, 0, r.stderr);
  for (const f of ['density.svg', 'layers.svg', 'loss.svg', 'samples.svg']) {
    assert.is(readFileSync(join(dirs.replot, 'figures', f), 'utf8'), readFileSync(join(dirs.dataset, 'figures', f), 'utf8'), f);
  }
  const csv = await inProcess(['plot', '--model', dirs.csv]);
  assert.is(csv.code, 0, csv.stderr);
  assert.match(csv.stdout, 'layers.svg');
});

test('info shows the config, the parameter count, the model tree and the metrics', async () => {
  const r = await runs.info!;
  assert.is(r.code, 0, r.stderr);
  // The default recipe's conditioner has one hidden layer: per coupling Linear(1, 8) + Linear(8, 2) = 16 + 18.
  assert.match(r.stdout, /parameters +68/);
  assert.match(r.stdout, 'RealNVP(preset=default, dim=2, layers=2, hidden=8');
  assert.match(r.stdout, 'AffineCoupling');
  assert.match(r.stdout, /metrics +test NLL \d/);
  assert.match(r.stdout, 'post-mixture');
  const j = await inProcess(['info', '--model', dirs.csv, '--json']);
  assert.is(j.code, 0, j.stderr);
  const out = JSON.parse(j.stdout) as Record<string, any>;
  assert.is(out.config.dim, 3);
  assert.type(out.parameters, 'number');
  assert.type(out.metrics.nll, 'number');
});

test('train --coupling spline trains the spline recipe (flags overriding it), saves it, and info shows it', async () => {
  const r = await runs.trainSpline!;
  assert.is(r.code, 0, r.stderr);
  assert.type(JSON.parse(r.stdout.trim().split('\n').at(-1)!).kl, 'number');
  const { model } = readModelConfig(readFileSync(join(dirs.spline, 'config.json'), 'utf8'));
  assert.is(model.coupling, 'spline');
  assert.is(model.bins, SPLINE_RECIPE.model.bins);
  assert.is(model.splineBound, 3.5);
  assert.is(model.layers, 2);
  // The spline recipe's front and training: whitened (not standardised), with its noise regularisation.
  const doc = JSON.parse(readFileSync(join(dirs.spline, 'config.json'), 'utf8'));
  assert.is(model.whiten === true, SPLINE_RECIPE.whiten);
  assert.is(model.standardize, SPLINE_RECIPE.standardize && !SPLINE_RECIPE.whiten);
  assert.is(doc.training.noise, SPLINE_RECIPE.noise);
  const flow = loadModel(readFileSync(join(dirs.spline, 'config.json'), 'utf8'), readFileSync(join(dirs.spline, 'model.safetensors')));
  assert.is(flow.flows[0]!.constructor.name, 'SplineCoupling');
  const info = await runs.infoSpline!;
  assert.is(info.code, 0, info.stderr);
  assert.match(info.stdout, `rational-quadratic spline, ${SPLINE_RECIPE.model.bins} bins on [-3.5, 3.5]`);
  assert.match(info.stdout, 'SplineCoupling(dim=2');
  const help = await runs.help!;
  for (const flag of ['--coupling', '--bins K', '--bound B', '--whiten', '--noise F']) assert.match(help.stdout, flag);
});

// ---------------------------------------------------------------------------------------------------
// Help and mistakes

test('--help works on every command, help prints the command list, and no command prints it on stderr with exit code 2', async () => {
  const child = await runs.help!;
  assert.is(child.code, 0);
  assert.match(child.stdout, 'Usage: flowgrad train ');
  for (const command of ['train', 'eval', 'sample', 'plot', 'info']) {
    for (const args of [[command, '--help'], [command, '--out', 'x', '-h'], ['help', command]]) {
      const r = await inProcess(args);
      assert.is(r.code, 0, args.join(' '));
      assert.match(r.stdout, `Usage: flowgrad ${command} `, args.join(' '));
    }
  }
  for (const r of [await inProcess(['help']), await inProcess(['--help'])]) {
    assert.is(r.code, 0);
    for (const command of ['train', 'eval', 'sample', 'plot', 'info']) assert.match(r.stdout, `  ${command} `);
  }
  // No command at all is a mistake (a script that lost its arguments must not pass): usage on stderr, exit 2.
  const bare = await inProcess([]);
  assert.is(bare.code, 2);
  assert.is(bare.stdout, '');
  for (const command of ['train', 'eval', 'sample', 'plot', 'info']) assert.match(bare.stderr, `  ${command} `);
});

test('a wrong flag or command is a usage error (exit code 2) naming it and the help', async () => {
  oneLineError(await runs.badFlag!, 2, ['unknown flag --epoch', 'did you mean --epochs?', 'flowgrad train --help'], 'bad flag');
  oneLineError(await inProcess(['train', '--dataset', 'post-mixture', '--out', join(tmp, 'never'), '--epochs', 'many']), 2, ['--epochs must be an integer, got "many"'], 'bad number');
  oneLineError(await runs.unknownCommand!, 2, ['unknown command "trian"', 'did you mean train?'], 'unknown command');
  oneLineError(await inProcess(['train', '--dataset', 'moons', '--out', join(tmp, 'never')]), 2, ['--dataset must be one of', 'post-mixture', '"moons"'], 'unknown data set');
  oneLineError(await inProcess(['sample', '--model', dirs.dataset]), 2, ['--n is required'], 'sample without -n');
  const never = join(tmp, 'never-spline');
  oneLineError(await inProcess(['train', '--dataset', 'checkerboard', '--out', never, '--coupling', 'splin']), 2, ['--coupling must be one of affine, spline, alternating', '"splin"', 'did you mean spline?'], 'unknown coupling');
  oneLineError(await inProcess(['train', '--dataset', 'checkerboard', '--out', never, '--bins', '4']), 2, ['--bins applies to spline couplings', '--coupling spline'], '--bins without --coupling');
  oneLineError(await inProcess(['train', '--dataset', 'checkerboard', '--out', never, '--coupling', 'spline', '--bins', '65']), 2, ['--bins must be an integer', '65'], '--bins out of range');
  oneLineError(await inProcess(['train', '--dataset', 'checkerboard', '--out', never, '--coupling', 'spline', '--bound', '0']), 2, ['--bound must be a number', 'got 0'], '--bound 0');
  oneLineError(await inProcess(['train', '--dataset', 'checkerboard', '--out', never, '--preset', 'post', '--coupling', 'spline']), 2, ['--coupling applies to the default preset only'], 'post with spline');
  oneLineError(await inProcess(['train', '--dataset', 'checkerboard', '--out', never, '--preset', 'post', '--whiten']), 2, ['--whiten applies to the default preset only'], 'post with whiten');
  oneLineError(await inProcess(['train', '--dataset', 'checkerboard', '--out', never, '--whiten', '--standardize']), 2, ['--whiten and --standardize exclude each other'], 'whiten and standardize');
  oneLineError(await inProcess(['train', '--dataset', 'checkerboard', '--out', never, '--noise', '-0.1']), 2, ['--noise', '-0.1'], 'negative noise');
});

test('two runs started at once into one --out never trip over each other: each finishes or is told the folder is taken', async () => {
  const results = [await runs.raceA!, await runs.raceB!];
  for (const r of results) {
    if (r.code === 0) continue;
    oneLineError(r, 1, ['another flowgrad run', 'is writing', 'race'], 'concurrent run');
  }
  assert.ok(results.some((r) => r.code === 0), 'at least one run finished');
  assert.ok(existsSync(join(tmp, 'race', 'model.safetensors')), 'a whole run is in the folder');
});

test('a missing file or model folder is one line and exit code 1', async () => {
  oneLineError(await runs.missingFile!, 1, ['cannot read', 'missing.csv', 'no such file'], 'missing CSV');
  oneLineError(await runs.missingModel!, 1, ['model directory', 'no-such-run', 'does not exist'], 'missing model');
});

test('a CSV file with a NaN or a ragged row is refused with its line and column', async () => {
  oneLineError(await runs.nanCsv!, 1, ['nan.csv: line 3, column 2: "NaN" is not a number'], 'NaN');
  oneLineError(await runs.raggedCsv!, 1, ['ragged.csv: line 4, column 2: missing value'], 'ragged');
});

test('a constant column cannot be standardised, and says which column', async () => {
  oneLineError(await inProcess(['train', '--data', files.constant, '--out', join(tmp, 'never')]), 1, ['constant.csv: column 2 ("y") is constant', '--no-standardize'], 'constant column');
  assert.not.ok(existsSync(join(tmp, 'never')));
});

test('a run that diverges says where, keeps its last good state marked diverged, and says what to try', async () => {
  oneLineError(await runs.diverged!, 1, [/training diverged at epoch \d+, step \d+/, 'holds the last good weights', 'a lower learning rate', `--resume ${join(tmp, 'diverged')} --lr 5`, '--clip-grad-norm 1'], 'diverged');
  const config = JSON.parse(readFileSync(join(tmp, 'diverged', 'config.json'), 'utf8'));
  assert.is(config.training.status, 'diverged');
  assert.is(JSON.parse(readFileSync(join(tmp, 'diverged', 'metrics.json'), 'utf8')).stopReason, 'diverged');
  assert.ok(existsSync(join(tmp, 'diverged', 'checkpoint.safetensors')), 'the checkpoint to resume from');
});

test('a corrupt model folder is refused with the file and the reason', async () => {
  oneLineError(await runs.truncated!, 1, ['model.safetensors: ', /\d+ bytes|header|end/], 'truncated weights');
  oneLineError(await runs.garbled!, 1, ['config.json: ', 'model.layers must be an integer', '"two"'], 'garbled config');
  oneLineError(await inProcess(['eval', '--model', dirs.csv, '--dataset', 'post-mixture']), 1, ['post-mixture has 2 columns', 'expects 3'], 'wrong dimension');
});

test.run();
