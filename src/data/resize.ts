// Resizing with the exact conventions of the code vpdsr ports (MODEL_SPEC_7 §7.x.1–§7.x.3):
// BasicSR's MATLAB-compatible bicubic `imresize`, OpenCV's INTER_AREA, and PyTorch's
// F.interpolate modes through the engine. Images are [C, H, W] or [N, C, H, W] float tensors;
// every resize acts on the last two dimensions.
import * as torch from '../engine/index.js';
import { Tensor, ArgumentError } from '../engine/index.js';

// ---------------------------------------------------------------------------------------------
// Shared: a separable resize step as "taps" (for each output index, T source indices and weights).

/** Per output index along one axis: T source indices (0-based into the unpadded input) and weights. */
interface Taps {
  /** [out, T] int64, each in [0, in). */
  index: Tensor;
  /** [out, T] float32. */
  weight: Tensor;
}

/**
 * Σ_t weight[o, t] · x[..., index[o, t], ...] along dim (-2 or -1): all taps gathered in one
 * index_select, float32 products, summed over t. (Gathering tap by tap keeps temporaries smaller
 * but measured 3–5× slower.)
 */
function applyTaps(x: Tensor, dim: -2 | -1, taps: Taps): Tensor {
  return torch.scope(() => {
    const [out, t] = taps.weight.shape as [number, number];
    const g = x.indexSelect(x.ndim + dim, taps.index.reshape([-1]));
    const s = g.shape;
    if (dim === -2) {
      const v = g.reshape([...s.slice(0, -2), out, t, s[s.length - 1]!]);
      return v.mul_(taps.weight.reshape([out, t, 1])).sum(-2);
    }
    const v = g.reshape([...s.slice(0, -1), out, t]);
    return v.mul_(taps.weight).sum(-1);
  });
}

function tapsFromArrays(index: ArrayLike<number>, weight: ArrayLike<number>, out: number, t: number): Taps {
  const idx = BigInt64Array.from(Array.from(index, (v) => BigInt(v)));
  return {
    index: torch.fromTypedArray(idx, [out, t]),
    weight: torch.fromTypedArray(Float32Array.from(weight), [out, t]),
  };
}

function checkImage(op: string, x: unknown): Tensor {
  if (!(x instanceof Tensor)) throw new ArgumentError(op, 'img', 'must be a Tensor');
  if (x.isDisposed) throw new ArgumentError(op, 'img', 'is a disposed tensor');
  if (x.ndim !== 3 && x.ndim !== 4) throw new ArgumentError(op, 'img', `must be [C, H, W] or [N, C, H, W], got [${x.shape.join(', ')}]`);
  if (x.dtype !== 'float32') throw new ArgumentError(op, 'img', `must be float32, got ${x.dtype}`);
  if (x.size(-1) < 1 || x.size(-2) < 1) throw new ArgumentError(op, 'img', `has an empty spatial size [${x.size(-2)}, ${x.size(-1)}]`);
  return x;
}

// ---------------------------------------------------------------------------------------------
// MATLAB-compatible bicubic (BasicSR basicsr/utils/matlab_functions.py).

/** Keys cubic, a = −0.5 (matlab_functions.cubic), elementwise in float32 with upstream's op order. */
export function cubic(x: Tensor): Tensor {
  return torch.scope(() => {
    const absx = x.abs();
    const absx2 = absx.pow(2);
    const absx3 = absx.pow(3);
    const inner = absx3.mul(1.5).sub(absx2.mul(2.5)).add(1).mul(absx.le(1).to({ dtype: absx.dtype }));
    const outerMask = absx.gt(1).mul(absx.le(2)).to({ dtype: absx.dtype });
    const outer = absx3.mul(-0.5).add(absx2.mul(2.5)).sub(absx.mul(4)).add(2).mul(outerMask);
    return inner.add(outer);
  });
}

export interface WeightsIndices {
  /** [out, T] float32 tap weights, each row summing to 1. */
  weights: Tensor;
  /** [out, T] int64 0-based indices into the symmetrically padded input (as upstream returns them). */
  indices: Tensor;
  /** Mirror padding before (sym_len_s) and after (sym_len_e) the input. */
  symLenS: number;
  symLenE: number;
}

