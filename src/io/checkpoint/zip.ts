// A ZIP reader for torch.save and torch.jit.save archives: central directory (ZIP64 included),
// stored and DEFLATE entries, every offset and length checked against the file before use.
//
// Sizes and offsets come from the central directory only: PyTorch's writer sets flag bit 3 and
// leaves zero sizes and CRC in the local headers (the real ones follow the data in a descriptor),
// and pads each local header's extra field so the data starts 64-byte aligned. The local header is
// read just for its name and extra lengths, to find where the data starts.

import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { readAt } from './fileio.js';

export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated; other methods are refused when read. */
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const EOCD_LEN = 22;
const ZIP64_LOCATOR_LEN = 20;
const ZIP64_EOCD_LEN = 56;
const CENTRAL_LEN = 46;
const LOCAL_LEN = 30;
const MAX_COMMENT = 0xffff;

/** True when the file starts with a local file header (what every zip archive written by PyTorch does). */
export function looksLikeZip(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
}

export class ZipReader {
  readonly path: string;
  /** Entries in central-directory order. */
  readonly entries: readonly ZipEntry[];
  private readonly byName: Map<string, ZipEntry>;
  private readonly size: number;
  private fd: number | null;

  private constructor(file: string, fd: number, size: number, entries: ZipEntry[]) {
    this.path = file;
    this.fd = fd;
    this.size = size;
    this.entries = entries;
    this.byName = new Map();
    for (const e of entries) {
      // Two entries of one name would let a reader and PyTorch disagree on the content.
      if (this.byName.has(e.name)) throw new Error(`${file}: corrupt zip: entry ${e.name} appears twice`);
      this.byName.set(e.name, e);
    }
  }

