// Atomic writes: the one way vpdsr puts a file or a folder on disk (images, safetensors and
// checkpoints, model folders, degrade's outputs).
//
// Everything is first written under a hidden temporary name in the target's own folder (so the
// final rename never crosses file systems), flushed with fsync, then renamed into place and the
// folder fsynced. A reader therefore sees the old content or the complete new one, never a part.
//
// Temporary names carry the host and the process id, `.NAME.vpdsr-HOST-PID-RAND.tmp`, which is
// what makes leftovers safe to clean: a temporary whose process is gone (killed with SIGKILL, a
// power cut) is removed the next time any vpdsr process writes into that folder. Temporaries of
// this process are removed on SIGINT/SIGTERM and at exit.
//
// API: writeFileAtomic (sync, from bytes, text or an fd callback), writeFileAtomicAsync,
// writeFolderAtomic (a folder filled by a callback: model folders, training checkpoints),
// tempPathFor and removeStaleTemporaries (run automatically before each write).

import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { isMainThread } from 'node:worker_threads';

export interface AtomicWriteOptions {
  /**
   * Replace an existing target (default false: an existing target, or one that appears while
   * writing, fails with an error whose `code` is 'EEXIST').
   */
  overwrite?: boolean;
}

/** fs.writeSync writes at most about 2 GiB per call; larger data goes in pieces. */
const CHUNK = 1 << 30;

const HOST = os.hostname().replace(/[^A-Za-z0-9]/g, '').slice(0, 16) || 'host';
const TEMP_RE = /^\..+\.vpdsr-([A-Za-z0-9]+)-(\d+)-[0-9a-f]+\.(tmp|old)$/;
/** Names the writers of earlier versions used: `.NAME.PID.HEX.tmp` (no host). */
const LEGACY_TEMP_RE = /^\..+\.(\d+)\.[0-9a-f]{8,12}\.(tmp|old)$/;

/** Temporaries of this process still on disk, removed on a signal or at exit. */
const live = new Set<string>();
let exitHooked = false;
let signalsHooked = false;
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
const SIGNAL_GRACE_MS = 100;

function cleanupLive(): void {
  for (const p of live) {
    try { fs.rmSync(p, { recursive: true, force: true }); } catch { /* best effort while exiting */ }
  }
  live.clear();
}

function onSignal(sig: NodeJS.Signals): void {
  // Another listener (a CLI's graceful shutdown) owns this signal: it lets the writes in flight
  // finish, and the exit hook removes what is left.
  if (process.listenerCount(sig) > 1) return;
  // Otherwise keep the signal's default meaning: remove our temporaries, then end by the signal
  // (exit status 128 + signal number).
  cleanupLive();
  unhookSignals();
  process.kill(process.pid, sig);
}

function unhookSignals(): void {
  if (!signalsHooked) return;
  signalsHooked = false;
  for (const sig of SIGNALS) process.removeListener(sig, onSignal);
}

/**
 * Listeners are installed only while a temporary exists, so the signals keep their default
 * (immediate) effect the rest of the time. A signal that arrives during a synchronous write is
 * handled when the event loop next polls; the listeners are therefore removed a short while after
 * the last temporary is gone (a ref'd timer, which also keeps a process that is about to end
 * polling that long: a setImmediate was measured to let the pending signal be dropped), so such
 * a signal still ends the process as it would have.
 */
function track(p: string): void {
  live.add(p);
  if (!exitHooked) {
    exitHooked = true;
    process.on('exit', cleanupLive);
  }
  // Signals reach only the main thread; a worker's temporaries are removed at its exit.
  if (!signalsHooked && isMainThread) {
    signalsHooked = true;
    for (const sig of SIGNALS) process.on(sig, onSignal);
  }
}

function untrack(p: string): void {
  live.delete(p);
  if (live.size === 0 && signalsHooked) {
    setTimeout(() => { if (live.size === 0) unhookSignals(); }, SIGNAL_GRACE_MS);
  }
}

