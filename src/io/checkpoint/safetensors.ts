// safetensors: an 8-byte little-endian header length, a JSON header, then the tensor bytes.
//
// Format: https://github.com/huggingface/safetensors (the Rust crate is the reference). The header
// maps each name to {dtype, shape, data_offsets: [begin, end]} (offsets relative to the end of
// the header) plus an optional "__metadata__" map of strings. The reader validates the header
// the way the reference does (every byte of the data region covered exactly once, in order) and
// reads a tensor's bytes only when asked, so multi-GB files never sit whole in the JS heap.

import * as fs from 'node:fs';
import { type RawTensor, type SafeDType, SAFE_ITEM_SIZE, byteLengthOf, checkRaw, isSafeDType } from './raw.js';
import { readAt, writeAll, writeFileAtomic } from './fileio.js';

/** The reference implementation's limit; a larger header is hostile or not a safetensors file. */
export const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = '__metadata__';

export interface SafetensorsInfo {
  dtype: SafeDType;
  shape: number[];
  byteLength: number;
}

interface Entry extends SafetensorsInfo {
  begin: number;
  end: number;
}

export class SafetensorsFile {
  readonly path: string;
  readonly metadata: Record<string, string>;
  private fd: number | null;
  private readonly dataStart: number;
  /** Tensors in file order (by offset). */
  private readonly entries: Map<string, Entry>;

  private constructor(file: string, fd: number, dataStart: number, metadata: Record<string, string>, entries: Map<string, Entry>) {
    this.path = file;
    this.fd = fd;
    this.dataStart = dataStart;
    this.metadata = metadata;
    this.entries = entries;
  }

