/**
 * Running the command line in this process (main() with stdout and stderr captured) and checking that
 * an error is exactly one line.
 */
import * as assert from 'uvu/assert';
import { main } from '../../src/cli/main.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `flowgrad <args>` in this process, with its exit code and what it printed. */
export async function runCli(args: readonly string[]): Promise<CliResult> {
  let stdout = '', stderr = '';
  const write = { out: process.stdout.write, err: process.stderr.write };
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
  try {
    return { code: await main(args), stdout, stderr };
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
}

/** The run failed with `code` and exactly one line on stderr matching every pattern. */
export function assertOneLine(r: CliResult, code: number, patterns: (string | RegExp)[], label = 'error'): void {
  assert.is(r.code, code, `${label}: exit code (stderr: ${r.stderr})`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.is(lines.length, 1, `${label}: one line, got ${JSON.stringify(r.stderr)}`);
  for (const p of patterns) assert.ok(typeof p === 'string' ? lines[0]!.includes(p) : p.test(lines[0]!), `${label}: "${lines[0]}" should match ${p}`);
}
