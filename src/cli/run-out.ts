/**
 * Where `train` writes its run folder, and how it replaces an earlier one without ever leaving the user
 * with neither run.
 *
 * A run is built beside its destination, in `PARENT/.NAME.flowgrad-new/` (checkpoints go there while
 * training), then swapped in: `DIR` is renamed to `PARENT/.NAME.flowgrad-old/`, the new folder is
 * renamed to `DIR`, and the old one is removed. The user's own files in an earlier run folder (anything
 * the manifest `.flowgrad-run.json` of that run does not list) are hard-linked into the new folder
 * before the swap, so they are never deleted, and a file of the user's that the new run would replace
 * is refused before any work. A failure at any step puts the old folder back; a crash between the two
 * renames is finished by the next flowgrad command on `DIR` ({@link recoverSwap}).
 *
 * @module
 */

import { lstatSync, mkdirSync, readlinkSync, renameSync, symlinkSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CliError } from './errors.ts';
import { checkPlaceForFiles, describeFsError, faultPoint, linkChecked, listDir, mkdirp, readText, removeTree, renameChecked, specialKind, writeFileAtomic } from './fsx.ts';

/**
 * The file names inside a run folder.
 * @example const weightsPath = join(dir, RUN_FILES.weights); // DIR/model.safetensors
 */
export const RUN_FILES = {
  weights: 'model.safetensors',
  config: 'config.json',
  history: 'history.csv',
  metrics: 'metrics.json',
  figures: 'figures',
  checkpoint: 'checkpoint.safetensors',
  manifest: '.flowgrad-run.json',
} as const;

/** The figures a run may draw (what a run folder without a manifest is assumed to have written). */
const FIGURE_FILES = ['layers.svg', 'samples.svg', 'density.svg', 'loss.svg'];

/**
 * The staging and old-run folders beside `dir`.
 * @example besideRun('runs/post'); // { staging: '/abs/runs/.post.flowgrad-new', old: '/abs/runs/.post.flowgrad-old' }
 */
export function besideRun(dir: string): { staging: string; old: string } {
  const abs = resolve(dir);
  const parent = dirname(abs), name = basename(abs);
  return { staging: join(parent, `.${name}.flowgrad-new`), old: join(parent, `.${name}.flowgrad-old`) };
}

/**
 * What `train` will write and carry over, decided before any work.
 * @example const plan: OutPlan = planOut('runs/post', { force: true });
 */
export interface OutPlan {
  /** The run folder as given. */
  dir: string;
  /** Where the new run is built. */
  staging: string;
  /** Where the earlier run goes during the swap. */
  old: string;
  /** Whether `dir` exists (it is swapped out then). */
  exists: boolean;
  /** Paths (relative to `dir`) of the user's own entries, carried into the new run. */
  foreign: string[];
  /** Whether the staging folder holds an interrupted run's checkpoint (resume). */
  resumable: boolean;
}

function lstatOrNull(p: string): Stats | null {
  try {
    return lstatSync(p);
  } catch {
    return null;
  }
}

interface Manifest {
  format: 'flowgrad-run';
  complete: boolean;
  files: string[];
  /** While a run is being built: the process building it. */
  pid?: number;
}

/** Whether a process is alive (signal 0 checks without sending anything). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readManifest(dir: string): Manifest | null {
  const path = join(dir, RUN_FILES.manifest);
  const st = lstatOrNull(path);
  if (st === null || !st.isFile()) return null;
  try {
    const m = JSON.parse(readText(path, { maxBytes: 1 << 20 })) as Partial<Manifest>;
    if (m.format !== 'flowgrad-run' || !Array.isArray(m.files) || !m.files.every((f) => typeof f === 'string')) return null;
    return { format: 'flowgrad-run', complete: m.complete === true, files: m.files, ...(typeof m.pid === 'number' ? { pid: m.pid } : {}) };
  } catch {
    return null;
  }
}

/** Whether `path` is a flowgrad model config (a run folder written before manifests existed). */
function isFlowgradConfig(path: string): boolean {
  const st = lstatOrNull(path);
  if (st === null || !st.isFile() || st.size > 64 << 20) return false;
  try {
    return (JSON.parse(readText(path)) as { format?: unknown }).format === 'flowgrad-realnvp';
  } catch {
    return false;
  }
}

