/**
 * The amortized-inference page in headless Chromium, as part of `npm test`: runs
 * scripts/test-sbi-page.mjs (which builds dist/ if needed, serves the repository, opens
 * examples/browser/sbi.html, trains a small two-moons posterior in the page's worker, drags the
 * observation with mouse events and checks that the posterior followed, the canvases drew and the
 * calibration verdict is shown, then loads a model trained by `flowgrad sbi train` through the page's
 * file input) without writing the screenshot. Skipped, with a message, when no Chromium is found or
 * when CHROMIUM=none. `npm run test:sbi-page` runs the same checks on the page's default budget and
 * refreshes docs/sbi-page.png.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = fileURLToPath(new URL('../..', import.meta.url));
const script = fileURLToPath(new URL('../../scripts/test-sbi-page.mjs', import.meta.url));

const env = process.env['CHROMIUM'];
const chromium = env !== undefined && env !== '' ? existsSync(env) : ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].some((p) => existsSync(p));

if (!chromium) {
  // No test is registered (rather than test.skip): test/run.ts reads uvu's totals, and uvu counts a
  // skipped test under Skipped but not under Total.
  console.log(`SKIP amortized-inference page test: no Chromium (${env ? `CHROMIUM=${env}` : '/usr/bin/chromium'}); on Debian: apt-get install -y chromium`);
} else {
  test('amortized-inference page in headless Chromium: trains, drags, the posterior follows, verdict shown, a CLI model loads', () => {
    const run = spawnSync(process.execPath, [script, '--no-screenshot'], { cwd: root, encoding: 'utf8', timeout: 180_000 });
    const output = `${run.stdout}\n${run.stderr}`;
    assert.is(run.status, 0, `scripts/test-sbi-page.mjs failed:\n${output}`);
    assert.ok(/test-sbi-page: ok/.test(run.stdout), `no success line:\n${output}`);
  });
}

test.run();
