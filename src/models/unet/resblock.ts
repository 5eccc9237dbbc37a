// ResBlock, Upsample, Downsample and GroupNorm32 — ResShift@3ce1d81:models/unet.py (ResBlock,
// Upsample, Downsample) and models/basic_ops.py (GroupNorm32, normalization).
import * as torch from '../../engine/index.js';
import { Tensor } from '../../engine/index.js';
import { Module, Conv2d, Dropout, GELU, GroupNorm, Identity, Linear, Sequential, SiLU } from '../../engine/nn/index.js';

/** What Sequential chains: a module mapping one tensor to one tensor. */
export interface Layer { forward(x: Tensor): Tensor }

/** GroupNorm32: the normalisation runs in float32 whatever the input dtype, and casts back. */
export class GroupNorm32 extends GroupNorm implements Layer {
  declare weight: Tensor;
  declare bias: Tensor;

  constructor(num_groups: number, num_channels: number) {
    super(num_groups, num_channels, { eps: 1e-5 });
  }

  override forward(x: Tensor): Tensor {
    if (x.dtype === 'float32' && this.weight.dtype === 'float32') return super.forward(x);
    // Under a bf16/f16 module the affine parameters are cast too; upstream keeps the whole
    // normalisation in f32 (norms stay f32 under its fp16 conversion), so upcast them as well.
    return torch.scope(() => this.forwardF32(x).to({ dtype: x.dtype }));
  }

  /** The normalisation of x (any float dtype) in f32, as a new f32 tensor. */
  forwardF32(x: Tensor): Tensor {
    return torch.groupNorm(x.float(), this.num_groups, this.weight.float(), this.bias.float(), this.eps);
  }

  /**
   * SiLU(norm(x)) in inference: for bf16/f16 input the activation runs on the f32 normalisation
   * in place and the result is rounded once. Why: LibTorch 1.13's bf16 SiLU kernel takes about
   * twice the f32 one's time (2.4 vs 1.4 ms over 128 channels at 128²), so this costs about half
   * of norm, round, SiLU, and it rounds once instead of twice. `affine` (scale-shift norm) is applied
   * to the f32 normalisation before the activation. f32 input: the same ops as the two modules.
   */
  forwardSiLU(x: Tensor, affine?: (h: Tensor) => void): Tensor {
    if (!isLowPrecision(x)) {
      const h = this.forward(x);
      affine?.(h);
      torch.silu_(h);
      return h;
    }
    return torch.scope(() => {
      const h = this.forwardF32(x);
      affine?.(h);
      torch.silu_(h);
      return h.to({ dtype: x.dtype });
    });
  }
}

const isLowPrecision = (x: Tensor): boolean => torch.isLowPrecision(x.dtype);

/** No gradient will flow through norm(x): inference, where GroupNorm32 and SiLU may run as one step. */
function inference(x: Tensor, norm: GroupNorm32): boolean {
  return !torch.isGradEnabled() || !(x.requiresGrad || norm.weight.requiresGrad);
}

/** True when t may be overwritten: autograd will not need its value (inference). */
function mayOverwrite(t: Tensor): boolean {
  return !t.requiresGrad || !torch.isGradEnabled();
}

/**
 * seq.forward(x) from module `from` on, except that SiLU/GELU act in place on a tensor made
 * inside this call (never on x itself unless `fresh`) when autograd will not need it. Why: in
 * inference each activation otherwise allocates and writes a second feature map; the in-place
 * kernels are the same ones, so the values are identical.
 */
