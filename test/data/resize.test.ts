// Resize conventions against independent float64 references written from the spec's formulas
// (MODEL_SPEC_7 §7.x.1, §7.x.3), plus properties and argument checks. The golden cases run in
// test/parity.test.ts; these cover other sizes and scales.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/engine/index.js';
import { Tensor } from '../../src/engine/index.js';
import { imresize, imresizeHWC, calculateWeightsIndices, resizeArea, resizeAreaHWC, resizeTorch, bicubic } from '../../src/data/resize.js';

function rand(shape: number[], seed: number): Tensor {
  return torch.rand(shape, { generator: new torch.Generator(seed) });
}

/** Keys cubic a = −0.5. */
function cubic(t: number): number {
  const a = Math.abs(t);
  if (a <= 1) return 1.5 * a ** 3 - 2.5 * a ** 2 + 1;
  if (a <= 2) return -0.5 * a ** 3 + 2.5 * a ** 2 - 4 * a + 2;
  return 0;
}

/** MATLAB imresize bicubic along one axis, float64, straight from the spec (mirror = symmetric edge repeat). */
function matlabAxis(src: Float64Array, n: number, scale: number, aa: boolean): Float64Array {
  const out = Math.ceil(n * scale);
  const width = scale < 1 && aa ? 4 / scale : 4;
  const res = new Float64Array(out);
  for (let i = 1; i <= out; i++) {
    const u = i / scale + 0.5 * (1 - 1 / scale);
    const left = Math.floor(u - width / 2);
    const p = Math.ceil(width) + 2;
    let s = 0, wsum = 0;
    for (let k = 0; k < p; k++) {
      const idx = left + k;
      const w = scale < 1 && aa ? scale * cubic(scale * (u - idx)) : cubic(u - idx);
      let j = idx - 1; // 0-based
      if (j < 0) j = -j - 1;
      if (j >= n) j = 2 * n - 1 - j;
      s += w * src[j]!;
      wsum += w;
    }
    res[i - 1] = s / wsum;
  }
  return res;
}

