/**
 * The example page in headless Chromium, as part of `npm test`: runs scripts/test-page.mjs (which builds
 * dist/ if needed, serves the repository, opens examples/browser/, trains, pauses, resumes, resets and
 * checks the plots) without writing the screenshot. Skipped, with a message, when no Chromium is found
 * or when CHROMIUM=none. `npm run test:page` runs the same checks and refreshes docs/browser-page.png.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = fileURLToPath(new URL('../..', import.meta.url));
const script = fileURLToPath(new URL('../../scripts/test-page.mjs', import.meta.url));

const env = process.env['CHROMIUM'];
const chromium = env !== undefined && env !== '' ? existsSync(env) : ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].some((p) => existsSync(p));

if (!chromium) {
  // No test is registered (rather than test.skip): test/run.ts reads uvu's totals, and uvu counts a
  // skipped test under Skipped but not under Total.
  console.log(`SKIP browser page test: no Chromium (${env ? `CHROMIUM=${env}` : '/usr/bin/chromium'}); on Debian: apt-get install -y chromium`);
} else {
  test('example page in headless Chromium: trains, pauses, resumes, resets, draws', () => {
    const run = spawnSync(process.execPath, [script, '--no-screenshot'], { cwd: root, encoding: 'utf8', timeout: 180_000 });
    const output = `${run.stdout}\n${run.stderr}`;
    assert.is(run.status, 0, `scripts/test-page.mjs failed:\n${output}`);
    assert.ok(/test-page: ok/.test(run.stdout), `no success line:\n${output}`);
  });
}

test.run();