export function forwardInPlace(seq: Sequential, x: Tensor, opts: { from?: number; fresh?: boolean } = {}): Tensor {
  let cur = x;
  let owned = opts.fresh ?? false;
  for (let i = opts.from ?? 0; i < seq.length; i++) {
    const m = seq.at(i);
    // GroupNorm32 then SiLU in inference: one fused step (GroupNorm32.forwardSiLU).
    if (m instanceof GroupNorm32 && i + 1 < seq.length && seq.at(i + 1) instanceof SiLU && inference(cur, m)) {
      const next = m.forwardSiLU(cur);
      if (owned) cur.dispose();
      cur = next;
      owned = true;
      i++;
      continue;
    }
    if (owned && mayOverwrite(cur) && (m instanceof SiLU || m instanceof GELU)) {
      if (m instanceof SiLU) torch.silu_(cur); else torch.gelu_(cur, m.approximate);
      continue;
    }
    const next = m.forward(cur);
    if (next !== cur) {
      if (owned) cur.dispose();
      cur = next;
      owned = true;
    }
  }
  return owned ? cur : torch.alias(cur);
}

/** basic_ops.normalization(channels) = GroupNorm32(32, channels). */
export function normalization(channels: number, groups = 32): GroupNorm32 {
  if (channels % groups !== 0) throw new RangeError(`normalization: GroupNorm(${groups}, C) needs C divisible by ${groups}, got ${channels}`);
  return new GroupNorm32(groups, channels);
}

/** A module taking the timestep embedding as second argument (TimestepBlock). */
export interface TimestepBlock { forwardEmb(x: Tensor, emb: Tensor): Tensor }

export function isTimestepBlock(m: unknown): m is TimestepBlock {
  return typeof (m as Partial<TimestepBlock>).forwardEmb === 'function';
}

/** Average pooling 2×2 (Downsample without conv). */
class AvgPool2x2 extends Module implements Layer {
  forward(x: Tensor): Tensor { return torch.avgPool2d(x, 2, { stride: 2 }); }
}

/** Upsample(channels, use_conv): nearest ×2, then an optional 3×3 conv. */
export class Upsample extends Module implements Layer {
  readonly out_channels: number;
  conv?: Conv2d;

  constructor(readonly channels: number, readonly use_conv: boolean, out_channels?: number) {
    super();
    this.out_channels = out_channels ?? channels;
    if (use_conv) this.conv = new Conv2d(channels, this.out_channels, 3, { padding: 1 });
  }

  forward(x: Tensor): Tensor {
    if (x.size(1) !== this.channels) throw new RangeError(`Upsample: expected ${this.channels} channels, got ${x.size(1)}`);
    const up = torch.interpolate(x, { scaleFactor: 2, mode: 'nearest' });
    if (!this.conv) return up;
    try { return this.conv.forward(up); } finally { up.dispose(); }
  }
}

/** Downsample(channels, use_conv): a 3×3 stride-2 conv with padding 1, or 2×2 average pooling. */
export class Downsample extends Module implements Layer {
  readonly out_channels: number;
  op: Conv2d | AvgPool2x2;

  constructor(readonly channels: number, readonly use_conv: boolean, out_channels?: number) {
    super();
    this.out_channels = out_channels ?? channels;
    if (use_conv) {
      this.op = new Conv2d(channels, this.out_channels, 3, { stride: 2, padding: 1 });
    } else {
      if (this.out_channels !== channels) throw new RangeError('Downsample: pooling cannot change the channel count');
      this.op = new AvgPool2x2();
    }
  }

  forward(x: Tensor): Tensor {
    if (x.size(1) !== this.channels) throw new RangeError(`Downsample: expected ${this.channels} channels, got ${x.size(1)}`);
    return this.op.forward(x);
  }
}

export interface ResBlockOptions {
  out_channels?: number;
  use_conv?: boolean;
  use_scale_shift_norm?: boolean;
  up?: boolean;
  down?: boolean;
  dropout?: number;
  /** vpdsr: GroupNorm groups (upstream 32). */
  norm_groups?: number;
}

/** ResBlock(channels, emb_channels, dropout, out_channels, use_conv, use_scale_shift_norm, dims=2, up, down). */
export class ResBlock extends Module implements TimestepBlock {
  readonly out_channels: number;
  readonly use_scale_shift_norm: boolean;
  readonly updown: boolean;
  in_layers: Sequential;
  h_upd: Module & Layer;
  x_upd: Module & Layer;
  emb_layers: Sequential;
  out_layers: Sequential;
  skip_connection: Module & Layer;

