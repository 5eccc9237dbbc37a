// YCbCr conversions (ITU-R BT.601, MATLAB's rgb2ycbcr) exactly as the ported code computes them
// (MODEL_SPEC_7 §7.x.4): BasicSR basicsr/utils/color_util.py (numpy-style HWC images, uint8 or
// float32, sums in float64) and its tensor form, plus ResShift utils/util_image.py's variants that
// drive its Y-channel PSNR. Not JPEG's full-range YCbCr, not OpenCV's COLOR_RGB2YCrCb.
import * as torch from '../engine/index.js';
import { Tensor, ArgumentError } from '../engine/index.js';

/** Rows: R, G, B; columns: Y, Cb, Cr (0–255 scale for inputs in [0, 1]). */
const RGB2YCBCR = [[65.481, -37.797, 112.0], [128.553, -74.203, -93.786], [24.966, 112.0, -18.214]];
const BGR2YCBCR = [RGB2YCBCR[2]!, RGB2YCBCR[1]!, RGB2YCBCR[0]!];
const Y_RGB = [65.481, 128.553, 24.966];
const Y_BGR = [24.966, 128.553, 65.481];
const OFFSET = [16, 128, 128];
/** color_util.ycbcr2rgb: rows Y, Cb, Cr; columns R, G, B; then ×255 and the offsets. */
const YCBCR2RGB = [[0.00456621, 0.00456621, 0.00456621], [0, -0.00153632, 0.00791071], [0.00625893, -0.00318811, 0]];
const YCBCR2RGB_OFFSET = [-222.921, 135.576, -276.836];
const YCBCR2BGR = [[0.00456621, 0.00456621, 0.00456621], [0.00791071, -0.00153632, 0], [0, -0.00318811, 0.00625893]];
const YCBCR2BGR_OFFSET = [-276.836, 135.576, -222.921];

type NpDType = 'uint8' | 'float32';

function hwc(op: string, img: unknown): { img: Tensor; dtype: NpDType } {
  if (!(img instanceof Tensor) || img.isDisposed) throw new ArgumentError(op, 'img', 'must be a live Tensor');
  if (img.ndim !== 3 || img.size(2) !== 3) throw new ArgumentError(op, 'img', `must be an [H, W, 3] image, got [${img.shape.join(', ')}]`);
  if (img.dtype !== 'uint8' && img.dtype !== 'float32') throw new ArgumentError(op, 'img', `must be uint8 (0..255) or float32 (0..1), got ${img.dtype}`);
  return { img, dtype: img.dtype };
}

function nchw3(op: string, img: unknown): Tensor {
  if (!(img instanceof Tensor) || img.isDisposed) throw new ArgumentError(op, 'img', 'must be a live Tensor');
  if (img.ndim !== 4 || img.size(1) !== 3) throw new ArgumentError(op, 'img', `must be an [N, 3, H, W] image, got [${img.shape.join(', ')}]`);
  if (!torch.isFloating(img.dtype)) throw new ArgumentError(op, 'img', `must be floating point in [0, 1], got ${img.dtype}`);
  return img;
}

/** color_util._convert_input_type_range: float32, uint8 divided by 255 (in float32). */
function inputRange(img: Tensor): Tensor {
  const f = img.to({ dtype: 'float32' });
  return img.dtype === 'uint8' ? f.div(255) : f;
}

/**
 * color_util._convert_output_type_range on a float64 result: uint8 → round half to even and cast;
 * float32 → ÷255 and cast. Deliberate deviation: values are clamped to [0, 255] before the uint8
 * cast, where numpy's astype would wrap (only reachable by ycbcr2rgb of out-of-gamut input).
 */
function outputRange(x: Tensor, dtype: NpDType): Tensor {
  if (dtype === 'uint8') return x.round().clamp(0, 255).to({ dtype: 'uint8' });
  return x.div(255).to({ dtype: 'float32' });
}

function f64(rows: number[][] | number[]): Tensor {
  return torch.tensor(rows, { dtype: 'float64' });
}

/** np.dot(img, coeffs) + offset for an [H, W, 3] float64 image: [H, W] (vector) or [H, W, 3] (matrix). */
function affine(x64: Tensor, coeffs: number[][] | number[], offset: number[] | number): Tensor {
  const y = x64.matmul(f64(coeffs));
  return typeof offset === 'number' ? y.add(offset) : y.add(f64(offset));
}

/** color_util.rgb2ycbcr(img, y_only): [H, W, 3] uint8 or float32 → same dtype, [H, W] when yOnly. */
export function rgb2ycbcr(img: Tensor, yOnly = false): Tensor {
  const { dtype } = hwc('rgb2ycbcr', img);
  return torch.scope(() => {
    const x = inputRange(img).to({ dtype: 'float64' });
    return outputRange(yOnly ? affine(x, Y_RGB, 16.0) : affine(x, RGB2YCBCR, OFFSET), dtype);
  });
}

