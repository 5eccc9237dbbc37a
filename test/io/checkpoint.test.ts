// Checkpoint readers against the golden set (every read and refuse case), the real LPIPS/DISTS
// weights, and files built here that PyTorch would write or that a hostile party might.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CheckpointError, readCheckpoint, sniffFormat, stateDictFrom } from '../../src/io/checkpoint/index.js';
import { readSafetensorsRaw } from '../../src/io/checkpoint/safetensors.js';
import { TorchTensor } from '../../src/io/checkpoint/storage.js';
import { PyDict } from '../../src/io/checkpoint/pickle.js';
import { checkRead, checkRefuse } from '../../src/parity/kinds/checkpoints.js';
import { CaseContext } from '../../src/parity/context.js';
import type { GoldenCase } from '../../src/parity/registry.js';
import { goldenDir, sharedDir } from '../helpers.js';
import { type FixtureTensor, buildZip, stateDictPickle, tmpDir, torchZip } from './fixtures.js';

const dir = goldenDir('checkpoints');
const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { cases: GoldenCase[] };
const readCases = manifest.cases.filter((c) => c.kind === 'checkpoint.read');
const refuseCases = manifest.cases.filter((c) => c.kind === 'checkpoint.refuse');

/** Runs a case the way the parity runner does, including its "everything was checked" rules. */
function runKind(c: GoldenCase, run: (ctx: CaseContext) => void): string[] {
  const ctx = new CaseContext(c, dir);
  try {
    run(ctx);
    const missing = ctx.outputNames().filter((n) => !ctx.comparedOutputs.has(n));
    if (missing.length) ctx.fail(`outputs not checked: ${missing.join(', ')}`);
    const missingExpect = Object.keys(c.expect ?? {}).filter((k) => !ctx.comparedExpect.has(k));
    if (missingExpect.length) ctx.fail(`expect fields not checked: ${missingExpect.join(', ')}`);
    return ctx.failures;
  } finally {
    ctx.dispose();
  }
}

test('the manifest has the 32 cases the README lists', () => {
  assert.equal(manifest.cases.length, 32);
  assert.equal(readCases.length, 16);
  assert.equal(refuseCases.length, 16);
});

for (const c of readCases) {
  test(`golden read ${c.name}: tensors bit for bit and every expect field`, () => {
    assert.deepEqual(runKind(c, checkRead), []);
  });
}

for (const c of refuseCases) {
  test(`golden refuse ${c.name} (${String(c.params.reason)})`, () => {
    assert.deepEqual(runKind(c, checkRefuse), []);
    // Also without reading tensor data, as inspect does, and again in a fresh empty cwd.
    const file = path.resolve(dir, String(c.params.path));
    const cwd = process.cwd();
    const tmp = tmpDir('vpdsr-refuse-');
    process.chdir(tmp);
    try {
      assert.throws(() => readCheckpoint(file, { loadData: false }), (e: Error) => {
        assert.ok(e instanceof CheckpointError, String(e));
        assert.ok(!e.message.includes('\n'));
        if (c.params.reason === 'global') {
          assert.ok(e.message.includes(String(c.params.global)), e.message);
          assert.equal(e.refusedGlobal, c.params.global);
        }
        return true;
      });
    } finally {
      process.chdir(cwd);
    }
    assert.deepEqual(fs.readdirSync(tmp), [], 'nothing appeared in the working directory');
    if (c.params.marker) assert.equal(fs.existsSync(path.join(cwd, String(c.params.marker))), false);
  });
}

const weights = {
  'lpips/v0.1/alex.pth': { type: 'OrderedDict', shapes: [[1, 64, 1, 1], [1, 192, 1, 1], [1, 384, 1, 1], [1, 256, 1, 1], [1, 256, 1, 1]] },
  'lpips/v0.1/vgg.pth': { type: 'OrderedDict', shapes: [[1, 64, 1, 1], [1, 128, 1, 1], [1, 256, 1, 1], [1, 512, 1, 1], [1, 512, 1, 1]] },
  'lpips/v0.1/squeeze.pth': { type: 'OrderedDict', shapes: [[1, 64, 1, 1], [1, 128, 1, 1], [1, 256, 1, 1], [1, 384, 1, 1], [1, 384, 1, 1], [1, 512, 1, 1], [1, 512, 1, 1]] },
} as const;

for (const [rel, want] of Object.entries(weights)) {
  test(`real LPIPS weights ${rel}: Python 2 legacy pickle with cuda:0 storages`, () => {
    const ckpt = readCheckpoint(path.join(sharedDir, 'weights', rel));
    assert.equal(ckpt.format, 'legacy');
    assert.ok(ckpt.root instanceof PyDict);
    assert.equal(ckpt.root.type, want.type);
    assert.deepEqual([...ckpt.root.attrs.keys()], ['_metadata']);
    const sd = stateDictFrom(ckpt);
    assert.deepEqual([...sd.keys()], want.shapes.map((_, i) => `lin${i}.model.1.weight`));
    [...sd.values()].forEach((t, i) => {
      assert.equal(t.dtype, 'F32');
      assert.deepEqual(t.shape, want.shapes[i]);
    });
    for (const t of ckpt.tensors.values()) assert.equal(t.storage.location, 'cuda:0');
  });
}

