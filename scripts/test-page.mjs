#!/usr/bin/env node
/**
 * The example page (examples/browser/) in a real browser: builds dist/ if it is missing, starts
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
 * No driver dependency: Chromium is driven over the DevTools protocol on a pipe
 * (--remote-debugging-pipe: JSON messages separated by NUL bytes on file descriptors 3 and 4), the
 * same channel Playwright uses, in the small CdpPipe class below. Exit code 0 on success, 1 on failure.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const argv = process.argv.slice(2);
const shotAt = argv.indexOf('--screenshot');
const screenshotPath = argv.includes('--no-screenshot') ? null : resolve(root, shotAt >= 0 && argv[shotAt + 1] ? argv[shotAt + 1] : 'docs/browser-page.png');

// What the test trains: the page's defaults (the post's mixture, 8 layers of flowgrad's coupling with 64
// hidden units) but fewer epochs, so that the test takes seconds and the screenshot shows a trained model.
const CONFIG = { dataset: 'post-mixture', epochs: 30 };
const VIEWPORT = { width: 1280, height: 1040 };

const started = performance.now();
const log = (message) => console.log(`[test-page ${((performance.now() - started) / 1000).toFixed(1)}s] ${message}`);

function findChromium() {
  if (process.env.CHROMIUM) return existsSync(process.env.CHROMIUM) ? process.env.CHROMIUM : null; // CHROMIUM=none: skip
  const candidates = ['/usr/bin/chromium'];
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    for (const name of ['chromium', 'chromium-browser', 'google-chrome']) candidates.push(join(dir, name));
  }
  return candidates.find((path) => existsSync(path)) ?? null;
}

/** dist/ is what the page imports; build it when it is not there. */
function ensureDist() {
  if (existsSync(join(root, 'dist/index.js')) && existsSync(join(root, 'dist/plot/index.js'))) return;
  const scripts = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts ?? {};
  if (!scripts.build) throw new Error('dist/ is missing and package.json has no "build" script');
  log('dist/ is missing: npm run build');
  const result = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) throw new Error('npm run build failed');
}

/** Starts serve.mjs on a free port; resolves with the page's URL and the server process. */
function startServer() {
  return new Promise((resolvePromise, reject) => {
    const server = spawn(process.execPath, [join(root, 'examples/browser/serve.mjs'), '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    server.stdout.on('data', (chunk) => {
      out += chunk;
      const m = /http:\/\/\S+/.exec(out);
      if (m) resolvePromise({ url: m[0], server });
    });
    server.on('exit', (code) => reject(new Error(`serve.mjs exited with code ${code}: ${out}`)));
  });
}

/** A DevTools-protocol client over Chromium's --remote-debugging-pipe. */
class CdpPipe {
  constructor(child) {
    this.child = child;
    this.nextId = 1;
    this.pending = new Map(); // id -> { resolve, reject, method }
    this.listeners = new Set(); // (message) => void, for events
    let buffer = '';
    child.stdio[4].on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      let end;
      while ((end = buffer.indexOf('\0')) >= 0) {
        const message = JSON.parse(buffer.slice(0, end));
        buffer = buffer.slice(end + 1);
        if (message.id !== undefined && this.pending.has(message.id)) {
          const { resolve: ok, reject: fail, method } = this.pending.get(message.id);
          this.pending.delete(message.id);
          if (message.error) fail(new Error(`${method}: ${message.error.message}`));
          else ok(message.result);
        } else for (const listener of this.listeners) listener(message);
      }
    });
  }

  send(method, params = {}, sessionId = undefined) {
    const id = this.nextId++;
    this.child.stdio[3].write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + '\0');
    return new Promise((ok, fail) => this.pending.set(id, { resolve: ok, reject: fail, method }));
  }

  /** Resolves with the first event `method` (of `sessionId`) that passes `filter`. */
  once(method, sessionId, filter = () => true, timeoutMs = 30_000) {
    return new Promise((ok, fail) => {
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        fail(new Error(`timed out waiting for ${method}`));
      }, timeoutMs);
      const listener = (m) => {
        if (m.method === method && m.sessionId === sessionId && filter(m.params)) {
          clearTimeout(timer);
          this.listeners.delete(listener);
          ok(m.params);
        }
      };
      this.listeners.add(listener);
    });
  }
}

/** A page in the browser: evaluate expressions, click elements, take screenshots. */
class Page {
  constructor(cdp, sessionId) {
    this.cdp = cdp;
    this.sessionId = sessionId;
    this.problems = []; // uncaught exceptions and console errors of the page
    cdp.listeners.add((m) => {
      if (m.sessionId !== sessionId) return;
      if (m.method === 'Runtime.exceptionThrown') this.problems.push(m.params.exceptionDetails.exception?.description ?? m.params.exceptionDetails.text);
      if (m.method === 'Runtime.consoleAPICalled' && m.params.type === 'error') this.problems.push(m.params.args.map((a) => a.value ?? a.description).join(' '));
    });
  }

  send(method, params) {
    return this.cdp.send(method, params, this.sessionId);
  }

  async evaluate(expression) {
    const { result, exceptionDetails } = await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    if (exceptionDetails) throw new Error(`in the page: ${exceptionDetails.exception?.description ?? exceptionDetails.text}`);
    return result.value;
  }

