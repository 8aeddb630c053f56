#!/usr/bin/env node
/**
 * The example page (examples/browser/) in a real browser: builds dist/ if it is missing or stale, starts
 * examples/browser/serve.mjs on a free port, opens the page in headless Chromium, sets a small
 * configuration, clicks Train, pauses and resumes, and checks that
 *   - the training loss went down, every epoch was reported and no error was shown,
 *   - Pause stops the epochs and Resume continues them,
 *   - the four canvases drew (the loss curve, samples and data, the density heat map, the animation),
 *     and the "SVG" button's figure (flowgrad/plot's layerFigure) has one panel per pair of layers,
 *   - the page stayed responsive while the worker trained (the longest gap between animation frames),
 *   - Reset brings back an untrained model;
 * then saves a screenshot (docs/browser-page.png by default).
 *
 *   node scripts/test-page.mjs                       # npm run test:page
 *   node scripts/test-page.mjs --screenshot out.png  # somewhere else
 *   node scripts/test-page.mjs --no-screenshot
 *
 * Chromium: $CHROMIUM if set (CHROMIUM=none skips), else /usr/bin/chromium, or chromium /
 * chromium-browser / google-chrome on the PATH. Without one the script prints SKIP and exits 0
 * (Debian: `apt-get install -y chromium`, about 20 s with its ~120 dependencies).
 *
 * No driver dependency: Chromium is driven over the DevTools protocol on a pipe (scripts/browser.mjs,
 * shared with scripts/test-sbi-page.mjs). Exit code 0 on success, 1 on failure.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CANVAS_INK, logger, openBrowser, root, runPageTest } from './browser.mjs';

const argv = process.argv.slice(2);
const shotAt = argv.indexOf('--screenshot');
const screenshotPath = argv.includes('--no-screenshot') ? null : resolve(root, shotAt >= 0 && argv[shotAt + 1] ? argv[shotAt + 1] : 'docs/browser-page.png');

// What the test trains: the page's defaults (the post's mixture, 8 layers of flowgrad's coupling with 64
// hidden units) but fewer epochs, so that the test takes seconds and the screenshot shows a trained model.
const CONFIG = { dataset: 'post-mixture', epochs: 30 };
const VIEWPORT = { width: 1280, height: 1040 };

const log = logger('test-page');

async function run(chromium) {
  const { page, close } = await openBrowser(chromium, { viewport: VIEWPORT, log });
  try {
    // The page builds the data and an untrained model as soon as it loads.
    const built = `!demo.loading && demo.snapshot !== null && demo.snapshot.epoch === 0`;
    await page.waitFor(`window.demo !== undefined && ${built}`, 'the first model', 20_000);
    await page.fill(CONFIG); // applies at once: nothing is trained yet
    await page.waitFor(`demo.config.epochs === ${CONFIG.epochs} && ${built}`, 'the configured model');
    const epochs = CONFIG.epochs;

    // Watch the main thread: the longest gap between two animation frames while the worker trains.
    await page.evaluate(`(() => {
      window.frameGaps = { max: 0, frames: 0, last: performance.now(), on: true };
      const watch = (now) => {
        const g = window.frameGaps;
        g.max = Math.max(g.max, now - g.last); g.last = now; g.frames++;
        if (g.on) requestAnimationFrame(watch);
      };
      requestAnimationFrame(watch);
    })()`);

    await page.click('train');
    await page.waitFor(`demo.losses.length >= 3`, 'three epochs');
    await page.click('pause');
    await page.waitFor(`demo.run === 'paused'`, 'the pause');
    const atPause = await page.evaluate('demo.losses.length');
    await new Promise((r) => setTimeout(r, 600));
    const afterWait = await page.evaluate('demo.losses.length');
    if (afterWait !== atPause) throw new Error(`Pause did not stop training: ${atPause} epochs at the pause, ${afterWait} 0.6 s later`);
    log(`paused after ${atPause} epochs; still ${afterWait} 0.6 s later`);
    const resumeText = await page.evaluate(`document.getElementById('train').textContent`);
    if (resumeText !== 'Resume') throw new Error(`the Train button says "${resumeText}" when paused, expected "Resume"`);
    await page.click('train');
    await page.waitFor(`demo.run === 'done'`, `${epochs} epochs`, 120_000);
    await page.waitFor(`demo.snapshot.epoch === ${epochs}`, 'the last snapshot');
    const gaps = await page.evaluate(`(() => { window.frameGaps.on = false; return window.frameGaps; })()`);

    const result = await page.evaluate(`({ losses: demo.losses, error: demo.error, snapshots: demo.snapshots,
      frames: demo.snapshot.frames.length, layers: demo.snapshot.layers, status: document.getElementById('status').textContent })`);
    const { losses } = result;
    const first = losses[0], last = losses[losses.length - 1];
    log(`${losses.length} epochs, loss ${first.toFixed(3)} -> ${last.toFixed(3)} nats; ${result.snapshots} snapshots; status "${result.status}"`);
    log(`main thread: ${gaps.frames} animation frames, longest gap ${gaps.max.toFixed(0)} ms`);

    const failures = [];
    if (result.error !== null) failures.push(`the page shows an error: ${result.error}`);
    if (losses.length !== epochs) failures.push(`expected ${epochs} epochs, got ${losses.length}`);
    if (!losses.every(Number.isFinite)) failures.push(`a loss is not finite: ${losses}`);
    if (!(last < first - 0.2)) failures.push(`the loss did not go down: ${first} -> ${last}`);
    if (result.frames !== result.layers / 2 + 1) failures.push(`the trace has ${result.frames} frames for ${result.layers} layers`);
    if (gaps.max > 1000) failures.push(`the page froze for ${gaps.max.toFixed(0)} ms while training`);

    // Stop the animation on a mid-way frame (points part-way to data space) for the checks and the picture.
    await page.click('anim-play');
    await page.evaluate(`(() => {
      const s = document.getElementById('anim-pos');
      s.value = String(Number(s.max) - 1.5);
      s.dispatchEvent(new Event('input'));
    })()`);
    await new Promise((r) => setTimeout(r, 150));
    for (const [id, need] of [['loss', { blue: 100 }], ['samples', { blue: 300 }], ['density', { colours: 100 }], ['trace', { blue: 300 }]]) {
      const ink = await page.evaluate(CANVAS_INK(id));
      log(`canvas #${id}: ${ink.width}×${ink.height}, ${ink.ink} inked pixels, ${ink.blue} blue, ${ink.colours} colours`);
      for (const [key, min] of Object.entries(need)) if (!(ink[key] >= min)) failures.push(`canvas #${id} looks empty: ${key} ${ink[key]} < ${min}`);
    }

    // The "SVG" button's figure: the library's layerFigure, one panel per pair of layers.
    const svg = await page.evaluate('demo.figureOneSvg()');
    const panels = (svg.match(/class="panel"/g) ?? []).length;
    log(`Figure 1 as SVG: ${svg.length.toLocaleString('en')} characters, ${panels} panels`);
    if (!svg.includes('<svg') || panels !== result.layers / 2 || !svg.includes(`after ${result.layers} of ${result.layers} layers`)) {
      failures.push(`the SVG figure is not as expected: ${panels} panels, starts ${JSON.stringify(svg.slice(0, 80))}`);
    }

    if (screenshotPath !== null) {
      const png = await page.screenshot();
      mkdirSync(dirname(screenshotPath), { recursive: true });
      writeFileSync(screenshotPath, png);
      log(`screenshot: ${screenshotPath} (${png.length.toLocaleString('en')} bytes)`);
    }

    // Reset: an untrained model again, settings unlocked.
    await page.click('reset');
    await page.waitFor(`demo.run === 'idle' && demo.losses.length === 0 && ${built}`, 'the reset');
    if (await page.evaluate(`document.getElementById('settings').disabled`)) failures.push('the settings stay locked after Reset');
    log('reset: untrained model, settings unlocked');

    if (page.problems.length > 0) failures.push(`errors in the page: ${page.problems.join(' | ')}`);
    return failures;
  } finally {
    await close();
  }
}

await runPageTest('test-page', run);