/** A fresh temporary path next to `target`, naming this host and process. */
export function tempPathFor(target: string, kind: 'tmp' | 'old' = 'tmp'): string {
  const abs = path.resolve(target);
  return path.join(path.dirname(abs), `.${path.basename(abs)}.vpdsr-${HOST}-${process.pid}-${randomBytes(4).toString('hex')}.${kind}`);
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const swept = new Set<string>();

/**
 * Removes temporaries left in `dir` by writers that are gone: ours (same host, process no longer
 * running) and the older `.NAME.PID.HEX.tmp` names of a process no longer running. Runs once per
 * folder per process, before the first write there; returns the paths it removed.
 */
export function removeStaleTemporaries(dir: string): string[] {
  const abs = path.resolve(dir);
  if (swept.has(abs)) return [];
  swept.add(abs);
  let names: string[];
  try {
    names = fs.readdirSync(abs);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith('.')) continue;
    const m = TEMP_RE.exec(name);
    const legacy = m ? null : LEGACY_TEMP_RE.exec(name);
    const pid = m ? Number(m[2]) : legacy ? Number(legacy[1]) : NaN;
    if (!Number.isSafeInteger(pid) || pid <= 0) continue;
    if (m && m[1] !== HOST) continue; // another machine's writer on a shared folder
    if (alive(pid)) continue;
    const p = path.join(abs, name);
    try {
      fs.rmSync(p, { recursive: true, force: true });
      removed.push(p);
    } catch { /* not ours to fight over */ }
  }
  return removed;
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on a folder; the rename is still atomic there.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function exists(code: string, target: string): NodeJS.ErrnoException {
  const e = new Error(`${target}: already exists`) as NodeJS.ErrnoException;
  e.code = code;
  return e;
}

/**
 * Moves a finished temporary into place. Without overwrite, link() refuses a target that appeared
 * meanwhile (where rename() would silently replace it); file systems without hard links fall back
 * to a check and a rename.
 */
function commitFile(tmp: string, target: string, overwrite: boolean): void {
  if (overwrite) {
    fs.renameSync(tmp, target);
    return;
  }
  try {
    fs.linkSync(tmp, target);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw exists('EEXIST', target);
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV' && code !== 'ENOSYS') throw e;
    if (fs.existsSync(target)) throw exists('EEXIST', target);
    fs.renameSync(tmp, target);
    return;
  }
  fs.unlinkSync(tmp);
}

/**
 * Writes a file atomically through `write(fd)` (synchronous), or from `data`. The temporary is
 * removed on any failure; the error is the file system's own (with its `code`).
 */
export function writeFileAtomic(target: string, data: Uint8Array | string | ((fd: number) => void), opts: AtomicWriteOptions = {}): void {
  const abs = path.resolve(target);
  const overwrite = opts.overwrite ?? false;
  if (!overwrite && fs.existsSync(abs)) throw exists('EEXIST', target);
  removeStaleTemporaries(path.dirname(abs));
  const tmp = tempPathFor(abs);
  const fd = fs.openSync(tmp, 'wx');
  track(tmp);
  try {
    try {
      if (typeof data === 'function') data(fd);
      else writeAllSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    commitFile(tmp, abs, overwrite);
    fsyncDir(path.dirname(abs));
  } finally {
    fs.rmSync(tmp, { force: true });
    untrack(tmp);
  }
}

/** writeFileAtomic for code that must not block the event loop (image writers). */
export async function writeFileAtomicAsync(target: string, data: Uint8Array | string, opts: AtomicWriteOptions = {}): Promise<void> {
  const abs = path.resolve(target);
  const overwrite = opts.overwrite ?? false;
  if (!overwrite && (await fsp.stat(abs).catch(() => undefined))) throw exists('EEXIST', target);
  removeStaleTemporaries(path.dirname(abs));
  const tmp = tempPathFor(abs);
  const fh = await fsp.open(tmp, 'wx');
  track(tmp);
  try {
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    commitFile(tmp, abs, overwrite);
    fsyncDir(path.dirname(abs));
  } finally {
    await fsp.rm(tmp, { force: true });
    untrack(tmp);
  }
}

/** Writes every byte of `data` at the fd's current position. */
export function writeAllSync(fd: number, data: Uint8Array): void {
  let done = 0;
  while (done < data.byteLength) done += fs.writeSync(fd, data, done, Math.min(CHUNK, data.byteLength - done));
}

/**
 * Writes a folder atomically: `fill(tmpDir)` creates its files in a hidden sibling folder (use
 * writeFileAtomic or any writer; the helper fsyncs each file and the folder), which is then
 * renamed to `target`. An existing `target` is refused (code 'EEXIST') unless it is an empty
 * folder or `overwrite` is set; it is then replaced only once the new folder is complete, so an
 * interrupted run leaves the old folder. Training checkpoints and model folders use this.
 */
export function writeFolderAtomic(target: string, fill: (tmpDir: string) => void, opts: AtomicWriteOptions = {}): void {
  const abs = path.resolve(target);
  const parent = path.dirname(abs);
  const overwrite = opts.overwrite ?? false;
  let existing: fs.Stats | undefined;
  try { existing = fs.statSync(abs); } catch { existing = undefined; }
  if (existing && !existing.isDirectory()) throw exists('ENOTDIR', target);
  if (existing && !overwrite && fs.readdirSync(abs).length > 0) throw exists('EEXIST', target);
  fs.mkdirSync(parent, { recursive: true });
  removeStaleTemporaries(parent);
  const tmp = tempPathFor(abs);
  fs.mkdirSync(tmp);
  track(tmp);
  try {
    fill(tmp);
    for (const name of fs.readdirSync(tmp)) {
      const p = path.join(tmp, name);
      if (!fs.statSync(p).isFile()) continue;
      const fd = fs.openSync(p, 'r');
      try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
    }
    fsyncDir(tmp);
    if (existing) {
      const old = tempPathFor(abs, 'old');
      fs.renameSync(abs, old);
      track(old);
      try {
        fs.renameSync(tmp, abs);
      } catch (e) {
        fs.renameSync(old, abs);
        untrack(old);
        throw e;
      }
      fs.rmSync(old, { recursive: true, force: true });
      untrack(old);
    } else {
      fs.renameSync(tmp, abs);
    }
    fsyncDir(parent);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
    untrack(tmp);
  }
}
