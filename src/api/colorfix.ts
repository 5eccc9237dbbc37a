// --color-fix none|adain|wavelet: pull the colours of the SR output back to the LR input's, as
// StableSR's scripts/wavelet_color_fix.py does (the fix SUPIR and later diffusion SR tools reuse),
// written here from its math. `style` is the LR upscaled to the output size (bicubic ×4);
// `content` the model output. Both are [1, 3, H, W] float32 in [0, 1] (both maps are affine- or
// shift-invariant, so the [−1, 1] range upstream works in gives the same result up to ε).
import * as torch from '../engine/index.js';
import type { Tensor } from '../engine/index.js';

export type ColorFix = 'none' | 'adain' | 'wavelet';
export const COLOR_FIXES: readonly ColorFix[] = ['none', 'adain', 'wavelet'];

/** calc_mean_std: per-channel mean and sqrt(unbiased var + eps), [1, C, 1, 1]. */
function meanStd(x: Tensor, eps = 1e-5): [Tensor, Tensor] {
  const [v, m] = torch.varMean(x, [2, 3], 1, true);
  return [m, v.add(eps).sqrt()];
}

/** adaptive_instance_normalization(content, style): content's per-channel statistics replaced by style's. */
export function adain(content: Tensor, style: Tensor): Tensor {
  return torch.scope(() => {
    const [sm, ss] = meanStd(style);
    const [cm, cs] = meanStd(content);
    return content.sub(cm).div(cs).mul(ss).add(sm);
  });
}

/** wavelet_blur: the 3×3 binomial kernel, dilated by `radius`, replicate padding, per channel. */
export function waveletBlur(x: Tensor, radius: number): Tensor {
  return torch.scope(() => {
    const c = x.size(1);
    const k = torch.tensor([[0.0625, 0.125, 0.0625], [0.125, 0.25, 0.125], [0.0625, 0.125, 0.0625]], { dtype: x.dtype })
      .reshape([1, 1, 3, 3]).repeat([c, 1, 1, 1]);
    const p = torch.pad(x, [radius, radius, radius, radius], 'replicate');
    return torch.conv2d(p, k, null, { groups: c, dilation: radius });
  });
}

/** wavelet_decomposition(levels=5): [high = Σ (image_i − blur_i), low = the last blur]. */
export function waveletDecomposition(x: Tensor, levels = 5): [Tensor, Tensor] {
  return torch.scope(() => {
    let high = torch.zerosLike(x);
    let img = x;
    for (let i = 0; i < levels; i++) {
      const low = waveletBlur(img, 2 ** i);
      high = high.add(img.sub(low));
      img = low;
    }
    return [high, img];
  });
}

/** wavelet_reconstruction(content, style): content's high frequencies on style's low ones. */
export function waveletReconstruction(content: Tensor, style: Tensor): Tensor {
  return torch.scope(() => waveletDecomposition(content)[0].add(waveletDecomposition(style)[1]));
}

/** Applies a colour fix; returns a new tensor clamped to [0, 1] (a copy for 'none'). */
export function applyColorFix(fix: ColorFix, content: Tensor, style: Tensor): Tensor {
  if (fix === 'none') return content.clone();
  if (content.shape.join() !== style.shape.join()) throw new RangeError(`color fix: output [${content.shape.join(', ')}] and reference [${style.shape.join(', ')}] differ in shape`);
  return torch.scope(() => (fix === 'adain' ? adain(content, style) : waveletReconstruction(content, style)).clamp(0, 1));
}