  /** Opens a file and validates its header; the tensors are read later, one by one. */
  static open(file: string): SafetensorsFile {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      if (size < 8) throw new Error(`${file}: not a safetensors file: ${size} bytes, too short for the header length`);
      const n = readAt(fd, 0, 8, file, 'header length').readBigUInt64LE(0);
      if (n > BigInt(MAX_HEADER_BYTES)) throw new Error(`${file}: not a safetensors file: header length ${n} exceeds ${MAX_HEADER_BYTES} bytes`);
      const headerLen = Number(n);
      if (8 + headerLen > size) throw new Error(`${file}: truncated safetensors file: header of ${headerLen} bytes, file has ${size}`);
      const { metadata, entries } = parseHeader(readAt(fd, 8, headerLen, file, 'header'), size - 8 - headerLen, file);
      return new SafetensorsFile(file, fd, 8 + headerLen, metadata, entries);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  /** Tensor names in file order. */
  names(): string[] {
    return [...this.entries.keys()];
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  info(name: string): SafetensorsInfo {
    const e = this.entry(name);
    return { dtype: e.dtype, shape: [...e.shape], byteLength: e.byteLength };
  }

  /** Reads one tensor's bytes from disk (a fresh buffer, not shared with any other tensor). */
  readRaw(name: string): RawTensor {
    const e = this.entry(name);
    if (this.fd === null) throw new Error(`${this.path}: file is closed`);
    const data = readAt(this.fd, this.dataStart + e.begin, e.byteLength, this.path, `tensor ${name}`);
    return { dtype: e.dtype, shape: [...e.shape], data };
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }

  private entry(name: string): Entry {
    const e = this.entries.get(name);
    if (!e) throw new Error(`${this.path}: no tensor named ${JSON.stringify(name)}`);
    return e;
  }
}

function parseHeader(bytes: Uint8Array, dataLength: number, file: string): { metadata: Record<string, string>; entries: Map<string, Entry> } {
  const bad = (what: string): Error => new Error(`${file}: invalid safetensors header: ${what}`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw bad('not UTF-8');
  }
  if (!text.startsWith('{')) throw bad('does not start with "{"');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw bad(`not JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(json)) throw bad('not a JSON object');

  let metadata: Record<string, string> = {};
  const list: [string, Entry][] = [];
  for (const [name, value] of Object.entries(json)) {
    if (name === METADATA_KEY) {
      if (!isPlainObject(value)) throw bad(`${METADATA_KEY} is not an object`);
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== 'string') throw bad(`${METADATA_KEY}.${k} is not a string`);
      }
      // fromEntries defines own properties, so a "__proto__" key stays an ordinary key.
      metadata = Object.fromEntries(Object.entries(value as Record<string, string>));
      continue;
    }
    list.push([name, parseEntry(name, value, bad)]);
  }

  // Every byte of the data region must belong to exactly one tensor, in order: no holes, no
  // overlaps, nothing past the end, as the reference reader requires.
  list.sort((a, b) => a[1].begin - b[1].begin || a[1].end - b[1].end);
  let at = 0;
  for (const [name, e] of list) {
    if (e.begin < at) throw bad(`tensor ${JSON.stringify(name)} at bytes [${e.begin}, ${e.end}) overlaps the previous tensor, which ends at ${at}`);
    if (e.begin > at) throw bad(`bytes [${at}, ${e.begin}) before tensor ${JSON.stringify(name)} belong to no tensor`);
    at = e.end;
  }
  if (at !== dataLength) {
    throw at > dataLength
      ? bad(`tensors need ${at} data bytes, the file has ${dataLength} (truncated?)`)
      : bad(`tensors cover ${at} data bytes, the file has ${dataLength}`);
  }
  return { metadata, entries: new Map(list) };
}

function parseEntry(name: string, value: unknown, bad: (what: string) => Error): Entry {
  const where = `tensor ${JSON.stringify(name)}`;
  if (!isPlainObject(value)) throw bad(`${where} is not an object`);
  const { dtype, shape, data_offsets: offsets } = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (!isSafeDType(dtype)) throw bad(`${where} has unsupported dtype ${JSON.stringify(dtype)}`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw bad(`${where} has invalid shape ${JSON.stringify(shape)}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
    throw bad(`${where} has invalid data_offsets ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  let byteLength: number;
  try {
    byteLength = byteLengthOf(dtype, shape as number[]);
  } catch (e) {
    throw bad(`${where}: ${(e as Error).message}`);
  }
  if (byteLength !== end - begin) {
    throw bad(`${where}: ${dtype} [${shape.join(', ')}] needs ${byteLength} bytes, data_offsets [${begin}, ${end}] hold ${end - begin}`);
  }
  return { dtype, shape: [...(shape as number[])], byteLength, begin, end };
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Reads every tensor of a file (small files; use SafetensorsFile to read large ones by name). */
export function readSafetensorsRaw(file: string): { metadata: Record<string, string>; tensors: Map<string, RawTensor> } {
  const f = SafetensorsFile.open(file);
  try {
    const tensors = new Map<string, RawTensor>();
    for (const name of f.names()) tensors.set(name, f.readRaw(name));
    return { metadata: { ...f.metadata }, tensors };
  } finally {
    f.close();
  }
}

/**
 * Writes tensors and string metadata as safetensors, atomically (temporary name, then rename).
 *
 * Tensors are laid out by element size, largest first, keeping the caller's order within a size:
 * the data region starts 8-byte aligned (the header is padded with spaces, as the reference
 * writer does), so every tensor starts aligned to its element size and can be viewed in place.
 */
export function writeSafetensorsRaw(
  file: string,
  tensors: Map<string, RawTensor> | Record<string, RawTensor>,
  metadata?: Record<string, string>,
): void {
  const list = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  for (const [name, t] of list) {
    if (name === METADATA_KEY) throw new Error(`${file}: a tensor cannot be named ${METADATA_KEY}`);
    checkRaw(name, t);
  }
  const meta = Object.entries(metadata ?? {});
  for (const [k, v] of meta) {
    if (typeof v !== 'string') throw new TypeError(`${file}: metadata ${JSON.stringify(k)} must be a string, got ${typeof v}`);
  }
  // Array.prototype.sort is stable, so ties keep the caller's order.
  const ordered = list.map((entry, i) => ({ entry, i }))
    .sort((a, b) => SAFE_ITEM_SIZE[b.entry[1].dtype] - SAFE_ITEM_SIZE[a.entry[1].dtype] || a.i - b.i)
    .map((x) => x.entry);

  // The header is assembled as text so keys keep this order (a JS object would hoist keys that
  // look like array indices, such as "0").
  const parts: string[] = [];
  if (meta.length > 0) {
    parts.push(`${JSON.stringify(METADATA_KEY)}:{${meta.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`);
  }
  let at = 0;
  for (const [name, t] of ordered) {
    const end = at + t.data.byteLength;
    parts.push(`${JSON.stringify(name)}:${JSON.stringify({ dtype: t.dtype, shape: t.shape, data_offsets: [at, end] })}`);
    at = end;
  }
  const json = Buffer.from(`{${parts.join(',')}}`, 'utf8');
  const padded = Buffer.alloc(json.byteLength + ((8 - (json.byteLength % 8)) % 8), 0x20);
  json.copy(padded);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(padded.byteLength));

  writeFileAtomic(file, (fd) => {
    writeAll(fd, head);
    writeAll(fd, padded);
    for (const [, t] of ordered) writeAll(fd, t.data);
  });
}
