// NIQE as pyiqa computes it (pyiqa/archs/niqe_arch.py: NIQE.forward → calculate_niqe → niqe, with
// compute_feature, func_util.estimate_aggd_param / normalize_img_with_gauss and
// matlab_utils.blockproc / nanmean / nancov), in float64 on the rounded YIQ luma.
import * as torch from '../engine/index.js';
import { Tensor } from '../engine/index.js';
import { filterValid, fspecial, toYChannel, type ColorSpace } from './color.js';
import { imresizePyiqa } from './matlab-resize.js';

/** The pristine multivariate Gaussian (MATLAB NIQE release): mean (36) and covariance (36 × 36), float64. */
export interface NiqePristine {
  mu: Tensor;
  cov: Tensor;
}

/** estimate_aggd_param(block): alpha, beta_l, beta_r per block, (B) each. */
function estimateAggdParam(block: Tensor): [Tensor, Tensor, Tensor] {
  return torch.scope(() => {
    const gam = torch.arange(0.2, 10 + 0.001, 0.001).to({ dtype: block.dtype });
    const rGam = torch.lgamma(gam.reciprocal().mul(2)).mul(2).sub(torch.lgamma(gam.reciprocal()).add(torch.lgamma(gam.reciprocal().mul(3)))).exp()
      .view([1, -1]).expand([block.size(0), gam.size(0)]);
    const maskLeft = block.lt(0), maskRight = block.gt(0);
    const countLeft = torch.sum(maskLeft, [-1, -2], false, 'float32');
    const countRight = torch.sum(maskRight, [-1, -2], false, 'float32');
    const leftStd = block.mul(maskLeft).pow(2).sum([-1, -2]).div(countLeft).sqrt();
    const rightStd = block.mul(maskRight).pow(2).sum([-1, -2]).div(countRight).sqrt();
    const gammahat = leftStd.div(rightStd);
    const rhat = block.abs().mean([-1, -2]).pow(2).div(block.pow(2).mean([-1, -2]));
    const rhatnorm = rhat.mul(gammahat.pow(3).add(1)).mul(gammahat.add(1)).div(gammahat.pow(2).add(1).pow(2));
    const pos = rGam.sub(rhatnorm).abs().argmin(-1);
    const alpha = gam.indexSelect(0, pos.reshape([-1])).view(pos.shape);
    const k = torch.lgamma(alpha.reciprocal()).sub(torch.lgamma(alpha.reciprocal().mul(3))).exp().sqrt();
    const betaL = leftStd.squeeze(-1).mul(k);
    const betaR = rightStd.squeeze(-1).mul(k);
    return [alpha, betaL, betaR];
  });
}

/** compute_feature(block): 18 features per block, (B, 18). */
function computeFeature(block: Tensor): Tensor {
  return torch.scope(() => {
    const bsz = block.size(0);
    const aggd = block.narrow(1, 0, 1);
    const [alpha, betaL, betaR] = estimateAggdParam(aggd);
    const feat: Tensor[] = [alpha, betaL.add(betaR).div(2)];
    for (const s of [[0, 1], [1, 0], [1, 1], [1, -1]]) {
      const shifted = torch.roll(aggd, s, [2, 3]);
      const [a, bl, br] = estimateAggdParam(aggd.mul(shifted));
      const mean = br.sub(bl).mul(torch.lgamma(a.reciprocal().mul(2)).sub(torch.lgamma(a.reciprocal())).exp());
      feat.push(a, mean, bl, br);
    }
    return torch.cat(feat.map((f) => f.reshape([bsz, 1])), -1);
  });
}

/** normalize_img_with_gauss(img, 7, 7/6, C=1, padding='replicate'): MSCN coefficients. */
function normalizeWithGauss(img: Tensor): Tensor {
  return torch.scope(() => {
    const kernel = fspecial(7, 7 / 6, 1).to({ dtype: img.dtype });
    // imfilter with ExactPadding2d(7, 'replicate'): 3 px each side.
    // Both filterings in one pass over the stacked images (shifted-slice sums, see filterValid).
    const n = img.size(0);
    const both = filterValid(torch.pad(torch.cat([img, img.pow(2)], 0), [3, 3, 3, 3], 'replicate'), kernel);
    const mu = both.narrow(0, 0, n);
    const std = both.narrow(0, n, n);
    const eps = img.dtype === 'float64' ? 2.220446049250313e-16 : 1.1920928955078125e-7;
    const sigma = std.sub(mu.pow(2)).abs().add(eps).sqrt();
    return img.sub(mu).div(sigma.add(1));
  });
}

