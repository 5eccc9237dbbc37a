// Luma and windows with pyiqa's conventions (pyiqa/utils/color_util.py, pyiqa/matlab_utils/functions.py).
import * as torch from '../engine/index.js';
import { Tensor } from '../engine/index.js';

export type ColorSpace = 'yiq' | 'ycbcr';

/** color_util.rgb2ycbcr: BT.601 studio swing, (N, 3, H, W) RGB in [0, 1] → YCbCr in [0, 1]. */
function rgb2ycbcr(x: Tensor): Tensor {
  return torch.scope(() => {
    const w = torch.tensor([[65.481, -37.797, 112.0], [128.553, -74.203, -93.786], [24.966, 112.0, -18.214]]).to({ dtype: x.dtype });
    const b = torch.tensor([16, 128, 128]).view([1, 3, 1, 1]).to({ dtype: x.dtype });
    return torch.matmul(x.permute([0, 2, 3, 1]), w).permute([0, 3, 1, 2]).add(b).div(255.0);
  });
}

/** color_util.rgb2yiq */
function rgb2yiq(x: Tensor): Tensor {
  return torch.scope(() => {
    const w = torch.tensor([[0.299, 0.587, 0.114], [0.5959, -0.2746, -0.3213], [0.2115, -0.5227, 0.3112]]).t().to({ dtype: x.dtype });
    return torch.matmul(x.permute([0, 2, 3, 1]), w).permute([0, 3, 1, 2]);
  });
}

/**
 * color_util.to_y_channel(img, out_data_range, color_space): the luma channel (N, 1, H, W) scaled
 * to out_data_range, rounded to integer levels when that range is 255 or more (as pyiqa does for
 * ssim and niqe, not for psnr).
 */
export function toYChannel(img: Tensor, outDataRange: number, colorSpace: ColorSpace): Tensor {
  return torch.scope(() => {
    const full = colorSpace === 'yiq' ? rgb2yiq(img) : rgb2ycbcr(img);
    const y = full.narrow(1, 0, 1).mul(outDataRange);
    return outDataRange >= 255 ? y.round() : y;
  });
}

/**
 * matlab_utils.fspecial(size, sigma, channels): MATLAB's Gaussian window, computed in float64 and
 * then rounded to float32 as upstream does (`torch.from_numpy(h).float()`), shape (C, 1, k, k).
 */
export function fspecial(size: number, sigma: number, channels = 1): Tensor {
  const m = (size - 1) / 2;
  const h = new Float64Array(size * size);
  let max = 0;
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      const y = i - m, x = j - m;
      const v = Math.exp(-(x * x + y * y) / (2 * sigma * sigma));
      h[i * size + j] = v;
      if (v > max) max = v;
    }
  }
  const eps = 2.220446049250313e-16;
  let sum = 0;
  for (let k = 0; k < h.length; k++) {
    if (h[k]! < eps * max) h[k] = 0;
    sum += h[k]!;
  }
  const f = Float32Array.from(h, (v) => (sum !== 0 ? v / sum : v));
  return torch.scope(() => torch.fromTypedArray(f, [1, 1, size, size]).repeat([channels, 1, 1, 1]));
}

/**
 * filter2(x, win, 'valid') (F.conv2d with one k×k window for every channel), as the k² taps summed
 * over shifted slices. LibTorch's float64 convolution unfolds the image into a k²·H·W matrix first,
 * which is slow and memory-bound here; this differs from it only in the order of the float64
 * additions (~1e-16 relative).
 */
export function filterValid(x: Tensor, win: Tensor): Tensor {
  return torch.scope(() => {
    const k = win.size(-1);
    const w = win.reshape([-1, k * k]).select(0, 0).to({ dtype: 'float64' }).toArray() as Float64Array;
    const oh = x.size(-2) - k + 1, ow = x.size(-1) - k + 1;
    const acc = torch.zeros([...x.shape.slice(0, -2), oh, ow], { dtype: x.dtype });
    for (let i = 0; i < k; i++) {
      const rows = x.narrow(-2, i, oh);
      for (let j = 0; j < k; j++) {
        const v = w[i * k + j]!;
        if (v !== 0) torch.scope(() => acc.add_(rows.narrow(-1, j, ow), v));
      }
    }
    return acc;
  });
}
