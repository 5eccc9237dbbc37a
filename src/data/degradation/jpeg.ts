// JPEG for the degradation pipeline.
// - jpegCompress: real baseline JPEG through sharp (libvips / libjpeg) at the sampled quality —
//   what vpdsr's pipeline uses (integer quality, 8-bit output, libjpeg's tables and filters).
// - DiffJPEG: BasicSR's tensor re-implementation of JPEG (BasicSR@8d56e3a basicsr/utils/diffjpeg.py,
//   DiffJPEG(differentiable=False)), which the reference trainer uses; here only for parity with
//   the golden cases and for replaying upstream exactly (preset option jpeg: "diffjpeg").
import sharp from 'sharp';
import * as torch from '../../engine/index.js';
import { Tensor } from '../../engine/index.js';

// ---------------------------------------------------------------- real JPEG (sharp)

/** The integer libjpeg quality for a sampled float quality: truncation like Python's int(), kept in [1, 100]. */
export function jpegQualityInt(q: number): number {
  if (!Number.isFinite(q)) throw new RangeError(`jpeg: quality must be finite, got ${q}`);
  return Math.min(100, Math.max(1, Math.floor(q)));
}

/** Encodes one HWC RGB uint8 image as JPEG (4:2:0) at `quality` and decodes it back. */
export async function jpegRoundTripRgb8(rgb: Uint8Array, width: number, height: number, quality: number): Promise<Uint8Array> {
  const q = jpegQualityInt(quality);
  if (rgb.length !== width * height * 3) throw new RangeError(`jpeg: expected ${width * height * 3} bytes for ${width}×${height} RGB, got ${rgb.length}`);
  const jpg = await sharp(rgb, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: q, chromaSubsampling: '4:2:0', optimiseCoding: false })
    .toBuffer();
  const { data, info } = await sharp(jpg).raw().toBuffer({ resolveWithObject: true });
  if (info.width !== width || info.height !== height || info.channels !== 3) throw new Error(`jpeg: decoder returned ${info.width}×${info.height}×${info.channels}, expected ${width}×${height}×3`);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Real JPEG of a batch x (n, 3, h, w) in [0, 1] (clamped by the caller, as upstream clamps first),
 * one quality per sample: quantised to 8 bit (round half to even), encoded, decoded, /255.
 */
export async function jpegCompress(x: Tensor, quality: number[]): Promise<Tensor> {
  if (!(x instanceof Tensor) || x.ndim !== 4 || x.size(1) !== 3) throw new RangeError('jpegCompress(): x must be a (n, 3, h, w) tensor');
  const [n, , h, w] = x.shape as [number, number, number, number];
  if (quality.length !== n) throw new RangeError(`jpegCompress(): need ${n} qualities, got ${quality.length}`);
  const bytes = torch.scope(() => x.mul(255).round().clamp(0, 255).to({ dtype: 'uint8' }).permute(0, 2, 3, 1).contiguous().toBytes());
  const per = h * w * 3;
  const outs = await Promise.all(quality.map((q, i) => jpegRoundTripRgb8(bytes.subarray(i * per, (i + 1) * per), w, h, q)));
  const all = new Uint8Array(n * per);
  outs.forEach((o, i) => all.set(o, i * per));
  return torch.scope(() => torch.fromBytes(all, 'uint8', [n, h, w, 3]).permute(0, 3, 1, 2).float().div(255).contiguous());
}

// ---------------------------------------------------------------- DiffJPEG (parity)

// Annex K luminance table, transposed as upstream stores it (y_table = array(...).T).
const Y_TABLE = [[16, 11, 10, 16, 24, 40, 51, 61], [12, 12, 14, 19, 26, 58, 60, 55], [14, 13, 16, 24, 40, 57, 69, 56],
  [14, 17, 22, 29, 51, 87, 80, 62], [18, 22, 37, 56, 68, 109, 103, 77], [24, 35, 55, 64, 81, 104, 113, 92],
  [49, 64, 78, 87, 103, 121, 120, 101], [72, 92, 95, 98, 112, 100, 103, 99]];
const C_TOP = [[17, 18, 24, 47], [18, 21, 26, 66], [24, 26, 56, 99], [47, 66, 99, 99]];