/** blockproc(x, [bh, bw], compute_feature): blocks in column-major order, (b, nBlocks, 18). */
function blockproc(x: Tensor, bh: number, bw: number): Tensor {
  return torch.scope(() => {
    const [b, c, h, w] = x.shape as [number, number, number, number];
    const nh = Math.floor(h / bh), nw = Math.floor(w / bw);
    const blocks = torch.unfold(x, [bh, bw], { stride: [bh, bw] })
      .reshape([b, c, bh, bw, nh, nw]).permute([5, 4, 0, 1, 2, 3]).reshape([nh * nw * b, c, bh, bw]);
    const r = computeFeature(blocks);
    return r.reshape([nh * nw, b, r.size(1)]).transpose(0, 1);
  });
}

/** nanmean(v, dim=1) and nancov (rows holding a NaN left out), per image. */
function fitMvg(distparam: Tensor): [Tensor, Tensor] {
  return torch.scope(() => {
    const b = distparam.size(0), f = distparam.size(2);
    const isNan = distparam.isnan();
    const zeroed = torch.where(isNan, 0, distparam);
    const mu = zeroed.sum(1).div(isNan.logicalNot().to({ dtype: 'float32' }).sum(1));
    const covs: Tensor[] = [];
    const rowNan = isNan.to({ dtype: 'float32' }).amax(2).gt(0);
    for (let i = 0; i < b; i++) {
      const keepRows = torch.nonzero(rowNan.select(0, i).logicalNot()).reshape([-1]);
      const rows = distparam.select(0, i).indexSelect(0, keepRows).reshape([-1, f]);
      covs.push(torch.cov(rows.t(), rows.size(0) > 1 ? 1 : 0));
    }
    return [mu, torch.stack(covs)];
  });
}

/** niqe_arch.niqe(img, mu_pris, cov_pris): img (N, 1, H, W) float64 luma in [0, 255]; one score per image. */
export function niqeCore(img: Tensor, pristine: NiqePristine, blockH = 96, blockW = 96): number[] {
  return torch.scope(() => {
    const [n, , h, w] = img.shape as [number, number, number, number];
    const nbh = Math.floor(h / blockH), nbw = Math.floor(w / blockW);
    if (nbh < 1 || nbw < 1) throw new Error(`niqe: the image (${w}×${h}) is smaller than one ${blockW}×${blockH} block`);
    let x = img.narrow(-2, 0, nbh * blockH).narrow(-1, 0, nbw * blockW);
    const distparam: Tensor[] = [];
    for (const scale of [1, 2]) {
      const normalized = normalizeWithGauss(x);
      distparam.push(blockproc(normalized, Math.floor(blockH / scale), Math.floor(blockW / scale)));
      if (scale === 1) x = imresizePyiqa(x.div(255.0), 0.5, true).mul(255.0);
    }
    const all = torch.cat(distparam, -1);
    const [muDist, covDist] = fitMvg(all);
    const muPris = pristine.mu.to({ dtype: 'float64' }).reshape([1, -1]).expand([n, -1]);
    const covPris = pristine.cov.to({ dtype: 'float64' }).unsqueeze(0).expand([n, pristine.cov.size(0), pristine.cov.size(1)]);
    const invcov = torch.pinv(covPris.add(covDist).div(2));
    const diff = muPris.sub(muDist).unsqueeze(1);
    const q = torch.bmm(torch.bmm(diff, invcov), diff.transpose(1, 2)).reshape([n]).sqrt();
    return Array.from(q.toArray() as Float64Array);
  });
}

/** calculate_niqe(img, crop_border=0, test_y_channel=True, color_space): img (N, 3, H, W) float32 RGB in [0, 1]. */
export function niqe(x: Tensor, pristine: NiqePristine, colorSpace: ColorSpace = 'yiq', crop = 0): number[] {
  return torch.scope(() => {
    let y = x.size(1) === 3 ? toYChannel(x, 255, colorSpace) : x.mul(255);
    y = y.round().to({ dtype: 'float64' });
    if (crop !== 0) y = y.narrow(-2, crop, y.size(-2) - 2 * crop).narrow(-1, crop, y.size(-1) - 2 * crop);
    return niqeCore(y, pristine);
  });
}
