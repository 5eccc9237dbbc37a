// SSIM as pyiqa computes it (pyiqa/archs/ssim_arch.py: SSIM.forward → ssim(), downsample=False)
// and as BasicSR does (basicsr/metrics/psnr_ssim.py calculate_ssim → _ssim).
import * as torch from '../engine/index.js';
import { Tensor } from '../engine/index.js';
import { filterValid, fspecial, toYChannel, type ColorSpace } from './color.js';
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

/** filter2(t, win, 'valid') for each t, as one shifted-slice sum over the tensors stacked along the batch. */
function filterValid5(ts: Tensor[], win: Tensor, _C: number): Tensor[] {
  return torch.scope(() => {
    const n = ts[0]!.size(0);
    const acc = filterValid(torch.cat(ts, 0), win);
    return ts.map((_, i) => acc.narrow(0, i * n, n));
  });
}

/** ssim_arch.ssim(X, Y, data_range=255): valid 11×11 Gaussian filtering, contrast term clamped at 0. */
export function ssim(x: Tensor, y: Tensor, o: SsimOptions): number[] {
  return torch.scope(() => {
    const X = preprocess(cropBorder(x, o.cropBorder ?? 0), o), Y = preprocess(cropBorder(y, o.cropBorder ?? 0), o);
    const C = X.size(1);
    const win = fspecial(11, 1.5, C).to({ dtype: 'float64' });
    const dataRange = 255;
    const C1 = (0.01 * dataRange) ** 2, C2 = (0.03 * dataRange) ** 2;
    // The five filter2(·, win, 'valid') calls as one convolution over a batch of 5N (the same
    // per-image arithmetic; LibTorch's float64 convolution parallelises over the batch only).
    const [fX, fY, fXX, fYY, fXY] = filterValid5([X, Y, X.mul(X), Y.mul(Y), X.mul(Y)], win, C);
    const mu1 = fX, mu2 = fY;
    const mu1Sq = mu1.pow(2), mu2Sq = mu2.pow(2), mu1Mu2 = mu1.mul(mu2);
    const sigma1Sq = fXX.sub(mu1Sq);
    const sigma2Sq = fYY.sub(mu2Sq);
    const sigma12 = fXY.sub(mu1Mu2);
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
    const c1 = (0.01 * 255) ** 2, c2 = (0.03 * 255) ** 2;
    const [mu1, mu2, fXX, fYY, fXY] = filterValid5([X, Y, X.pow(2), Y.pow(2), X.mul(Y)], win, 1);
    const mu1Sq = mu1!.pow(2), mu2Sq = mu2!.pow(2), mu1Mu2 = mu1!.mul(mu2!);
    const sigma1Sq = fXX!.sub(mu1Sq), sigma2Sq = fYY!.sub(mu2Sq), sigma12 = fXY!.sub(mu1Mu2);
    const num = mu1Mu2.mul(2).add(c1).mul(sigma12.mul(2).add(c2));
    const den = mu1Sq.add(mu2Sq).add(c1).mul(sigma1Sq.add(sigma2Sq).add(c2));
    return Array.from(num.div(den).mean([1, 2, 3]).toArray() as Float64Array);
  });
}
