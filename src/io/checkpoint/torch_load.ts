// torch.save files, both layouts, read through the restricted unpickler.
//
// Zip layout (default since PyTorch 1.6): <prefix>/data.pkl is the object, <prefix>/data/<key>
// the raw bytes of each storage. Legacy layout: five pickles back to back (magic number, format
// version, writer info, the object, the sorted storage keys), then each storage as an 8-byte
// element count and its bytes. In both, storages are persistent ids
// ("storage", <storage class>, key, location, numel[, view]) and tensors are
// torch._utils._rebuild_tensor_v2 calls; nothing else outside plain containers is accepted.

import * as fs from 'node:fs';
import { withFile } from './errors.js';
import { readAt } from './fileio.js';
import { type GlobalImpl, type PyValue, PickleError, PyDict, PyGlobal, PyTuple, describe, unpickle } from './pickle.js';
import { type OverlapBudget, STORAGE_DTYPES, TorchStorage, TorchTensor, makeTensor } from './storage.js';
import { ZipReader } from './zip.js';
import { CHECKPOINT_LIMITS } from './limits.js';

export interface TorchLoadOptions {
  /**
   * Read the storages' bytes (default true); without them only names, dtypes and shapes are
   * known. 'lazy': each storage is read the first time a tensor's data is asked for.
   */
  loadData?: boolean | 'lazy';
}

export interface TorchLoadResult {
  root: PyValue;
  /** Every tensor record built while reading, in the order the pickle built them. */
  tensors: TorchTensor[];
}

/** The one archive folder all entries share (the file stem, or "archive"), from the first entry. */
export function archivePrefix(zip: ZipReader): string {
  const first = zip.entries[0];
  const slash = first ? first.name.indexOf('/') : -1;
  if (!first || slash <= 0) throw new Error(`${zip.path}: not a PyTorch archive: entries are not inside one folder`);
  return first.name.slice(0, slash);
}

/**
 * The allowlist of plain checkpoints: OrderedDict, tensor and parameter rebuilds, and storage
 * classes (which are only ever looked up, never called). `tensors` collects what was built.
 */
export function plainGlobals(tensors: TorchTensor[]): Map<string, GlobalImpl> {
  const g = new Map<string, GlobalImpl>();
  const overlap: OverlapBudget = { bytes: 0 };
  const orderedDict = (args: PyValue[]): PyValue => {
    const d = new PyDict('OrderedDict');
    if (args.length > 1) throw new Error(`expected at most 1 argument, got ${args.length}`);
    const init = args[0];
    if (init instanceof PyDict) {
      for (const [k, v] of init.map) d.set(k, v);
    } else if (Array.isArray(init) || init instanceof PyTuple) {
      // Python 2 files: OrderedDict([[key, value], ...]).
      for (const pair of Array.isArray(init) ? init : init.items) {
        const kv = Array.isArray(pair) ? pair : pair instanceof PyTuple ? pair.items : null;
        if (!kv || kv.length !== 2) throw new Error('items must be [key, value] pairs');
        d.set(kv[0]!, kv[1]!);
      }
    } else if (init !== undefined && init !== null) {
      throw new Error(`cannot build an OrderedDict from ${describe(init)}`);
    }
    return d;
  };
  g.set('collections.OrderedDict', { call: orderedDict, newObj: orderedDict });
  g.set('torch._utils._rebuild_tensor_v2', {
    call: (args) => {
      // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
      if (args.length < 6 || args.length > 7) throw new Error(`expected 6 or 7 arguments, got ${args.length}`);
      const [storage, offset, size, stride, requiresGrad] = args;
      if (!(storage instanceof TorchStorage)) throw new Error(`argument 1 is ${describe(storage!)}, not a storage`);
      const t = makeTensor(storage, int(offset!, 'storage_offset'), ints(size!, 'size'), ints(stride!, 'stride'), bool(requiresGrad!, 'requires_grad'), overlap);
      tensors.push(t);
      return t;
    },
  });
  g.set('torch._utils._rebuild_parameter', {
    call: (args) => {
      // (data, requires_grad, backward_hooks)
      if (args.length !== 3) throw new Error(`expected 3 arguments, got ${args.length}`);
      const [data, requiresGrad] = args;
      if (!(data instanceof TorchTensor)) throw new Error(`argument 1 is ${describe(data!)}, not a tensor`);
      const p = data.withFlags(bool(requiresGrad!, 'requires_grad'), true);
      tensors.push(p);
      return p;
    },
  });
  for (const name of Object.keys(STORAGE_DTYPES)) g.set(name, {});
  return g;
}

