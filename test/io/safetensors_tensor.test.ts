// The engine side of safetensors: engine tensors in and out, bit for bit, views made contiguous.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as torch from '../../src/engine/index.js';
import { loadSafetensors, rawToTensor, saveSafetensors, tensorToRaw } from '../../src/io/checkpoint/tensors.js';
import { readSafetensorsRaw } from '../../src/io/checkpoint/safetensors.js';
import type { RawTensor } from '../../src/io/checkpoint/raw.js';
import { tmpDir } from './fixtures.js';

const u32 = (...v: number[]): Uint8Array => new Uint8Array(Uint32Array.from(v).buffer);

test('engine tensors of every dtype survive save and load bit for bit', () => {
  torch.scope(() => {
    const raws: Record<string, RawTensor> = {
      f32: { dtype: 'F32', shape: [2, 2], data: u32(0x80000000, 0x00000001, 0x7fc12345, 0xff800000) },
      f64: { dtype: 'F64', shape: [1], data: new Uint8Array(new BigUint64Array([0x7ff0000000000abcn]).buffer) },
      f16: { dtype: 'F16', shape: [2], data: new Uint8Array(new Uint16Array([0x8000, 0x0001]).buffer) },
      bf16: { dtype: 'BF16', shape: [2], data: new Uint8Array(new Uint16Array([0x7f80, 0x0001]).buffer) },
      i64: { dtype: 'I64', shape: [1], data: new Uint8Array(new BigInt64Array([-(2n ** 63n)]).buffer) },
      i32: { dtype: 'I32', shape: [1], data: u32(0x80000000) },
      i16: { dtype: 'I16', shape: [1], data: new Uint8Array([0x00, 0x80]) },
      i8: { dtype: 'I8', shape: [2], data: new Uint8Array([0x80, 0x7f]) },
      u8: { dtype: 'U8', shape: [2], data: new Uint8Array([0, 255]) },
      bool: { dtype: 'BOOL', shape: [2], data: new Uint8Array([1, 0]) },
      scalar: { dtype: 'F32', shape: [], data: u32(0x3f800000) },
      empty: { dtype: 'F32', shape: [0, 3], data: new Uint8Array(0) },
    };
    const tensors = new Map(Object.entries(raws).map(([k, r]) => [k, rawToTensor(r)]));
    for (const [k, t] of tensors) assert.equal(t.dtype, torch.parseDType(raws[k]!.dtype));
    const file = path.join(tmpDir(), 't.safetensors');
    saveSafetensors(file, tensors, { note: 'engine' });
    const back = loadSafetensors(file);
    for (const [k, r] of Object.entries(raws)) {
      const got = tensorToRaw(back.get(k)!);
      assert.equal(got.dtype, r.dtype, k);
      assert.deepEqual(got.shape, r.shape, k);
      assert.deepEqual([...got.data], [...r.data], k);
    }
    assert.equal(readSafetensorsRaw(file).metadata.note, 'engine');
  });
});

test('a non-contiguous tensor is saved in row-major order', () => {
  torch.scope(() => {
    const x = torch.arange(6, undefined, 1, { dtype: 'float32' }).reshape([2, 3]).t();
    assert.equal(x.isContiguous(), false);
    const file = path.join(tmpDir(), 'v.safetensors');
    saveSafetensors(file, { x });
    const r = readSafetensorsRaw(file).tensors.get('x')!;
    assert.deepEqual(r.shape, [3, 2]);
    assert.deepEqual([...new Float32Array(r.data.buffer, r.data.byteOffset, 6)], [0, 3, 1, 4, 2, 5]);
  });
});
