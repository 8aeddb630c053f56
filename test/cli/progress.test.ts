/**
 * Training progress: a live line redrawn with \r on a terminal, plain lines now and then otherwise,
 * nothing when silent.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatDuration, Progress } from '../../src/cli/progress.ts';
import type { EpochInfo } from '../../src/train/fit.ts';

function info(epoch: number, epochs: number, valNll = NaN): EpochInfo {
  return { epoch, epochs, trainLoss: 3 - epoch / 100, valNll, bestValNll: valNll, bestEpoch: Number.isNaN(valNll) ? 0 : epoch, stepsPerSecond: 250, elapsed: epoch, step: 16 * epoch };
}

function run(mode: 'tty' | 'lines' | 'silent', epochs: number, msPerEpoch: number, valNll = NaN): string[] {
  const out: string[] = [];
  let t = 0;
  const progress = new Progress(epochs, { mode, write: (s) => out.push(s), now: () => t, columns: 200 }, 16);
  for (let e = 1; e <= epochs; e++) {
    t += msPerEpoch;
    progress.epoch(info(e, epochs, valNll));
  }
  progress.done();
  return out;
}

test('durations read as seconds, minutes or hours', () => {
  assert.is(formatDuration(12.4), '12s');
  assert.is(formatDuration(185), '3m 05s');
  assert.is(formatDuration(3725), '1h 02m');
  assert.is(formatDuration(NaN), '?');
});

test('on a terminal one line is redrawn in place at most ten times a second, then cleared', () => {
  const out = run('tty', 100, 10);
  assert.ok(out.length <= 12 + 1, `${out.length} writes`);
  for (const s of out.slice(0, -1)) assert.ok(s.startsWith('\r') && !s.includes('\n'), JSON.stringify(s));
  assert.match(out.at(-2)!, 'epoch 100/100');
  assert.match(out[1]!, /ETA \d+s/);
  assert.is(out.at(-1), '\r\x1b[2K');
});

test('the live line fits a narrow terminal by leaving out details, never the epoch or the ETA', () => {
  for (const columns of [200, 90, 70, 60]) {
    const out: string[] = [];
    let t = 0;
    const progress = new Progress(1000, { mode: 'tty', write: (s) => out.push(s), now: () => t, columns }, 16);
    for (let e = 1; e <= 20; e++) {
      t += 200;
      progress.epoch(info(e, 1000, 2.5));
    }
    const line = out.at(-1)!.replace(/^\r/, '').replace(/\x1b\[K$/, '');
    assert.ok(line.length < columns, `${columns} columns: ${JSON.stringify(line)}`);
    assert.match(line, 'epoch   20/1000', `${columns} columns`);
    assert.match(line, 'ETA 3m 16s', `${columns} columns: 980 epochs at 0.2 s`);
    if (columns === 200) assert.match(line, /\[[█░]{20}\].*\(best 2\.5000 @ 20\).*250 steps\/s/);
  }
});

test('within an epoch the live line moves with the steps', () => {
  const out: string[] = [];
  let t = 0;
  const progress = new Progress(2, { mode: 'tty', write: (s) => out.push(s), now: () => t, columns: 200 }, 100);
  t = 500;
  progress.step(50);
  assert.match(out.at(-1)!, /epoch 1\/2  \[█████░+\]/);
});

test('without a terminal a plain line is printed for the first epoch, every tenth of the run and the last', () => {
  const out = run('lines', 50, 10, 2.5);
  assert.equal(out.map((s) => /epoch +(\d+)/.exec(s)![1]), ['1', '5', '10', '15', '20', '25', '30', '35', '40', '45', '50']);
  for (const s of out) assert.ok(s.endsWith('\n') && !s.includes('\r'));
  assert.match(out[0]!, 'val NLL 2.5000 (best 2.5000 @ 1)');
  assert.match(out[0]!, '250 steps/s');
});

test('without a terminal slow epochs are reported at least every ten seconds', () => {
  const out = run('lines', 1000, 4000);
  assert.ok(out.length > 300, `${out.length} lines`);
});

test('silent progress writes nothing', () => {
  assert.equal(run('silent', 20, 10), []);
});

test.run();
