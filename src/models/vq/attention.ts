// The VQ mid-block attention (MODEL_SPEC.md §3.5): single head over all h·w latent positions,
// W = softmax((qᵀk)·C^−0.5) — ResShift@3ce1d81:ldm/modules/diffusionmodules/model.py AttnBlock
// (MemoryEfficientAttnBlock computes the same function).
//
// The score matrix is N×N (N = h·w): 1 GiB f32 for a 128×128 latent and 275 GB for 512×512, and
// LibTorch 1.13 has no memory-efficient attention kernel. So the queries are processed in chunks:
// each chunk's softmax spans all keys, hence is exact; only the summation order of the products
// may differ from the unchunked form (it does not when one chunk covers all queries).
import * as torch from '../../engine/index.js';
import { Tensor } from '../../engine/index.js';
import { Module, Conv2d } from '../../engine/nn/index.js';
import { Normalize, groupNorm, convIn, addResidual, type GroupNorm } from './layers.js';
import { castFor } from '../precision.js';
import { powCR } from '../diffusion/f64math.js';

/** Default bound on score elements per chunk: 2^26 (256 MiB in f32; two such buffers live at once). */
export const DEFAULT_ATTN_SCORE_BUDGET = 2 ** 26;

export class AttnBlock extends Module {
  readonly in_channels: number;
  norm: GroupNorm;
  q: Conv2d;
  k: Conv2d;
  v: Conv2d;
  proj_out: Conv2d;
  /** Largest number of score elements (queries × keys × batch) computed at once. */
  scoreBudget = DEFAULT_ATTN_SCORE_BUDGET;
  /** Fixed query-chunk size (tests); overrides scoreBudget when set. */
  queryChunk: number | undefined;

  constructor(inChannels: number) {
    super();
    this.in_channels = inChannels;
    this.norm = Normalize(inChannels);
    this.q = new Conv2d(inChannels, inChannels, 1, { stride: 1, padding: 0 });
    this.k = new Conv2d(inChannels, inChannels, 1, { stride: 1, padding: 0 });
    this.v = new Conv2d(inChannels, inChannels, 1, { stride: 1, padding: 0 });
    this.proj_out = new Conv2d(inChannels, inChannels, 1, { stride: 1, padding: 0 });
  }

  /** Query rows per chunk for a batch of b images with n positions. */
  chunkRows(b: number, n: number): number {
    if (this.queryChunk !== undefined) {
      if (!Number.isInteger(this.queryChunk) || this.queryChunk < 1) throw new RangeError(`AttnBlock: queryChunk must be a positive integer, got ${this.queryChunk}`);
      return Math.min(n, this.queryChunk);
    }
    return Math.max(1, Math.min(n, Math.floor(this.scoreBudget / (b * n))));
  }

  forward(x: Tensor): Tensor {
    const [b, c, hh, ww] = x.shape as [number, number, number, number];
    const n = hh * ww;
    const out = torch.scope(() => {
      // x is in the norm's dtype (the block's); the projections and the attention run in theirs
      // (a mixed-precision plan may keep the norm and the residual sum in fp32: precision.ts).
      const h = castFor(this.q, groupNorm(this.norm, x));
      // [B, C, h, w] → [B, N, C] (a view when channels-last; token order row-major over (h, w))
      const tokens = (t: Tensor): Tensor => t.permute(0, 2, 3, 1).reshape(b, n, c);
      const q = tokens(this.q.forward(h));
      const kT = tokens(convIn(this.k, h)).transpose(1, 2); // [B, C, N]
      const v = tokens(convIn(this.v, h));
      const scale = powCR(c, -0.5); // int(c)**(-0.5), as Python's (glibc) pow rounds it; V8's Math.pow is an ulp off for 512
      const rows = this.chunkRows(b, n);
      let o: Tensor;
      if (rows >= n) {
        o = attend(q, kT, v, scale);
      } else {
        o = torch.empty([b, n, c], { dtype: q.dtype, device: q.device });
        for (let s = 0; s < n; s += rows) {
          const len = Math.min(rows, n - s);
          torch.scope(() => { o.narrow(1, s, len).copy_(attend(q.narrow(1, s, len), kT, v, scale)); });
        }
      }
      // [B, N, C] → [B, C, h, w] as a channels-last view, then proj_out
      return convIn(this.proj_out, o.reshape(b, hh, ww, c).permute(0, 3, 1, 2));
    });
    return addResidual(out, x);
  }
}

/** softmax((q @ kᵀ)·scale, over keys) @ v for one chunk of queries: [B, n, C]. */
function attend(q: Tensor, kT: Tensor, v: Tensor, scale: number): Tensor {
  return torch.scope(() => {
    // w_ = bmm(q, k) * c^-0.5 (alpha applies the scale to each finished dot product)
    const w = torch.baddbmm(torch.empty([q.size(0), q.size(1), kT.size(2)], { dtype: q.dtype, device: q.device }), q, kT, 0, scale);
    const p = w.softmax(2);
    w.dispose();
    // h_[b, c, i] = Σ_j v[b, c, j]·W[b, i, j], produced token-major: [B, n, C]
    return torch.bmm(p, v);
  });
}
