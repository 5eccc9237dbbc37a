// safetensors read/write without the engine: every dtype bit for bit, metadata, layout, and
// refusal of truncated and hostile headers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SafetensorsFile, readSafetensorsRaw, writeSafetensorsRaw } from '../../src/io/checkpoint/safetensors.js';
import { type RawTensor, type SafeDType, SAFE_ITEM_SIZE, dtypeToSafe, safeToDType } from '../../src/io/checkpoint/raw.js';
import { sharedDir } from '../helpers.js';
import { tmpDir } from './fixtures.js';

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);
const u16 = (...v: number[]): Uint8Array => new Uint8Array(Uint16Array.from(v).buffer);
const u32 = (...v: number[]): Uint8Array => new Uint8Array(Uint32Array.from(v).buffer);
const u64 = (...v: bigint[]): Uint8Array => new Uint8Array(BigUint64Array.from(v).buffer);

/** One tensor per dtype, with the values that break careless readers. */
function everyDType(): Map<string, RawTensor> {
  return new Map<string, RawTensor>([
    // +0, -0, smallest subnormal, quiet NaN with payload, signalling NaN, -inf
    ['f32', { dtype: 'F32', shape: [2, 3], data: u32(0x00000000, 0x80000000, 0x00000001, 0x7fc12345, 0x7f800001, 0xff800000) }],
    ['f64', { dtype: 'F64', shape: [3], data: u64(0x8000000000000000n, 0x0000000000000001n, 0x7ff0000000000abcn) }],
    // -0, smallest subnormal, 65504 (max), NaN with payload
    ['f16', { dtype: 'F16', shape: [4], data: u16(0x8000, 0x0001, 0x7bff, 0x7e01) }],
    ['bf16', { dtype: 'BF16', shape: [2, 2], data: u16(0x8000, 0x0001, 0x7f80, 0x7fc1) }],
    ['i64', { dtype: 'I64', shape: [3], data: u64(0x8000000000000000n, 0x7fffffffffffffffn, 0x20000000000001n) }],
    ['i32', { dtype: 'I32', shape: [2], data: u32(0x80000000, 0x7fffffff) }],
    ['i16', { dtype: 'I16', shape: [2], data: u16(0x8000, 0x7fff) }],
    ['i8', { dtype: 'I8', shape: [3], data: bytes(0x80, 0x7f, 0xff) }],
    ['u8', { dtype: 'U8', shape: [1, 2], data: bytes(0, 255) }],
    ['bool', { dtype: 'BOOL', shape: [3], data: bytes(1, 0, 1) }],
    ['scalar', { dtype: 'F32', shape: [], data: u32(0x3f800000) }],
    ['empty', { dtype: 'F32', shape: [0], data: new Uint8Array(0) }],
    ['empty2', { dtype: 'BF16', shape: [3, 0], data: new Uint8Array(0) }],
  ]);
}

test('every dtype round-trips bit for bit, with metadata', () => {
  const dir = tmpDir();
  const file = path.join(dir, 'all.safetensors');
  const tensors = everyDType();
  const meta = { source: 'test', 'ключ': 'значение ✓', __proto__x: 'y', '0': 'index-like key' };
  writeSafetensorsRaw(file, tensors, meta);
  const back = readSafetensorsRaw(file);
  assert.deepEqual(back.metadata, meta);
  assert.equal(back.tensors.size, tensors.size);
  for (const [name, t] of tensors) {
    const got = back.tensors.get(name);
    assert.ok(got, name);
    assert.equal(got.dtype, t.dtype, name);
    assert.deepEqual(got.shape, t.shape, name);
    assert.equal(Buffer.compare(Buffer.from(got.data), Buffer.from(t.data)), 0, `${name} bytes`);
  }
  assert.deepEqual(fs.readdirSync(dir), ['all.safetensors'], 'no temporary file left behind');
});