/** color_util.bgr2ycbcr(img, y_only): as rgb2ycbcr with B and R swapped in the input (output stays Y, Cb, Cr). */
export function bgr2ycbcr(img: Tensor, yOnly = false): Tensor {
  const { dtype } = hwc('bgr2ycbcr', img);
  return torch.scope(() => {
    const x = inputRange(img).to({ dtype: 'float64' });
    return outputRange(yOnly ? affine(x, Y_BGR, 16.0) : affine(x, BGR2YCBCR, OFFSET), dtype);
  });
}

function fromYcbcr(op: string, img: Tensor, m: number[][], offset: number[]): Tensor {
  const { dtype } = hwc(op, img);
  return torch.scope(() => {
    // img ×255 in float32 first, as upstream (`_convert_input_type_range(img) * 255`).
    const x = inputRange(img).mul(255).to({ dtype: 'float64' });
    return outputRange(x.matmul(f64(m)).mul(255.0).add(f64(offset)), dtype);
  });
}

/** color_util.ycbcr2rgb: [H, W, 3] YCbCr (uint8 or float32) → RGB of the same dtype. */
export function ycbcr2rgb(img: Tensor): Tensor { return fromYcbcr('ycbcr2rgb', img, YCBCR2RGB, YCBCR2RGB_OFFSET); }

/** color_util.ycbcr2bgr: [H, W, 3] YCbCr (uint8 or float32) → BGR of the same dtype. */
export function ycbcr2bgr(img: Tensor): Tensor { return fromYcbcr('ycbcr2bgr', img, YCBCR2BGR, YCBCR2BGR_OFFSET); }

/** color_util.rgb2ycbcr_pt: [N, 3, H, W] in [0, 1] → [N, 1|3, H, W] in [0, 1] (÷255, not clamped). */
export function rgb2ycbcrPt(img: Tensor, yOnly = false): Tensor {
  nchw3('rgb2ycbcrPt', img);
  return torch.scope(() => {
    const x = img.permute([0, 2, 3, 1]);
    if (yOnly) {
      const w = torch.tensor([[Y_RGB[0]!], [Y_RGB[1]!], [Y_RGB[2]!]], { dtype: img.dtype });
      return x.matmul(w).permute([0, 3, 1, 2]).add(16.0).div(255.0);
    }
    const w = torch.tensor(RGB2YCBCR, { dtype: img.dtype });
    const bias = torch.tensor(OFFSET, { dtype: img.dtype }).view([1, 3, 1, 1]);
    return x.matmul(w).permute([0, 3, 1, 2]).add(bias).div(255.0);
  });
}

/** RGB → Y (BT.601, the metric convention) of an [N, 3, H, W] image in [0, 1]: [N, 1, H, W] in [0, 1]. */
export function rgbToY(img: Tensor): Tensor { return rgb2ycbcrPt(img, true); }

/**
 * ResShift utils/util_image.rgb2ycbcr(im, only_y): [H, W, 3] uint8 or float32 (0..1). Works on a
 * 0–255 float64 image with the coefficients divided by 255; uint8 → rounded, float → ÷255.
 */
export function rgb2ycbcrResShift(im: Tensor, onlyY = true): Tensor {
  const { dtype } = hwc('rgb2ycbcrResShift', im);
  return torch.scope(() => {
    const x = (dtype === 'uint8' ? im : im.mul(255)).to({ dtype: 'float64' });
    const m = onlyY ? f64(Y_RGB).div(255.0) : f64(RGB2YCBCR).div(255.0);
    const y = onlyY ? x.matmul(m).add(16.0) : x.matmul(m).add(f64(OFFSET));
    return dtype === 'uint8' ? y.round().clamp(0, 255).to({ dtype: 'uint8' }) : y.div(255.0).to({ dtype: 'float32' });
  });
}

/** ResShift utils/util_image.rgb2ycbcrTorch(im, only_y): [N, 3, H, W] in [0, 1] → [N, 1|3, H, W], clamped to [0, 1]. */
export function rgb2ycbcrTorchResShift(im: Tensor, onlyY = true): Tensor {
  nchw3('rgb2ycbcrTorchResShift', im);
  return torch.scope(() => {
    const x = im.permute([0, 2, 3, 1]).mul(255.0);
    let rlt: Tensor;
    if (onlyY) {
      rlt = x.matmul(torch.tensor(Y_RGB, { dtype: im.dtype }).view([3, 1]).div(255.0)).add(16.0);
    } else {
      const m = torch.tensor(RGB2YCBCR, { dtype: im.dtype }).div(255.0);
      rlt = x.matmul(m).add(torch.tensor(OFFSET, { dtype: 'int64' }).view([-1, 1, 1, 3]));
    }
    return rlt.div(255.0).clamp(0.0, 1.0).permute([0, 3, 1, 2]).contiguous();
  });
}
