/**
 * File system helpers for the command line: atomic writes (a temporary file in the same directory,
 * flushed, then renamed over the target, so a reader never sees half a file and a crash never leaves
 * one), guarded reads (regular files only, or `-` for standard input; sizes capped before reading),
 * checks of an output place before any work (creatable, writable, not a special file or a pseudo file
 * system such as /proc), and reads and writes whose errors are one readable line.
 *
 * Every write and rename goes through {@link faultPoint}, a test hook: with `FLOWGRAD_FAULT_AT=k` in
 * the environment, the k-th of them (counted per thread) fails as a full disk would. The tests use it
 * to fail each step of `train --force` in turn.
 *
 * @module
 */

import {
  accessSync, closeSync, constants, fstatSync, fsyncSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, realpathSync, renameSync, rmSync, statfsSync,
  statSync, unlinkSync, writeSync, type Stats,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CliError } from './errors.ts';

let counter = 0;
let faults = 0;

/**
 * The test hook before every write and rename: throws (as ENOSPC) at the k-th call when
 * `FLOWGRAD_FAULT_AT=k` is set; counts otherwise. Returns the running count.
 *
 * @example faultPoint('rename', 'runs/x'); // throws when this is the FLOWGRAD_FAULT_AT-th operation
 */
export function faultPoint(what: string, path: string): number {
  faults++;
  const at = Number(process.env.FLOWGRAD_FAULT_AT ?? '');
  if (Number.isInteger(at) && at === faults) {
    throw Object.assign(new Error(`injected fault at operation ${faults} (${what} ${path})`), { code: 'ENOSPC' });
  }
  return faults;
}

/**
 * Resets the operation count of {@link faultPoint} (tests call it before each run); a worker continues
 * the count of the thread that started it, so that k numbers one sequence over the whole run.
 * @example resetFaults(); process.env.FLOWGRAD_FAULT_AT = '3';
 */
export function resetFaults(count = 0): void {
  faults = count;
}

/**
 * The number of writes and renames counted so far by {@link faultPoint}.
 * @example const before = faultCount();
 */
export function faultCount(): number {
  return faults;
}

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
    faultPoint('write', path);
    fd = openSync(tmp, 'wx', 0o644);
    for (const data of chunks) {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      let written = 0;
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    faultPoint('rename', path);
    renameSync(tmp, path);
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    if (e instanceof CliError) throw e;
    throw new CliError(`cannot write ${path}: ${describeFsError(e)}`);
  }
}

/**
 * Renames through the fault hook; errors are one line naming both paths.
 * @example renameChecked('runs/.x.flowgrad-new', 'runs/x');
 */
export function renameChecked(from: string, to: string): void {
  try {
    faultPoint('rename', to);
    renameSync(from, to);
  } catch (e) {
    throw new CliError(`cannot rename ${from} to ${to}: ${describeFsError(e)}`);
  }
}

/**
 * A hard link through the fault hook (used to carry a user's own files into a new run folder without
 * copying or moving them).
 * @example linkChecked('runs/x/notes.txt', 'runs/.x.flowgrad-new/notes.txt');
 */