test('real DISTS weights: plain dict of alpha and beta [1, 1475, 1, 1]', () => {
  const ckpt = readCheckpoint(path.join(sharedDir, 'weights/dists/weights.pt'));
  assert.equal(ckpt.format, 'legacy');
  assert.ok(ckpt.root instanceof PyDict && ckpt.root.type === 'dict');
  const sd = stateDictFrom(ckpt);
  assert.deepEqual([...sd.keys()], ['alpha', 'beta']);
  const expected = readSafetensorsRaw(path.join(dir, 'read/weights-dists.expected.safetensors')).tensors;
  for (const [k, t] of sd) {
    assert.deepEqual(t.shape, [1, 1475, 1, 1]);
    assert.equal(Buffer.compare(Buffer.from(t.data), Buffer.from(expected.get(`out.${k}`)!.data)), 0);
  }
});

test('stateDictFrom unwraps state_dict / params_ema and strips module. and _orig_mod.', () => {
  const basic = [...stateDictFrom(readCheckpoint(path.join(dir, 'read/basic_zip.pt'))).keys()];
  const train = stateDictFrom(readCheckpoint(path.join(dir, 'read/train_module_zip.pth')));
  assert.deepEqual([...train.keys()], basic);
  const orig = readCheckpoint(path.join(dir, 'read/orig_mod_zip.pth'));
  assert.deepEqual([...stateDictFrom(orig, { unwrap: ['state_dict', 'params_ema'] }).keys()], basic);
  // Without unwrapping, keys keep their container path; prefixes only strip at the front.
  assert.ok([...stateDictFrom(orig).keys()].every((k) => k.startsWith('params_ema._orig_mod.')));
  assert.deepEqual([...stateDictFrom(readCheckpoint(path.join(dir, 'read/train_module_zip.pth')), { stripPrefixes: [] }).keys()], basic.map((k) => `module.${k}`));
});

test('TorchScript: constants.pkl is read from its own key space; plain tensor attributes stay out', () => {
  const traced = readCheckpoint(path.join(dir, 'read/traced_ts.pt'));
  assert.equal(traced.constants.length, 4);
  assert.ok(traced.constants.every((t) => t instanceof TorchTensor));
  const scripted = readCheckpoint(path.join(dir, 'read/scripted_ts.pt'));
  assert.equal(scripted.format, 'torchscript');
  assert.ok(!scripted.tensors.has('plain') && !scripted.tensors.has('extra.0'));
  // The same weights either way.
  for (const [k, t] of scripted.tensors) assert.equal(Buffer.compare(Buffer.from(t.data), Buffer.from(traced.tensors.get(k)!.data)), 0, k);
});

test('loadData: false gives names, dtypes and shapes without reading tensor bytes', () => {
  const ckpt = readCheckpoint(path.join(dir, 'read/views_legacy.pt'), { loadData: false });
  assert.ok(ckpt.tensors.size > 0);
  const t = ckpt.tensors.values().next().value!;
  assert.throws(() => t.data, /not loaded/);
});

test('sniffing goes by content, not file name', () => {
  const tmp = tmpDir();
  for (const [src, fmt] of [['read/basic_zip.pt', 'zip'], ['read/basic_legacy.pt', 'legacy'], ['read/traced_ts.pt', 'torchscript'], ['read/basic_zip.pt.expected.safetensors', 'safetensors']] as const) {
    const f = path.join(tmp, `renamed-${fmt}.bin`);
    fs.copyFileSync(path.join(dir, src), f);
    assert.equal(sniffFormat(f), fmt);
    assert.equal(readCheckpoint(f).format, fmt);
  }
  const text = path.join(tmp, 'notes.pth');
  fs.writeFileSync(text, 'hello\n');
  assert.throws(() => readCheckpoint(text), /notes\.pth: not a checkpoint \(text\)/);
  assert.throws(() => readCheckpoint(path.join(tmp, 'missing.pt')), /missing\.pt.*ENOENT|no such file/);
});

const f32 = (...v: number[]): Uint8Array => new Uint8Array(Float32Array.from(v).buffer);

