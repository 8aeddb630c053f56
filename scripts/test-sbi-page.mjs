#!/usr/bin/env node
/**
 * The amortized-inference page (examples/browser/sbi.html) in headless Chromium: trains a neural
 * posterior for two-moons in the page's worker, drags the observation along a scripted path with real
 * mouse events, and checks that
 *   - training reported its epochs with finite losses and no error was shown,
 *   - the calibration verdict (checkPosterior in the worker) is on the page, with its two SVG figures,
 *   - the posterior moved with the observation, the last answer is for the last x, and its samples sit
 *     where the exact posterior is (the orange grid),
 *   - the canvases drew (samples, the exact posterior, the observation, the loss curves),
 *   - the main thread never froze for long (the longest gap between animation frames);
 * that the arrow keys move the observation and fresh base draws give new samples; that a drop without a
 * model's files is refused with one line; then drops a model trained by `flowgrad sbi train`
 * (dist/cli/main.js, the default recipe) onto the page (a drop event carrying its two files), checks
 * that it is used and checked, and drags again.
 *
 * It measures and prints, for the scripted drag: posterior frames per second (answers painted per
 * second, 2,000 samples each), ms per posterior draw of 2,000 in the worker, and, for the same model in
 * Node in this process, ms per draw of 2,000 (the same call), for comparison.
 *
 *   node scripts/test-sbi-page.mjs                       # npm run test:sbi-page; writes docs/sbi-page.png
 *   node scripts/test-sbi-page.mjs --screenshot out.png
 *   node scripts/test-sbi-page.mjs --no-screenshot       # the quick run of test/browser/sbi-page.test.ts
 *
 * With the screenshot the page trains its default budget (5,000 simulations, up to 60 epochs, 1,000
 * calibration pairs) so the picture shows a trained model; without it, a small one (2,000 simulations,
 * 15 epochs, 200 pairs, 3 s drags) to keep the run short. Chromium as in scripts/test-page.mjs (SKIP without one).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { CANVAS_INK, logger, openBrowser, root, runPageTest } from './browser.mjs';

const argv = process.argv.slice(2);
const shotAt = argv.indexOf('--screenshot');
const screenshotPath = argv.includes('--no-screenshot') ? null : resolve(root, shotAt >= 0 && argv[shotAt + 1] ? argv[shotAt + 1] : 'docs/sbi-page.png');
const CONFIG = screenshotPath !== null ? {} : { simulations: 2000, epochs: 15, pairs: 200 };
const VIEWPORT = { width: 1280, height: 1100 };
/** Seconds of scripted dragging per model. */
const DRAG_SECONDS = screenshotPath !== null ? 5 : 3;

const log = logger('test-sbi-page');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The observation panel's map from (x₁, x₂) to page pixels: { x0, sx, y0, sy } with px = x0 + sx·x₁. */
const PIXEL_MAP = `(() => {
  const c = document.getElementById('observe').getBoundingClientRect();
  const { box, range } = demo.observeMap;
  const sx = (box.right - box.left) / (range.x[1] - range.x[0]), sy = (box.bottom - box.top) / (range.y[1] - range.y[0]);
  return { x0: c.left + box.left - range.x[0] * sx, sx, y0: c.top + box.bottom + range.y[0] * sy, sy };
})()`;

/** Mean of the first two columns of the last answer, and of the exact posterior on its grid (or null). */
const POSTERIOR_SUMMARY = `(() => {
  const s = demo.samples, d = demo.meta.thetaDim, n = s.theta.length / d;
  let m1 = 0, m2 = 0;
  for (let i = 0; i < n; i++) { m1 += s.theta[d * i] / n; m2 += s.theta[d * i + 1] / n; }
  let exact = null;
  if (s.grid) {
    const g = Math.round(Math.sqrt(s.grid.length)), box = demo.meta.support;
    let max = -Infinity;
    for (const v of s.grid) if (v > max) max = v;
    let w = 0, e1 = 0, e2 = 0;
    for (let iy = 0; iy < g; iy++) for (let ix = 0; ix < g; ix++) {
      const p = Math.exp(s.grid[iy * g + ix] - max);
      w += p;
      e1 += p * (box.low[0] + (ix + 0.5) / g * (box.high[0] - box.low[0]));
      e2 += p * (box.low[1] + (iy + 0.5) / g * (box.high[1] - box.low[1]));
    }
    exact = [e1 / w, e2 / w];
  }
  return { mean: [m1, m2], exact, x: [...s.x], current: [...demo.x], id: s.id };
})()`;