function yTable(): Tensor {
  const t = new Float32Array(64);
  for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) t[i * 8 + j] = Y_TABLE[j]![i]!;
  return torch.fromTypedArray(t, [8, 8]);
}

function cTable(): Tensor {
  const t = new Float32Array(64).fill(99);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) t[i * 8 + j] = C_TOP[j]![i]!;
  return torch.fromTypedArray(t, [8, 8]);
}

/** quality_to_factor in float32 (as upstream's per-element tensor arithmetic). */
export function qualityToFactor(q: number): number {
  const f = Math.fround;
  const qq = f(q);
  return qq < 50 ? f(f(5000 / qq) / 100) : f(f(200 - f(qq * 2)) / 100);
}

// DCT8x8.tensor[x, y, u, v] = cos((2x+1)uπ/16)·cos((2y+1)vπ/16) (float64 product stored as float32);
// iDCT8x8 has the roles of (x, y) and (u, v) swapped.
function dctTensor(inverse: boolean): Tensor {
  const t = new Float32Array(4096);
  for (let x = 0; x < 8; x++) for (let y = 0; y < 8; y++) for (let u = 0; u < 8; u++) for (let v = 0; v < 8; v++) {
    t[((x * 8 + y) * 8 + u) * 8 + v] = inverse
      ? Math.cos(((2 * u + 1) * x * Math.PI) / 16) * Math.cos(((2 * v + 1) * y * Math.PI) / 16)
      : Math.cos(((2 * x + 1) * u * Math.PI) / 16) * Math.cos(((2 * y + 1) * v * Math.PI) / 16);
  }
  return torch.fromTypedArray(t, [64, 64]);
}

function alphaOuter(scale: number): Tensor {
  const a = [1 / Math.sqrt(2), 1, 1, 1, 1, 1, 1, 1];
  const t = new Float32Array(64);
  for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) t[i * 8 + j] = a[i]! * a[j]! * scale;
  return torch.fromTypedArray(t, [8, 8]);
}

const RGB2YCBCR = [[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]];
const YCBCR2RGB = [[1, 0, 1.402], [1, -0.344136, -0.714136], [1, 1.772, 0]];

// np.array(m, float32).T as a (3, 3) tensor.
function matrixT(m: number[][]): Tensor {
  const t = new Float32Array(9);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) t[i * 3 + j] = m[j]![i]!;
  return torch.fromTypedArray(t, [3, 3]);
}

// torch.tensordot(a, b, dims=1) for a (..., k) and b (k, m).
function tensordot1(a: Tensor, b: Tensor): Tensor {
  const shape = a.shape;
  return a.reshape(-1, shape[shape.length - 1]!).mm(b).view([...shape.slice(0, -1), b.size(1)]);
}

// torch.tensordot(image (n, B, 8, 8), tensor (8, 8, 8, 8), dims=2) as (n·B, 64) @ (64, 64).
function tensordot2(a: Tensor, t64: Tensor): Tensor {
  const [n, blocks] = a.shape as [number, number];
  return a.reshape(n * blocks, 64).mm(t64).view(n, blocks, 8, 8);
}

// BlockSplitting: (n, h, w) → (n, h·w/64, 8, 8) in row-major block order.
function blockSplit(img: Tensor): Tensor {
  const [n, h] = img.shape as [number, number];
  return img.reshape(n, h / 8, 8, -1, 8).permute(0, 1, 3, 2, 4).contiguous().view(n, -1, 8, 8);
}

// BlockMerging
function blockMerge(patches: Tensor, h: number, w: number): Tensor {
  const n = patches.size(0);
  return patches.view(n, h / 8, w / 8, 8, 8).permute(0, 1, 3, 2, 4).contiguous().view(n, h, w);
}

// ChromaUpsampling.repeat: 2×2 replication, written as upstream writes it.
function chromaRepeat(x: Tensor): Tensor {
  const [, h, w] = x.shape as [number, number, number];
  return x.unsqueeze(-1).repeat(1, 1, 2, 2).view(-1, h * 2, w * 2);
}

