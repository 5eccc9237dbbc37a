// PSNR as pyiqa computes it (pyiqa/archs/psnr_arch.py) and as BasicSR does
// (basicsr/metrics/psnr_ssim.py calculate_psnr with test_y_channel=True).
import * as torch from '../engine/index.js';
import { Tensor } from '../engine/index.js';
import { toYChannel, type ColorSpace } from './color.js';
import { basicsrY, cropBorder } from './basicsr.js';

export interface PsnrOptions {
  testYChannel: boolean;
  colorSpace?: ColorSpace;
  cropBorder?: number;
}

/** psnr_arch.PSNR.forward → psnr(): float32, 10·log10(1 / (mse + 1e-8)) per image; x is the output, y the reference. */
export function psnr(x: Tensor, y: Tensor, o: PsnrOptions): number[] {
  return torch.scope(() => {
    let a = cropBorder(x, o.cropBorder ?? 0), b = cropBorder(y, o.cropBorder ?? 0);
    if (a.size(1) === 3 && o.testYChannel) {
      a = toYChannel(a, 1.0, o.colorSpace ?? 'yiq');
      b = toYChannel(b, 1.0, o.colorSpace ?? 'yiq');
    }
    const mse = a.sub(b).pow(2).mean([1, 2, 3]);
    const score = torch.log10(mse.add(1e-8).reciprocal().mul(1.0)).mul(10);
    return Array.from(score.toFloat32Array());
  });
}

/** calculate_psnr(img, img2, crop_border, test_y_channel=True): float64 on the [0, 255] Y of to_y_channel. */
export function psnrBasicsr(x: Tensor, y: Tensor, crop: number): number[] {
  return torch.scope(() => {
    const a = basicsrY(cropBorder(x, crop)), b = basicsrY(cropBorder(y, crop));
    const mse = a.sub(b).pow(2).mean([1, 2, 3]);
    const v = mse.toArray() as Float64Array;
    return Array.from(v, (m) => (m === 0 ? Infinity : 10 * Math.log10((255 * 255) / m)));
  });
}