export type GlobalResolver = (module: string, name: string) => GlobalImpl | undefined;

/** Looks a name up in `globals`, then in `extra`. */
export function resolver(globals: Map<string, GlobalImpl>, extra?: GlobalResolver): GlobalResolver {
  return (module: string, name: string): GlobalImpl | undefined => globals.get(`${module}.${name}`) ?? extra?.(module, name);
}

/** Persistent-id handling shared by every layout: one TorchStorage per key, made on first use. */
export function storageLoader(onNew: (s: TorchStorage) => void, legacy: boolean): (pid: PyValue) => PyValue {
  const byKey = new Map<string, TorchStorage>();
  return (pid) => {
    if (!(pid instanceof PyTuple)) throw new Error(`expected a tuple, got ${describe(pid)}`);
    const [typename, cls, key, location, numel, view] = pid.items;
    if (typename !== 'storage') throw new Error(`unsupported persistent id type ${JSON.stringify(typename)}`);
    if (pid.length !== (legacy ? 6 : 5)) throw new Error(`storage id has ${pid.length} fields`);
    if (!(cls instanceof PyGlobal) || !(cls.fullName in STORAGE_DTYPES)) throw new Error(`${describe(cls!)} is not a storage class`);
    if (typeof key !== 'string') throw new Error('storage key is not a string');
    if (legacy && view !== null) throw new Error('storage views (files from PyTorch before 0.4) are not supported');
    const dtype = STORAGE_DTYPES[cls.fullName]!;
    const n = int(numel!, 'numel');
    const seen = byKey.get(key);
    if (seen) {
      if (seen.dtype !== dtype || seen.numel !== n) throw new Error(`storage ${key} is described twice, differently`);
      return seen;
    }
    const s = new TorchStorage(dtype, key, typeof location === 'string' ? location : String(location), n);
    byKey.set(key, s);
    onNew(s);
    return s;
  };
}

/** Reads a zip-layout torch.save archive. Errors name the file. */
export function loadTorchZip(zip: ZipReader, opts: TorchLoadOptions = {}): TorchLoadResult {
  const file = zip.path;
  return withFile(file, () => {
    const prefix = archivePrefix(zip);
    const pkl = `${prefix}/data.pkl`;
    if (!zip.has(pkl)) throw new Error(`not a torch.save archive: no ${pkl}`);
    checkByteOrder(zip, prefix);
    const tensors: TorchTensor[] = [];
    const { value } = unpickle(zip.read(pkl, { bytes: CHECKPOINT_LIMITS.maxPickleBytes, what: 'pickle' }), {
      resolveGlobal: resolver(plainGlobals(tensors)),
      persistentLoad: storageLoader((s) => attachZipRecord(zip, `${prefix}/data/${s.key}`, s, opts), false),
    });
    if (opts.loadData === undefined || opts.loadData === true) for (const t of tensors) void t.data;
    return { root: value, tensors };
  });
}

/** Checks a storage's record (present, exactly the right size) and reads it if asked. */
export function attachZipRecord(zip: ZipReader, record: string, s: TorchStorage, opts: TorchLoadOptions): void {
  const e = zip.get(record);
  if (!e) throw new Error(`record ${record} is missing`);
  if (e.size !== s.byteLength) {
    throw new Error(`record ${record} holds ${e.size} bytes, its storage of ${s.numel} ${s.dtype} needs ${s.byteLength}`);
  }
  if (opts.loadData === 'lazy') {
    const file = zip.path;
    s.loader = () => {
      const z = ZipReader.open(file);
      try {
        const again = z.get(record);
        if (!again || again.size !== s.byteLength) throw new Error(`${file}: record ${record} changed since the file was opened`);
        return z.read(again);
      } finally {
        z.close();
      }
    };
  } else if (opts.loadData !== false) {
    s.bytes = zip.read(e);
  }
}

