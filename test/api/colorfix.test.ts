// --color-fix (issue 8 point 6): AdaIN and wavelet colour fixes against independent f64
// references written from StableSR's colorfix math, and the properties that make them useful.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/engine/index.js';
import { adain, waveletBlur, waveletReconstruction, applyColorFix, resolveColorFix } from '../../src/models/colorfix.js';
import { checkModelJson } from '../../src/models/format.js';
import { bundledModelDir } from '../../src/models/bundled.js';
import fs from 'node:fs';
import path from 'node:path';
import { parseOptions, z } from '../../src/api/options.js';
import { renderFields } from '../../src/api/schema.js';

const parseColorFix = (v?: string): string => parseOptions(z.strictObject({ colorFix: renderFields.colorFix }), v === undefined ? {} : { colorFix: v }, { where: 'colorFix' }).colorFix;

function rand(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; out[i] = s / 2 ** 32; }
  return out;
}

/** wavelet_blur of one channel in f64: 3×3 binomial taps at ±radius, indices clamped (replicate). */
function blurRef(x: Float64Array, h: number, w: number, r: number): Float64Array {
  const k = [0.25, 0.5, 0.25];
  const out = new Float64Array(h * w);
  const at = (y: number, xx: number): number => x[Math.min(Math.max(y, 0), h - 1) * w + Math.min(Math.max(xx, 0), w - 1)]!;
  for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) {
    let v = 0;
    for (let i = -1; i <= 1; i++) for (let j = -1; j <= 1; j++) v += k[i + 1]! * k[j + 1]! * at(y + i * r, xx + j * r);
    out[y * w + xx] = v;
  }
  return out;
}

function lowRef(x: Float64Array, h: number, w: number, levels = 5): Float64Array {
  let img = x;
  for (let i = 0; i < levels; i++) img = blurRef(img, h, w, 2 ** i);
  return img;
}

test('wavelet blur and reconstruction equal an f64 reference (content − low(content) + low(style))', () => {
  const h = 23, w = 37, n = h * w;
  const c = rand(3 * n, 1), s = rand(3 * n, 2);
  torch.scope(() => {
    const ct = torch.fromTypedArray(c, [1, 3, h, w]), st = torch.fromTypedArray(s, [1, 3, h, w]);
    const b = waveletBlur(ct, 4).toFloat32Array();
    const got = waveletReconstruction(ct, st).toFloat32Array();
    let maxB = 0, maxR = 0;
    for (let ch = 0; ch < 3; ch++) {
      const cc = Float64Array.from(c.subarray(ch * n, (ch + 1) * n)), ss = Float64Array.from(s.subarray(ch * n, (ch + 1) * n));
      const br = blurRef(cc, h, w, 4), lc = lowRef(cc, h, w), ls = lowRef(ss, h, w);
      for (let i = 0; i < n; i++) {
        maxB = Math.max(maxB, Math.abs(b[ch * n + i]! - br[i]!));
        maxR = Math.max(maxR, Math.abs(got[ch * n + i]! - (cc[i]! - lc[i]! + ls[i]!)));
      }
    }
    assert.ok(maxB < 1e-6, `blur max |diff| ${maxB}`);
    assert.ok(maxR < 1e-5, `reconstruction max |diff| ${maxR}`);
  });
});

test('wavelet fix over fewer levels (a model folder\'s colorFix.levels) equals the f64 reference at that depth', () => {
  const h = 19, w = 26, n = h * w;
  const c = rand(3 * n, 11), s = rand(3 * n, 12);
  torch.scope(() => {
    const ct = torch.fromTypedArray(c, [1, 3, h, w]), st = torch.fromTypedArray(s, [1, 3, h, w]);
    for (const levels of [1, 2, 3]) {
      const got = applyColorFix({ method: 'wavelet', levels }, ct, st).toFloat32Array();
      let maxR = 0;
      for (let ch = 0; ch < 3; ch++) {
        const cc = Float64Array.from(c.subarray(ch * n, (ch + 1) * n)), ss = Float64Array.from(s.subarray(ch * n, (ch + 1) * n));
        const lc = lowRef(cc, h, w, levels), ls = lowRef(ss, h, w, levels);
        for (let i = 0; i < n; i++) maxR = Math.max(maxR, Math.abs(got[ch * n + i]! - Math.min(1, Math.max(0, cc[i]! - lc[i]! + ls[i]!))));
      }
      assert.ok(maxR < 1e-5, `levels ${levels}: max |diff| ${maxR}`);
    }
    // Two levels and five differ: the depth is honoured.
    assert.ok(applyColorFix({ method: 'wavelet', levels: 2 }, ct, st).sub(applyColorFix('wavelet', ct, st)).abs().max().item() > 1e-2);
    assert.throws(() => applyColorFix({ method: 'wavelet', levels: 0 }, ct, st), /levels must be an integer 1–8, got 0/);
  });
});

