// SSIM as pyiqa computes it (pyiqa/archs/ssim_arch.py: SSIM.forward → ssim(), downsample=False)
// and as BasicSR does (basicsr/metrics/psnr_ssim.py calculate_ssim → _ssim).
import * as torch from '../engine/index.js';
import { Tensor } from '../engine/index.js';
import { fspecial, toYChannel, type ColorSpace } from './color.js';
import { basicsrY, cropBorder, cvGaussianWindow } from './basicsr.js';

export interface SsimOptions {
  testYChannel: boolean;
  colorSpace?: ColorSpace;
  cropBorder?: number;
}

/** func_util.preprocess_rgb(x, test_y_channel, 255, color_space) then float64. */
function preprocess(x: Tensor, o: SsimOptions): Tensor {
  return torch.scope(() => {
    const y = o.testYChannel && x.size(1) === 3 ? toYChannel(x, 255, o.colorSpace ?? 'yiq') : x.mul(255);
    return y.round().to({ dtype: 'float64' });
  });
}

/** ssim_arch.ssim(X, Y, data_range=255): valid 11×11 Gaussian filtering, contrast term clamped at 0. */
export function ssim(x: Tensor, y: Tensor, o: SsimOptions): number[] {
  return torch.scope(() => {
    const X = preprocess(cropBorder(x, o.cropBorder ?? 0), o), Y = preprocess(cropBorder(y, o.cropBorder ?? 0), o);
    const C = X.size(1);
    const win = fspecial(11, 1.5, C).to({ dtype: 'float64' });
    const f = (t: Tensor): Tensor => torch.conv2d(t, win, null, { padding: 0, groups: C });
    const dataRange = 255;
    const C1 = (0.01 * dataRange) ** 2, C2 = (0.03 * dataRange) ** 2;
    const mu1 = f(X), mu2 = f(Y);
    const mu1Sq = mu1.pow(2), mu2Sq = mu2.pow(2), mu1Mu2 = mu1.mul(mu2);
    const sigma1Sq = f(X.mul(X)).sub(mu1Sq);
    const sigma2Sq = f(Y.mul(Y)).sub(mu2Sq);
    const sigma12 = f(X.mul(Y)).sub(mu1Mu2);
    const csMap = sigma12.mul(2).add(C2).div(sigma1Sq.add(sigma2Sq).add(C2)).relu();
    const ssimMap = mu1Mu2.mul(2).add(C1).div(mu1Sq.add(mu2Sq).add(C1)).mul(csMap);
    return Array.from(ssimMap.mean([1, 2, 3]).toArray() as Float64Array);
  });
}

/** calculate_ssim(img, img2, crop_border, test_y_channel=True): BasicSR's _ssim on the unrounded Y, no clamping. */
export function ssimBasicsr(x: Tensor, y: Tensor, crop: number): number[] {
  return torch.scope(() => {
    const X = basicsrY(cropBorder(x, crop)), Y = basicsrY(cropBorder(y, crop));
    const win = cvGaussianWindow(11, 1.5);
    const f = (t: Tensor): Tensor => torch.conv2d(t, win, null, { padding: 0 });
    const c1 = (0.01 * 255) ** 2, c2 = (0.03 * 255) ** 2;
    const mu1 = f(X), mu2 = f(Y);
    const mu1Sq = mu1.pow(2), mu2Sq = mu2.pow(2), mu1Mu2 = mu1.mul(mu2);
    const sigma1Sq = f(X.pow(2)).sub(mu1Sq), sigma2Sq = f(Y.pow(2)).sub(mu2Sq), sigma12 = f(X.mul(Y)).sub(mu1Mu2);
    const num = mu1Mu2.mul(2).add(c1).mul(sigma12.mul(2).add(c2));
    const den = mu1Sq.add(mu2Sq).add(c1).mul(sigma1Sq.add(sigma2Sq).add(c2));
    return Array.from(num.div(den).mean([1, 2, 3]).toArray() as Float64Array);
  });
}