function matlabRef(img: Float32Array, c: number, h: number, w: number, scale: number, aa: boolean): { data: Float64Array; oh: number; ow: number } {
  const oh = Math.ceil(h * scale), ow = Math.ceil(w * scale);
  const tmp = new Float64Array(c * oh * w);
  for (let ch = 0; ch < c; ch++) for (let x = 0; x < w; x++) {
    const col = new Float64Array(h);
    for (let y = 0; y < h; y++) col[y] = img[ch * h * w + y * w + x]!;
    const r = matlabAxis(col, h, scale, aa);
    for (let y = 0; y < oh; y++) tmp[ch * oh * w + y * w + x] = r[y]!;
  }
  const out = new Float64Array(c * oh * ow);
  for (let ch = 0; ch < c; ch++) for (let y = 0; y < oh; y++) {
    const row = tmp.subarray(ch * oh * w + y * w, ch * oh * w + (y + 1) * w);
    const r = matlabAxis(new Float64Array(row), w, scale, aa);
    out.set(r, ch * oh * ow + y * ow);
  }
  return { data: out, oh, ow };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

test('imresize matches a float64 MATLAB-bicubic reference at scales the golden set does not cover', () => {
  torch.scope(() => {
    const [c, h, w] = [2, 29, 41];
    const img = rand([c, h, w], 7);
    const src = img.toFloat32Array();
    for (const [scale, aa] of [[0.4, true], [0.3, true], [0.8, false], [0.1, false], [1.7, true], [2.5, true], [0.55, true], [1, true]] as const) {
      const got = imresize(img, scale, aa);
      const ref = matlabRef(src, c, h, w, scale, aa);
      assert.deepEqual(got.shape, [c, ref.oh, ref.ow], `scale ${scale}`);
      const d = maxAbsDiff(got.toFloat32Array(), ref.data);
      // float32 coordinates and weights (as upstream) vs float64: the spec expects ~1e-6.
      assert.ok(d < 5e-6, `scale ${scale} aa ${aa}: max |diff| ${d}`);
    }
  });
});

test('imresize: scale 1 is the identity, constants stay constant, batches resize per image', () => {
  torch.scope(() => {
    const img = rand([3, 17, 12], 3);
    assert.equal(imresize(img, 1).sub(img).abs().max().item(), 0);
    const flat = torch.full([1, 20, 30], 0.3);
    for (const s of [0.25, 0.5, 1.5, 3]) {
      const y = imresize(flat, s);
      assert.ok(y.sub(0.3).abs().max().item() < 1e-6, `constant at scale ${s}`);
    }
    const hwc = rand([10, 14, 3], 6);
    assert.equal(imresizeHWC(hwc, 0.5).sub(imresize(hwc.permute([2, 0, 1]), 0.5).permute([1, 2, 0])).abs().max().item(), 0);
    const batch = rand([2, 3, 16, 16], 5);
    const yb = imresize(batch, 0.5);
    assert.deepEqual(yb.shape, [2, 3, 8, 8]);
    assert.ok(yb.select(0, 1).sub(imresize(batch.select(0, 1), 0.5)).abs().max().item() < 1e-7);
  });
});

test('calculateWeightsIndices: rows sum to 1, indices are consecutive and inside the padded input', () => {
  torch.scope(() => {
    for (const [n, s, aa] of [[40, 0.25, true], [40, 0.5, false], [33, 1 / 3, true], [10, 4, false], [25, 2.3, true]] as const) {
      const out = Math.ceil(n * s);
      const r = calculateWeightsIndices(n, out, s, 4, aa);
      const sums = r.weights.sum(1).toFloat32Array();
      for (const v of sums) assert.ok(Math.abs(v - 1) < 1e-5, `row sum ${v}`);
      const idx = r.indices.toArray() as BigInt64Array;
      const t = r.indices.size(1);
      for (let o = 0; o < out; o++) for (let k = 1; k < t; k++) assert.equal(idx[o * t + k]! - idx[o * t + k - 1]!, 1n);
      const lo = Number(idx.reduce((a, b) => (b < a ? b : a))), hi = Number(idx.reduce((a, b) => (b > a ? b : a)));
      assert.equal(lo, 0, 'the first tap of the padded input is used');
      assert.equal(hi, r.symLenS + n + r.symLenE - 1, 'the last tap of the padded input is used');
    }
  });
});

/** Exact box-overlap average along one axis (cv2 INTER_AREA when shrinking, before its 1e-3 cut). */
function boxAxis(src: Float64Array, n: number, out: number): Float64Array {
  const scale = n / out;
  const res = new Float64Array(out);
  for (let d = 0; d < out; d++) {
    const a = d * scale, b = Math.min(a + scale, n);
    let s = 0;
    for (let j = Math.floor(a); j < Math.ceil(b); j++) s += src[j]! * (Math.min(b, j + 1) - Math.max(a, j));
    res[d] = s / (b - a);
  }
  return res;
}

test('resizeArea matches exact box averaging when shrinking, and avgPool2d at integer factors', () => {
  torch.scope(() => {
    const [h, w] = [45, 70];
    const img = rand([3, h, w], 11);
    const src = img.toFloat32Array();
    // out sizes whose cell edges stay ≥ 1e-3 away from pixel edges (no overlap is cut by OpenCV).
    for (const [oh, ow] of [[30, 56], [20, 35], [9, 14], [44, 69]] as const) {
      const got = resizeArea(img, oh, ow).toFloat32Array();
      const ref = new Float64Array(3 * oh * ow);
      for (let c = 0; c < 3; c++) {
        const tmp = new Float64Array(oh * w);
        for (let x = 0; x < w; x++) {
          const col = new Float64Array(h);
          for (let y = 0; y < h; y++) col[y] = src[c * h * w + y * w + x]!;
          boxAxis(col, h, oh).forEach((v, y) => { tmp[y * w + x] = v; });
        }
        for (let y = 0; y < oh; y++) ref.set(boxAxis(tmp.slice(y * w, (y + 1) * w), w, ow), c * oh * ow + y * ow);
      }
      const d = maxAbsDiff(got, ref);
      assert.ok(d < 2e-6, `${h}×${w} → ${oh}×${ow}: max |diff| ${d}`);
    }
    const pooled = torch.avgPool2d(img.unsqueeze(0), 5).squeeze(0);
    assert.ok(resizeArea(img, 9, 14).sub(pooled).abs().max().item() < 1e-6, 'integer factor 5 = avg_pool2d');
  });
});

test('resizeArea enlarging ×2 replicates pixels (OpenCV INTER_AREA upscale), HWC wrapper takes cv2 dsize', () => {
  torch.scope(() => {
    const img = rand([1, 5, 7], 2);
    const up = resizeArea(img, 10, 14);
    const near = torch.interpolate(img.unsqueeze(0), { size: [10, 14], mode: 'nearest' }).squeeze(0);
    assert.equal(up.sub(near).abs().max().item(), 0);
    const hwc = rand([12, 20, 3], 4);
    const out = resizeAreaHWC(hwc, [10, 6]);
    assert.deepEqual(out.shape, [6, 10, 3]);
    assert.ok(out.sub(resizeArea(hwc.permute([2, 0, 1]), 6, 10).permute([1, 2, 0])).abs().max().item() < 1e-7);
  });
});

test('resizeTorch: scale_factor maps with 1/s, not in/out (the §7.5 trap), and takes 3-D input', () => {
  torch.scope(() => {
    const x = rand([3, 46, 62], 9);
    const a = bicubic(x, { scaleFactor: 0.37 });
    const b = bicubic(x, { size: [17, 22] });
    assert.deepEqual(a.shape, [3, 17, 22]);
    assert.ok(a.sub(b).abs().max().item() > 1e-3, 'scale_factor and size differ');
    const same = resizeTorch(x.unsqueeze(0), 'bicubic', { scaleFactor: 0.37 }).squeeze(0);
    assert.equal(a.sub(same).abs().max().item(), 0);
    // keep: scale 1 leaves the image bit for bit (all three pipeline modes)
    for (const mode of ['bicubic', 'bilinear', 'area'] as const) assert.equal(resizeTorch(x, mode, { scaleFactor: 1 }).sub(x).abs().max().item(), 0, mode);
  });
});

test('resize functions refuse bad arguments with errors, not crashes', () => {
  torch.scope(() => {
    const img = rand([3, 8, 8], 1);
    assert.throws(() => imresize(img, 0), /scale/);
    assert.throws(() => imresize(img, NaN), /scale/);
    assert.throws(() => imresize(img, 1e9), /too large/);
    assert.throws(() => imresize(torch.zeros([8, 8]), 0.5), /\[C, H, W\]/);
    assert.throws(() => imresize(torch.zeros([3, 8, 8], { dtype: 'uint8' }), 0.5), /float32/);
    assert.throws(() => imresize(torch.zeros([1, 2, 2]), 0.05), /too small/);
    assert.throws(() => imresize('x' as unknown as Tensor, 2), /Tensor/);
    assert.throws(() => resizeArea(img, 0, 4), /outH/);
    assert.throws(() => resizeArea(img, 4, 2.5), /outW/);
    assert.throws(() => resizeAreaHWC(img, [4] as unknown as [number, number]), /dsize/);
    assert.throws(() => calculateWeightsIndices(0, 4, 0.5), /inLength/);
    const disposed = torch.zeros([3, 4, 4]);
    disposed.dispose();
    assert.throws(() => imresize(disposed, 2), /disposed/);
  });
});
