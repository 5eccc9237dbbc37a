// Unsharp masking of the GT (BasicSR@8d56e3a basicsr/utils/img_process_util.py, USMSharp).
// Real-ESRGAN sharpens its GT; ResShift / SinSR / vpdsr's default preset do not (use_sharp False).
import * as torch from '../../engine/index.js';
import { Tensor } from '../../engine/index.js';
import { filter2D } from './filter2d.js';

/** cv2.getGaussianKernel(ksize, sigma) in float64; sigma <= 0 means 0.3·((ksize − 1)·0.5 − 1) + 0.8. */
export function getGaussianKernel(ksize: number, sigma: number): Float64Array {
  if (!Number.isInteger(ksize) || ksize < 1 || ksize % 2 !== 1) throw new RangeError(`getGaussianKernel(): ksize must be a positive odd integer, got ${ksize}`);
  const s = sigma > 0 ? sigma : 0.3 * ((ksize - 1) * 0.5 - 1) + 0.8;
  const scale2X = -0.5 / (s * s);
  const out = new Float64Array(ksize);
  let sum = 0;
  for (let i = 0; i < ksize; i++) {
    const x = i - (ksize - 1) * 0.5;
    out[i] = Math.exp(scale2X * x * x);
    sum += out[i]!;
  }
  const inv = 1 / sum; // OpenCV multiplies by the reciprocal
  for (let i = 0; i < ksize; i++) out[i] = out[i]! * inv;
  return out;
}

export class USMSharp {
  readonly radius: number;
  /** (1, radius, radius) float32: the outer product of the 1-D Gaussian with itself. */
  readonly kernel: Tensor;

  constructor(radius = 50, sigma = 0) {
    if (!Number.isInteger(radius) || radius < 1 || radius > 255) throw new RangeError(`USMSharp: radius must be an integer in [1, 255], got ${radius}`);
    if (radius % 2 === 0) radius += 1;
    this.radius = radius;
    const g = getGaussianKernel(radius, sigma);
    const k = new Float64Array(radius * radius);
    for (let i = 0; i < radius; i++) for (let j = 0; j < radius; j++) k[i * radius + j] = g[i]! * g[j]!;
    this.kernel = torch.keep(torch.scope(() => torch.fromTypedArray(k, [1, radius, radius]).to({ dtype: 'float32' })));
  }

  /** forward(img, weight, threshold): img (b, c, h, w) in [0, 1], h, w > radius / 2. */
  forward(img: Tensor, weight = 0.5, threshold = 10): Tensor {
    return torch.scope(() => {
      const blur = filter2D(img, this.kernel);
      const residual = img.sub(blur);
      const mask = residual.abs().mul(255).gt(threshold).float();
      const softMask = filter2D(mask, this.kernel);
      const sharp = img.add(residual.mul(weight)).clamp(0, 1);
      return softMask.mul(sharp).add(torch.rsub(softMask, 1).mul(img));
    });
  }

  dispose(): void { this.kernel.dispose(); }
}
