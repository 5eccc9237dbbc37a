// pyiqa's MATLAB-style bicubic imresize (pyiqa/matlab_utils/resize.py, Sanghyun Son's
// bicubic_pytorch): separable resize_1d with the cubic kernel a = −0.5, antialiasing when shrinking
// and MATLAB's symmetric edge padding. Upstream casts the input to float32 whatever it was and casts
// the result back (cast_input / cast_output), so NIQE's half-scale image is computed in float32.
import * as torch from '../engine/index.js';
import { Tensor } from '../engine/index.js';

/** resize.cubic_contribution(x, a=-0.5), elementwise in x's dtype. */
function cubicContribution(x: Tensor, a = -0.5): Tensor {
  return torch.scope(() => {
    const ax = x.abs();
    const ax2 = ax.mul(ax);
    const ax3 = ax.mul(ax2);
    const range01 = ax.le(1).to({ dtype: x.dtype });
    const range12 = torch.logicalAnd(ax.gt(1), ax.le(2)).to({ dtype: x.dtype });
    const c01 = ax3.mul(a + 2).sub(ax2.mul(a + 3)).add(1).mul(range01);
    const c12 = ax3.mul(a).sub(ax2.mul(5 * a)).add(ax.mul(8 * a)).sub(4 * a).mul(range12);
    return c01.add(c12);
  });
}

/** resize.resize_1d(x, dim, size, scale) for the cubic kernel with reflect (MATLAB symmetric) padding. */
function resize1d(x: Tensor, dim: -2 | -1, size: number, scale: number, antialiasing: boolean): Tensor {
  if (scale === 1) return x.clone();
  return torch.scope(() => {
    let kernelSize = 4;
    let aaFactor = 1;
    if (antialiasing && scale < 1) { aaFactor = scale; kernelSize = Math.ceil(kernelSize / aaFactor); }
    kernelSize += 2;
    const pos = torch.linspace(0, size - 1, size, { dtype: x.dtype }).add(0.5).div(scale).sub(0.5);
    const baseF = pos.floor().sub(Math.floor(kernelSize / 2)).add(1);
    const dist = pos.sub(baseF);
    // get_weight: buffer_pos[k] = dist − k, ×antialiasing_factor, cubic, normalised over k.
    const ks = torch.arange(0, kernelSize, 1, { dtype: x.dtype }).view([kernelSize, 1]);
    let weight = cubicContribution(dist.view([1, size]).sub(ks).mul(aaFactor));
    weight = weight.div(weight.sum(0, true));
    // get_padding
    const base = baseF.to({ dtype: 'int64' });
    const len = x.size(dim);
    const rMin = base.min().item(), rMax = base.max().item() + kernelSize - 1;
    const padPre = rMin <= 0 ? -rMin : 0;
    const padPost = rMax >= len ? rMax - len + 1 : 0;
    // reflect_padding: [a, b, c, d] → [a, a, b, c, d, d] (edges used twice), then the taps.
    const taps = base.add(padPre).view([1, size]).add(torch.arange(0, kernelSize, 1, { dtype: 'int64' }).view([kernelSize, 1]));
    const idx = taps.toArray() as BigInt64Array;
    const src = new BigInt64Array(idx.length);
    for (let i = 0; i < idx.length; i++) {
      const p = Number(idx[i]) - padPre;
      const q = p < 0 ? -p - 1 : p >= len ? 2 * len - 1 - p : p;
      if (q < 0 || q >= len) throw new Error(`imresize: input of ${len} pixels is too small to resize by ${scale}`);
      src[i] = BigInt(q);
    }
    void padPost;
    const index = torch.fromTypedArray(src, [kernelSize * size]);
    const g = x.indexSelect(x.ndim + dim, index);
    const s = g.shape;
    if (dim === -2) {
      const v = g.reshape([...s.slice(0, -2), kernelSize, size, s[s.length - 1]!]);
      return v.mul(weight.view([kernelSize, size, 1])).sum(-3);
    }
    const v = g.reshape([...s.slice(0, -1), kernelSize, size]);
    return v.mul(weight).sum(-2);
  });
}

/** resize.imresize(x, scale, antialiasing): output ⌈H·scale⌉ × ⌈W·scale⌉, computed in float32, returned in x's dtype. */
export function imresizePyiqa(x: Tensor, scale: number, antialiasing = true): Tensor {
  return torch.scope(() => {
    const h = x.size(-2), w = x.size(-1);
    const f = x.to({ dtype: 'float32' });
    const a = resize1d(f, -2, Math.ceil(h * scale), scale, antialiasing);
    const b = resize1d(a, -1, Math.ceil(w * scale), scale, antialiasing);
    return b.to({ dtype: x.dtype });
  });
}