export interface DiffJpegResult {
  img: Tensor;
  factor: Tensor;
  yQ: Tensor;
  cbQ: Tensor;
  crQ: Tensor;
}

/**
 * DiffJPEG(differentiable=False).forward(x, quality) with its intermediates: x (n, 3, h, w) in
 * [0, 1], quality (n) float32 (per-sample quality, e.g. uniform in [30, 95)).
 */
export function diffJpegDetailed(x: Tensor, quality: Tensor): DiffJpegResult {
  if (!(x instanceof Tensor) || x.ndim !== 4 || x.size(1) !== 3 || x.dtype !== 'float32') throw new RangeError('diffJpeg(): x must be a float32 (n, 3, h, w) tensor');
  const n = x.size(0);
  if (!(quality instanceof Tensor) || quality.numel !== n) throw new RangeError(`diffJpeg(): quality must hold ${n} values`);
  const qs = Array.from(quality.toFloat32Array());
  for (const q of qs) if (!(q > 0 && q < 100)) throw new RangeError(`diffJpeg(): quality must lie in (0, 100), got ${q}`);
  return torch.scope(() => {
    const factor = torch.fromTypedArray(Float32Array.from(qs.map(qualityToFactor)), [n]);
    const [h, w] = [x.size(2), x.size(3)];
    const hPad = h % 16 !== 0 ? 16 - (h % 16) : 0, wPad = w % 16 !== 0 ? 16 - (w % 16) : 0;
    const xp = torch.pad(x, [0, wPad, 0, hPad], 'constant', 0);
    const fv = factor.view(n, 1, 1, 1);
    const yT = yTable().expand(n, 1, 8, 8).mul(fv), cT = cTable().expand(n, 1, 8, 8).mul(fv);
    const dct = dctTensor(false), idct = dctTensor(true);
    const dctScale = alphaOuter(0.25), idctAlpha = alphaOuter(1);

    // ---- CompressJpeg
    const ycc = tensordot1(xp.mul(255).permute(0, 2, 3, 1), matrixT(RGB2YCBCR)).add(torch.tensor([0, 128, 128]));
    const planes = ycc.permute(0, 3, 1, 2).clone();
    const y = ycc.select(3, 0);
    const cb = torch.avgPool2d(planes.select(1, 1).unsqueeze(1), 2, { stride: 2, countIncludePad: false }).squeeze(1);
    const cr = torch.avgPool2d(planes.select(1, 2).unsqueeze(1), 2, { stride: 2, countIncludePad: false }).squeeze(1);
    const quantise = (plane: Tensor, table: Tensor): Tensor => {
      const coef = dctScale.mul(tensordot2(blockSplit(plane).sub(128), dct));
      return coef.div(table).round();
    };
    const yQ = quantise(y, yT), cbQ = quantise(cb, cT), crQ = quantise(cr, cT);

    // ---- DeCompressJpeg
    const hp = h + hPad, wp = w + wPad;
    const restore = (q: Tensor, table: Tensor, ph: number, pw: number): Tensor => {
      const deq = q.mul(table);
      const spatial = tensordot2(deq.mul(idctAlpha), idct).mul(0.25).add(128);
      return blockMerge(spatial, ph, pw);
    };
    const yR = restore(yQ, yT, hp, wp);
    const cbR = chromaRepeat(restore(cbQ, cT, Math.trunc(hp / 2), Math.trunc(wp / 2)));
    const crR = chromaRepeat(restore(crQ, cT, Math.trunc(hp / 2), Math.trunc(wp / 2)));
    const merged = torch.cat([yR.unsqueeze(3), cbR.unsqueeze(3), crR.unsqueeze(3)], 3);
    const rgb = tensordot1(merged.add(torch.tensor([0, -128, -128])), matrixT(YCBCR2RGB)).permute(0, 3, 1, 2);
    const img = rgb.clamp(0, 255).div(255).slice(2, 0, h).slice(3, 0, w).contiguous();
    return { img, factor, yQ, cbQ, crQ };
  });
}

/** DiffJPEG(differentiable=False)(x, quality). */
export function diffJpeg(x: Tensor, quality: Tensor): Tensor {
  return torch.scope(() => diffJpegDetailed(x, quality).img);
}