  static open(file: string): ZipReader {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      return new ZipReader(file, fd, size, readCentralDirectory(fd, size, file));
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  get(name: string): ZipEntry | undefined {
    return this.byName.get(name);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /**
   * The entry's uncompressed bytes, CRC-checked. `limit` refuses an entry that declares more
   * bytes than it can sensibly hold, before anything is read or inflated.
   */
  read(entry: ZipEntry | string, limit?: { bytes: number; what: string }): Buffer {
    const e = typeof entry === 'string' ? this.byName.get(entry) : entry;
    if (!e) throw new Error(`${this.path}: zip has no entry ${String(entry)}`);
    if (limit && e.size > limit.bytes) {
      throw new Error(`${this.path}: entry ${e.name} declares ${e.size} bytes, more than the ${limit.bytes} a ${limit.what} may have`);
    }
    const fd = this.handle();
    const start = this.dataOffset(e);
    const stored = readAt(fd, start, e.compressedSize, this.path, `entry ${e.name}`);
    let data: Buffer;
    if (e.method === 0) {
      if (e.compressedSize !== e.size) throw new Error(`${this.path}: corrupt zip: stored entry ${e.name} has sizes ${e.compressedSize} and ${e.size}`);
      data = stored;
    } else if (e.method === 8) {
      try {
        // maxOutputLength bounds the work a hostile stream (a "zip bomb") can cause.
        data = zlib.inflateRawSync(stored, { maxOutputLength: Math.max(1, e.size) });
      } catch (err) {
        throw new Error(`${this.path}: corrupt zip: entry ${e.name} does not inflate to ${e.size} bytes (${(err as Error).message})`);
      }
      if (data.byteLength !== e.size) throw new Error(`${this.path}: corrupt zip: entry ${e.name} inflates to ${data.byteLength} bytes, directory says ${e.size}`);
    } else {
      throw new Error(`${this.path}: zip entry ${e.name} uses compression method ${e.method}; only stored (0) and deflate (8) are supported`);
    }
    // zlib.crc32 exists from Node 20.15; without it the check is skipped (PyTorch skips it too).
    const crc32 = (zlib as { crc32?: (d: Uint8Array) => number }).crc32;
    if (crc32 && crc32(data) >>> 0 !== e.crc32) {
      throw new Error(`${this.path}: corrupt zip: entry ${e.name} fails its CRC-32 check`);
    }
    return data;
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }

  private handle(): number {
    if (this.fd === null) throw new Error(`${this.path}: zip is closed`);
    return this.fd;
  }

  private dataOffset(e: ZipEntry): number {
    const fd = this.handle();
    if (e.localHeaderOffset + LOCAL_LEN > this.size) throw new Error(`${this.path}: corrupt zip: local header of ${e.name} lies past the end of the file`);
    const h = readAt(fd, e.localHeaderOffset, LOCAL_LEN, this.path, `local header of ${e.name}`);
    if (h.readUInt32LE(0) !== SIG_LOCAL) throw new Error(`${this.path}: corrupt zip: no local header for ${e.name} at byte ${e.localHeaderOffset}`);
    if (h.readUInt16LE(6) & 1) throw new Error(`${this.path}: zip entry ${e.name} is encrypted`);
    const start = e.localHeaderOffset + LOCAL_LEN + h.readUInt16LE(26) + h.readUInt16LE(28);
    if (start + e.compressedSize > this.size) {
      throw new Error(`${this.path}: corrupt zip: entry ${e.name} needs bytes [${start}, ${start + e.compressedSize}) of a ${this.size}-byte file`);
    }
    return start;
  }
}

function readCentralDirectory(fd: number, size: number, file: string): ZipEntry[] {
  const bad = (what: string): Error => new Error(`${file}: corrupt zip: ${what}`);
  if (size < EOCD_LEN) throw bad(`${size} bytes, too short for an end-of-central-directory record`);

  // The end record sits in the last 22 bytes plus at most a 64 KiB comment.
  const tailLen = Math.min(size, EOCD_LEN + MAX_COMMENT);
  const tailStart = size - tailLen;
  const tail = readAt(fd, tailStart, tailLen, file, 'end of central directory');
  let eocd = -1;
  for (let i = tailLen - EOCD_LEN; i >= 0; i--) {
    if (tail.readUInt32LE(i) === SIG_EOCD && i + EOCD_LEN + tail.readUInt16LE(i + 20) <= tailLen) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw bad('no end-of-central-directory record (truncated?)');
  const eocdPos = tailStart + eocd;
  let diskNo = tail.readUInt16LE(eocd + 4);
  let cdDisk = tail.readUInt16LE(eocd + 6);
  let count = tail.readUInt16LE(eocd + 10);
  let cdSize = tail.readUInt32LE(eocd + 12);
  let cdOffset = tail.readUInt32LE(eocd + 16);
  let cdLimit = eocdPos;

  // ZIP64: a locator right before the end record points at the 64-bit end record.
  if (eocdPos >= ZIP64_LOCATOR_LEN) {
    const loc = readAt(fd, eocdPos - ZIP64_LOCATOR_LEN, ZIP64_LOCATOR_LEN, file, 'ZIP64 locator');
    if (loc.readUInt32LE(0) === SIG_ZIP64_LOCATOR) {
      const at = u64(loc, 8, bad);
      if (at + ZIP64_EOCD_LEN > eocdPos - ZIP64_LOCATOR_LEN) throw bad(`ZIP64 end record offset ${at} is out of range`);
      const z = readAt(fd, at, ZIP64_EOCD_LEN, file, 'ZIP64 end record');
      if (z.readUInt32LE(0) !== SIG_ZIP64_EOCD) throw bad(`no ZIP64 end record at byte ${at}`);
      diskNo = z.readUInt32LE(16);
      cdDisk = z.readUInt32LE(20);
      count = u64(z, 32, bad);
      cdSize = u64(z, 40, bad);
      cdOffset = u64(z, 48, bad);
      cdLimit = at;
    }
  }
  if (diskNo !== 0 || cdDisk !== 0) throw bad('multi-disk archives are not supported');
  if (cdOffset + cdSize > cdLimit) throw bad(`central directory [${cdOffset}, ${cdOffset + cdSize}) runs past its end record at ${cdLimit}`);
  // Each entry takes at least 46 bytes, which bounds a hostile count before anything is allocated.
  if (count * CENTRAL_LEN > cdSize) throw bad(`${count} entries cannot fit in a ${cdSize}-byte central directory`);

  const cd = readAt(fd, cdOffset, cdSize, file, 'central directory');
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + CENTRAL_LEN > cd.length || cd.readUInt32LE(p) !== SIG_CENTRAL) throw bad(`central directory entry ${i} is malformed`);
    const flags = cd.readUInt16LE(p + 8);
    const method = cd.readUInt16LE(p + 10);
    const crc32 = cd.readUInt32LE(p + 16);
    let compressedSize = cd.readUInt32LE(p + 20);
    let usize = cd.readUInt32LE(p + 24);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    const diskStart = cd.readUInt16LE(p + 34);
    let localHeaderOffset = cd.readUInt32LE(p + 42);
    const end = p + CENTRAL_LEN + nameLen + extraLen + commentLen;
    if (end > cd.length) throw bad(`central directory entry ${i} runs past the directory`);
    const name = cd.toString('utf8', p + CENTRAL_LEN, p + CENTRAL_LEN + nameLen);

    // The ZIP64 extra field holds, in this order, only the values whose 32-bit field is all ones.
    let q = p + CENTRAL_LEN + nameLen;
    const extraEnd = q + extraLen;
    while (q + 4 <= extraEnd) {
      const id = cd.readUInt16LE(q);
      const len = cd.readUInt16LE(q + 2);
      if (q + 4 + len > extraEnd) throw bad(`extra field of ${name} runs past its entry`);
      if (id === 0x0001) {
        let r = q + 4;
        const take = (): number => {
          if (r + 8 > q + 4 + len) throw bad(`ZIP64 extra field of ${name} is too short`);
          const v = u64(cd, r, bad);
          r += 8;
          return v;
        };
        if (usize === 0xffffffff) usize = take();
        if (compressedSize === 0xffffffff) compressedSize = take();
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = take();
      }
      q += 4 + len;
    }
    if (diskStart !== 0 && diskStart !== 0xffff) throw bad(`entry ${name} starts on disk ${diskStart}`);
    if (localHeaderOffset >= cdOffset) throw bad(`entry ${name} has local header offset ${localHeaderOffset} inside or past the central directory`);
    entries.push({ name, method, flags, crc32, compressedSize, size: usize, localHeaderOffset });
    p = end;
  }
  return entries;
}

/** A little-endian u64 that must be exact as a double (any real file offset is). */
function u64(b: Buffer, at: number, bad: (what: string) => Error): number {
  const v = b.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(`64-bit field ${v} is out of range`);
  return Number(v);
}