test('a file built like torch.save: shared storage, strided views, deflated records, ZIP64', () => {
  const base = f32(0, 1, 2, 3, 4, 5);
  const tensors: Record<string, FixtureTensor> = {
    whole: { storageClass: 'FloatStorage', data: base, numel: 6, size: [2, 3], stride: [3, 1], storageKey: 's' },
    transposed: { storageClass: 'FloatStorage', data: base, numel: 6, size: [3, 2], stride: [1, 3], storageKey: 's' },
    tail: { storageClass: 'FloatStorage', data: base, numel: 6, offset: 4, size: [2], stride: [1], storageKey: 's' },
    zero_stride: { storageClass: 'FloatStorage', data: base, numel: 6, offset: 1, size: [2, 2], stride: [0, 2], storageKey: 's' },
  };
  const tmp = tmpDir();
  const plain = path.join(tmp, 'views.pt');
  fs.writeFileSync(plain, torchZip('views', tensors));
  const deflated = path.join(tmp, 'deflated.pt');
  fs.writeFileSync(deflated, buildZip([
    { name: 'd/data.pkl', data: stateDictPickle(tensors), deflate: true },
    { name: 'd/data/s', data: base, deflate: true },
    { name: 'd/byteorder', data: Buffer.from('little') },
    { name: 'd/.data/serialization_id', data: Buffer.from('123') },
    { name: 'd/version', data: Buffer.from('3\n') },
  ]));
  for (const file of [plain, deflated]) {
    const ckpt = readCheckpoint(file);
    const vals = (k: string): number[] => {
      const d = ckpt.tensors.get(k)!.data;
      return [...new Float32Array(d.buffer, d.byteOffset, d.byteLength / 4)];
    };
    assert.deepEqual(vals('whole'), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(vals('transposed'), [0, 3, 1, 4, 2, 5]);
    assert.deepEqual(vals('tail'), [4, 5]);
    assert.deepEqual(vals('zero_stride'), [1, 3, 1, 3]);
    const storages = new Set([...ckpt.tensors.values()].map((t) => t.storage));
    assert.equal(storages.size, 1, 'one storage, loaded once');
  }
});

test('damaged archives are refused without reading outside the file', () => {
  const tmp = tmpDir();
  const good = torchZip('g', { w: { storageClass: 'FloatStorage', data: f32(1, 2, 3, 4), numel: 4, size: [4], stride: [1] } });
  const write = (name: string, bytes: Uint8Array): string => {
    const f = path.join(tmp, name);
    fs.writeFileSync(f, bytes);
    return f;
  };
  // Flip a byte of the storage: the CRC-32 in the central directory no longer matches.
  const crc = Buffer.from(good);
  const at = crc.indexOf(Buffer.from(f32(1, 2, 3, 4)));
  crc[at] ^= 1;
  assert.throws(() => readCheckpoint(write('crc.pt', crc)), /CRC-32/);
  // Point the central directory's first entry at a local header past the end of the file.
  const oob = Buffer.from(good);
  const first = oob.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  assert.ok(first > 0);
  oob.writeUInt32LE(0x7ffffff0, first + 42);
  assert.throws(() => readCheckpoint(write('oob.pt', oob)), /corrupt zip/);
  // A central directory that claims more entries than it can hold.
  const many = Buffer.from(good);
  many.writeBigUInt64LE(1n << 40n, many.length - 22 - 20 - 56 + 32);
  assert.throws(() => readCheckpoint(write('many.pt', many)), /corrupt zip/);
  // Duplicate entry names.
  const dup = buildZip([
    { name: 'x/data.pkl', data: stateDictPickle({}) },
    { name: 'x/data.pkl', data: stateDictPickle({}) },
  ]);
  assert.throws(() => readCheckpoint(write('dup.pt', dup)), /appears twice/);
  // A storage whose pickle numel disagrees with the bytes in its record.
  const short = torchZip('s', { w: { storageClass: 'FloatStorage', data: f32(1, 2, 3), numel: 4, size: [3], stride: [1] } });
  assert.throws(() => readCheckpoint(write('short.pt', short)), /holds 12 bytes.*needs 16/);
  // A view that reaches past its storage.
  const view = torchZip('v', { w: { storageClass: 'FloatStorage', data: f32(1, 2, 3, 4), numel: 4, offset: 2, size: [3], stride: [1] } });
  assert.throws(() => readCheckpoint(write('view.pt', view)), /reaches element 4 of a 4-element storage/);
  // Every prefix of a good file is refused cleanly (no hang, no crash, one line).
  for (let n = 0; n < good.length; n += 97) {
    assert.throws(() => readCheckpoint(write(`cut${n}.pt`, good.subarray(0, n))), (e: Error) => e instanceof CheckpointError && !e.message.includes('\n'));
  }
});

test('a large zip checkpoint loads quickly and exactly', () => {
  const n = 32 << 20; // 128 MiB of float32 across 4 tensors
  const tensors: Record<string, FixtureTensor> = {};
  for (let i = 0; i < 4; i++) {
    const data = new Uint8Array(n);
    for (let j = 0; j < n; j += 65536) data[j] = i + 1;
    tensors[`layer${i}.weight`] = { storageClass: 'FloatStorage', data, numel: n / 4, size: [n / 16, 4], stride: [4, 1] };
  }
  const file = path.join(tmpDir(), 'big.pth');
  fs.writeFileSync(file, torchZip('archive', tensors));
  const t0 = performance.now();
  const ckpt = readCheckpoint(file);
  const seconds = (performance.now() - t0) / 1000;
  assert.equal(ckpt.tensors.size, 4);
  for (const [k, t] of ckpt.tensors) assert.equal(Buffer.compare(Buffer.from(t.data), Buffer.from(tensors[k]!.data)), 0);
  // Generous: a per-element JS loop would take several seconds here; Buffer copies take well under one.
  assert.ok(seconds < 5, `took ${seconds.toFixed(2)} s`);
});
