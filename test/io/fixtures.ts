// Builders of checkpoint files for tests: a zip writer laid out like PyTorch's (64-byte aligned
// data, flag bit 3 with zero local sizes and a data descriptor, ZIP64 end records always), and a
// pickle writer for torch.save-style state dicts. They exist so tests can make files PyTorch
// would write (large ones, damaged ones) without PyTorch.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

const made: string[] = [];
process.on('exit', () => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

/** A fresh temporary folder, removed when the test process exits. */
export function tmpDir(prefix = 'vpdsr-test-'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
}

export interface ZipInput {
  name: string;
  data: Uint8Array;
  deflate?: boolean;
  /** Put sizes and offset in a ZIP64 extra field, as writers do for entries past 4 GiB. */
  zip64?: boolean;
  /** An already-deflated body standing for `data` (which is then ignored but for its CRC): hostile archives. */
  deflated?: { body: Buffer; size: number };
}

const crc32 = (d: Uint8Array): number => (zlib as unknown as { crc32: (d: Uint8Array) => number }).crc32(d) >>> 0;

/** A zip archive as PyTorch's writer lays it out. */
export function buildZip(entries: ZipInput[]): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let at = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const body = e.deflated ? e.deflated.body : e.deflate ? zlib.deflateRawSync(e.data) : Buffer.from(e.data);
    const crc = e.deflated ? 0 : crc32(e.data);
    const usize = e.deflated ? e.deflated.size : e.data.byteLength;
    const deflate = e.deflate || e.deflated !== undefined;
    // Pad the local header's extra field ("FB" id) so the data starts 64-byte aligned.
    const pad = (64 - ((at + 30 + name.length + 4) % 64)) % 64;
    const extra = Buffer.alloc(4 + pad);
    extra.write('FB', 0, 'latin1');
    extra.writeUInt16LE(pad, 2);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x08, 6); // sizes and CRC follow in a data descriptor
    local.writeUInt16LE(deflate ? 8 : 0, 8);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(extra.length, 28);
    const desc = Buffer.alloc(16);
    desc.writeUInt32LE(0x08074b50, 0);
    desc.writeUInt32LE(crc, 4);
    desc.writeUInt32LE(body.length, 8);
    desc.writeUInt32LE(usize >>> 0, 12);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(45, 4);
    c.writeUInt16LE(20, 6);
    c.writeUInt16LE(0x08, 8);
    c.writeUInt16LE(deflate ? 8 : 0, 10);
    c.writeUInt32LE(crc, 16);
    c.writeUInt32LE(e.zip64 ? 0xffffffff : body.length, 20);
    c.writeUInt32LE(e.zip64 ? 0xffffffff : usize, 24);
    c.writeUInt16LE(name.length, 28);
    c.writeUInt32LE(e.zip64 ? 0xffffffff : at, 42);
    const z = Buffer.alloc(e.zip64 ? 28 : 0);
    if (e.zip64) {
      // Order: uncompressed size, compressed size, local header offset.
      z.writeUInt16LE(0x0001, 0);
      z.writeUInt16LE(24, 2);
      z.writeBigUInt64LE(BigInt(usize), 4);
      z.writeBigUInt64LE(BigInt(body.length), 12);
      z.writeBigUInt64LE(BigInt(at), 20);
    }
    c.writeUInt16LE(z.length, 30);
    central.push(c, name, z);
    parts.push(local, name, extra, body, desc);
    at += local.length + name.length + extra.length + body.length + desc.length;
  }
  const cd = Buffer.concat(central);
  const cdOffset = at;
  const z64 = Buffer.alloc(56);
  z64.writeUInt32LE(0x06064b50, 0);
  z64.writeBigUInt64LE(44n, 4);
  z64.writeUInt16LE(45, 12);
  z64.writeUInt16LE(45, 14);
  z64.writeBigUInt64LE(BigInt(entries.length), 24);
  z64.writeBigUInt64LE(BigInt(entries.length), 32);
  z64.writeBigUInt64LE(BigInt(cd.length), 40);
  z64.writeBigUInt64LE(BigInt(cdOffset), 48);
  const loc = Buffer.alloc(20);
  loc.writeUInt32LE(0x07064b50, 0);
  loc.writeBigUInt64LE(BigInt(cdOffset + cd.length), 8);
  loc.writeUInt32LE(1, 16);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(0xffff, 8);
  eocd.writeUInt16LE(0xffff, 10);
  eocd.writeUInt32LE(0xffffffff, 12);
  eocd.writeUInt32LE(0xffffffff, 16);
  return Buffer.concat([...parts, cd, z64, loc, eocd]);
}