export function checkByteOrder(zip: ZipReader, prefix: string): void {
  // Written by PyTorch 1.13+ (absent before, meaning little-endian).
  const e = zip.get(`${prefix}/byteorder`);
  if (e && zip.read(e, { bytes: CHECKPOINT_LIMITS.maxSmallRecordBytes, what: 'byteorder record' }).toString('latin1').trim() !== 'little') throw new Error('big-endian checkpoints are not supported');
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

/** Reads a legacy-layout file (before PyTorch 1.6, or `_use_new_zipfile_serialization=False`). */
export function loadTorchLegacy(file: string, opts: TorchLoadOptions = {}): TorchLoadResult {
  return withFile(file, () => {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const tensors: TorchTensor[] = [];
      const storages = new Map<string, TorchStorage>();
      const pickles = readLegacyPickles(fd, size, file, tensors, storages);
      // After the pickles, each storage in key-list order: an int64 element count, then the bytes.
      let pos = pickles.end;
      for (const key of pickles.keys) {
        const s = storages.get(key);
        if (!s) throw new Error(`storage ${key} is listed but no tensor uses it`);
        if (pos + 8 > size) throw new Error(`file ends at byte ${size}, before storage ${key}`);
        const count = readAt(fd, pos, 8, file, `size of storage ${key}`).readBigInt64LE(0);
        if (count !== BigInt(s.numel)) throw new Error(`storage ${key} holds ${count} elements, its id says ${s.numel}`);
        pos += 8;
        if (pos + s.byteLength > size) throw new Error(`storage ${key} needs bytes [${pos}, ${pos + s.byteLength}), the file ends at ${size} (truncated?)`);
        if (opts.loadData === 'lazy') {
          const at = pos;
          s.loader = () => {
            const fd2 = fs.openSync(file, 'r');
            try { return readAt(fd2, at, s.byteLength, file, `storage ${key}`); } finally { fs.closeSync(fd2); }
          };
        } else if (opts.loadData !== false) {
          s.bytes = readAt(fd, pos, s.byteLength, file, `storage ${key}`);
        }
        pos += s.byteLength;
      }
      const listed = new Set(pickles.keys);
      for (const key of storages.keys()) {
        if (!listed.has(key)) throw new Error(`storage ${key} has no data in the file`);
      }
      if (opts.loadData === undefined || opts.loadData === true) for (const t of tensors) void t.data;
      return { root: pickles.root, tensors };
    } finally {
      fs.closeSync(fd);
    }
  });
}

/**
 * The five pickles. Their total length is only known by parsing them, so they are parsed from a
 * window at the start of the file that grows until they fit; the storages after them are never
 * read into that window.
 */
function readLegacyPickles(fd: number, size: number, file: string, tensors: TorchTensor[], storages: Map<string, TorchStorage>) {
  const max = Math.min(size, CHECKPOINT_LIMITS.maxPickleBytes);
  for (let window = Math.min(max, 1 << 20); ; window = Math.min(max, window * 4)) {
    const buf = readAt(fd, 0, window, file, 'pickles');
    tensors.length = 0;
    storages.clear();
    try {
      return parseLegacyPickles(buf, tensors, storages);
    } catch (e) {
      if (window < max && e instanceof PickleError && e.truncated) continue;
      if (window < size && e instanceof PickleError && e.truncated) throw new Error(`the pickles take more than ${max} bytes (the limit for a pickle)`);
      throw e;
    }
  }
}

function parseLegacyPickles(buf: Uint8Array, tensors: TorchTensor[], storages: Map<string, TorchStorage>) {
  const plain = { resolveGlobal: () => undefined };
  let magic: { value: PyValue; end: number };
  try {
    magic = unpickle(buf, plain, 0);
  } catch {
    // The window always holds the 13 bytes of a real magic pickle, so this is not a retry case.
    throw new Error('not a PyTorch checkpoint: invalid magic number');
  }
  if (magic.value !== LEGACY_MAGIC) throw new Error('not a PyTorch checkpoint: invalid magic number');
  const proto = unpickle(buf, plain, magic.end);
  if (proto.value !== LEGACY_PROTOCOL) throw new Error(`unsupported legacy format version ${String(proto.value)}`);
  const info = unpickle(buf, plain, proto.end);
  if (info.value instanceof PyDict && info.value.get('little_endian') === false) throw new Error('big-endian checkpoints are not supported');
  const obj = unpickle(buf, {
    resolveGlobal: resolver(plainGlobals(tensors)),
    persistentLoad: storageLoader((s) => storages.set(s.key, s), true),
  }, info.end);
  const keyList = unpickle(buf, plain, obj.end);
  if (!Array.isArray(keyList.value) || !keyList.value.every((k) => typeof k === 'string')) throw new Error('storage key list is not a list of strings');
  return { root: obj.value, keys: keyList.value as string[], end: keyList.end };
}

function int(v: PyValue, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new Error(`${what} is ${describe(v)}, not an int`);
  return v;
}

function ints(v: PyValue, what: string): number[] {
  if (!(v instanceof PyTuple)) throw new Error(`${what} is ${describe(v)}, not a tuple`);
  return v.items.map((x) => int(x, what));
}

function bool(v: PyValue, what: string): boolean {
  if (typeof v !== 'boolean') throw new Error(`${what} is ${describe(v)}, not a bool`);
  return v;
}