test('the writer pads the header to 8 bytes with spaces and aligns every tensor', () => {
  const dir = tmpDir();
  const file = path.join(dir, 'a.safetensors');
  writeSafetensorsRaw(file, everyDType(), { k: 'v' });
  const buf = fs.readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  assert.equal(n % 8, 0);
  const header = buf.toString('utf8', 8, 8 + n);
  assert.match(header, /^\{.*\} *$/);
  const json = JSON.parse(header) as Record<string, { dtype: SafeDType; data_offsets: [number, number] }>;
  assert.deepEqual(Object.keys(json)[0], '__metadata__');
  for (const [name, e] of Object.entries(json)) {
    if (name === '__metadata__') continue;
    assert.equal(e.data_offsets[0] % SAFE_ITEM_SIZE[e.dtype], 0, `${name} aligned`);
  }
});

test('a record of tensors and an existing target are accepted; the target is replaced atomically', () => {
  const dir = tmpDir();
  const file = path.join(dir, 'r.safetensors');
  fs.writeFileSync(file, 'old contents');
  writeSafetensorsRaw(file, { x: { dtype: 'U8', shape: [2], data: bytes(1, 2) } });
  const f = SafetensorsFile.open(file);
  try {
    assert.deepEqual(f.names(), ['x']);
    assert.deepEqual(f.metadata, {});
    assert.deepEqual(f.info('x'), { dtype: 'U8', shape: [2], byteLength: 2 });
    assert.deepEqual([...f.readRaw('x').data], [1, 2]);
    assert.throws(() => f.readRaw('nope'), /no tensor named "nope"/);
  } finally {
    f.close();
  }
  assert.deepEqual(fs.readdirSync(dir), ['r.safetensors']);
});

test('the writer refuses inconsistent tensors and leaves nothing behind', () => {
  const dir = tmpDir();
  const file = path.join(dir, 'bad.safetensors');
  assert.throws(() => writeSafetensorsRaw(file, { x: { dtype: 'F32', shape: [3], data: bytes(1, 2) } }), /needs 12 bytes, data has 2/);
  assert.throws(() => writeSafetensorsRaw(file, { x: { dtype: 'X9' as SafeDType, shape: [1], data: bytes(1) } }), /unknown dtype/);
  assert.throws(() => writeSafetensorsRaw(file, { __metadata__: { dtype: 'U8', shape: [1], data: bytes(1) } }), /cannot be named/);
  assert.throws(() => writeSafetensorsRaw(file, {}, { n: 1 as unknown as string }), /must be a string/);
  assert.deepEqual(fs.readdirSync(dir), []);
});

test('dtype names map both ways', () => {
  for (const d of Object.keys(SAFE_ITEM_SIZE) as SafeDType[]) assert.equal(dtypeToSafe(safeToDType(d)), d);
  assert.equal(safeToDType('BF16'), 'bfloat16');
  assert.equal(dtypeToSafe('int64'), 'I64');
});

test('tensors are read one at a time at their offsets, not the whole file', () => {
  const dir = tmpDir();
  const file = path.join(dir, 'big.safetensors');
  const big = new Uint8Array(64 << 20); // 64 MiB of F32
  for (let i = 0; i < big.length; i += 4096) big[i] = (i >> 12) & 0xff;
  writeSafetensorsRaw(file, { big: { dtype: 'F32', shape: [big.length / 4], data: big }, small: { dtype: 'U8', shape: [3], data: bytes(7, 8, 9) } });
  const f = SafetensorsFile.open(file);
  try {
    assert.deepEqual([...f.readRaw('small').data], [7, 8, 9]);
    const b = f.readRaw('big').data;
    assert.equal(b.byteLength, big.byteLength);
    assert.equal(Buffer.compare(Buffer.from(b), Buffer.from(big)), 0);
    assert.equal(b.byteOffset % 8, 0);
  } finally {
    f.close();
  }
});

/** Writes a file from a header object (or text) and data bytes. */
function handMade(dir: string, header: unknown, data: Uint8Array = new Uint8Array(0), lengthOverride?: bigint): string {
  const text = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const n = Buffer.alloc(8);
  n.writeBigUInt64LE(lengthOverride ?? BigInt(text.length));
  const file = path.join(dir, `h${Math.random().toString(36).slice(2)}.safetensors`);
  fs.writeFileSync(file, Buffer.concat([n, text, data]));
  return file;
}

