/**
 * File system helpers for the command line: atomic writes (a temporary file in the same directory,
 * flushed, then renamed over the target, so a reader never sees half a file and a crash never leaves
 * one), `mkdir -p`, the `--out DIR` policy, and reads whose errors are one readable line.
 *
 * @module
 */

import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CliError } from './errors.ts';

let counter = 0;

/**
 * Writes `data` to `path` atomically: into `.<name>.<pid>.<n>.tmp` beside it, fsync, then rename.
 * The temporary file is removed if anything fails.
 *
 * @example writeFileAtomic('runs/post/config.json', JSON.stringify(config));
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  writeAtomicChunks(path, [data]);
}

/**
 * Like {@link writeFileAtomic}, for data produced piece by piece (written as it comes, so it need not
 * fit in one string): the file appears, complete, only when every chunk is written.
 *
 * @example writeAtomicChunks('samples.csv', csvChunks());
 */
export function writeAtomicChunks(path: string, chunks: Iterable<string | Uint8Array>): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${++counter}.tmp`);
  let fd = -1;
  try {
    fd = openSync(tmp, 'wx', 0o644);
    for (const data of chunks) {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      let written = 0;
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    throw new CliError(`cannot write ${path}: ${describeFsError(e)}`);
  }
}

/**
 * Removes the given files if they exist (used by `train --force` so that a figure the new run does not
 * draw cannot survive from an older run). Other files in the folder are left alone.
 *
 * @example removeIfPresent(['runs/x/figures/density.svg']);
 */
export function removeIfPresent(paths: Iterable<string>): void {
  for (const p of paths) {
    try {
      unlinkSync(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new CliError(`cannot remove ${p}: ${describeFsError(e)}`);
    }
  }
}

/**
 * Creates a directory and its parents (no error when it exists).
 * @example mkdirp('runs/post/figures');
 */
export function mkdirp(path: string): void {
  try {
    mkdirSync(path, { recursive: true });
  } catch (e) {
    throw new CliError(`cannot create the directory ${path}: ${describeFsError(e)}`);
  }
}

/**
 * The `--out DIR` policy, checked before any work: a path that is a file is refused; an existing
 * non-empty directory is refused unless `force`. The directory itself is created later by the writer.
 *
 * @example checkOutDir('runs/post', false); // CliError when runs/post exists and is not empty
 */
export function checkOutDir(dir: string, force: boolean): void {
  if (!existsSync(dir)) return;
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (e) {
    throw new CliError(`cannot use ${dir} as the output directory: ${describeFsError(e)}`);
  }
  if (!isDir) throw new CliError(`${dir} exists and is not a directory`);
  if (!force && readdirSync(dir).length > 0) throw new CliError(`${dir} already exists; pass --force to overwrite its files, or choose another --out`);
}

/**
 * Refuses to overwrite an existing file unless `force`.
 * @example checkOutFile('samples.csv', false);
 */
export function checkOutFile(path: string, force: boolean): void {
  if (existsSync(path) && !force) throw new CliError(`${path} already exists; pass --force to overwrite it`);
}

/**
 * Reads a UTF-8 text file; a missing or unreadable file is a one-line CliError naming it.
 * @example const text = readText('data.csv');
 */
export function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read ${path}: ${describeFsError(e)}`);
  }
}

/**
 * Reads a file's bytes; a missing or unreadable file is a one-line CliError naming it.
 * @example const bytes = readBytes('runs/post/model.safetensors');
 */
export function readBytes(path: string): Uint8Array {
  try {
    const buf = readFileSync(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    throw new CliError(`cannot read ${path}: ${describeFsError(e)}`);
  }
}

/**
 * A Node file error in words: `no such file or directory`, `permission denied`...
 * @example describeFsError(Object.assign(new Error('ENOENT'), { code: 'ENOENT' })); // 'no such file or directory'
 */
export function describeFsError(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EEXIST':
      return 'a file of that name already exists';
    case 'EROFS':
      return 'the file system is read-only';
    default:
      return e instanceof Error ? e.message : String(e);
  }
}