/** The files (relative paths) an earlier run wrote into `dir`, from its manifest or, without one, by name. */
function filesOfEarlierRun(dir: string): Set<string> {
  const m = readManifest(dir);
  if (m !== null) return new Set([...m.files, RUN_FILES.manifest]);
  if (!isFlowgradConfig(join(dir, RUN_FILES.config))) return new Set();
  const legacy = [RUN_FILES.weights, RUN_FILES.config, RUN_FILES.history, RUN_FILES.metrics, RUN_FILES.checkpoint, ...FIGURE_FILES.map((f) => `${RUN_FILES.figures}/${f}`)];
  return new Set(legacy.filter((f) => lstatOrNull(join(dir, f))?.isFile() === true));
}

/** Every entry under `dir` (relative paths, directories before their contents). */
function walk(dir: string, prefix = ''): { path: string; st: Stats }[] {
  const out: { path: string; st: Stats }[] = [];
  for (const name of listDir(join(dir, prefix)).sort()) {
    const rel = prefix === '' ? name : `${prefix}/${name}`;
    const st = lstatSync(join(dir, rel));
    out.push({ path: rel, st });
    if (st.isDirectory()) out.push(...walk(dir, rel));
  }
  return out;
}

/**
 * Finishes or undoes a swap that a crash interrupted: with `.NAME.flowgrad-old` left beside `dir`, a
 * complete new run is moved into place (or the old one back), and a leftover old folder is removed once
 * `dir` holds a run. Returns what it did, or null.
 *
 * @example const note = recoverSwap('runs/post'); if (note !== null) console.error(note);
 */
export function recoverSwap(dir: string): string | null {
  const { staging, old } = besideRun(dir);
  if (lstatOrNull(old)?.isDirectory() !== true) return null;
  if (lstatOrNull(dir) !== null) {
    removeTree(old);
    return `removed ${old}, left over from an interrupted swap`;
  }
  if (readManifest(staging)?.complete === true) {
    renameChecked(staging, dir);
    removeTree(old);
    return `finished an interrupted swap: ${dir} holds the new run`;
  }
  renameChecked(old, dir);
  return `undid an interrupted swap: ${dir} holds the earlier run again`;
}

/**
 * Decides, before any work, where `train` writes and what it keeps: refuses a `--out` that is a file,
 * a link, on /proc, or not writable; an existing non-empty folder without `force` (or `resume`); a file
 * of the user's that the new run would replace. Creates the staging folder (the test that the place
 * takes files) with an incomplete manifest. `command` names the command a message tells to resume with
 * (default `flowgrad train`).
 *
 * @example const plan = planOut('runs/post', { force: false, resume: false, writes: ['model.safetensors'] });
 */
