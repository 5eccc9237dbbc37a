// --color-fix auto|none|adain|wavelet: pull the colours of the SR output back to the LR input's, as
// StableSR's scripts/wavelet_color_fix.py does (the fix SUPIR and later diffusion SR tools reuse),
// written here from its math. `style` is the LR upscaled to the output size (bicubic ×4);
// `content` the model output. Both are [1, 3, H, W] float32 in [0, 1] (both maps are affine- or
// shift-invariant, so the [−1, 1] range upstream works in gives the same result up to ε).
import * as torch from '../engine/index.js';
import type { Tensor } from '../engine/index.js';
import { bicubicX4 } from './pipeline.js';
import { MAX_COLOR_FIX_LEVELS, type ModelColorFix } from './format.js';

// 'auto' (the default) applies what the model folder asks for (model.json colorFix), else none.
export type ColorFix = 'auto' | 'none' | 'adain' | 'wavelet';
export const COLOR_FIXES: readonly ColorFix[] = ['auto', 'none', 'adain', 'wavelet'];
/** StableSR's wavelet_decomposition default. */
export const WAVELET_LEVELS = 5;

/** A colour fix as run: 'wavelet' takes the style's bands below `levels` blurs (radii 1, 2, 4 …). */
export interface ColorFixSpec { method: 'none' | ModelColorFix; levels: number }

/** What `fix` means for an upscaler that recommends `recommended` (model.json colorFix, or none). */
export function resolveColorFix(fix: ColorFix, recommended?: ColorFixSpec | null): ColorFixSpec {
  if (fix === 'auto') return recommended ?? { method: 'none', levels: WAVELET_LEVELS };
  return { method: fix, levels: WAVELET_LEVELS };
}

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

/**
 * wavelet_decomposition(levels=5): [high = Σ (image_i − blur_i), low = the last blur]. Each level's
 * temporaries are freed as it ends: at a 2048² output the fix stays within a few image-sized tensors.
 */
export function waveletDecomposition(x: Tensor, levels = WAVELET_LEVELS): [Tensor, Tensor] {
  let high: Tensor | null = null;
  let img = x;
  try {
    for (let i = 0; i < levels; i++) {
      const prevHigh: Tensor | null = high, prevImg: Tensor = img;
      const [h, low]: [Tensor, Tensor] = torch.scope((): [Tensor, Tensor] => {
        const low = waveletBlur(prevImg, 2 ** i);
        const d = prevImg.sub(low);
        return [prevHigh ? prevHigh.add(d) : d, low];
      });
      prevHigh?.dispose();
      if (prevImg !== x) prevImg.dispose();
      high = h;
      img = low;
    }
  } catch (e) {
    high?.dispose();
    if (img !== x) img.dispose();
    throw e;
  }
  return [high ?? torch.zerosLike(x), img === x ? x.clone() : img];
}

/** wavelet_reconstruction(content, style): content's high frequencies on style's low ones. */
export function waveletReconstruction(content: Tensor, style: Tensor, levels = WAVELET_LEVELS): Tensor {
  return torch.scope(() => {
    const [high, lowC] = waveletDecomposition(content, levels);
    lowC.dispose();
    const [highS, low] = waveletDecomposition(style, levels);
    highS.dispose();
    return high.add_(low);
  });
}

/** Rows of output per strip of the wavelet fix (each strip reads 2^levels − 1 more rows on each side). */
export const COLOR_FIX_ROWS = 256;

/**
 * Applies a colour fix ('auto' must be resolved first); returns a new tensor clamped to [0, 1] (a copy for 'none').
 * The wavelet fix runs in strips of `rows` output rows: the cascade of blurs reaches 2^levels − 1
 * rows, so a strip read with that halo gives exactly the whole-image values, and the peak memory is
 * that of a strip, not of several full-size copies of a large output.
 */
export function applyColorFix(fix: ColorFixSpec | Exclude<ColorFix, 'auto'>, content: Tensor, style: Tensor, rows = COLOR_FIX_ROWS): Tensor {
  const f = typeof fix === 'string' ? { method: fix, levels: WAVELET_LEVELS } : fix;
  if (f.method === 'none') return content.clone();
  if (!Number.isSafeInteger(f.levels) || f.levels < 1 || f.levels > MAX_COLOR_FIX_LEVELS) throw new RangeError(`color fix: levels must be an integer 1–${MAX_COLOR_FIX_LEVELS}, got ${f.levels}`);
  if (!Number.isSafeInteger(rows) || rows < 1) throw new RangeError(`color fix: rows must be a positive integer, got ${rows}`);
  if (content.shape.join() !== style.shape.join()) throw new RangeError(`color fix: output [${content.shape.join(', ')}] and reference [${style.shape.join(', ')}] differ in shape`);
  if (f.method === 'adain') return torch.scope(() => adain(content, style).clamp(0, 1));
  const H = content.size(2), halo = 2 ** f.levels - 1;
  if (H <= rows + 2 * halo) return torch.scope(() => waveletReconstruction(content, style, f.levels).clamp(0, 1));
  const out = torch.emptyLike(content);
  for (let r0 = 0; r0 < H; r0 += rows) {
    torch.scope(() => {
      const r1 = Math.min(H, r0 + rows), a = Math.max(0, r0 - halo), b = Math.min(H, r1 + halo);
      const y = waveletReconstruction(content.narrow(2, a, b - a), style.narrow(2, a, b - a), f.levels).clamp(0, 1);
      out.narrow(2, r0, r1 - r0).copy_(y.narrow(2, r0 - a, r1 - r0));
    });
  }
  return out;
}

/** The fix as `vpdsr upscale` runs it: against the LR input `lr` ([1, 3, h, w] in [0, 1]) upscaled bicubic ×4. */
export function colorFixFromInput(fix: ColorFixSpec | Exclude<ColorFix, 'auto'>, sr: Tensor, lr: Tensor): Tensor {
  return torch.scope(() => applyColorFix(fix, sr, bicubicX4(lr).clamp(0, 1)));
}
