// PSNR and SSIM on the Y channel (BT.601, images in [0, 1]) for validation during training: the
// pyiqa convention (test_y_channel, whole image, no border crop). Small on purpose.
import * as torch from '../engine/index.js';
import { Tensor } from '../engine/index.js';
import { rgbToY } from '../data/color.js';

/** PSNR (dB) per image [B] of a vs b, [B, 3, H, W] in [0, 1], on Y. */
export function psnrY(a: Tensor, b: Tensor): Tensor {
  return torch.scope(() => {
    const mse = rgbToY(a).sub(rgbToY(b)).square().mean([1, 2, 3]);
    return mse.clamp(1e-10, Infinity).reciprocal().log().mul(10 / Math.LN10);
  });
}

function gaussianWindow(size: number, sigma: number): Tensor {
  const g = Array.from({ length: size }, (_, i) => Math.exp(-((i - (size - 1) / 2) ** 2) / (2 * sigma * sigma)));
  const s = g.reduce((x, y) => x + y, 0);
  const w = new Float32Array(size * size);
  for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) w[i * size + j] = (g[i]! / s) * (g[j]! / s);
  return torch.fromTypedArray(w, [1, 1, size, size]);
}

/** SSIM per image [B] on Y (11×11 Gaussian window, σ 1.5, valid region, data range 1). */
export function ssimY(a: Tensor, b: Tensor): Tensor {
  return torch.scope(() => {
    const x = rgbToY(a).double(), y = rgbToY(b).double();
    const w = gaussianWindow(11, 1.5).double();
    const f = (t: Tensor): Tensor => torch.conv2d(t, w);
    const c1 = 0.01 ** 2, c2 = 0.03 ** 2;
    const mx = f(x), my = f(y);
    const sxx = f(x.mul(x)).sub(mx.square()), syy = f(y.mul(y)).sub(my.square()), sxy = f(x.mul(y)).sub(mx.mul(my));
    const num = mx.mul(my).mul(2).add(c1).mul(sxy.mul(2).add(c2));
    const den = mx.square().add(my.square()).add(c1).mul(sxx.add(syy).add(c2));
    return num.div(den).mean([1, 2, 3]).float();
  });
}