test('hostile and truncated files are refused with one clear line naming the file', () => {
  const dir = tmpDir();
  const t = (dtype: string, shape: number[], a: number, b: number) => ({ dtype, shape, data_offsets: [a, b] });
  const cases: [string, string][] = [
    [handMade(dir, {}, new Uint8Array(0), 1n << 62n), 'header length \\d+ exceeds'],
    [handMade(dir, { x: t('F32', [1], 0, 4) }, new Uint8Array(4), 5000n), 'truncated safetensors file'],
    [handMade(dir, '{"x": [1, 2', new Uint8Array(0)), 'not JSON'],
    [handMade(dir, '[1, 2]', new Uint8Array(0)), 'does not start with'],
    [handMade(dir, { x: t('F32', [2], 0, 8) }, new Uint8Array(4)), 'need 8 data bytes, the file has 4'],
    [handMade(dir, { x: t('F32', [1], 0, 4), y: t('F32', [1], 2, 6) }, new Uint8Array(6)), 'overlaps'],
    [handMade(dir, { x: t('F32', [1], 4, 8) }, new Uint8Array(8)), 'belong to no tensor'],
    [handMade(dir, { x: t('F32', [1], 0, 4) }, new Uint8Array(8)), 'cover 4 data bytes, the file has 8'],
    [handMade(dir, { x: t('F32', [3], 0, 8) }, new Uint8Array(8)), 'needs 12 bytes, data_offsets \\[0, 8\\] hold 8'],
    [handMade(dir, { x: t('C64', [1], 0, 8) }, new Uint8Array(8)), 'unsupported dtype "C64"'],
    [handMade(dir, { x: t('F32', [-1], 0, 4) }, new Uint8Array(4)), 'invalid shape'],
    [handMade(dir, { x: t('F32', [1.5], 0, 4) }, new Uint8Array(4)), 'invalid shape'],
    [handMade(dir, { x: t('F32', [1], 8, 4) }, new Uint8Array(8)), 'invalid data_offsets'],
    [handMade(dir, { x: t('U8', [2 ** 40, 2 ** 40], 0, 4) }, new Uint8Array(4)), 'too many elements'],
    [handMade(dir, { x: { dtype: 'F32', shape: [1] } }, new Uint8Array(4)), 'invalid data_offsets'],
    [handMade(dir, { __metadata__: { a: 1 } }), '__metadata__.a is not a string'],
    [handMade(dir, { x: 'nope' }), 'is not an object'],
  ];
  const tiny = path.join(dir, 'tiny.safetensors');
  fs.writeFileSync(tiny, Buffer.from([1, 2, 3]));
  cases.push([tiny, 'too short']);
  const badUtf8 = path.join(dir, 'utf8.safetensors');
  const h = Buffer.from([0x7b, 0xff, 0x7d]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(3n);
  fs.writeFileSync(badUtf8, Buffer.concat([len, h]));
  cases.push([badUtf8, 'not UTF-8']);
  for (const [file, pattern] of cases) {
    assert.throws(() => SafetensorsFile.open(file), (e: Error) => {
      assert.match(e.message, new RegExp(pattern), file);
      assert.ok(e.message.startsWith(`${file}: `), e.message);
      assert.ok(!e.message.includes('\n'), e.message);
      return true;
    });
  }
});

test('the shared NIQE safetensors file reads as the README describes', () => {
  const r = readSafetensorsRaw(path.join(sharedDir, 'weights/niqe/niqe_pris_params.safetensors'));
  assert.deepEqual([...r.tensors.keys()].sort(), ['cov_pris_param', 'gaussian_window', 'mu_pris_param']);
  assert.deepEqual(r.tensors.get('cov_pris_param')!.shape, [36, 36]);
  assert.equal(r.tensors.get('mu_pris_param')!.dtype, 'F64');
  assert.ok(r.metadata.source);
  // The covariance is exactly symmetric (README).
  const c = r.tensors.get('cov_pris_param')!.data;
  const v = new Float64Array(c.buffer, c.byteOffset, 36 * 36);
  for (let i = 0; i < 36; i++) for (let j = 0; j < 36; j++) assert.equal(v[i * 36 + j], v[j * 36 + i]);
});
