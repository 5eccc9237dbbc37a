// Golden set `checkpoints` (../shared/golden/checkpoints/README.md): checkpoint.read compares a
// reader's tensors bit for bit and its view of the object tree with what PyTorch loaded;
// checkpoint.refuse feeds hostile and corrupt files and expects a clean refusal.
//
// Nothing here needs the engine: tensors are compared as raw bytes.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type Checkpoint, type CheckpointTensor, readCheckpoint } from '../../io/checkpoint/index.js';
import { type PyValue, PyDict, PyFloat, PyTuple } from '../../io/checkpoint/pickle.js';
import { type RawTensor, type SafeDType } from '../../io/checkpoint/raw.js';
import { readSafetensorsRaw } from '../../io/checkpoint/safetensors.js';
import { TorchTensor } from '../../io/checkpoint/storage.js';
import { walk } from '../../io/checkpoint/tree.js';
import { registerKind } from '../registry.js';
import type { CaseContext } from '../context.js';

/** A JSON value as the golden manifest writes it. */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** One tensor as the manifest describes it. */
export function describeTensors(entries: Iterable<[string, CheckpointTensor]>): Json[] {
  const storageIndex = new Map<object, number>();
  const out: Json[] = [];
  for (const [key, t] of entries) {
    if (!storageIndex.has(t.storage)) storageIndex.set(t.storage, storageIndex.size);
    out.push({
      key, dtype: t.dtype, shape: [...t.shape], stride: [...t.stride], storage_offset: t.storageOffset,
      storage: storageIndex.get(t.storage)!, storage_numel: t.storage.numel,
      requires_grad: t.requiresGrad, parameter: t.parameter,
    });
  }
  return out;
}

/** `expect` of a zip or legacy case: containers, non-tensor values and tensors, from the tree. */
export function describeTree(root: PyValue): { containers: Json; values: Json; tensors: Json } {
  const containers: Record<string, Json> = {};
  const values: Record<string, Json> = {};
  const tensors: [string, CheckpointTensor][] = [];
  walk(root, {
    container: (key, v) => {
      if (v instanceof PyDict) {
        const c: Record<string, Json> = { type: v.type, keys: v.keys().map(jsonKey) };
        if (v.attrs.size > 0) c.attrs = [...v.attrs.keys()];
        containers[key] = c;
      } else {
        containers[key] = { type: v instanceof PyTuple ? 'tuple' : 'list', len: v.length };
      }
    },
    leaf: (key, v) => {
      if (v instanceof TorchTensor) tensors.push([key, v]);
      else values[key] = jsonValue(v);
    },
  });
  return { containers, values, tensors: describeTensors(tensors) };
}

function jsonKey(k: PyValue): Json {
  return typeof k === 'number' || typeof k === 'bigint' ? { int: String(k) } : jsonValue(k);
}

function jsonValue(v: PyValue): Json {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return { int: String(v) };
  if (v instanceof PyFloat) {
    const x = v.value;
    if (Number.isNaN(x)) return { float: 'nan' };
    if (x === Infinity) return { float: 'inf' };
    if (x === -Infinity) return { float: '-inf' };
    if (Object.is(x, -0)) return { float: '-0.0' };
    return { float: x };
  }
  return { unsupported: Object.prototype.toString.call(v) };
}

/** Runs one checkpoint.read case; failures go to ctx. */
export function checkRead(ctx: CaseContext): void {
  const p = ctx.params as { path: string; format: string };
  const ckpt = readCheckpoint(ctx.resolve(p.path));
  if (ckpt.format !== p.format) ctx.fail(`format ${ckpt.format}, expected ${p.format}`);
  compareTensorsBitwise(ctx, ckpt);
  const expect = ctx.case.expect ?? {};
  if (ckpt.format === 'torchscript') {
    const keys = [...ckpt.tensors.keys()];
    ctx.compareValue('state_dict_keys', keys);
    ctx.compareValue('parameters', keys.filter((k) => ckpt.tensors.get(k)!.parameter));
    ctx.compareValue('buffers', keys.filter((k) => !ckpt.tensors.get(k)!.parameter));
    ctx.compareValue('tensors', describeTensors(ckpt.tensors));
  } else {
    const d = describeTree(ckpt.root);
    for (const k of ['containers', 'values', 'tensors'] as const) if (k in expect) compareJson(ctx, k, d[k], expect[k]);
  }
}

/** compareValue compares JSON text, which depends on key order; objects here are unordered maps. */
function compareJson(ctx: CaseContext, key: string, got: Json, expected: unknown): void {
  ctx.compareValue(key, sortKeys(got), sortKeys(expected as Json));
}

function sortKeys(x: Json): Json {
  if (Array.isArray(x)) return x.map(sortKeys);
  if (x && typeof x === 'object') return Object.fromEntries(Object.keys(x).sort().map((k) => [k, sortKeys(x[k]!)]));
  return x;
}