/**
 * Drags the observation with real mouse events along an ellipse through the simulations' range for
 * `seconds`, one move every 16 ms, ending on a simulated x; returns the drawing loop's figures over the drag.
 */
async function drag(page, seconds) {
  const before = await page.evaluate(`({ ...demo.stats, drawMs: demo.stats.drawMs.length, arrivals: demo.stats.arrivals.length })`);
  const range = await page.evaluate('demo.xRange');
  const cx = 0.5 * (range.x[0] + range.x[1]), cy = 0.5 * (range.y[0] + range.y[1]);
  const rx = 0.3 * (range.x[1] - range.x[0]), ry = 0.3 * (range.y[1] - range.y[0]);
  const m = await page.evaluate(PIXEL_MAP); // fixed during the drag: no page call per move
  const at = (t) => ({ x: m.x0 + m.sx * (cx + rx * Math.cos(t)), y: m.y0 - m.sy * (cy + ry * Math.sin(t)) });
  let p = at(0);
  await page.send('Input.dispatchMouseEvent', { type: 'mousePressed', x: p.x, y: p.y, button: 'left', buttons: 1, clickCount: 1 });
  const t0 = performance.now();
  let moves = 0;
  while (performance.now() - t0 < seconds * 1000) {
    const t = (2 * Math.PI * (performance.now() - t0)) / 2000; // one loop every 2 s
    p = at(t);
    await page.send('Input.dispatchMouseEvent', { type: 'mouseMoved', x: p.x, y: p.y, button: 'left', buttons: 1 });
    moves++;
    await sleep(16);
  }
  // End on a simulated x near the middle of the simulations (the ellipse passes outside their support,
  // where no posterior is meaningful), so the final posterior can be compared with the exact one.
  const end = await page.evaluate(`(() => {
    const c = demo.cloud, d = demo.meta.xDim, n = c.length / d;
    const med = (j) => Float64Array.from({ length: n }, (_, i) => c[d * i + j]).sort()[n >> 1];
    const m1 = med(0), m2 = med(1);
    let best = 0;
    for (let i = 1; i < n; i++) if (Math.hypot(c[d * i] - m1, c[d * i + 1] - m2) < Math.hypot(c[d * best] - m1, c[d * best + 1] - m2)) best = i;
    return [c[d * best], c[d * best + 1]];
  })()`);
  p = { x: m.x0 + m.sx * end[0], y: m.y0 - m.sy * end[1] };
  await page.send('Input.dispatchMouseEvent', { type: 'mouseMoved', x: p.x, y: p.y, button: 'left', buttons: 1 });
  const elapsed = (performance.now() - t0) / 1000;
  const after = await page.evaluate(`({ ...demo.stats, drawMs: demo.stats.drawMs.slice(${before.drawMs}), arrivals: demo.stats.arrivals.length })`);
  await page.send('Input.dispatchMouseEvent', { type: 'mouseReleased', x: p.x, y: p.y, button: 'left', buttons: 0, clickCount: 1 });
  const ms = after.drawMs.slice().sort((a, b) => a - b);
  return {
    seconds: elapsed,
    moves,
    painted: after.painted - before.painted,
    fps: (after.painted - before.painted) / elapsed,
    answersPerSecond: (after.answers - before.answers) / elapsed,
    animationFps: (after.frames - before.frames) / elapsed,
    medianMs: ms[Math.floor(ms.length / 2)],
    meanMs: ms.reduce((a, b) => a + b, 0) / ms.length,
  };
}

/**
 * The same draw as the sampler's (2,000 fixed base draws through the flow) for the page's model, in Node:
 * the median wall-clock ms and the mean CPU ms of this process per draw (on a shared machine the CPU
 * time is closer to what an idle core would take).
 */
async function nodeMsPerDraw(saved, reps = 15) {
  const { noGrad, Rng, Tensor } = await import('../dist/index.js');
  const { NeuralPosterior } = await import('../dist/sbi/index.js');
  const posterior = NeuralPosterior.load(saved.configJson, Uint8Array.from(Buffer.from(saved.weights, 'base64')));
  const n = 2000, c = posterior.meta.xDim;
  const z = posterior.flow.base.sample(n, new Rng(0));
  const times = [];
  let cpu = 0;
  for (let k = 0; k < reps + 3; k++) {
    const context = new Float64Array(n * c).map((_, i) => 0.01 * k + (i % c) * 0.1);
    const t0 = performance.now(), c0 = process.cpuUsage();
    noGrad(() => posterior.flow.inverse(z, Tensor.from(n, c, context))[0]);
    const used = process.cpuUsage(c0);
    if (k >= 3) {
      times.push(performance.now() - t0);
      cpu += (used.user + used.system) / 1000 / reps;
    }
  }
  times.sort((a, b) => a - b);
  return { wall: times[Math.floor(times.length / 2)], cpu };
}