/** matlab_functions.calculate_weights_indices(in_length, out_length, scale, 'cubic', kernel_width, antialiasing) */
export function calculateWeightsIndices(inLength: number, outLength: number, scale: number, kernelWidth = 4, antialiasing = true): WeightsIndices {
  const op = 'calculateWeightsIndices';
  if (!Number.isSafeInteger(inLength) || inLength < 1) throw new ArgumentError(op, 'inLength', `must be a positive integer, got ${inLength}`);
  if (!Number.isSafeInteger(outLength) || outLength < 1 || outLength > 2 ** 24) throw new ArgumentError(op, 'outLength', `must be an integer in [1, 2^24], got ${outLength}`);
  if (typeof scale !== 'number' || !Number.isFinite(scale) || scale <= 0) throw new ArgumentError(op, 'scale', `must be a positive finite number, got ${scale}`);
  return torch.scope(() => {
    // Antialiasing: a wider kernel to interpolate and low-pass at once.
    const aa = scale < 1 && antialiasing;
    if (aa) kernelWidth = kernelWidth / scale;
    const x = torch.linspace(1, outLength, outLength);
    // Input-space coordinates: 0.5 in output space maps to 0.5 in input space.
    const u = x.div(scale).add(0.5 * (1 - 1 / scale));
    const left = u.sub(kernelWidth / 2).floor();
    const p = Math.ceil(kernelWidth) + 2;
    if (outLength * p > 2 ** 28) throw new ArgumentError(op, 'scale', `needs ${p} taps for ${outLength} outputs, too many`);
    let indices = left.view([outLength, 1]).expand([outLength, p]).add(torch.linspace(0, p - 1, p).view([1, p]).expand([outLength, p]));
    const distance = u.view([outLength, 1]).expand([outLength, p]).sub(indices);
    let weights = aa ? cubic(distance.mul(scale)).mul(scale) : cubic(distance);
    const weightsSum = weights.sum(1).view([outLength, 1]);
    weights = weights.div(weightsSum.expand([outLength, p]));
    // Drop the first / last column when it holds any exact zero (upstream only looks at those two).
    const zeros = weights.eq(0).sum(0).toArray() as BigInt64Array;
    // Literally as upstream: narrow(1, 1, p − 2) (drops both ends), then narrow(1, 0, p − 2) of
    // what is left; the count of the last column is taken before either narrowing.
    if (zeros[0] !== 0n) { indices = indices.narrow(1, 1, p - 2); weights = weights.narrow(1, 1, p - 2); }
    if (zeros[p - 1] !== 0n) { indices = indices.narrow(1, 0, p - 2); weights = weights.narrow(1, 0, p - 2); }
    weights = weights.contiguous();
    indices = indices.contiguous();
    const symLenS = 1 - indices.min().item();
    const symLenE = indices.max().item() - inLength;
    const out = indices.add(symLenS - 1).to({ dtype: 'int64' });
    return { weights, indices: out, symLenS, symLenE };
  });
}

/** Converts upstream's padded indices to indices into the unpadded input (symmetric edge-repeat mirror). */
function unpadTaps(w: WeightsIndices, inLength: number): Taps {
  return torch.scope(() => {
    if (w.symLenS > inLength || w.symLenE > inLength) {
      throw new ArgumentError('imresize', 'img', `is too small (${inLength} pixels) for this scale: mirror padding of ${Math.max(w.symLenS, w.symLenE)} is needed`);
    }
    const idx = w.indices.toArray() as BigInt64Array;
    const mapped = new Array<number>(idx.length);
    for (let k = 0; k < idx.length; k++) {
      const q = Number(idx[k]) - w.symLenS;
      mapped[k] = q < 0 ? -q - 1 : q >= inLength ? 2 * inLength - 1 - q : q;
    }
    const [out, t] = w.weights.shape as [number, number];
    return { index: torch.fromTypedArray(BigInt64Array.from(mapped, (v) => BigInt(v)), [out, t]), weight: w.weights };
  });
}

/**
 * matlab_functions.imresize(img, scale, antialiasing) on a tensor: MATLAB-compatible bicubic,
 * output ⌈H·scale⌉ × ⌈W·scale⌉, H pass then W pass, no clamping or rounding.
 */
