// --color-fix (issue 8 point 6): AdaIN and wavelet colour fixes against independent f64
// references written from StableSR's colorfix math, and the properties that make them useful.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/engine/index.js';
import { adain, waveletBlur, waveletReconstruction, applyColorFix } from '../../src/api/colorfix.js';
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

function lowRef(x: Float64Array, h: number, w: number): Float64Array {
  let img = x;
  for (let i = 0; i < 5; i++) img = blurRef(img, h, w, 2 ** i);
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
  assert.equal(parseColorFix(undefined), 'none');
  assert.throws(() => parseColorFix('histogram'), /colorFix must be one of none, adain, wavelet/);
  torch.scope(() => {
    const a = torch.fromTypedArray(rand(3 * 16, 6), [1, 3, 4, 4]);
    assert.equal(applyColorFix('none', a, a).sub(a).abs().max().item(), 0);
    const y = applyColorFix('adain', a.mul(0.1), a.mul(3).sub(1));
    assert.ok(y.min().item() >= 0 && y.max().item() <= 1);
  });
});