/**
 * ms per draw of 2,000 for one model, in the page's sampler (demo.bench: back to back, nothing drawn)
 * and in Node, in three interleaved rounds (the machine's load changes by the second): the medians.
 */
async function interleaved(page, saved, what, reps = 10) {
  const browser = [], wall = [], cpu = [];
  for (let round = 0; round < 3; round++) {
    const ms = (await page.evaluate(`demo.bench(${reps})`)).slice(1).sort((a, b) => a - b);
    browser.push(ms[ms.length >> 1]);
    const n = await nodeMsPerDraw(saved, reps);
    wall.push(n.wall);
    cpu.push(n.cpu);
  }
  const median = (a) => a.slice().sort((x, y) => x - y)[1];
  const out = { browser: median(browser), wall: median(wall), cpu: median(cpu) };
  log(`${what}, ms per draw of 2,000, back to back in 3 interleaved rounds: browser worker ${browser.map((v) => v.toFixed(1)).join(' / ')}; `
    + `Node wall ${wall.map((v) => v.toFixed(1)).join(' / ')}, CPU ${cpu.map((v) => v.toFixed(1)).join(' / ')}`);
  return out;
}

const SAVED = `(() => {
  const bytes = new Uint8Array(demo.saved.weights);
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return { configJson: demo.saved.configJson, weights: btoa(s) };
})()`;

/** Checks after a model is loaded and checked: verdict, figures, canvases; then drags and measures. */
async function exercise(page, what, failures) {
  // The status lines are updated on the next animation frame after the report arrives.
  await page.waitFor(`document.getElementById('check-status').textContent.includes('Verdict')`, 'the verdict line', 5000).catch(() => {});
  const report = await page.evaluate(`({ verdict: demo.report.verdict, pairs: demo.report.pairs, badges: document.querySelectorAll('#verdicts .badge').length,
    svgs: document.querySelectorAll('#figures svg').length, lines: demo.reportLines.length, seconds: demo.checkSeconds, error: demo.error,
    check: document.getElementById('check-status').textContent })`);
  log(`${what}: verdict "${report.verdict}" on ${report.pairs} pairs in ${report.seconds.toFixed(1)} s in the worker; ${report.badges} badges, ${report.svgs} figures, ${report.lines} report lines`);
  if (report.error !== null) failures.push(`${what}: the page shows an error: ${report.error}`);
  if (report.badges !== 3) failures.push(`${what}: expected 3 verdict badges (all, θ₁, θ₂), found ${report.badges}`);
  if (report.svgs !== 2) failures.push(`${what}: expected the coverage and SBC figures, found ${report.svgs} SVGs`);
  if (!report.check.includes('Verdict')) failures.push(`${what}: the check status does not show the verdict: "${report.check}"`);

  const start = await page.evaluate(POSTERIOR_SUMMARY);
  const d = await drag(page, DRAG_SECONDS);
  await page.waitFor(`demo.samples.x.every((v, i) => v === demo.x[i])`, 'the answer for the last x', 10_000);
  await sleep(100); // painted
  const end = await page.evaluate(POSTERIOR_SUMMARY);
  log(`${what}: drag of ${d.seconds.toFixed(1)} s (${d.moves} mouse moves): ${d.fps.toFixed(1)} posterior frames/s of 2,000 samples `
    + `(${d.answersPerSecond.toFixed(1)} answers/s, ${d.animationFps.toFixed(0)} animation frames/s); ${d.medianMs.toFixed(1)} ms median, ${d.meanMs.toFixed(1)} ms mean per draw of 2,000 in the worker`);
  const moved = Math.hypot(end.mean[0] - start.mean[0], end.mean[1] - start.mean[1]);
  log(`${what}: posterior mean (${start.mean.map((v) => v.toFixed(3))}) at x (${start.x.map((v) => v.toFixed(3))}) -> (${end.mean.map((v) => v.toFixed(3))}) at x (${end.x.map((v) => v.toFixed(3))}); exact mean there (${end.exact?.map((v) => v.toFixed(3))})`);
  if (!(moved > 0.05)) failures.push(`${what}: the posterior did not follow the observation (its mean moved ${moved})`);
  // A functional check, not a speed limit (the figures are reported, not asserted): the posterior was
  // redrawn for several observations along the drag.
  if (!(d.painted >= 3)) failures.push(`${what}: only ${d.painted} new posteriors were painted during the drag`);
  if (end.exact !== null) {
    const off = Math.hypot(end.mean[0] - end.exact[0], end.mean[1] - end.exact[1]);
    if (!(off < 0.3)) failures.push(`${what}: the samples' mean is ${off.toFixed(3)} from the exact posterior's mean`);
  }
  for (const [id, need] of [['posterior', { blue: 400, colours: 40 }], ['observe', { ink: 2000 }], ['loss', { ink: 500 }]]) {
    const ink = await page.evaluate(CANVAS_INK(id));
    log(`${what}: canvas #${id}: ${ink.width}×${ink.height}, ${ink.ink} inked pixels, ${ink.blue} blue, ${ink.colours} colours`);
    for (const [key, min] of Object.entries(need)) if (!(ink[key] >= min)) failures.push(`${what}: canvas #${id} looks empty: ${key} ${ink[key]} < ${min}`);
  }
  return d;
}