export function imresize(img: Tensor, scale: number, antialiasing = true): Tensor {
  const op = 'imresize';
  checkImage(op, img);
  if (typeof scale !== 'number' || !Number.isFinite(scale) || scale <= 0) throw new ArgumentError(op, 'scale', `must be a positive finite number, got ${scale}`);
  if (typeof antialiasing !== 'boolean') throw new ArgumentError(op, 'antialiasing', 'must be a boolean');
  const inH = img.size(-2), inW = img.size(-1);
  const outH = Math.ceil(inH * scale), outW = Math.ceil(inW * scale);
  if (outH > 2 ** 20 || outW > 2 ** 20) throw new ArgumentError(op, 'scale', `gives too large an output (${outH} × ${outW})`);
  return torch.scope(() => {
    const th = unpadTaps(calculateWeightsIndices(inH, outH, scale, 4, antialiasing), inH);
    const tw = unpadTaps(calculateWeightsIndices(inW, outW, scale, 4, antialiasing), inW);
    return applyTaps(applyTaps(img.contiguous(), -2, th), -1, tw);
  });
}

/** imresize for an [H, W, C] image (ResShift utils/util_image.imresize_np's layout; same values to float32 rounding). */
export function imresizeHWC(img: Tensor, scale: number, antialiasing = true): Tensor {
  if (!(img instanceof Tensor) || img.isDisposed || img.ndim !== 3) throw new ArgumentError('imresizeHWC', 'img', 'must be an [H, W, C] tensor');
  return torch.scope(() => imresize(img.permute([2, 0, 1]), scale, antialiasing).permute([1, 2, 0]).contiguous());
}

// ---------------------------------------------------------------------------------------------
// OpenCV INTER_AREA (modules/imgproc/src/resize.cpp, OpenCV 4.6).

/** computeResizeAreaTab for one axis (shrinking: scale = in/out ≥ 1), as dense taps. */
function areaTabTaps(inLen: number, outLen: number, scale: number): Taps {
  const rows: { si: number[]; a: number[] }[] = [];
  for (let dx = 0; dx < outLen; dx++) {
    const fsx1 = dx * scale;
    const fsx2 = fsx1 + scale;
    const cellWidth = Math.min(scale, inLen - fsx1);
    let sx1 = Math.ceil(fsx1);
    let sx2 = Math.floor(fsx2);
    sx2 = Math.min(sx2, inLen - 1);
    sx1 = Math.min(sx1, sx2);
    const si: number[] = [], a: number[] = [];
    // Partial overlaps below 1e-3 are ignored, as OpenCV does.
    if (sx1 - fsx1 > 1e-3) { si.push(sx1 - 1); a.push(Math.fround((sx1 - fsx1) / cellWidth)); }
    for (let sx = sx1; sx < sx2; sx++) { si.push(sx); a.push(Math.fround(1.0 / cellWidth)); }
    if (fsx2 - sx2 > 1e-3) { si.push(sx2); a.push(Math.fround(Math.min(Math.min(fsx2 - sx2, 1), cellWidth) / cellWidth)); }
    rows.push({ si, a });
  }
  return padRows(rows, outLen);
}

/** The INTER_AREA path when enlarging along some axis: OpenCV's linear resize with "area" coefficients. */
function areaLinearTaps(inLen: number, outLen: number, invScale: number, scale: number): Taps {
  const rows: { si: number[]; a: number[] }[] = [];
  for (let dx = 0; dx < outLen; dx++) {
    let sx = Math.floor(dx * scale);
    let fx = Math.fround((dx + 1) - (sx + 1) * invScale);
    fx = fx <= 0 ? 0 : Math.fround(fx - Math.floor(fx));
    if (sx < 0) { fx = 0; sx = 0; }
    if (sx >= inLen - 1) { fx = 0; sx = inLen - 1; }
    const si = [sx, Math.min(sx + 1, inLen - 1)];
    rows.push({ si, a: [Math.fround(1 - fx), fx] });
  }
  return padRows(rows, outLen);
}

function padRows(rows: { si: number[]; a: number[] }[], outLen: number): Taps {
  const t = Math.max(1, ...rows.map((r) => r.si.length));
  const index = new Array<number>(outLen * t).fill(0), weight = new Array<number>(outLen * t).fill(0);
  rows.forEach((r, o) => r.si.forEach((s, k) => { index[o * t + k] = s; weight[o * t + k] = r.a[k]!; }));
  return tapsFromArrays(index, weight, outLen, t);
}