  /** Polls `expression` until it is truthy; returns its value. */
  async waitFor(expression, what, timeoutMs = 30_000) {
    const until = performance.now() + timeoutMs;
    for (;;) {
      const value = await this.evaluate(expression);
      if (value) return value;
      if (performance.now() > until) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** A real mouse click (press and release) at the centre of the element with this id. */
  async click(id) {
    const box = await this.evaluate(`(() => {
      const r = document.getElementById(${JSON.stringify(id)}).getBoundingClientRect();
      return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
    })()`);
    for (const type of ['mousePressed', 'mouseReleased']) {
      await this.send('Input.dispatchMouseEvent', { type, x: box.x, y: box.y, button: 'left', clickCount: 1 });
    }
  }

  /** Sets form fields as a user would (value, then an input and a change event). */
  async fill(values) {
    await this.evaluate(`(() => {
      for (const [id, value] of Object.entries(${JSON.stringify(values)})) {
        const el = document.getElementById(id);
        el.value = String(value);
        el.dispatchEvent(new Event('input', { bubbles: true }));
        el.dispatchEvent(new Event('change', { bubbles: true }));
      }
    })()`);
  }

  /** A PNG of the whole page (the viewport is stretched to the content's height). */
  async screenshot() {
    const { cssContentSize } = await this.send('Page.getLayoutMetrics');
    const height = Math.ceil(cssContentSize.height);
    await this.send('Emulation.setDeviceMetricsOverride', { ...VIEWPORT, height, deviceScaleFactor: 1, mobile: false });
    await new Promise((r) => setTimeout(r, 200)); // a frame or two at the new size
    const { data } = await this.send('Page.captureScreenshot', { format: 'png' });
    return Buffer.from(data, 'base64');
  }
}

/** How many pixels of a canvas differ from white/transparent, and how many distinct colours it has. */
const CANVAS_INK = (id) => `(() => {
  const c = document.getElementById(${JSON.stringify(id)});
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let ink = 0, blue = 0;
  const colours = new Set();
  for (let i = 0; i < d.length; i += 4) {
    const [r, g, b, a] = [d[i], d[i + 1], d[i + 2], d[i + 3]];
    if (a > 0 && (r < 245 || g < 245 || b < 245)) ink++;
    if (b > r + 40 && b > g + 10 && a > 0) blue++;
    colours.add((r >> 3) << 10 | (g >> 3) << 5 | (b >> 3));
  }
  return { width: c.width, height: c.height, ink, blue, colours: colours.size };
})()`;

async function run(chromium) {
  ensureDist();
  const { url, server } = await startServer();
  log(`serving ${url}`);
  const profile = mkdtempSync(join(tmpdir(), 'flowgrad-page-'));
  const browser = spawn(chromium, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--no-first-run', '--disable-sync', '--disable-quic', '--no-default-browser-check', '--mute-audio', '--hide-scrollbars',
    `--user-data-dir=${profile}`, '--remote-debugging-pipe', 'about:blank',
  ], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
  let browserErr = '';
  browser.stderr.on('data', (chunk) => (browserErr = (browserErr + chunk).slice(-4000)));
  const browserExit = new Promise((ok) => browser.once('exit', ok));
  let cdp = null;
  const cleanup = async () => {
    server.kill();
    // Ask Chromium to quit (its helper processes go with it), kill it if it does not within 5 s.
    const closed = cdp?.send('Browser.close').catch(() => {});
    const timer = setTimeout(() => browser.kill('SIGKILL'), 5000);
    await Promise.race([browserExit, closed?.then(() => browserExit)]);
    clearTimeout(timer);
    try {
      rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    } catch (err) {
      console.warn(`(could not remove the browser profile ${profile}: ${err.code})`);
    }
  };
  try {
    cdp = new CdpPipe(browser);
    const exited = new Promise((_, fail) => browser.on('exit', (code) => fail(new Error(`chromium exited (${code})\n${browserErr}`))));
    const { targetId } = await Promise.race([cdp.send('Target.createTarget', { url: 'about:blank' }), exited]);
    const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: true });
    const page = new Page(cdp, sessionId);
    await page.send('Runtime.enable');
    await page.send('Page.enable');
    await page.send('Emulation.setDeviceMetricsOverride', { ...VIEWPORT, deviceScaleFactor: 1, mobile: false });
    const loaded = cdp.once('Page.loadEventFired', sessionId);
    await page.send('Page.navigate', { url });
    await loaded;
    log(`chromium ${(await cdp.send('Browser.getVersion')).product} opened the page`);

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
      await page.send('Emulation.setDeviceMetricsOverride', { ...VIEWPORT, deviceScaleFactor: 1, mobile: false });
    }

    // Reset: an untrained model again, settings unlocked.
    await page.click('reset');
    await page.waitFor(`demo.run === 'idle' && demo.losses.length === 0 && ${built}`, 'the reset');
    if (await page.evaluate(`document.getElementById('settings').disabled`)) failures.push('the settings stay locked after Reset');
    log('reset: untrained model, settings unlocked');

    if (page.problems.length > 0) failures.push(`errors in the page: ${page.problems.join(' | ')}`);
    return failures;
  } finally {
    await cleanup();
  }
}

const chromium = findChromium();
if (chromium === null) {
  console.log(`SKIP test-page: no Chromium found (${process.env.CHROMIUM ? `$CHROMIUM=${process.env.CHROMIUM}` : '$CHROMIUM, /usr/bin/chromium or the PATH'}); on Debian: apt-get install -y chromium`);
  process.exit(0);
}
try {
  const failures = await run(chromium);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (failures.length > 0) {
    for (const f of failures) console.error(`FAIL ${f}`);
    console.log(`test-page: ${failures.length} check(s) failed (${seconds} s)`);
    process.exit(1);
  }
  console.log(`test-page: ok (${seconds} s)`);
  process.exit(0);
} catch (err) {
  console.error(err);
  console.log('test-page: failed');
  process.exit(1);
}
