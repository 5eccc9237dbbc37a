// Hostile checkpoint and image files, built at run time: each is small on disk and was made to
// cost a reader gigabytes or minutes. Used by the hostile-input tests, and runnable on its own
// (`node dist/test/io/bombs.js DIR`) to write every case into DIR for measuring a build by hand.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { PickleWriter, buildZip, torchZip, type ZipInput } from './fixtures.js';

/** A pickle int of any size up to 2^63 (LONG1 beyond BININT's 32 bits). */
export function pickleInt(w: PickleWriter, v: number | bigint): PickleWriter {
  const b = BigInt(v);
  if (b >= 0n && b < 2n ** 31n) return w.int(Number(b));
  const bytes: number[] = [];
  let x = b;
  for (let i = 0; i < 9; i++) { bytes.push(Number(x & 0xffn)); x >>= 8n; }
  return w.op(0x8a, bytes.length, ...bytes);
}

/** data.pkl of an OrderedDict whose tensors have arbitrary (64-bit) sizes and strides. */
export function bigStateDictPickle(tensors: { name: string; cls: string; key: string; numel: number | bigint; size: (number | bigint)[]; stride: (number | bigint)[] }[]): Buffer {
  const w = new PickleWriter().proto().global('collections', 'OrderedDict').emptyTuple().reduce().mark();
  for (const t of tensors) {
    w.str(t.name).global('torch._utils', '_rebuild_tensor_v2').mark();
    w.mark().str('storage').global('torch', t.cls).str(t.key).str('cpu');
    pickleInt(w, t.numel).tuple().op(0x51);
    w.int(0).mark();
    for (const s of t.size) pickleInt(w, s);
    w.tuple().mark();
    for (const s of t.stride) pickleInt(w, s);
    w.tuple().op(0x89).global('collections', 'OrderedDict').emptyTuple().reduce().tuple().reduce();
  }
  return w.setitems().stop().bytes();
}

/**
 * Raw DEFLATE of `total` zero bytes (a multiple of 1 MiB): one compressed megabyte, ended by a sync
 * flush so it is not the final block, repeated, then an empty final block. About 1 KB per MB.
 */