async function run(chromium) {
  const { page, close } = await openBrowser(chromium, { path: 'sbi.html', viewport: VIEWPORT, log });
  const modelDir = mkdtempSync(join(tmpdir(), 'flowgrad-sbi-model-'));
  const failures = [];
  try {
    await page.waitFor(`window.demo !== undefined && demo.phase === 'idle'`, 'the page', 20_000);
    await page.fill(CONFIG);
    // Watch the main thread: the longest gap between two animation frames from here on.
    await page.evaluate(`(() => {
      window.frameGaps = { max: 0, last: performance.now(), on: true };
      const watch = (now) => { const g = window.frameGaps; g.max = Math.max(g.max, now - g.last); g.last = now; if (g.on) requestAnimationFrame(watch); };
      requestAnimationFrame(watch);
    })()`);
    await page.click('train');
    await page.waitFor(`demo.phase === 'training'`, 'the simulations', 20_000);
    await page.waitFor(`demo.report !== null && demo.samples !== null`, 'training, the check and the first posterior', 120_000);
    const trained = await page.evaluate(`({ losses: demo.losses, val: demo.valLosses, history: demo.history, status: document.getElementById('status').textContent })`);
    log(`trained: ${trained.losses.length} epochs, held-out −log q ${trained.val[0].toFixed(3)} -> ${trained.val[trained.val.length - 1].toFixed(3)} (${trained.history.stopReason}, ${trained.history.seconds.toFixed(1)} s); status "${trained.status}"`);
    if (trained.losses.length < 2 || !trained.losses.every(Number.isFinite) || !trained.val.every(Number.isFinite)) failures.push(`the losses are not as expected: ${trained.losses} / ${trained.val}`);
    if (!(trained.val[trained.val.length - 1] < trained.val[0])) failures.push(`the held-out loss did not go down: ${trained.val[0]} -> ${trained.val[trained.val.length - 1]}`);
    const own = await exercise(page, 'page model', failures);
    let gapBefore = 0; // the screenshot resizes the page (a relayout, not a freeze of the page's own making)
    if (screenshotPath !== null) {
      gapBefore = await page.evaluate(`window.frameGaps.max`);
      const png = await page.screenshot();
      await page.evaluate(`(() => { window.frameGaps.max = 0; window.frameGaps.last = performance.now(); })()`);
      mkdirSync(dirname(screenshotPath), { recursive: true });
      writeFileSync(screenshotPath, png);
      log(`screenshot: ${screenshotPath} (${png.length.toLocaleString('en')} bytes)`);
    }

    // The arrow keys move the observation too; fresh base draws give new samples for the same x.
    const before = await page.evaluate(`[...demo.x]`);
    await page.evaluate(`document.getElementById('observe').focus()`);
    for (const type of ['keyDown', 'keyUp']) await page.send('Input.dispatchKeyEvent', { type, key: 'ArrowRight', code: 'ArrowRight', windowsVirtualKeyCode: 39, modifiers: 8 });
    await page.waitFor(`demo.samples.x[0] > ${before[0]} && demo.samples.x[1] === ${before[1]}`, 'the answer after Shift+ArrowRight', 10_000);
    const fixed = await page.evaluate(`({ id: demo.samples.id, first: demo.samples.theta[0] })`);
    await page.click('fresh');
    await page.waitFor(`demo.samples.id > ${fixed.id}`, 'the answer with fresh base draws', 10_000);
    const fresh = await page.evaluate(`({ first: demo.samples.theta[0], same: demo.samples.x.every((v, i) => v === demo.x[i]) })`);
    log(`Shift+ArrowRight moved x₁ ${before[0].toFixed(3)} -> ${(await page.evaluate('demo.x[0]')).toFixed(3)}; fresh draws: first θ₁ ${fixed.first.toFixed(4)} -> ${fresh.first.toFixed(4)} at the same x`);
    if (!fresh.same || fresh.first === fixed.first) failures.push('fresh base draws gave the same samples (or another x)');
    await page.click('fresh'); // back to the fixed draws
    const saved = await page.evaluate(SAVED);
    const node = await interleaved(page, saved, 'page model');


    // A model from the command line: the default NPE recipe, a few epochs (the page only has to use it).
    const cli = spawnSync(process.execPath, [join(root, 'dist/cli/main.js'), 'sbi', 'train', '--task', 'two-moons', '--simulations', '500', '--epochs', '2', '--seed', '4', '--out', modelDir, '--force'], { encoding: 'utf8' });
    if (cli.status !== 0) throw new Error(`flowgrad sbi train failed:\n${cli.stdout}\n${cli.stderr}`);
    log(`flowgrad sbi train wrote ${modelDir} (${readFileSync(join(modelDir, 'config.json'), 'utf8').length.toLocaleString('en')} characters of config.json)`);
    // A drop without a model's files gets one clear line, and the current model stays.
    await page.evaluate(`(() => {
      const transfer = new DataTransfer();
      transfer.items.add(new File(['θ1,θ2'], 'notes.csv'));
      document.getElementById('drop').dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    })()`);
    const refused = await page.waitFor(`demo.error`, 'the error for a drop without a model', 5000);
    log(`a drop of notes.csv: "${refused}"`);
    if (!/config\.json/.test(refused) || (await page.evaluate(`demo.source`)) !== 'trained') failures.push(`a drop without a model: "${refused}"`);

    // Dropped as a user drops files on the page: a drop event whose DataTransfer holds the two files
    // (made in the page from the bytes read here: headless Chromium does not deliver synthetic OS drags).
    const files = ['config.json', 'model.safetensors'].map((name) => ({ name, base64: readFileSync(join(modelDir, name)).toString('base64') }));
    await page.evaluate(`(() => {
      const transfer = new DataTransfer();
      for (const { name, base64 } of ${JSON.stringify(files)}) {
        const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        transfer.items.add(new File([bytes], name));
      }
      document.getElementById('drop').dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    })()`);
    await page.waitFor(`demo.source === 'dropped' && demo.report !== null && demo.samples !== null`, 'the dropped model, its check and posterior', 120_000);
    const info = await page.evaluate(`document.getElementById('model-info').textContent`);
    log(`dropped model: "${info}"`);
    if (!info.includes('dropped model') || !info.includes('two-moons')) failures.push(`the model line does not name the dropped model: "${info}"`);
    const dropped = await exercise(page, 'CLI model', failures);
    const nodeCli = await interleaved(page, await page.evaluate(SAVED), 'CLI model', 5);

    const gaps = await page.evaluate(`(() => { window.frameGaps.on = false; return window.frameGaps; })()`);
    gaps.max = Math.max(gaps.max, gapBefore);
    log(`main thread: longest gap between animation frames ${gaps.max.toFixed(0)} ms`);
    if (gaps.max > 1000) failures.push(`the page froze for ${gaps.max.toFixed(0)} ms`);
    if (page.problems.length > 0) failures.push(`errors in the page: ${page.problems.join(' | ')}`);
    const line = (d, b) => `${d.fps.toFixed(1)} frames/s while dragging (${d.medianMs.toFixed(1)} ms per draw of 2,000 in the worker); `
      + `back to back, interleaved: ${b.browser.toFixed(1)} ms in the browser worker, ${b.wall.toFixed(1)} ms wall / ${b.cpu.toFixed(1)} ms CPU in Node`;
    console.log(`FIGURES page model: ${line(own, node)}`);
    console.log(`FIGURES CLI default model: ${line(dropped, nodeCli)}`);
    return failures;
  } finally {
    rmSync(modelDir, { recursive: true, force: true });
    await close();
  }
}

await runPageTest('test-sbi-page', run);