export function linkChecked(from: string, to: string): void {
  try {
    faultPoint('link', to);
    linkSync(from, to);
  } catch (e) {
    throw new CliError(`cannot link ${from} into the new run as ${to}: ${describeFsError(e)}`);
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
 * Removes a directory tree that flowgrad itself made (a staging or an old run folder).
 * @example removeTree('runs/.x.flowgrad-old');
 */
export function removeTree(path: string): void {
  rmSync(path, { recursive: true, force: true });
}

/** File systems that are not a place for files: /proc, /sys, devtmpfs, cgroups, debugfs... (statfs f_type). */
const PSEUDO_FS: ReadonlyMap<number, string> = new Map([
  // (tmpfs and devtmpfs share a magic number; /dev is caught by its path below.)
  [0x9fa0, 'proc'], [0x62656572, 'sysfs'], [0x27e0eb, 'cgroup'], [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'], [0x74726163, 'tracefs'], [0x73636673, 'securityfs'], [0xcafe4a11, 'bpf'], [0x6165676c, 'pstore'],
]);

/**
 * The nearest existing ancestor of `path` (itself when it exists), resolved to an absolute path.
 * @example existingAncestor('runs/new/deep'); // '/home/me/project' when only that exists
 */
export function existingAncestor(path: string): string {
  let p = resolve(path);
  for (;;) {
    try {
      lstatSync(p);
      return p;
    } catch {
      const up = dirname(p);
      if (up === p) return p;
      p = up;
    }
  }
}

/**
 * Checks that files can be created under the directory `dir` (which may not exist yet): its nearest
 * existing ancestor is a directory on a real file system (not /proc or /sys), writable. Throws a
 * CliError naming `what` (e.g. `--out`) and the reason.
 *
 * @example checkPlaceForFiles('runs/post', '--out');
 */
export function checkPlaceForFiles(dir: string, what: string): void {
  const base = existingAncestor(dir);
  let st: Stats;
  try {
    st = statSync(base);
  } catch (e) {
    throw new CliError(`${what} ${dir}: cannot use ${base}: ${describeFsError(e)}`);
  }
  if (!st.isDirectory()) throw new CliError(`${what} ${dir}: ${base} exists and is not a directory`);
  let kind: string | undefined;
  try {
    kind = PSEUDO_FS.get(Number(statfsSync(base).type));
  } catch {
    kind = undefined;
  }
  const real = safeRealpath(base);
  // Device nodes live in /dev (its tmpfs shares tmpfs's magic number); /dev/shm is a place for files.
  if (kind === undefined && /^\/(proc|sys|dev)(\/|$)/.test(real) && !/^\/dev\/shm(\/|$)/.test(real)) kind = real.split('/')[1];
  if (kind !== undefined) throw new CliError(`${what} ${dir}: ${real} is on the ${kind} pseudo file system, not a place for files; choose another ${what}`);
  try {
    accessSync(base, constants.W_OK);
  } catch (e) {
    throw new CliError(`${what} ${dir}: cannot create files in ${base}: ${describeFsError(e)}`);
  }
}

function safeRealpath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/**
 * An output file's policy, checked before any work: its directory must take files; an existing path
 * must be a regular file (never a device, a FIFO, a socket or a symbolic link, even with `force`), and
 * is replaced only with `force`.
 *
 * @example checkOutFile('samples.csv', false);
 */
export function checkOutFile(path: string, force: boolean): void {
  checkPlaceForFiles(dirname(resolve(path)), '--out');
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch {
    return; // absent: fine
  }
  if (st.isSymbolicLink()) throw new CliError(`${path} is a symbolic link; flowgrad does not write through links (give the file itself, or another --out)`);
  if (st.isDirectory()) throw new CliError(`${path} is a directory; --out takes a file name`);
  if (!st.isFile()) throw new CliError(`${path} is a ${specialKind(st)}, not a regular file; flowgrad does not replace special files (write to stdout and redirect instead)`);
  if (!force) throw new CliError(`${path} already exists; pass --force to overwrite it`);
}

/**
 * A special file's kind in words.
 * @example specialKind(statSync('/dev/null')); // 'character device'
 */
export function specialKind(st: Stats): string {
  if (st.isCharacterDevice()) return 'character device';
  if (st.isBlockDevice()) return 'block device';
  if (st.isFIFO()) return 'FIFO (named pipe)';
  if (st.isSocket()) return 'socket';
  if (st.isSymbolicLink()) return 'symbolic link';
  if (st.isDirectory()) return 'directory';
  return 'special file';
}

/**
 * Reads a file's bytes, refusing anything but a regular file (after following links: a link to
 * /dev/zero is refused) and anything over `maxBytes`, checked before reading. `-` reads standard input
 * (up to `maxBytes`) when `allowStdin`.
 *
 * @example const bytes = readBytes('runs/post/model.safetensors', { maxBytes: 2 ** 31 });
 */
export function readBytes(path: string, options: { maxBytes?: number; allowStdin?: boolean; what?: string } = {}): Uint8Array {
  const maxBytes = options.maxBytes ?? 2 ** 31;
  const what = options.what ?? 'file';
  if (path === '-' && options.allowStdin === true) return readAll(0, maxBytes, 'standard input', what);
  let fd: number;
  try {
    // Non-blocking, so that opening a FIFO does not wait for a writer (it is refused just below).
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw new CliError(`cannot read ${path}: ${describeFsError(e)}`);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new CliError(`cannot read ${path}: it is a directory`);
    if (!st.isFile()) throw new CliError(`cannot read ${path}: it is a ${specialKind(st)}, not a regular file${options.allowStdin === true ? " (to read a stream on purpose, pass '-' and redirect it to standard input)" : ''}`);
    if (st.size > maxBytes) throw new CliError(`${path} is ${formatBytes(st.size)}, over the limit of ${formatBytes(maxBytes)} for a ${what}${options.allowStdin === true ? ' (--allow-large raises it)' : ''}`);
    return readAll(fd, maxBytes, path, what);
  } finally {
    closeSync(fd);
  }
}

function readAll(fd: number, maxBytes: number, name: string, what: string): Uint8Array {
  const parts: Buffer[] = [];
  let total = 0;
  for (;;) {
    const chunk = Buffer.allocUnsafe(1 << 20);
    let n: number;
    try {
      n = readSync(fd, chunk, 0, chunk.length, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      if ((e as NodeJS.ErrnoException).code === 'EOF') break;
      throw new CliError(`cannot read ${name}: ${describeFsError(e)}`);
    }
    if (n === 0) break;
    total += n;
    if (total > maxBytes) throw new CliError(`${name} holds more than ${formatBytes(maxBytes)}, the limit for a ${what}`);
    parts.push(chunk.subarray(0, n));
  }
  const buf = Buffer.concat(parts, total);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * Reads a UTF-8 text file with the guards of {@link readBytes}; a missing or unreadable file is a
 * one-line CliError naming it.
 * @example const text = readText('data.csv', { maxBytes: 2 ** 30, allowStdin: true });
 */
export function readText(path: string, options: { maxBytes?: number; allowStdin?: boolean; what?: string } = {}): string {
  return Buffer.from(readBytes(path, { maxBytes: options.maxBytes ?? 2 ** 28, ...options })).toString('utf8');
}

/**
 * `1.5 GB`, `12 MB`, `800 bytes`.
 * @example formatBytes(2 ** 30); // '1.07 GB'
 */
export function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toPrecision(3)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toPrecision(3)} MB`;
  if (n >= 1e4) return `${(n / 1e3).toPrecision(3)} kB`;
  return `${n} bytes`;
}

/**
 * The entries of a directory, or [] when it does not exist.
 * @example listDir('runs/post/figures'); // ['layers.svg', ...]
 */
export function listDir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

/**
 * A Node file error in words: `no such file or directory`, `permission denied`...
 * @example describeFsError(Object.assign(new Error('ENOENT'), { code: 'ENOENT' })); // 'no such file or directory'
 */
export function describeFsError(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  const injected = e instanceof Error && e.message.startsWith('injected fault') ? ` (${e.message})` : '';
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
      return `no space left on the device${injected}`;
    case 'EEXIST':
      return 'a file of that name already exists';
    case 'EROFS':
      return 'the file system is read-only';
    case 'ENOTEMPTY':
      return 'the directory is not empty';
    case 'EXDEV':
      return 'the paths are on different file systems';
    default:
      return e instanceof Error ? e.message : String(e);
  }
}
