/** Loads the PyTorch float64 oracle fixtures copied into test/fixtures/. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function loadFixture<T = unknown>(name: string): T {
  const path = fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}