export function deflatedZeros(total: number): Buffer {
  const mb = zlib.deflateRawSync(Buffer.alloc(1 << 20), { level: 9, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  const n = Math.ceil(total / (1 << 20));
  return Buffer.concat([...new Array<Buffer>(n).fill(mb), zlib.deflateRawSync(Buffer.alloc(0))]);
}

/** A zip whose entry `name` claims `size` bytes and holds `body`, already deflated. */
function zipWithDeflated(entries: ZipInput[], name: string, body: Buffer, size: number, first = false): Buffer {
  const bomb: ZipInput = { name, data: Buffer.alloc(0), deflated: { body, size } };
  return buildZip(first ? [bomb, ...entries] : [...entries, bomb]);
}

/** A one-module TorchScript archive: `code` is the source of module `__torch__.m`, class M. */
export function scriptArchive(dataPkl: Buffer, code: string | null, extra: ZipInput[] = []): Buffer {
  const entries: ZipInput[] = [{ name: 'archive/data.pkl', data: dataPkl }];
  if (code !== null) entries.push({ name: 'archive/code/__torch__/m.py', data: Buffer.from(code) });
  entries.push({ name: 'archive/constants.pkl', data: new PickleWriter().proto().emptyTuple().stop().bytes() }, ...extra);
  return buildZip(entries);
}

/** data.pkl of an M record whose attribute `a` is an M record ... `depth` deep. */
export function chainPickle(depth: number, key: 'a' | 'bytes' = 'a'): Buffer {
  const w = new PickleWriter().proto();
  for (let i = 0; i < depth; i++) {
    w.global('__torch__.m', 'M').emptyTuple().op(0x81).op(0x7d);
    if (key === 'a') w.str('a'); else w.op(0x43, 1, 0x41); // SHORT_BINBYTES b'A'
  }
  w.op(0x4e);
  for (let i = 0; i < depth; i++) w.op(0x73).op(0x62); // SETITEM, BUILD
  return w.stop().bytes();
}

const M_SOURCE = 'class M(Module):\n  __parameters__ = []\n  __buffers__ = []\n  training : bool\n';

export interface Bomb {
  file: string;
  /** What the case is, one line. */
  what: string;
}

/** Writes each class of hostile file into `dir`; returns them by class name. */
export function writeBombs(dir: string, which?: string[]): Record<string, Bomb> {
  const out: Record<string, Bomb> = {};
  const want = (k: string): boolean => !which || which.includes(k);
  const put = (k: string, name: string, data: Buffer, what: string): void => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, data);
    out[k] = { file, what };
  };
  if (want('stride0')) {
    // Four views of one 4-byte storage, each 2^29 float32 elements (2 GiB) when made dense.
    const tensors = [0, 1, 2, 3].map((i) => ({ name: `bomb.${i}`, cls: 'FloatStorage', key: '0', numel: 1, size: [2 ** 29], stride: [0] }));
    const zip = buildZip([
      { name: 'archive/data.pkl', data: bigStateDictPickle(tensors) },
      { name: 'archive/data/0', data: Buffer.alloc(4) },
      { name: 'archive/version', data: Buffer.from('3\n') },
    ]);
    put('stride0', 'stride0.pth', zip, 'four stride-0 views of one 4-byte storage, 2 GiB each when dense');
  }
  if (want('deflate')) {
    // One unexpected 1 GiB storage of zeros, deflated to about a megabyte.
    const n = 1 << 28;
    const pkl = bigStateDictPickle([{ name: 'bomb.weight', cls: 'FloatStorage', key: '0', numel: n, size: [n], stride: [1] }]);
    const zip = zipWithDeflated([{ name: 'archive/data.pkl', data: pkl }, { name: 'archive/version', data: Buffer.from('3\n') }], 'archive/data/0', deflatedZeros(n * 4), n * 4);
    put('deflate', 'deflate.pth', zip, 'a 1 GiB storage record deflated to about 1 MB');
  }
  if (want('pickleInflate')) {
    const zip = zipWithDeflated([{ name: 'archive/version', data: Buffer.from('3\n') }], 'archive/data.pkl', deflatedZeros(1 << 30), 1 << 30, true);
    put('pickleInflate', 'pickle-inflate.pth', zip, 'data.pkl inflating to 1 GiB');
  }
  if (want('codeInflate')) {
    const zip = zipWithDeflated([{ name: 'archive/data.pkl', data: chainPickle(1) }, { name: 'archive/constants.pkl', data: new PickleWriter().proto().emptyTuple().stop().bytes() }], 'archive/code/__torch__/m.py', deflatedZeros(1 << 30), 1 << 30);
    put('codeInflate', 'code-inflate.pt', zip, 'a TorchScript code file inflating to 1 GiB');
  }
  if (want('regex')) {
    const code = `class M(Module):\n  __parameters__ = ["${'\\"'.repeat(400_000)}]\n`;
    put('regex', 'regex.pt', scriptArchive(chainPickle(1), code), 'a __parameters__ line of 400 000 escaped quotes');
  }
  if (want('deepScript')) {
    put('deepScript', 'deep-script.pt', scriptArchive(chainPickle(30_000), 'class M(Module):\n  __parameters__ = []\n  __buffers__ = []\n'), 'a chain of 30 000 module records');
  }
  if (want('bytesKey')) {
    put('bytesKey', 'bytes-key.pt', scriptArchive(chainPickle(1, 'bytes'), M_SOURCE), 'a module record with a bytes attribute name');
  }
  if (want('deepList')) {
    // 1 000 000 nested lists: EMPTY_LIST then APPEND, innermost first.
    const w = new PickleWriter().proto();
    const depth = 1_000_000;
    for (let i = 0; i < depth; i++) w.op(0x5d);
    for (let i = 1; i < depth; i++) w.op(0x61);
    const pkl = w.stop().bytes();
    put('deepList', 'deep-list.pth', buildZip([{ name: 'archive/data.pkl', data: pkl }, { name: 'archive/version', data: Buffer.from('3\n') }]), 'lists nested a million deep');
  }
  if (want('pickleFlood')) {
    // 60 MiB of EMPTY_LIST opcodes, deflated to 60 KB: one JS array per byte.
    const n = 60 << 20;
    const pkl = Buffer.alloc(n + 3, 0x5d);
    pkl[0] = 0x80;
    pkl[1] = 2;
    pkl[n + 2] = 0x2e;
    put('pickleFlood', 'pickle-flood.pth', buildZip([{ name: 'archive/data.pkl', data: pkl, deflate: true }, { name: 'archive/version', data: Buffer.from('3\n') }]), 'a pickle of 60 million empty lists');
  }
  if (want('manyTensors')) {
    // 200 000 one-element tensors in a valid safetensors file.
    const n = 200_000;
    const header: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) header[`layer.${i}.w`] = { dtype: 'F32', shape: [1], data_offsets: [i * 4, i * 4 + 4] };
    const json = Buffer.from(JSON.stringify(header));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    put('manyTensors', 'many.safetensors', Buffer.concat([len, json, Buffer.alloc(n * 4)]), '200 000 tensors');
  }
  if (want('hugeView')) {
    // A view of 2^40 elements (4 TiB dense) of a one-element storage.
    const zip = buildZip([
      { name: 'archive/data.pkl', data: bigStateDictPickle([{ name: 'w', cls: 'FloatStorage', key: '0', numel: 1, size: [2n ** 20n, 2n ** 20n], stride: [0, 0] }]) },
      { name: 'archive/data/0', data: Buffer.alloc(4) },
      { name: 'archive/version', data: Buffer.from('3\n') },
    ]);
    put('hugeView', 'huge-view.pth', zip, 'a [2^20, 2^20] stride-0 view (4 TiB dense) of a 4-byte storage');
  }
  if (want('hugeDeclared')) {
    // A storage declared with 2^40 elements whose record is 4 bytes.
    const zip = buildZip([
      { name: 'archive/data.pkl', data: bigStateDictPickle([{ name: 'w', cls: 'FloatStorage', key: '0', numel: 2n ** 40n, size: [2n ** 40n], stride: [1] }]) },
      { name: 'archive/data/0', data: Buffer.alloc(4) },
      { name: 'archive/version', data: Buffer.from('3\n') },
    ]);
    put('hugeDeclared', 'huge-declared.pth', zip, 'a storage declared 2^40 elements over a 4-byte record');
  }
  if (want('escapes')) {
    const tensors = { ['evil\x1b[2J\x1b]0;owned\x07\nforged: line\u009b2J\u202e']: { storageClass: 'FloatStorage', data: Buffer.alloc(4), numel: 1, size: [1], stride: [1] } };
    put('escapes', 'escapes.pth', torchZip('archive', tensors), 'a tensor name with terminal escapes and a newline');
  }
  if (want('fakePng')) {
    // 2 GiB less 1 MiB of zeros (just under what Node reads in one go) named .png: a sparse file.
    const file = path.join(dir, 'fake.png');
    const fd = fs.openSync(file, 'w');
    fs.ftruncateSync(fd, 2 ** 31 - 2 ** 20);
    fs.closeSync(fd);
    out['fakePng'] = { file, what: 'a 2 GiB non-image file named .png' };
  }
  return out;
}

// Run as a script: write every case into the folder named on the command line. (The test runner
// also loads this file, with no argument: then it does nothing.)
const scriptDir = process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname) ? process.argv[2] : undefined;
if (scriptDir) {
  const dir = scriptDir;
  fs.mkdirSync(dir, { recursive: true });
  const r = writeBombs(dir, process.argv.length > 3 ? process.argv.slice(3) : undefined);
  for (const [k, b] of Object.entries(r)) process.stdout.write(`${k}\t${b.file}\t${fs.statSync(b.file).size}\t${b.what}\n`);
}
