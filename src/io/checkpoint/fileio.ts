// Positioned reads shared by the checkpoint formats, and their atomic writer (io/atomic.ts).

import * as fs from 'node:fs';
import { writeFileAtomic as writeAtomic } from '../atomic.js';

/** fs.readSync takes at most INT32_MAX bytes per call; read large ranges in pieces below that. */
const CHUNK = 1 << 30;

/**
 * Reads exactly `length` bytes at `position`, or throws naming the file: a short read means the
 * file is shorter than its own headers claim (truncated, or changed while open).
 */
export function readAt(fd: number, position: number, length: number, file: string, what: string): Buffer {
  if (!Number.isSafeInteger(position) || position < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new RangeError(`${file}: ${what}: invalid byte range ${position}+${length}`);
  }
  // allocUnsafeSlow: an ArrayBuffer of its own (not the shared pool), so typed-array views of it
  // start at offset 0 and are aligned.
  const out = Buffer.allocUnsafeSlow(length);
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, out, done, Math.min(CHUNK, length - done), position + done);
    if (n === 0) throw new Error(`${file}: ${what}: file ends at byte ${position + done}, ${length - done} bytes short`);
    done += n;
  }
  return out;
}

/** Writes every byte of `data` at the fd's current position. */
export { writeAllSync as writeAll } from '../atomic.js';

/**
 * Writes a file through `write(fd)` under a temporary name in the target folder, then renames
 * it into place (replacing an existing file), so readers never see a partial file and an
 * interrupted run leaves the old one. See io/atomic.ts.
 */
export function writeFileAtomic(target: string, write: (fd: number) => void): void {
  try {
    writeAtomic(target, write, { overwrite: true });
  } catch (e) {
    throw new Error(`${target}: cannot write: ${(e as Error).message}`);
  }
}
