// BasicSR's metric conventions (basicsr/metrics/metric_util.py, basicsr/utils/color_util.py).
import * as torch from '../engine/index.js';
import { Tensor } from '../engine/index.js';

/** img[..., c:-c, c:-c] (no crop for c = 0). */
export function cropBorder(x: Tensor, c: number): Tensor {
  if (c === 0) return x;
  return x.narrow(-2, c, x.size(-2) - 2 * c).narrow(-1, c, x.size(-1) - 2 * c);
}

/**
 * metric_util.to_y_channel on an 8-bit image: float32 /255, bgr2ycbcr(y_only=True) — a float64
 * dot product with (65.481, 128.553, 24.966) on RGB plus 16, divided by 255 and stored as float32
 * — then ×255 in float32. Returned as float64 (N, 1, H, W), as calculate_psnr/ssim use it.
 */
export function basicsrY(x: Tensor): Tensor {
  return torch.scope(() => {
    const rgb = x.to({ dtype: 'float64' });
    const w = torch.tensor([65.481, 128.553, 24.966], { dtype: 'float64' }).view([1, 3, 1, 1]);
    const y = rgb.mul(w).sum(1, true).add(16.0).div(255.0).to({ dtype: 'float32' });
    return y.mul(255.0).to({ dtype: 'float64' });
  });
}

/** cv2.getGaussianKernel(size, sigma) ⊗ itself, float64 (1, 1, k, k). */
export function cvGaussianWindow(size: number, sigma: number): Tensor {
  const k = new Float64Array(size);
  let s = 0;
  for (let i = 0; i < size; i++) { const d = i - (size - 1) / 2; k[i] = Math.exp(-(d * d) / (2 * sigma * sigma)); s += k[i]!; }
  for (let i = 0; i < size; i++) k[i] = k[i]! / s;
  const w = new Float64Array(size * size);
  for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) w[i * size + j] = k[i]! * k[j]!;
  return torch.fromTypedArray(w, [1, 1, size, size]);
}
