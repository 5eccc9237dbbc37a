// filter2D: per-sample (or shared) kernel cross-correlation with reflect padding
// (BasicSR@8d56e3a basicsr/utils/img_process_util.py, filter2D).
import * as torch from '../../engine/index.js';
import { Tensor } from '../../engine/index.js';

/**
 * img (b, c, h, w); kernel (b, k, k) — one kernel per sample — or (1, k, k) / (k, k) — one for all.
 * Pads by k//2 with reflect padding (needs h, w > k//2), then conv2d (no kernel flip).
 */
export function filter2D(img: Tensor, kernel: Tensor): Tensor {
  if (!(img instanceof Tensor) || img.ndim !== 4) throw new RangeError(`filter2D(): img must be a (b, c, h, w) tensor, got ${img instanceof Tensor ? `[${img.shape.join(', ')}]` : typeof img}`);
  if (!(kernel instanceof Tensor) || (kernel.ndim !== 3 && kernel.ndim !== 2)) throw new RangeError('filter2D(): kernel must be a (b, k, k) or (k, k) tensor');
  const k = kernel.size(-1);
  if (kernel.size(-2) !== k) throw new RangeError(`filter2D(): kernel must be square, got [${kernel.shape.join(', ')}]`);
  if (k % 2 !== 1) throw new RangeError(`filter2D(): wrong kernel size ${k} (must be odd)`);
  const [b, c, h, w] = img.shape as [number, number, number, number];
  const kb = kernel.ndim === 2 ? 1 : kernel.size(0);
  if (kb !== 1 && kb !== b) throw new RangeError(`filter2D(): kernel batch ${kb} must be 1 or the image batch ${b}`);
  const p = Math.floor(k / 2);
  if (h <= p || w <= p) throw new RangeError(`filter2D(): image ${h}×${w} is too small for reflect padding by ${p} (kernel ${k}×${k})`);
  if (img.dtype !== kernel.dtype) throw new RangeError(`filter2D(): img is ${img.dtype} but kernel is ${kernel.dtype}`);
  return torch.scope(() => {
    const padded = torch.pad(img, [p, p, p, p], 'reflect');
    const [ph, pw] = [padded.size(2), padded.size(3)];
    if (kb === 1) {
      // apply the same kernel to all batch images
      return torch.conv2d(padded.reshape(b * c, 1, ph, pw), kernel.reshape(1, 1, k, k), null, { padding: 0 }).view(b, c, h, w);
    }
    const kk = kernel.reshape(b, 1, k, k).repeat(1, c, 1, 1).view(b * c, 1, k, k);
    return torch.conv2d(padded.reshape(1, b * c, ph, pw), kk, null, { groups: b * c }).view(b, c, h, w);
  });
}