test('the wavelet fix in strips (with its halo) equals the whole-image fix exactly, at every depth', () => {
  const h = 70, w = 21, n = h * w;
  torch.scope(() => {
    const ct = torch.fromTypedArray(rand(3 * n, 21), [1, 3, h, w]), st = torch.fromTypedArray(rand(3 * n, 22), [1, 3, h, w]);
    for (const levels of [1, 2, 3, 5]) {
      const whole = applyColorFix({ method: 'wavelet', levels }, ct, st, h);
      for (const rows of [1, 7, 16]) {
        const strips = applyColorFix({ method: 'wavelet', levels }, ct, st, rows);
        assert.equal(strips.sub(whole).abs().max().item(), 0, `levels ${levels}, rows ${rows}`);
      }
    }
    assert.throws(() => applyColorFix({ method: 'wavelet', levels: 2 }, ct, st, 0), /rows must be a positive integer, got 0/);
  });
});

test('auto resolves to the model folder\'s colour fix, else none; an explicit choice wins with StableSR\'s 5 levels', () => {
  assert.deepEqual(resolveColorFix('auto', { method: 'wavelet', levels: 2 }), { method: 'wavelet', levels: 2 });
  assert.deepEqual(resolveColorFix('auto', null), { method: 'none', levels: 5 });
  assert.deepEqual(resolveColorFix('auto'), { method: 'none', levels: 5 });
  assert.deepEqual(resolveColorFix('none', { method: 'wavelet', levels: 2 }), { method: 'none', levels: 5 });
  assert.deepEqual(resolveColorFix('wavelet', { method: 'wavelet', levels: 2 }), { method: 'wavelet', levels: 5 });
});

test('model.json colorFix is optional and checked strictly', () => {
  const base = JSON.parse(fs.readFileSync(path.join(bundledModelDir()!, 'model.json'), 'utf8')) as Record<string, unknown>;
  const { colorFix: _drop, ...without } = base;
  assert.equal(checkModelJson(without, 'm.json').colorFix, undefined);
  assert.deepEqual(checkModelJson({ ...without, colorFix: { method: 'adain', levels: 1 } }, 'm.json').colorFix, { method: 'adain', levels: 1 });
  assert.throws(() => checkModelJson({ ...without, colorFix: { method: 'histogram', levels: 2 } }, 'm.json'), /m\.json\.colorFix\.method: must be "adain" or "wavelet", got "histogram"/);
  assert.throws(() => checkModelJson({ ...without, colorFix: { method: 'wavelet', levels: 9 } }, 'm.json'), /m\.json\.colorFix\.levels: must be at most 8, got 9/);
  assert.throws(() => checkModelJson({ ...without, colorFix: { method: 'wavelet' } }, 'm.json'), /m\.json\.colorFix\.levels: is missing/);
  assert.throws(() => checkModelJson({ ...without, colorFix: { method: 'wavelet', levels: 2, strength: 1 } }, 'm.json'), /m\.json\.colorFix\.strength: is not a field/);
});

test('wavelet fix removes a colour cast: content = style + per-channel offset gives back style', () => {
  torch.scope(() => {
    const st = torch.fromTypedArray(rand(3 * 40 * 40, 3), [1, 3, 40, 40]).mul(0.6).add(0.2);
    const cast = st.add(torch.tensor([0.1, -0.05, 0.08]).reshape([1, 3, 1, 1]));
    const fixed = applyColorFix('wavelet', cast, st);
    assert.ok(fixed.sub(st).abs().max().item() < 1e-5);
  });
});

test('AdaIN gives the content the style\'s per-channel mean and std (unbiased, eps 1e-5), as calc_mean_std', () => {
  torch.scope(() => {
    const ct = torch.fromTypedArray(rand(3 * 30 * 20, 4), [1, 3, 30, 20]);
    const st = torch.fromTypedArray(rand(3 * 30 * 20, 5), [1, 3, 30, 20]).mul(0.3).add(0.4);
    const y = adain(ct, st);
    const m = (t: torch.Tensor): number[] => Array.from(t.mean([2, 3]).toFloat32Array());
    const sd = (t: torch.Tensor): number[] => Array.from(t.var([2, 3]).add(1e-5).sqrt().toFloat32Array());
    m(y).forEach((v, i) => assert.ok(Math.abs(v - m(st)[i]!) < 1e-5, `mean ${i}`));
    // std(y) = std(c)/sqrt(var c + eps) · sqrt(var s + eps): equal to the style's up to eps.
    sd(y).forEach((v, i) => assert.ok(Math.abs(v - sd(st)[i]!) < 1e-4, `std ${i}: ${v} vs ${sd(st)[i]}`));
    // An affine colour change of the style is undone: content = 2·style − 0.3 → style.
    const back = adain(st.mul(2).sub(0.3), st);
    assert.ok(back.sub(st).abs().max().item() < 1e-4);
  });
});

test('color fix choice is checked; none is the identity; the result is clamped to [0, 1]', () => {
  assert.equal(parseColorFix(undefined), 'auto');
  assert.throws(() => parseColorFix('histogram'), /colorFix must be one of auto, none, adain, wavelet/);
  torch.scope(() => {
    const a = torch.fromTypedArray(rand(3 * 16, 6), [1, 3, 4, 4]);
    assert.equal(applyColorFix('none', a, a).sub(a).abs().max().item(), 0);
    const y = applyColorFix('adain', a.mul(0.1), a.mul(3).sub(1));
    assert.ok(y.min().item() >= 0 && y.max().item() <= 1);
  });
});
