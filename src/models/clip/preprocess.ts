// CLIP image preprocessing — CLIP@d05afc4:clip/clip.py _transform(n_px): Resize(n_px, BICUBIC) on a
// PIL image (Pillow 9.4's 8-bit fixed-point bicubic, reproduced exactly here), CenterCrop(n_px),
// convert("RGB"), ToTensor, Normalize; and the same steps on float tensors for training losses
// (torchvision 0.14 transforms.functional on tensors: differentiable).
import * as torch from '../../engine/index.js';
import { Tensor } from '../../engine/index.js';
import { readImage } from '../../io/image/index.js';

export const CLIP_MEAN: readonly [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_STD: readonly [number, number, number] = [0.26862954, 0.26130258, 0.27577711];

/** An 8-bit image, row-major [H, W, C]. */
export interface U8Image {
  data: Uint8Array;
  height: number;
  width: number;
  channels: number;
}

/** Python's round() on a float: halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x), d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** torchvision _compute_resized_output_size for an int size: [h', w'] with the shorter side = n. */
export function resizedSize(h: number, w: number, n: number): [number, number] {
  if (w <= h) return [Math.trunc((n * h) / w), n];
  return [n, Math.trunc((n * w) / h)];
}

/** torchvision center_crop offsets [top, left] (int(round((size - n) / 2.0)), half to even). */
export function centerCropOffsets(h: number, w: number, n: number): [number, number] {
  return [roundHalfEven((h - n) / 2.0), roundHalfEven((w - n) / 2.0)];
}

// Pillow 9.4 libImaging/Resample.c bicubic_filter (a = −0.5), in its evaluation order.
function bicubic(x: number): number {
  const a = -0.5;
  if (x < 0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

const PRECISION_BITS = 32 - 8 - 2;

/** Resample.c precompute_coeffs + normalize_coeffs_8bpc: per output index, first input and fixed-point weights. */
function coeffs(inSize: number, outSize: number): { xmin: Int32Array; kk: Int32Array[] } {
  const scale = inSize / outSize;
  const filterscale = scale < 1.0 ? 1.0 : scale;
  const support = 2.0 * filterscale;
  const xmin = new Int32Array(outSize);
  const kk: Int32Array[] = [];
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1.0 / filterscale;
    let lo = Math.trunc(center - support + 0.5);
    if (lo < 0) lo = 0;
    let hi = Math.trunc(center + support + 0.5);
    if (hi > inSize) hi = inSize;
    const n = hi - lo;
    const k = new Float64Array(n);
    let ww = 0.0;
    for (let x = 0; x < n; x++) { const w = bicubic((x + lo - center + 0.5) * ss); k[x] = w; ww += w; }
    const fixed = new Int32Array(n);
    for (let x = 0; x < n; x++) {
      const v = ww !== 0.0 ? k[x]! / ww : k[x]!;
      fixed[x] = Math.trunc(v * (1 << PRECISION_BITS) + (v < 0 ? -0.5 : 0.5));
    }
    xmin[xx] = lo;
    kk.push(fixed);
  }
  return { xmin, kk };
}

const clip8 = (ss: number): number => { const v = Math.floor(ss / (1 << PRECISION_BITS)); return v < 0 ? 0 : v > 255 ? 255 : v; };

function resampleHorizontal(im: U8Image, outW: number): U8Image {
  const { xmin, kk } = coeffs(im.width, outW);
  const c = im.channels, out = new Uint8Array(im.height * outW * c);
  for (let y = 0; y < im.height; y++) {
    const row = y * im.width * c;
    for (let xx = 0; xx < outW; xx++) {
      const k = kk[xx]!, lo = xmin[xx]!;
      for (let ch = 0; ch < c; ch++) {
        let ss = 1 << (PRECISION_BITS - 1);
        for (let x = 0; x < k.length; x++) ss += im.data[row + (x + lo) * c + ch]! * k[x]!;
        out[(y * outW + xx) * c + ch] = clip8(ss);
      }
    }
  }
  return { data: out, height: im.height, width: outW, channels: c };
}

function resampleVertical(im: U8Image, outH: number): U8Image {
  const { xmin, kk } = coeffs(im.height, outH);
  const c = im.channels, w = im.width, out = new Uint8Array(outH * w * c);
  for (let yy = 0; yy < outH; yy++) {
    const k = kk[yy]!, lo = xmin[yy]!;
    for (let x = 0; x < w * c; x++) {
      let ss = 1 << (PRECISION_BITS - 1);
      for (let y = 0; y < k.length; y++) ss += im.data[(y + lo) * w * c + x]! * k[y]!;
      out[yy * w * c + x] = clip8(ss);
    }
  }
  return { data: out, height: outH, width: w, channels: c };
}

function checkU8(im: U8Image, what: string): void {
  if (!im || !(im.data instanceof Uint8Array)) throw new TypeError(`${what}: image data must be a Uint8Array`);
  for (const k of ['height', 'width', 'channels'] as const) if (!Number.isInteger(im[k]) || im[k] < 1) throw new RangeError(`${what}: ${k} must be a positive integer, got ${im[k]}`);
  if (im.data.length !== im.height * im.width * im.channels) throw new RangeError(`${what}: ${im.data.length} bytes for a ${im.height}×${im.width}×${im.channels} image`);
}

/** Pillow's Image.resize((w, h), BICUBIC) on 8-bit bands (Resample.c ImagingResample): horizontal pass, then vertical. */
export function pilResizeBicubic(im: U8Image, outH: number, outW: number): U8Image {
  checkU8(im, 'pilResizeBicubic');
  if (!Number.isInteger(outH) || !Number.isInteger(outW) || outH < 1 || outW < 1) throw new RangeError(`pilResizeBicubic: output size must be positive integers, got ${outH}×${outW}`);
  let r = im;
  if (outW !== im.width) r = resampleHorizontal(r, outW);
  if (outH !== im.height) r = resampleVertical(r, outH);
  return r === im ? { ...im, data: im.data.slice() } : r;
}

/** Resize(n_px, BICUBIC): shorter side to n_px (nothing done when already right). */
export function pilResizeShorter(im: U8Image, n: number): U8Image {
  const [h, w] = resizedSize(im.height, im.width, n);
  if (h === im.height && w === im.width) return { ...im, data: im.data.slice() };
  return pilResizeBicubic(im, h, w);
}

/** A [top, left, n, n] window of an [H, W, C] image. */
export function cropHWC(im: U8Image, top: number, left: number, n: number): U8Image {
  if (top < 0 || left < 0 || top + n > im.height || left + n > im.width) throw new RangeError(`crop ${n}×${n} at (${top}, ${left}) leaves the ${im.height}×${im.width} image`);
  const c = im.channels, out = new Uint8Array(n * n * c);
  for (let y = 0; y < n; y++) out.set(im.data.subarray(((top + y) * im.width + left) * c, ((top + y) * im.width + left + n) * c), y * n * c);
  return { data: out, height: n, width: n, channels: c };
}

/** convert("RGB") of a grey (L) image: the value in all three channels. */
export function greyToRGB(im: U8Image): U8Image {
  const out = new Uint8Array(im.height * im.width * 3);
  for (let i = 0; i < im.height * im.width; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = im.data[i]!;
  return { data: out, height: im.height, width: im.width, channels: 3 };
}

/** ToTensor + Normalize of an RGB [H, W, 3] image: float32 [3, H, W]. */
export function normalizeHWC(im: U8Image, mean: readonly number[] = CLIP_MEAN, std: readonly number[] = CLIP_STD): Tensor {
  return torch.scope(() => {
    const x = torch.fromBytes(im.data, 'uint8', [im.height, im.width, 3]).permute(2, 0, 1).contiguous().float().div(255);
    return x.sub(torch.tensor([...mean], { dtype: 'float32' }).reshape(3, 1, 1)).div(torch.tensor([...std], { dtype: 'float32' }).reshape(3, 1, 1));
  });
}

// Pillow Convert.c rgbA2rgba / rgba2rgbA: resizing RGBA and LA goes through premultiplied alpha.
function premultiply(im: U8Image): U8Image {
  const c = im.channels, out = im.data.slice();
  for (let p = 0; p < im.height * im.width; p++) {
    const a = out[p * c + c - 1]!;
    for (let ch = 0; ch < c - 1; ch++) { const tmp = out[p * c + ch]! * a + 128; out[p * c + ch] = ((tmp >> 8) + tmp) >> 8; }
  }
  return { ...im, data: out };
}
function unpremultiply(im: U8Image): U8Image {
  const c = im.channels, out = im.data.slice();
  for (let p = 0; p < im.height * im.width; p++) {
    const a = out[p * c + c - 1]!;
    if (a === 255 || a === 0) continue;
    for (let ch = 0; ch < c - 1; ch++) out[p * c + ch] = Math.min(255, Math.floor((255 * out[p * c + ch]!) / a));
  }
  return { ...im, data: out };
}
function dropAlpha(im: U8Image): U8Image {
  const c = im.channels, k = c - 1, out = new Uint8Array(im.height * im.width * k);
  for (let p = 0; p < im.height * im.width; p++) for (let ch = 0; ch < k; ch++) out[p * k + ch] = im.data[p * c + ch]!;
  return { data: out, height: im.height, width: im.width, channels: k };
}

export interface PreprocessSteps {
  resized: U8Image;
  cropped: U8Image;
  rgb: U8Image;
  /** float32 [3, n, n] */
  pixelValues: Tensor;
}

/** clip._transform(n_px) on an 8-bit image with 1 (L), 2 (LA), 3 (RGB) or 4 (RGBA) channels. */
export function clipPreprocessU8(im: U8Image, n: number, mean: readonly number[] = CLIP_MEAN, std: readonly number[] = CLIP_STD): PreprocessSteps {
  checkU8(im, 'CLIP preprocess');
  if (im.channels > 4) throw new RangeError(`CLIP preprocess: ${im.channels} channels (1 to 4 expected)`);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`CLIP preprocess: n_px must be a positive integer, got ${n}`);
  const alpha = im.channels === 2 || im.channels === 4;
  let resized = pilResizeShorter(alpha ? premultiply(im) : im, n);
  if (alpha && (resized.height !== im.height || resized.width !== im.width)) resized = unpremultiply(resized);
  else if (alpha) resized = { ...im, data: im.data.slice() };
  const [top, left] = centerCropOffsets(resized.height, resized.width, n);
  const cropped = cropHWC(resized, top, left, n);
  const noAlpha = alpha ? dropAlpha(cropped) : cropped;
  const rgb = noAlpha.channels === 1 ? greyToRGB(noAlpha) : noAlpha;
  return { resized, cropped, rgb, pixelValues: normalizeHWC(rgb, mean, std) };
}

/** Decodes image files and applies CLIP's preprocessing: float32 [N, 3, n, n]. */
export async function preprocessImageFiles(files: readonly string[], n: number): Promise<Tensor> {
  if (!Array.isArray(files) || files.length === 0 || files.some((f) => typeof f !== 'string')) throw new TypeError('CLIP preprocess: files must be a non-empty array of paths');
  const rows: Tensor[] = [];
  try {
    for (const f of files) {
      const img = await readImage(f);
      const u8 = torch.scope(() => {
        const t = img.data.squeeze(0).permute(1, 2, 0).mul(255).round().clamp(0, 255).to({ dtype: 'uint8' }).contiguous();
        return t.toBytes();
      });
      img.data.dispose();
      rows.push(torch.keep(clipPreprocessU8({ data: u8, height: img.height, width: img.width, channels: img.channels }, n).pixelValues));
    }
    return torch.stack(rows, 0);
  } finally {
    for (const r of rows) r.dispose();
  }
}

export interface PreprocessTensorOptions {
  /** Output size n_px (default: the model's input resolution where a model supplies it). */
  size: number;
  /** 'crop' (CLIP's: shorter side → size, centre crop) or 'squash' (the whole image resized to size×size). Default 'crop'. */
  mode?: 'crop' | 'squash';
  /** Antialiased bicubic (torchvision antialias=True; Pillow-like). Default true. */
  antialias?: boolean;
  mean?: readonly number[];
  std?: readonly number[];
}

/** The checked options of the differentiable preprocessing. */
export function parsePreprocessTensorOptions(o: PreprocessTensorOptions): Required<PreprocessTensorOptions> {
  if (!o || typeof o !== 'object') throw new TypeError('CLIP preprocess: options must be an object');
  if (!Number.isInteger(o.size) || o.size < 1) throw new RangeError(`CLIP preprocess: size must be a positive integer, got ${o.size}`);
  const mode = o.mode ?? 'crop';
  if (mode !== 'crop' && mode !== 'squash') throw new RangeError(`CLIP preprocess: mode must be 'crop' or 'squash', got ${JSON.stringify(mode)}`);
  const antialias = o.antialias ?? true;
  if (typeof antialias !== 'boolean') throw new TypeError('CLIP preprocess: antialias must be a boolean');
  const mean = o.mean ?? CLIP_MEAN, std = o.std ?? CLIP_STD;
  for (const [k, v] of [['mean', mean], ['std', std]] as const) if (!Array.isArray(v) || v.length !== 3 || v.some((e) => typeof e !== 'number' || !Number.isFinite(e))) throw new TypeError(`CLIP preprocess: ${k} must be 3 finite numbers`);
  if (std.some((s) => s === 0)) throw new RangeError('CLIP preprocess: std must not be 0');
  return { size: o.size, mode, antialias, mean, std };
}

/**
 * CLIP's preprocessing on float images [N, 3, H, W] in [0, 1], differentiable: bicubic resize
 * (torchvision F.resize on tensors, align_corners false, not clamped), centre crop (or a direct
 * resize to size×size with mode 'squash'), then (x − mean) / std. Returns the resized image too.
 */
export function preprocessTensor(x: Tensor, opts: PreprocessTensorOptions): { resized: Tensor; pixelValues: Tensor } {
  const o = parsePreprocessTensorOptions(opts);
  if (!(x instanceof Tensor) || x.isDisposed) throw new TypeError('CLIP preprocess: the image must be a live Tensor');
  if (x.ndim !== 4 || x.size(1) !== 3) throw new RangeError(`CLIP preprocess: expected images [N, 3, H, W], got [${x.shape.join(', ')}]`);
  if (!torch.isFloating(x.dtype)) throw new TypeError(`CLIP preprocess: expected floating-point images in [0, 1], got ${x.dtype}`);
  return torch.scope(() => {
    const h = x.size(2), w = x.size(3), n = o.size;
    const [rh, rw] = o.mode === 'squash' ? [n, n] : resizedSize(h, w, n);
    const resized = rh === h && rw === w ? torch.alias(x) : torch.interpolate(x, { size: [rh, rw], mode: 'bicubic', alignCorners: false, antialias: o.antialias });
    const [top, left] = centerCropOffsets(rh, rw, n);
    const cropped = resized.narrow(2, top, n).narrow(3, left, n);
    const f = { dtype: x.dtype, device: x.device };
    const mean = torch.tensor([...o.mean], f).reshape(1, 3, 1, 1), std = torch.tensor([...o.std], f).reshape(1, 3, 1, 1);
    return { resized, pixelValues: cropped.sub(mean).div(std) };
  });
}