export function planOut(dir: string, options: { force: boolean; resume: boolean; writes: readonly string[]; command?: string }): OutPlan {
  recoverSwap(dir);
  const { staging, old } = besideRun(dir);
  const st = lstatOrNull(dir);
  if (st !== null && st.isSymbolicLink()) throw new CliError(`--out ${dir} is a symbolic link; give the folder itself (flowgrad does not replace links or write through them)`);
  if (st !== null && !st.isDirectory()) throw new CliError(`--out ${dir} exists and is ${st.isFile() ? 'a file' : `a ${specialKind(st)}`}, not a folder`);
  checkPlaceForFiles(dir, '--out');
  let foreign: string[] = [];
  if (st !== null) {
    const entries = walk(dir);
    if (entries.length > 0 && !options.force && !options.resume) {
      throw new CliError(`${dir} already exists and is not empty; pass --force to replace the files an earlier flowgrad run wrote there (your own files are kept), or choose another --out`);
    }
    const ours = filesOfEarlierRun(dir);
    if (entries.length > 0 && ours.size === 0 && lstatOrNull(join(dir, RUN_FILES.config)) !== null) {
      throw new CliError(`${join(dir, RUN_FILES.config)} is not a flowgrad run's config; --force replaces only what a flowgrad run wrote, and the new run would overwrite it: move it away or choose another --out`);
    }
    const writes = new Set(options.writes);
    const foreignDirs: string[] = [];
    for (const e of entries) {
      if (ours.has(e.path)) continue;
      // A folder of the user's is carried whole, with everything in it.
      if (foreignDirs.some((d) => e.path.startsWith(`${d}/`))) continue;
      if (e.st.isDirectory()) {
        if (e.path === RUN_FILES.figures) continue; // the run writes into it: its contents are checked one by one
        foreignDirs.push(e.path);
        foreign.push(e.path);
        continue;
      }
      if (writes.has(e.path) || e.path === RUN_FILES.manifest) {
        throw new CliError(`${join(dir, e.path)} was not written by a flowgrad run and the new run would replace it; move it away or choose another --out`);
      }
      foreign.push(e.path);
    }
  }
  let resumable = false;
  const stagingSt = lstatOrNull(staging);
  if (stagingSt !== null) {
    if (!stagingSt.isDirectory()) throw new CliError(`${staging} is in the way (flowgrad builds the new run there); remove it`);
    const owner = readManifest(staging)?.pid;
    if (owner !== undefined && owner !== process.pid && alive(owner)) throw new CliError(`another flowgrad run (process ${owner}) is writing ${dir}; wait for it, or choose another --out`);
    resumable = lstatOrNull(join(staging, RUN_FILES.checkpoint))?.isFile() === true;
    if (resumable && !options.resume) {
      throw new CliError(`an interrupted run of ${dir} left its checkpoint in ${staging}; continue it with ${options.command ?? 'flowgrad train'} --resume ${dir}, or remove that folder to start afresh`);
    }
    if (!resumable) removeTree(staging);
  }
  const parent = dirname(resolve(dir));
  mkdirp(parent);
  const manifest = JSON.stringify({ format: 'flowgrad-run', complete: false, files: [], pid: process.pid }) + '\n';
  if (!resumable) {
    // The staging folder appears with its manifest (owner pid) already inside: it is made under a name of
    // this process's own and renamed into place, so a second run started at the same moment never sees
    // an ownerless staging folder (which it would remove), and loses the rename instead.
    const fresh = `${staging}.${process.pid}`;
    try {
      faultPoint('mkdir', fresh);
      mkdirSync(fresh);
    } catch (e) {
      throw new CliError(`--out ${dir}: cannot create files in ${parent}: ${describeFsError(e)}`);
    }
    try {
      writeFileAtomic(join(fresh, RUN_FILES.manifest), manifest);
      faultPoint('rename', staging);
      renameSync(fresh, staging);
    } catch (e) {
      removeTree(fresh);
      const code = (e as { code?: string }).code;
      if (code === 'EEXIST' || code === 'ENOTEMPTY') throw new CliError(`another flowgrad run is writing ${dir} (it holds ${staging}); wait for it, or choose another --out`);
      if (e instanceof CliError) throw e;
      throw new CliError(`cannot rename ${fresh} to ${staging}: ${describeFsError(e)}`);
    }
  } else {
    writeFileAtomic(join(staging, RUN_FILES.manifest), manifest);
  }
  return { dir, staging, old, exists: st !== null, foreign, resumable };
}

/**
 * Swaps the finished run in `plan.staging` into `plan.dir`: writes its manifest (listing `files`),
 * links the user's own files in, renames the earlier run aside, renames the new one into place and
 * removes the earlier one. Any failure before the last rename leaves the earlier run in place.
 *
 * @example commitRun(plan, ['model.safetensors', 'config.json']);
 */
export function commitRun(plan: OutPlan, files: readonly string[]): void {
  const { dir, staging, old } = plan;
  for (const rel of plan.foreign) {
    const from = join(dir, rel), to = join(staging, rel);
    mkdirp(dirname(to));
    const st = lstatSync(from);
    if (st.isDirectory()) carryDirectory(from, to);
    else if (st.isSymbolicLink()) copyLink(from, to);
    else linkChecked(from, to);
  }
  writeFileAtomic(join(staging, RUN_FILES.manifest), JSON.stringify({ format: 'flowgrad-run', complete: true, files: [...files].sort() }, null, 2) + '\n');
  if (lstatOrNull(dir) === null) {
    renameChecked(staging, dir);
    return;
  }
  renameChecked(dir, old);
  try {
    renameChecked(staging, dir);
  } catch (e) {
    renameChecked(old, dir);
    throw e;
  }
  removeTree(old);
}

function carryDirectory(from: string, to: string): void {
  mkdirp(to);
  for (const e of walk(from)) {
    const a = join(from, e.path), b = join(to, e.path);
    if (e.st.isDirectory()) mkdirp(b);
    else if (e.st.isSymbolicLink()) copyLink(a, b);
    else linkChecked(a, b);
  }
}

function copyLink(from: string, to: string): void {
  try {
    faultPoint('symlink', to);
    symlinkSync(readlinkSync(from), to);
  } catch (e) {
    throw new CliError(`cannot carry the link ${from} into the new run: ${describeFsError(e)}`);
  }
}
