/**
 * Runs every test file with uvu (through tsx), streams its output, then prints one plain closing line
 * `N passed, N failed` that CI reads. Exits non-zero when anything failed.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = ['--import', 'tsx', '--import', './test/helpers/checks.ts', 'node_modules/uvu/bin.js', 'test', '-i', 'helpers', '-i', 'fixtures', '-i', '^run\\.ts$', ...process.argv.slice(2)];
const child = spawn(process.execPath, args, { cwd: root, stdio: ['inherit', 'pipe', 'inherit'] });
let text = '';
child.stdout.on('data', (chunk: Buffer) => {
  process.stdout.write(chunk);
  text += chunk.toString();
});
child.on('close', (code) => {
  // uvu's summary: "Total: N", "Passed: N", "Skipped: N" (with colour codes when on a terminal).
  const plain = text.replace(/\x1b\[[0-9;]*m/g, '');
  const read = (label: string) => {
    const m = new RegExp(`${label}:\\s+(\\d+)`).exec(plain);
    return m ? Number(m[1]) : NaN;
  };
  // uvu's Total counts the tests that ran; skipped ones are only in Skipped.
  const total = read('Total'), passed = read('Passed');
  const failed = Number.isNaN(total) ? 1 : Math.max(0, total - passed);
  const ok = code === 0 && failed === 0 && !Number.isNaN(total);
  console.log(`${Number.isNaN(passed) ? 0 : passed} passed, ${ok ? 0 : Math.max(failed, 1)} failed`);
  process.exit(ok ? 0 : 1);
});