  constructor(readonly channels: number, readonly emb_channels: number, opts: ResBlockOptions = {}) {
    super();
    this.out_channels = opts.out_channels ?? channels;
    this.use_scale_shift_norm = opts.use_scale_shift_norm ?? false;
    const dropout = opts.dropout ?? 0;
    const groups = opts.norm_groups ?? 32;
    this.in_layers = new Sequential(normalization(channels, groups), new SiLU(), new Conv2d(channels, this.out_channels, 3, { padding: 1 }));
    this.updown = !!(opts.up || opts.down);
    if (opts.up) {
      this.h_upd = new Upsample(channels, false);
      this.x_upd = new Upsample(channels, false);
    } else if (opts.down) {
      this.h_upd = new Downsample(channels, false);
      this.x_upd = new Downsample(channels, false);
    } else {
      this.h_upd = new Identity();
      this.x_upd = this.h_upd;
    }
    this.emb_layers = new Sequential(new SiLU(), new Linear(emb_channels, this.use_scale_shift_norm ? 2 * this.out_channels : this.out_channels));
    this.out_layers = new Sequential(normalization(this.out_channels, groups), new SiLU(), new Dropout(dropout), new Conv2d(this.out_channels, this.out_channels, 3, { padding: 1 }));
    if (this.out_channels === channels) this.skip_connection = new Identity();
    else if (opts.use_conv) this.skip_connection = new Conv2d(channels, this.out_channels, 3, { padding: 1 });
    else this.skip_connection = new Conv2d(channels, this.out_channels, 1);
  }

  forwardEmb(x: Tensor, emb: Tensor): Tensor {
    if (x.ndim !== 4 || x.size(1) !== this.channels) throw new RangeError(`ResBlock(${this.channels}→${this.out_channels}): input must be [B, ${this.channels}, H, W], got [${x.shape.join(', ')}]`);
    return torch.scope(() => {
      let h: Tensor;
      if (this.updown) {
        const norm = this.in_layers.at(0) as GroupNorm32;
        if (inference(x, norm)) {
          h = norm.forwardSiLU(x); // norm, then SiLU, as one step in inference
        } else {
          h = norm.forward(x);
          if (mayOverwrite(h)) torch.silu_(h); else h = this.in_layers.at(1).forward(h);
        }
        h = this.h_upd.forward(h);
        x = this.x_upd.forward(x);
        h = this.in_layers.at(2).forward(h);
      } else {
        h = forwardInPlace(this.in_layers, x);
      }
      // [B, E] → [B, E, 1, 1], in h's dtype.
      let e = this.emb_layers.forward(emb);
      if (e.dtype !== h.dtype) e = e.to({ dtype: h.dtype });
      e = e.unsqueeze(-1).unsqueeze(-1);
      if (this.use_scale_shift_norm) {
        const [scale, shift] = e.chunk(2, 1) as [Tensor, Tensor];
        // out_norm(h)·(1 + scale) + shift, in place on the fresh norm output; in inference with the
        // SiLU in the same step (for bf16, on the f32 normalisation: GroupNorm32.forwardSiLU).
        const norm = this.out_layers.at(0) as GroupNorm32;
        const scale1 = scale.add(1);
        if (inference(h, norm)) {
          h = forwardInPlace(this.out_layers, norm.forwardSiLU(h, (t) => { t.mul_(scale1).add_(shift); }), { from: 2, fresh: true });
        } else {
          h = norm.forward(h).mul_(scale1).add_(shift);
          h = forwardInPlace(this.out_layers, h, { from: 1, fresh: true });
        }
      } else {
        h = forwardInPlace(this.out_layers, h.add(e), { fresh: true });
      }
      // skip(x) + h, in place on the fresh conv output (addition commutes exactly).
      return h.add_(this.skip_connection.forward(x));
    });
  }
}
