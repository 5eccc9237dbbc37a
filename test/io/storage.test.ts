// Strided views made contiguous: the fast paths (whole storage, contiguous runs) and the element
// path agree with a plain per-element reference on random views of every element size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gather, makeTensor, TorchStorage } from '../../src/io/checkpoint/storage.js';

/** The definition: element (i0, i1, …) is storage element offset + Σ ik·stride_k. */
function reference(src: Uint8Array, item: number, offset: number, shape: number[], stride: number[]): Uint8Array {
  const numel = shape.reduce((a, b) => a * b, 1);
  const out = new Uint8Array(numel * item);
  const idx = new Array<number>(shape.length).fill(0);
  for (let n = 0; n < numel; n++) {
    let e = offset;
    for (let k = 0; k < shape.length; k++) e += idx[k]! * stride[k]!;
    out.set(src.subarray(e * item, e * item + item), n * item);
    for (let k = shape.length - 1; k >= 0; k--) {
      if (++idx[k]! < shape[k]!) break;
      idx[k] = 0;
    }
  }
  return out;
}

test('gather matches the per-element definition on random views', () => {
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let iter = 0; iter < 2000; iter++) {
    const item = [1, 2, 4, 8][rand(4)]!;
    const ndim = rand(5);
    const shape = Array.from({ length: ndim }, () => rand(5));
    // Strides: a permuted contiguous layout, sometimes with a 0 (expand) or a step.
    const order = [...shape.keys()].sort(() => rand(3) - 1);
    const stride = new Array<number>(ndim).fill(0);
    let s = 1 + rand(2);
    for (const k of order) {
      stride[k] = rand(6) === 0 ? 0 : s;
      s *= Math.max(1, shape[k]!) + rand(2);
    }
    const offset = rand(4);
    const numel = shape.reduce((a, b) => a * b, 1);
    let last = offset;
    for (let k = 0; k < ndim; k++) last += (shape[k]! - 1) * stride[k]!;
    const storageNumel = (numel === 0 ? offset : last) + 1 + rand(3);
    const src = new Uint8Array(storageNumel * item);
    for (let i = 0; i < src.length; i++) src[i] = rand(256);
    const got = gather(src, item, storageNumel, offset, shape, stride);
    const want = reference(src, item, offset, shape, stride);
    assert.deepEqual([...got], [...want], JSON.stringify({ item, shape, stride, offset, storageNumel }));
  }
});

test('views are checked against their storage when built', () => {
  const s = new TorchStorage('F32', '0', 'cpu', 4);
  assert.throws(() => makeTensor(s, 0, [3, 3], [3, 1], false), /reaches element 8 of a 4-element storage/);
  assert.throws(() => makeTensor(s, 4, [1], [1], false), /reaches element 4/);
  assert.throws(() => makeTensor(s, -1, [1], [1], false), /invalid storage offset/);
  assert.throws(() => makeTensor(s, 0, [2], [1, 1], false), /differ in length/);
  assert.throws(() => makeTensor(s, 0, [2], [-1], false), /invalid stride/);
  assert.throws(() => makeTensor(s, 0, [2 ** 60], [1], false), /reaches element|invalid/);
  // Empty views reach nothing, wherever they point (as in PyTorch).
  assert.doesNotThrow(() => makeTensor(s, 4, [0, 5], [5, 1], false));
  assert.doesNotThrow(() => makeTensor(s, 3, [], [], false));
});