/**
 * cv2.resize(img, (outW, outH), interpolation=cv2.INTER_AREA) on the last two dims of a
 * [C, H, W] / [N, C, H, W] float32 tensor (ResShift's GT resize). Shrinking: exact box overlap
 * weights; enlarging on any axis: OpenCV's area-mode linear weights on both axes.
 */
export function resizeArea(img: Tensor, outH: number, outW: number): Tensor {
  const op = 'resizeArea';
  checkImage(op, img);
  for (const [n, v] of [['outH', outH], ['outW', outW]] as const) {
    if (!Number.isSafeInteger(v) || v < 1 || v > 2 ** 20) throw new ArgumentError(op, n, `must be an integer in [1, 2^20], got ${v}`);
  }
  const inH = img.size(-2), inW = img.size(-1);
  // cv::resize: inv_scale = dsize/ssize, scale = 1/inv_scale (doubles).
  const invX = outW / inW, invY = outH / inH;
  const sx = 1 / invX, sy = 1 / invY;
  return torch.scope(() => {
    const shrink = sx >= 1 && sy >= 1;
    const ty = shrink ? areaTabTaps(inH, outH, sy) : areaLinearTaps(inH, outH, invY, sy);
    const tx = shrink ? areaTabTaps(inW, outW, sx) : areaLinearTaps(inW, outW, invX, sx);
    return applyTaps(applyTaps(img.contiguous(), -2, ty), -1, tx);
  });
}

/** resizeArea for an OpenCV-style [H, W, C] image with cv2's dsize = [width, height]. */
export function resizeAreaHWC(img: Tensor, dsize: [number, number]): Tensor {
  if (!(img instanceof Tensor) || img.isDisposed || img.ndim !== 3) throw new ArgumentError('resizeAreaHWC', 'img', 'must be an [H, W, C] tensor');
  if (!Array.isArray(dsize) || dsize.length !== 2) throw new ArgumentError('resizeAreaHWC', 'dsize', 'must be [width, height]');
  return torch.scope(() => resizeArea(img.permute([2, 0, 1]), dsize[1], dsize[0]).permute([1, 2, 0]).contiguous());
}

// ---------------------------------------------------------------------------------------------
// PyTorch F.interpolate conventions (through the engine; §7.x.2).

export type TorchResizeMode = 'bicubic' | 'bilinear' | 'area' | 'nearest';
export interface TorchResizeOptions {
  size?: [number, number];
  scaleFactor?: number;
  alignCorners?: boolean;
  antialias?: boolean;
}

/**
 * F.interpolate(x, size | scale_factor, mode, align_corners, antialias) on [C, H, W] or
 * [N, C, H, W]. With scaleFactor the source coordinates use 1/scaleFactor (PyTorch's default,
 * recompute_scale_factor unset), which differs from passing the resulting size.
 */
export function resizeTorch(x: Tensor, mode: TorchResizeMode, opts: TorchResizeOptions): Tensor {
  checkImage('resizeTorch', x);
  return torch.scope(() => {
    const x4 = x.ndim === 3 ? x.unsqueeze(0) : x;
    const y = torch.interpolate(x4, { mode, size: opts.size, scaleFactor: opts.scaleFactor, alignCorners: opts.alignCorners, antialias: opts.antialias });
    return x.ndim === 3 ? y.squeeze(0) : y;
  });
}

/** Bicubic (a = −0.75, align_corners False unless given, no antialias) — the degradation pipeline's. */
export const bicubic = (x: Tensor, opts: TorchResizeOptions): Tensor => resizeTorch(x, 'bicubic', opts);
export const bilinear = (x: Tensor, opts: TorchResizeOptions): Tensor => resizeTorch(x, 'bilinear', opts);
/** Adaptive average pooling (F.interpolate mode 'area'). */
export const area = (x: Tensor, opts: TorchResizeOptions): Tensor => resizeTorch(x, 'area', opts);
/** Legacy 'nearest' (floor(dst·scale)), not 'nearest-exact'. */
export const nearest = (x: Tensor, opts: TorchResizeOptions): Tensor => resizeTorch(x, 'nearest', opts);
