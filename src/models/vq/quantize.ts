// VectorQuantizer2 (legacy=True, beta 0.25, no remap) — ResShift@3ce1d81:ldm/modules/vqvae/quantize.py
// (MODEL_SPEC.md §3.6; golden README quirk 9).
import * as torch from '../../engine/index.js';
import { Tensor } from '../../engine/index.js';
import { Module, Embedding } from '../../engine/nn/index.js';
import { VQError } from './layers.js';

/** Rows of the distance matrix computed at once: bounds it to 2^24 elements (64 MiB f32). */
const DISTANCE_BUDGET = 2 ** 24;

export interface QuantizeResult {
  /** Straight-through z_q = z + (z_q − z).detach(), [B, C, H, W] (a channels-last layout). */
  zQ: Tensor;
  /** Commitment loss mean((z_q − z)²) + β·mean((z_q − z)²) (legacy weighting), a 0-d tensor. */
  loss: Tensor;
  /** Nearest-codebook indices, flat (B·H·W), int64, in (b, h, w) order. */
  indices: Tensor;
}

export class VectorQuantizer2 extends Module {
  readonly n_e: number;
  readonly e_dim: number;
  readonly beta: number;
  readonly legacy: boolean;
  embedding: Embedding;
  readonly sane_index_shape = false;

  constructor(nE: number, eDim: number, beta = 0.25, opts: { legacy?: boolean } = {}) {
    super();
    this.n_e = nE;
    this.e_dim = eDim;
    this.beta = beta;
    this.legacy = opts.legacy ?? true;
    this.embedding = new Embedding(nE, eDim);
    // self.embedding.weight.data.uniform_(-1.0 / self.n_e, 1.0 / self.n_e)
    torch.noGrad(() => this.embedding.weight.uniform_(-1.0 / nE, 1.0 / nE));
  }

  /**
   * Nearest codebook index per row of zf [M, e_dim]: argmin of Σz² + Σe² − 2·z·eᵀ (first on ties).
   * vpdsr: in bf16/f16 the distances are taken in f32 (3 channels, cheap): with 8 mantissa bits,
   * near codes would tie or flip far more often than the f32 reference does.
   */
  nearest(zIn: Tensor): Tensor {
    const low = torch.isLowPrecision(zIn.dtype);
    return torch.noGrad(() => torch.scope(() => {
      const zf = low ? zIn.float() : zIn;
      const w = this.embedding.weight;
      const E = w.dtype === zf.dtype ? w : w.to({ dtype: zf.dtype });
      const m = zf.size(0);
      const eSq = E.square().sum(1);
      const rows = Math.max(1, Math.floor(DISTANCE_BUDGET / this.n_e));
      const part = (z: Tensor): Tensor => torch.scope(() => {
        // torch.sum(z**2, dim=1, keepdim=True) + torch.sum(E**2, dim=1) - 2 * einsum('bd,dn->bn', z, Eᵀ)
        const d = z.square().sum(1, true).add(eSq).sub(torch.mm(z, E.t()).mul(2));
        return d.argmin(1);
      });
      if (m <= rows) return part(zf);
      const chunks: Tensor[] = [];
      for (let s = 0; s < m; s += rows) chunks.push(part(zf.narrow(0, s, Math.min(rows, m - s))));
      return torch.cat(chunks, 0);
    }));
  }

  /**
   * VectorQuantizer2.forward(z) for z [B, e_dim, H, W]. With straightThrough false (vpdsr option)
   * z_q is the codebook rows themselves: no gradient reaches z, the codebook gets it instead.
   */
  forward(z: Tensor, opts: { straightThrough?: boolean } = {}): QuantizeResult {
    if (!(z instanceof Tensor) || z.isDisposed) throw new VQError('quantize: z must be a live Tensor');
    if (z.ndim !== 4 || z.size(1) !== this.e_dim) throw new VQError(`quantize: z must be [B, ${this.e_dim}, H, W], got [${z.shape.join(', ')}]`);
    if (!torch.isFloating(z.dtype)) throw new VQError(`quantize: z must be floating point, got ${z.dtype}`);
    return torch.scope(() => {
      // The codebook in z's dtype (they differ when a bf16 model keeps its codebook in f32).
      const E = z.dtype === this.embedding.weight.dtype ? this.embedding.weight : this.embedding.weight.to({ dtype: z.dtype });
      const [b, c, h, w] = z.shape as [number, number, number, number];
      // rearrange(z, 'b c h w -> b h w c').contiguous(); z.view(-1, e_dim)
      const zc = z.permute(0, 2, 3, 1).contiguous();
      const zf = zc.view(-1, this.e_dim);
      const indices = this.nearest(zf);
      const zq = torch.embedding(indices, E).view(b, h, w, c);
      const zd = zc.detach(), zqd = zq.detach();
      const loss = this.legacy
        ? zqd.sub(zc).square().mean().add(zq.sub(zd).square().mean().mul(this.beta))
        : zqd.sub(zc).square().mean().mul(this.beta).add(zq.sub(zd).square().mean());
      // preserve gradients: z_q = z + (z_q - z).detach()
      const st = opts.straightThrough === false ? zq : zc.add(zq.sub(zc).detach());
      return { zQ: st.permute(0, 3, 1, 2), loss, indices };
    });
  }

  /** get_codebook_entry(indices, shape [B, H, W, C]) → [B, C, H, W]. */
  getCodebookEntry(indices: Tensor, shape: [number, number, number, number]): Tensor {
    return torch.scope(() => torch.embedding(indices, this.embedding.weight).view(shape).permute(0, 3, 1, 2).contiguous());
  }
}