function compareTensorsBitwise(ctx: CaseContext, ckpt: Checkpoint): void {
  if (!ctx.case.file) return;
  const expected = readSafetensorsRaw(ctx.resolve(ctx.case.file)).tensors;
  const seen = new Set<string>();
  for (const [name, exp] of expected) {
    if (!name.startsWith('out.')) continue;
    ctx.markCompared(name.slice(4));
    const key = name.slice(4);
    seen.add(key);
    const got = ckpt.tensors.get(key);
    if (!got) {
      ctx.fail(`${key}: missing`);
      continue;
    }
    const r = compareRaw(got, exp);
    ctx.noteDiff(r.maxDiff);
    if (r.detail) ctx.fail(`${key}: ${r.detail}`);
  }
  for (const key of ckpt.tensors.keys()) if (!seen.has(key)) ctx.fail(`${key}: not among the expected tensors`);
}

/** Bit-for-bit equality; on a mismatch, the largest numeric difference for the report. */
export function compareRaw(got: RawTensor, exp: RawTensor): { maxDiff: number; detail?: string } {
  if (got.dtype !== exp.dtype) return { maxDiff: Infinity, detail: `dtype ${got.dtype}, expected ${exp.dtype}` };
  if (got.shape.join() !== exp.shape.join()) return { maxDiff: Infinity, detail: `shape [${got.shape.join(', ')}], expected [${exp.shape.join(', ')}]` };
  if (Buffer.compare(Buffer.from(got.data.buffer, got.data.byteOffset, got.data.byteLength), Buffer.from(exp.data.buffer, exp.data.byteOffset, exp.data.byteLength)) === 0) {
    return { maxDiff: 0 };
  }
  const a = decode(got), b = decode(exp);
  let maxDiff = 0;
  let differing = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Number.isNaN(a[i]!) && Number.isNaN(b[i]!) ? 0 : Math.abs(a[i]! - b[i]!);
    maxDiff = Math.max(maxDiff, Number.isNaN(d) ? Infinity : d);
    if (d !== 0) differing++;
  }
  return { maxDiff: maxDiff === 0 ? Infinity : maxDiff, detail: `bytes differ (${differing} elements differ in value, max |diff| ${maxDiff}); comparison is bit for bit` };
}

/** Elements as doubles, for reporting only. */
function decode(t: RawTensor): number[] {
  const b = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const n = b.byteLength / ({ F16: 2, BF16: 2, F32: 4, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 } as Record<SafeDType, number>)[t.dtype];
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    switch (t.dtype) {
      case 'F32': out.push(b.readFloatLE(i * 4)); break;
      case 'F64': out.push(b.readDoubleLE(i * 8)); break;
      case 'F16': out.push(half(b.readUInt16LE(i * 2))); break;
      case 'BF16': { const f = Buffer.alloc(4); f.writeUInt32LE(b.readUInt16LE(i * 2) << 16 >>> 0); out.push(f.readFloatLE(0)); break; }
      case 'I64': out.push(Number(b.readBigInt64LE(i * 8))); break;
      case 'I32': out.push(b.readInt32LE(i * 4)); break;
      case 'I16': out.push(b.readInt16LE(i * 2)); break;
      case 'I8': out.push(b.readInt8(i)); break;
      default: out.push(b[i]!);
    }
  }
  return out;
}

function half(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/**
 * Runs one checkpoint.refuse case in a fresh, empty working directory (so that a hostile pickle,
 * if it ever ran, would leave its marker file there) and checks how the reader refused.
 */
export function checkRefuse(ctx: CaseContext): void {
  const p = ctx.params as { path: string; reason: string; global?: string; marker?: string };
  const file = ctx.resolve(p.path);
  const cwd = process.cwd();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vpdsr-refuse-'));
  let error: unknown = null;
  let data: Checkpoint | null = null;
  try {
    process.chdir(tmp);
    try {
      data = readCheckpoint(file);
    } catch (e) {
      error = e;
    }
  } finally {
    process.chdir(cwd);
  }
  try {
    if (p.marker && fs.existsSync(path.join(tmp, p.marker))) ctx.fail(`marker file ${p.marker} appeared: the pickle was executed`);
    if (fs.readdirSync(tmp).length > 0) ctx.fail('the reader wrote into the working directory');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  if (data !== null || error === null) {
    ctx.fail(`read without error (${data?.tensors.size ?? 0} tensors); expected a refusal`);
    return;
  }
  const msg = error instanceof Error ? error.message : String(error);
  if (msg.includes('\n')) ctx.fail(`error is not one line: ${JSON.stringify(msg)}`);
  if (!msg.includes(file)) ctx.fail(`error does not name the file: ${msg}`);
  if (p.reason === 'global' && p.global) {
    if (!msg.includes(p.global)) ctx.fail(`error does not name ${p.global}: ${msg}`);
    // The read must have stopped at that GLOBAL itself, not failed later for another reason.
    const refused = (error as { refusedGlobal?: unknown }).refusedGlobal;
    if (refused !== p.global) ctx.fail(`refused global is ${String(refused)}, expected ${p.global}`);
  }
}

registerKind('checkpoint.read', checkRead);
registerKind('checkpoint.refuse', checkRefuse);