/** A tiny pickle writer (protocol 2), enough for torch.save-style objects. */
export class PickleWriter {
  private readonly out: number[] = [];
  op(...bytes: number[]): this {
    this.out.push(...bytes);
    return this;
  }
  proto(): this { return this.op(0x80, 2); }
  global(module: string, name: string): this { return this.op(0x63, ...ascii(`${module}\n${name}\n`)); }
  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    const n = Buffer.alloc(4);
    n.writeUInt32LE(b.length);
    return this.op(0x58, ...n, ...b);
  }
  int(v: number): this {
    if (v >= 0 && v < 256) return this.op(0x4b, v);
    const n = Buffer.alloc(4);
    n.writeInt32LE(v);
    return this.op(0x4a, ...n);
  }
  mark(): this { return this.op(0x28); }
  tuple(): this { return this.op(0x74); }
  emptyTuple(): this { return this.op(0x29); }
  reduce(): this { return this.op(0x52); }
  setitems(): this { return this.op(0x75); }
  stop(): this { return this.op(0x2e); }
  bytes(): Buffer { return Buffer.from(this.out); }
}

function ascii(s: string): number[] {
  return [...Buffer.from(s, 'latin1')];
}

export interface FixtureTensor {
  storageClass: string; // e.g. "FloatStorage"
  data: Uint8Array; // the whole storage
  numel: number;
  offset?: number;
  size: number[];
  stride: number[];
  storageKey?: string; // share a storage by giving the same key
}

/** data.pkl for an OrderedDict of tensors, as torch.save writes it. */
export function stateDictPickle(tensors: Record<string, FixtureTensor>): Buffer {
  const w = new PickleWriter().proto().global('collections', 'OrderedDict').emptyTuple().reduce().mark();
  let k = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const key = t.storageKey ?? String(k++);
    w.str(name).global('torch._utils', '_rebuild_tensor_v2').mark();
    w.mark().str('storage').global('torch', t.storageClass).str(key).str('cpu').int(t.numel).tuple().op(0x51);
    w.int(t.offset ?? 0).mark();
    for (const s of t.size) w.int(s);
    w.tuple().mark();
    for (const s of t.stride) w.int(s);
    w.tuple().op(0x89).global('collections', 'OrderedDict').emptyTuple().reduce().tuple().reduce();
  }
  return w.setitems().stop().bytes();
}

/** A zip-layout torch.save file of an OrderedDict of tensors (storages keyed as given). */
export function torchZip(prefix: string, tensors: Record<string, FixtureTensor>): Buffer {
  const entries: ZipInput[] = [{ name: `${prefix}/data.pkl`, data: stateDictPickle(tensors) }];
  const seen = new Set<string>();
  let k = 0;
  for (const t of Object.values(tensors)) {
    const key = t.storageKey ?? String(k++);
    if (seen.has(key)) continue;
    seen.add(key);
    entries.push({ name: `${prefix}/data/${key}`, data: t.data });
  }
  entries.push({ name: `${prefix}/version`, data: Buffer.from('3\n') });
  return buildZip(entries);
}

const TORCH_STORAGE: Record<string, string> = { float16: 'HalfStorage', float32: 'FloatStorage', float64: 'DoubleStorage', int64: 'LongStorage' };

/** A state dict as torch.save's zip layout writes it: the bare OrderedDict, or { [wrap]: OrderedDict }, keys prefixed. */
export function torchSaveStateDict(file: string, tensors: Map<string, { dtype: string; shape: readonly number[]; toBytes(): Uint8Array }>, opts: { wrap?: string; prefix?: string } = {}): void {
  const w = new PickleWriter().proto();
  if (opts.wrap) w.op(0x7d).mark().str(opts.wrap); // EMPTY_DICT, MARK, key
  w.global('collections', 'OrderedDict').emptyTuple().reduce().mark();
  const entries: ZipInput[] = [];
  let key = 0;
  for (const [name, t] of tensors) {
    const k = String(key++);
    const numel = t.shape.reduce((a, b) => a * b, 1);
    w.str((opts.prefix ?? '') + name).global('torch._utils', '_rebuild_tensor_v2').mark();
    w.mark().str('storage').global('torch', TORCH_STORAGE[t.dtype]!).str(k).str('cpu').int(numel).tuple().op(0x51); // BINPERSID
    w.int(0).mark();
    for (const s of t.shape) w.int(s);
    w.tuple().mark();
    let stride = 1;
    const strides = t.shape.map(() => 0);
    for (let i = t.shape.length - 1; i >= 0; i--) { strides[i] = stride; stride *= t.shape[i]!; }
    for (const s of strides) w.int(s);
    w.tuple().op(0x89).global('collections', 'OrderedDict').emptyTuple().reduce().tuple().reduce(); // NEWFALSE
    entries.push({ name: `archive/data/${k}`, data: t.toBytes() });
  }
  w.setitems();
  if (opts.wrap) w.setitems();
  w.stop();
  fs.writeFileSync(file, buildZip([{ name: 'archive/data.pkl', data: w.bytes() }, ...entries, { name: 'archive/version', data: Buffer.from('3\n') }]));
}
