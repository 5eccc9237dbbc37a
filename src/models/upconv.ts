// conv3x3(nearest×2(x)) — the up-sampling step of ResShift@3ce1d81's VQ decoder
// (ldm/modules/diffusionmodules/model.py Upsample) — computed at the input's resolution. Why: after nearest ×2 every 3×3 window covers only 2×2 distinct input
// pixels, so each of the four output phases (row parity a, column parity b) is a 2×2 conv of x
// with the 3×3 weights summed over the rows/columns that repeat: 4·4 instead of 4·9
// multiply-adds per output pixel and channel (2.25× fewer), and no up-sampled copy of x. The four
// phases run as four convs at x's resolution, each copied into its strided slice of the output.
// Values equal the two-step form up to f32 rounding (the summed weights round once), so it is used
// in inference only; the UNet keeps the two-step form (its inference equals its autograd forward
// bitwise, and its up-sampling convs are ~1% of the pipeline's FLOP).
import * as torch from '../engine/index.js';
import { Tensor } from '../engine/index.js';
import type { Conv2d } from '../engine/nn/index.js';

/**
 * Whether conv (3×3, stride 1, padding 1, zeros, no dilation, one group) after nearest ×2 of x can
 * take the phase form: f32 or bf16 input with weights of the same dtype, a 4-D input, and no gradient
 * needed (training keeps the two ops autograd records as upstream).
 */
export function canUpsampleConv(conv: Conv2d, x: Tensor): boolean {
  const w = conv.weight;
  return x.ndim === 4 && (x.dtype === 'float32' || x.dtype === 'bfloat16') && w.dtype === x.dtype && x.device === w.device
    && w.size(2) === 3 && w.size(3) === 3 && conv.stride.every((s) => s === 1) && conv.padding.every((p) => p === 1)
    && conv.dilation.every((d) => d === 1) && conv.groups === 1 && conv.padding_mode === 'zeros'
    && !(torch.isGradEnabled() && (x.requiresGrad || w.requiresGrad || (conv.bias?.requiresGrad ?? false)));
}

/**
 * The 2×2 kernels of the four phases, [4·Cout, Cin, 2, 2], phase p = 2a + b. Output row 2i + a
 * reads up-sampled rows 2i + a − 1 … 2i + a + 1, i.e. x rows (i − 1, i, i) for a = 0 and (i, i, i + 1)
 * for a = 1: kernel rows (w0, w1 + w2) and (w0 + w1, w2); columns alike.
 */
export function phaseKernels(w: Tensor): Tensor {
  return torch.scope(() => {
    const fold = (t: Tensor, dim: number, a: number): Tensor => {
      const [k0, k1, k2] = [t.narrow(dim, 0, 1), t.narrow(dim, 1, 1), t.narrow(dim, 2, 1)];
      return a === 0 ? torch.cat([k0, k1.add(k2)], dim) : torch.cat([k0.add(k1), k2], dim);
    };
    const rows = [fold(w, 2, 0), fold(w, 2, 1)];
    return torch.cat([fold(rows[0]!, 3, 0), fold(rows[0]!, 3, 1), fold(rows[1]!, 3, 0), fold(rows[1]!, 3, 1)], 0);
  });
}

/** conv(interpolate(x, scale 2, nearest)) in the phase form; x [B, Cin, H, W] → [B, Cout, 2H, 2W] in x's memory format. */
export function upsampleConv(conv: Conv2d, x: Tensor): Tensor {
  return torch.scope(() => {
    const [b, , h, w] = x.shape as [number, number, number, number];
    const cout = conv.weight.size(0);
    // bf16 weights are summed in f32 and rounded once (as the two-step form's products are accumulated in f32).
    const kernels = x.dtype === 'float32' ? phaseKernels(conv.weight) : phaseKernels(conv.weight.float()).to({ dtype: x.dtype });
    const cl = !x.isContiguous() && x.isContiguous('channels_last');
    // The output's memory as [B, H, 2, W, 2, C] (channels-last) or [B, C, H, 2, W, 2] (NCHW): phase (a, c) is a strided slice.
    const base = torch.empty(cl ? [b, 2 * h, 2 * w, cout] : [b, cout, 2 * h, 2 * w], { dtype: x.dtype, device: x.device });
    const grid = cl ? base.view(b, h, 2, w, 2, cout) : base.view(b, cout, h, 2, w, 2);
    for (let a = 0; a < 2; a++) {
      for (let c = 0; c < 2; c++) {
        // One conv per phase (not one with 4·Cout channels): a buffer a quarter of the output's
        // size, freed before the next, keeps the peak below the two-step form's.
        torch.scope(() => {
          // Padding 1 with a 2×2 kernel: o[r] = k0·x[r − 1] + k1·x[r], rows r = 0 … H; phase a reads rows a … a + H − 1.
          const o = torch.conv2d(x, kernels.narrow(0, (2 * a + c) * cout, cout), conv.bias, { padding: 1 });
          const src = o.narrow(2, a, h).narrow(3, c, w);
          if (cl) grid.select(2, a).select(3, c).copy_(src.permute(0, 2, 3, 1));
          else grid.select(3, a).select(4, c).copy_(src);
        });
      }
    }
    const dst = cl ? base.permute(0, 3, 1, 2) : base;
    return dst;
  });
}
