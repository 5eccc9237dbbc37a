// The discriminator of VPDSR_METHOD §3.5 (after TAD-SR): the frozen teacher UNet's input blocks and
// middle block give feature taps on re-noised latents; small trainable heads, FiLM-conditioned on
// the teacher's timestep embedding, turn each tap into a patch-logit map.
import * as torch from '../../engine/index.js';
import { Tensor } from '../../engine/index.js';
import { Module, Conv2d, GroupNorm, Linear, ModuleList, SiLU } from '../../engine/nn/index.js';
import type { UNetModelSwin } from '../unet/unet.js';
import { timestepEmbedding } from '../unet/timestep.js';

/** Indices into input_blocks of the last block of each level (before its Downsample). */
export function tapIndices(unet: UNetModelSwin): number[] {
  const nrb = unet.config.num_res_blocks;
  const out: number[] = [];
  let idx = 0;
  nrb.forEach((n, level) => {
    idx += n;
    out.push(idx);
    if (level !== nrb.length - 1) idx += 1;
  });
  return out;
}

/** The channels of each tap (levels, then the middle block). */
export function tapChannels(unet: UNetModelSwin): number[] {
  const mc = unet.config.model_channels;
  const levels = unet.config.channel_mult.map((m) => Math.trunc(m * mc));
  return [...levels, levels[levels.length - 1]!];
}

export interface EncoderFeatures {
  /** One map per level, then the middle-block output. */
  taps: Tensor[];
  /** The timestep embedding [B, 4·model_channels] the blocks saw. */
  emb: Tensor;
}

/**
 * UNetModelSwin.forward up to the middle block (ResShift@3ce1d81:models/unet.py forward), keeping
 * the taps. Gradient flows to x through the (frozen) blocks when autograd is on.
 */
export function encoderFeatures(unet: UNetModelSwin, x: Tensor, timesteps: Tensor, lq: Tensor): EncoderFeatures {
  unet.checkInputs(x, timesteps, lq);
  const want = new Set(tapIndices(unet));
  return torch.scope(() => {
    const dtype = unet.dtype;
    let te = timestepEmbedding(timesteps, unet.config.model_channels);
    if (te.dtype !== dtype) te = te.to({ dtype });
    const emb = unet.time_embed.forward(te);
    const feat = unet.feature_extractor.forward(lq.dtype === dtype ? lq : lq.to({ dtype }));
    let h = torch.cat([x.dtype === dtype ? x : x.to({ dtype }), feat], 1);
    const taps: Tensor[] = [];
    let i = 0;
    for (const m of unet.input_blocks) {
      h = m.forwardEmb(h, emb);
      if (want.has(i)) taps.push(h);
      i++;
    }
    taps.push(unet.middle_block.forwardEmb(h, emb));
    return { taps, emb };
  });
}

/** One head: Conv3×3 → GroupNorm → SiLU → Conv3×3 → FiLM(emb) → SiLU → Conv1×1 → logits [B, 1, h, w]. */
export class FiLMHead extends Module {
  conv_in: Conv2d;
  norm: GroupNorm;
  conv_mid: Conv2d;
  film: Linear;
  conv_out: Conv2d;
  private readonly act = new SiLU();

  constructor(inChannels: number, embDim: number, readonly width: number, groups: number) {
    super();
    this.conv_in = new Conv2d(inChannels, width, 3, { padding: 1 });
    this.norm = new GroupNorm(groups, width);
    this.conv_mid = new Conv2d(width, width, 3, { padding: 1 });
    this.film = new Linear(embDim, 2 * width);
    this.conv_out = new Conv2d(width, 1, 1);
  }

  forwardEmb(x: Tensor, emb: Tensor): Tensor {
    return torch.scope(() => {
      // Taps of a bf16 teacher meet f32 heads in f32.
      const dt = this.conv_in.weight.dtype;
      if (x.dtype !== dt) x = x.to({ dtype: dt });
      if (emb.dtype !== dt) emb = emb.to({ dtype: dt });
      let h = this.conv_mid.forward(this.act.forward(this.norm.forward(this.conv_in.forward(x))));
      const [scale, shift] = this.film.forward(emb).unsqueeze(-1).unsqueeze(-1).chunk(2, 1) as [Tensor, Tensor];
      h = h.mul(scale.add(1)).add(shift);
      return this.conv_out.forward(this.act.forward(h));
    });
  }
}

export interface HeadsConfig {
  /** Channels of each head (§3.5: 128). */
  width: number;
  /** GroupNorm groups of each head (§3.5: 32). */
  groups: number;
}

/** The trainable heads, one per tap of a teacher UNet. */
export class DiscriminatorHeads extends Module {
  heads: ModuleList<FiLMHead>;

  constructor(teacher: UNetModelSwin, readonly config: HeadsConfig) {
    super();
    if (!Number.isInteger(config.width) || config.width < 1 || !Number.isInteger(config.groups) || config.groups < 1 || config.width % config.groups !== 0) {
      throw new RangeError(`discriminator heads: width ${config.width} must be a positive multiple of groups ${config.groups}`);
    }
    const embDim = 4 * teacher.config.model_channels;
    this.heads = new ModuleList(tapChannels(teacher).map((c) => new FiLMHead(c, embDim, config.width, config.groups)));
  }

  /** D(features): the concatenation of every head's flattened logits [B, N]. */
  forwardFeatures(f: EncoderFeatures): Tensor {
    if (f.taps.length !== this.heads.length) throw new RangeError(`discriminator heads: ${this.heads.length} heads, ${f.taps.length} taps`);
    return torch.scope(() => {
      const outs: Tensor[] = [];
      let i = 0;
      for (const head of this.heads) outs.push(head.forwardEmb(f.taps[i++]!, f.emb).flatten(1));
      return torch.cat(outs, 1);
    });
  }
}
