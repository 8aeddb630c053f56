/**
 * What the headless-Chromium page tests share (scripts/test-page.mjs, scripts/test-sbi-page.mjs):
 * finding Chromium, building dist/ when it is missing or older than src/ (the pages import the built
 * package), serving the repository with examples/browser/serve.mjs, and driving the browser over the
 * DevTools protocol on a pipe (--remote-debugging-pipe: JSON messages separated by NUL bytes on file
 * descriptors 3 and 4, the channel Playwright uses), with no driver dependency: `openBrowser` starts it
 * all and `runPageTest` wraps a test's checks into SKIP / ok / failed lines and an exit code.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));

/** A logger that prefixes seconds since `started`: `[name 1.2s] message`. */
export function logger(name, started = performance.now()) {
  return (message) => console.log(`[${name} ${((performance.now() - started) / 1000).toFixed(1)}s] ${message}`);
}

export function findChromium() {
  if (process.env.CHROMIUM) return existsSync(process.env.CHROMIUM) ? process.env.CHROMIUM : null; // CHROMIUM=none: skip
  const candidates = ['/usr/bin/chromium'];
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    for (const name of ['chromium', 'chromium-browser', 'google-chrome']) candidates.push(join(dir, name));
  }
  return candidates.find((path) => existsSync(path)) ?? null;
}

/** dist/ is what the page imports; build it when it is not there. */
export function ensureDist(log = console.log) {
  const entry = join(root, 'dist/index.js');
  const missing = !['dist/index.js', 'dist/plot/index.js', 'dist/sbi/index.js', 'dist/cli/main.js'].every((f) => existsSync(join(root, f)));
  const stale = !missing && newestMtime(join(root, 'src')) > statSync(entry).mtimeMs;
  if (!missing && !stale) return;
  const scripts = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts ?? {};
  if (!scripts.build) throw new Error('dist/ is missing and package.json has no "build" script');
  log(`dist/ is ${missing ? 'missing' : 'older than src/'}: npm run build`);
  const result = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) throw new Error('npm run build failed');
}

/** The latest modification time (ms) of any file below `dir`. */
function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Starts serve.mjs on a free port; resolves with the page's URL and the server process. */
export function startServer() {
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
export class CdpPipe {
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
export class Page {
  constructor(cdp, sessionId, viewport) {
    this.cdp = cdp;
    this.sessionId = sessionId;
    this.viewport = viewport;
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
    await this.send('Emulation.setDeviceMetricsOverride', { ...this.viewport, height, deviceScaleFactor: 1, mobile: false });
    await new Promise((r) => setTimeout(r, 200)); // a frame or two at the new size
    const { data } = await this.send('Page.captureScreenshot', { format: 'png' });
    await this.send('Emulation.setDeviceMetricsOverride', { ...this.viewport, deviceScaleFactor: 1, mobile: false });
    return Buffer.from(data, 'base64');
  }
}

/** How many pixels of a canvas differ from white/transparent, and how many distinct colours it has. */
export const CANVAS_INK = (id) => `(() => {
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

/**
 * Builds dist/ if needed, serves the repository, starts headless Chromium and opens `path` (below
 * examples/browser/) in a page of `viewport`. Returns the page, the server's base URL and `close()`,
 * which quits Chromium (killing it after 5 s), stops the server and removes the profile.
 */
export async function openBrowser(chromium, { path = '', viewport, log }) {
  ensureDist(log);
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
  const cdp = new CdpPipe(browser);
  const close = async () => {
    server.kill();
    // Ask Chromium to quit (its helper processes go with it), kill it if it does not within 5 s.
    const closed = cdp.send('Browser.close').catch(() => {});
    const timer = setTimeout(() => browser.kill('SIGKILL'), 5000);
    await Promise.race([browserExit, closed.then(() => browserExit)]);
    clearTimeout(timer);
    try {
      rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    } catch (err) {
      console.warn(`(could not remove the browser profile ${profile}: ${err.code})`);
    }
  };
  try {
    const exited = new Promise((_, fail) => browser.on('exit', (code) => fail(new Error(`chromium exited (${code})\n${browserErr}`))));
    const { targetId } = await Promise.race([cdp.send('Target.createTarget', { url: 'about:blank' }), exited]);
    const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: true });
    const page = new Page(cdp, sessionId, viewport);
    await page.send('Runtime.enable');
    await page.send('Page.enable');
    await page.send('Emulation.setDeviceMetricsOverride', { ...viewport, deviceScaleFactor: 1, mobile: false });
    const loaded = cdp.once('Page.loadEventFired', sessionId);
    await page.send('Page.navigate', { url: url + path });
    await loaded;
    log(`chromium ${(await cdp.send('Browser.getVersion')).product} opened ${url + path}`);
    return { page, cdp, url, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * Runs `run(chromium)` (which returns a list of failures) and exits: 0 with "NAME: ok", 1 with a FAIL
 * line per failure; SKIP and 0 when no Chromium is found.
 */
export async function runPageTest(name, run) {
  const started = performance.now();
  const chromium = findChromium();
  if (chromium === null) {
    console.log(`SKIP ${name}: no Chromium found (${process.env.CHROMIUM ? `$CHROMIUM=${process.env.CHROMIUM}` : '$CHROMIUM, /usr/bin/chromium or the PATH'}); on Debian: apt-get install -y chromium`);
    process.exit(0);
  }
  try {
    const failures = await run(chromium);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    if (failures.length > 0) {
      for (const f of failures) console.error(`FAIL ${f}`);
      console.log(`${name}: ${failures.length} check(s) failed (${seconds} s)`);
      process.exit(1);
    }
    console.log(`${name}: ok (${seconds} s)`);
    process.exit(0);
  } catch (err) {
    console.error(err);
    console.log(`${name}: failed`);
    process.exit(1);
  }
}
