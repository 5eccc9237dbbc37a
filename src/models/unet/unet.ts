// UNetModelSwin — ResShift@3ce1d81:models/unet.py (UNetModelSwin, TimestepEmbedSequential).
import * as torch from '../../engine/index.js';
import { Tensor, type DType } from '../../engine/index.js';
import { Module, Conv2d, Identity, Linear, ModuleList, Sequential, SiLU, type StateDict, type LoadResult } from '../../engine/nn/index.js';
import { type UNetConfig, unetConfig, swinHeads } from './config.js';
import { Downsample, ResBlock, Upsample, forwardInPlace, isTimestepBlock, normalization, type TimestepBlock, type Layer } from './resblock.js';
import { BasicLayer, SwinTransformerBlock, lcm } from './swin.js';
import { relativePositionIndexData, calculateMaskData } from './swin_mask.js';
import { timestepEmbedding } from './timestep.js';
import { castFor } from '../precision.js';

/** TimestepEmbedSequential: children named 0, 1, …; passes emb to the ResBlocks, x alone to the rest. */
export class TimestepEmbedSequential extends Module {
  private readonly _n: number;
  constructor(...mods: Block[]) {
    super();
    mods.forEach((m, i) => { (this as unknown as Record<string, Block>)[String(i)] = m; });
    this._n = mods.length;
  }

  at(i: number): Block {
    const m = (this as unknown as Record<string, Block>)[String(i)];
    if (!m) throw new RangeError(`TimestepEmbedSequential: no module ${i}`);
    return m;
  }

  get length(): number { return this._n; }

  forwardEmb(x: Tensor, emb: Tensor): Tensor {
    return torch.scope(() => {
      let h = x;
      for (let i = 0; i < this._n; i++) {
        const m = this.at(i);
        h = isTimestepBlock(m) ? m.forwardEmb(h, emb) : (m as Layer).forward(h);
      }
      return h;
    });
  }
}

/** What a TimestepEmbedSequential holds: ResBlocks (given emb) and plain layers. */
type Block = Module & (Layer | TimestepBlock);

export class UNetInputError extends Error {
  constructor(message: string) {
    super(`UNetModelSwin: ${message}`);
    this.name = 'UNetInputError';
  }
}

export class UNetModelSwin extends Module {
  readonly config: UNetConfig;
  time_embed: Sequential;
  feature_extractor: Sequential | Identity;
  input_blocks: ModuleList<TimestepEmbedSequential>;
  middle_block: TimestepEmbedSequential;
  output_blocks: ModuleList<TimestepEmbedSequential>;
  out: Sequential;
  /** LQ channels after the feature extractor (3, or 16·2^k with it). */
  readonly lqChannels: number;
  /** Latent H and W must be multiples of this (downsampling and Swin windows at every level). */
  readonly sizeMultiple: number;
  private readonly sizeReason: string;

  constructor(config: Partial<UNetConfig>) {
    super();
    const cfg = unetConfig(config);
    this.config = cfg;
    const mc = cfg.model_channels;
    const timeEmbedDim = mc * 4;
    this.time_embed = new Sequential(new Linear(mc, timeEmbedDim), new SiLU(), new Linear(timeEmbedDim, timeEmbedDim));

    let baseChn: number;
    if (cfg.lq_size === cfg.image_size) {
      this.feature_extractor = new Identity();
      baseChn = 3;
    } else {
      const layers: (Module & Layer)[] = [];
      let featureChn = 3;
      baseChn = 16;
      for (let i = 0; i < Math.round(Math.log2(cfg.lq_size / cfg.image_size)); i++) {
        layers.push(new Conv2d(featureChn, baseChn, 3, { padding: 1 }), new SiLU(), new Downsample(baseChn, true, baseChn * 2));
        baseChn *= 2;
        featureChn = baseChn;
      }
      this.feature_extractor = new Sequential(...layers);
    }
    this.lqChannels = baseChn;

    const heads = swinHeads(cfg);
    const swin = (ch: number, ds: number): BasicLayer => new BasicLayer({
      in_chans: ch, embed_dim: cfg.swin_embed_dim, num_heads: heads, window_size: cfg.window_size, depth: cfg.swin_depth,
      img_size: ds, mlp_ratio: cfg.mlp_ratio, patch_norm: cfg.patch_norm, swin_mask: cfg.swin_mask,
    });
    const resblock = (cin: number, cout: number, extra: { up?: boolean; down?: boolean } = {}): ResBlock =>
      new ResBlock(cin, timeEmbedDim, { out_channels: cout, use_scale_shift_norm: cfg.use_scale_shift_norm, dropout: cfg.dropout, norm_groups: cfg.norm_groups, ...extra });

    // Runtime size constraints, per level: downsampling needs even sizes, Swin needs window multiples.
    let multiple = 2 ** (cfg.channel_mult.length - 1);
    let reason = `×2 downsampling ${cfg.channel_mult.length - 1} times`;
    const noteSwin = (layer: BasicLayer, level: number): void => {
      const m = layer.windowMultiple * 2 ** level;
      if (lcm(multiple, m) !== multiple) {
        multiple = lcm(multiple, m);
        reason = `Swin window ${layer.windowMultiple} at level ${level}, where the map is 1/${2 ** level} of the latent`;
      }
    };

    let ch = Math.trunc(cfg.channel_mult[0]! * mc);
    const inputCh = ch;
    this.input_blocks = new ModuleList([new TimestepEmbedSequential(new Conv2d(cfg.in_channels + baseChn, ch, 3, { padding: 1 }))]);
    const inputBlockChans = [ch];
    let ds = cfg.image_size;
    cfg.channel_mult.forEach((mult, level) => {
      for (let jj = 0; jj < cfg.num_res_blocks[level]!; jj++) {
        const layers: Block[] = [resblock(ch, Math.trunc(mult * mc))];
        ch = Math.trunc(mult * mc);
        if (cfg.attention_resolutions.includes(ds) && jj === 0) {
          const l = swin(ch, ds);
          noteSwin(l, level);
          layers.push(l);
        }
        this.input_blocks.append(new TimestepEmbedSequential(...layers));
        inputBlockChans.push(ch);
      }
      if (level !== cfg.channel_mult.length - 1) {
        const down = cfg.resblock_updown ? resblock(ch, ch, { down: true }) : new Downsample(ch, cfg.conv_resample, ch);
        this.input_blocks.append(new TimestepEmbedSequential(down));
        inputBlockChans.push(ch);
        ds = Math.floor(ds / 2);
      }
    });

    const lastLevel = cfg.channel_mult.length - 1;
    if (cfg.middle_attention) {
      const mid = swin(ch, ds);
      noteSwin(mid, lastLevel);
      this.middle_block = new TimestepEmbedSequential(resblock(ch, ch), mid, resblock(ch, ch));
    } else {
      this.middle_block = new TimestepEmbedSequential(resblock(ch, ch), resblock(ch, ch));
    }

    this.output_blocks = new ModuleList();
    for (let level = lastLevel; level >= 0; level--) {
      const mult = cfg.channel_mult[level]!;
      for (let i = 0; i < cfg.num_res_blocks[level]! + 1; i++) {
        const ich = inputBlockChans.pop()!;
        const layers: Block[] = [resblock(ch + ich, Math.trunc(mc * mult))];
        ch = Math.trunc(mc * mult);
        if (cfg.attention_resolutions.includes(ds) && i === 0) {
          const l = swin(ch, ds);
          noteSwin(l, level);
          layers.push(l);
        }
        if (level && i === cfg.num_res_blocks[level]) {
          layers.push(cfg.resblock_updown ? resblock(ch, ch, { up: true }) : new Upsample(ch, cfg.conv_resample, ch));
          ds *= 2;
        }
        this.output_blocks.append(new TimestepEmbedSequential(...layers));
      }
    }
    this.out = new Sequential(normalization(ch, cfg.norm_groups), new SiLU(), new Conv2d(inputCh, cfg.out_channels, 3, { padding: 1 }));
    this.sizeMultiple = multiple;
    this.sizeReason = reason;
  }

  /** The dtype the network computes in (its parameters'). */
  get dtype(): DType { return this.firstConv().weight.dtype; }

  private firstConv(): Conv2d { return this.input_blocks.at(0).at(0) as Conv2d; }

  /** LQ spatial size for a latent side: lq_size / image_size times it. */
  lqSizeFor(latent: number): number { return (latent * this.config.lq_size) / this.config.image_size; }

  /** Checks forward's arguments and throws one clear UNetInputError line when they do not fit. */
  checkInputs(x: Tensor, timesteps: Tensor, lq: Tensor): void {
    const live = (n: string, t: unknown): void => {
      if (!(t instanceof Tensor)) throw new UNetInputError(`${n} must be a Tensor`);
      if (t.isDisposed) throw new UNetInputError(`${n} is a disposed tensor`);
    };
    live('x', x); live('timesteps', timesteps); live('lq', lq);
    const cfg = this.config;
    if (x.ndim !== 4) throw new UNetInputError(`x must be [B, ${cfg.in_channels}, H, W], got [${x.shape.join(', ')}]`);
    const [B, C, H, W] = x.shape as [number, number, number, number];
    if (C !== cfg.in_channels) throw new UNetInputError(`x has ${C} channels, the model takes ${cfg.in_channels} (latent channels; the LQ image is passed separately as lq)`);
    if (!torch.isFloating(x.dtype)) throw new UNetInputError(`x must be floating point, got ${x.dtype}`);
    if (B < 1 || H < 1 || W < 1) throw new UNetInputError(`x is empty [${x.shape.join(', ')}]`);
    const m = this.sizeMultiple;
    if (H % m !== 0 || W % m !== 0) throw new UNetInputError(`latent size ${H}×${W} must be a multiple of ${m} (${this.sizeReason}); pad the input first`);
    if (timesteps.ndim !== 1 || timesteps.size(0) !== B) throw new UNetInputError(`timesteps must be 1-D [${B}] (one per batch element), got [${timesteps.shape.join(', ')}]`);
    if (timesteps.dtype === 'bool' || timesteps.dtype.startsWith('complex')) throw new UNetInputError(`timesteps must be integer or floating, got ${timesteps.dtype}`);
    const lh = this.lqSizeFor(H), lw = this.lqSizeFor(W);
    if (lq.ndim !== 4 || lq.size(0) !== B || lq.size(1) !== 3 || lq.size(2) !== lh || lq.size(3) !== lw) {
      throw new UNetInputError(`lq must be [${B}, 3, ${lh}, ${lw}] for a ${H}×${W} latent, got [${lq.shape.join(', ')}]`);
    }
    if (!torch.isFloating(lq.dtype)) throw new UNetInputError(`lq must be floating point, got ${lq.dtype}`);
    if (x.device !== lq.device || x.device !== timesteps.device) throw new UNetInputError(`x, timesteps and lq must be on one device, got ${x.device}, ${timesteps.device}, ${lq.device}`);
    const pd = this.firstConv().weight.device;
    if (x.device !== pd) throw new UNetInputError(`inputs are on ${x.device}, the model on ${pd}`);
  }

  /**
   * forward(x, timesteps, lq): x̂₀ [B, out_channels, H, W] in x's dtype. x is the (scaled) latent,
   * timesteps the raw code indices, lq the LQ image in [−1, 1] at lq_size/image_size × the latent size.
   */
  forward(x: Tensor, timesteps: Tensor, lq: Tensor): Tensor {
    this.checkInputs(x, timesteps, lq);
    const dtype = this.dtype;
    return torch.scope(() => {
      // The sinusoids are f32 (as upstream); time_embed runs in its own dtype (f32 unless the module was cast).
      let te = timestepEmbedding(timesteps, this.config.model_channels);
      const ted = (this.time_embed.at(0) as Linear).weight.dtype;
      if (te.dtype !== ted) te = te.to({ dtype: ted });
      let emb = this.time_embed.forward(te);
      if (emb.dtype !== dtype) emb = emb.to({ dtype });
      const lqIn = lq.dtype === dtype ? lq : lq.to({ dtype });
      const feat = this.feature_extractor.forward(lqIn);
      let h = torch.cat([x.dtype === dtype ? x : x.to({ dtype }), feat], 1);
      const hs: Tensor[] = [];
      // Each block gets its input in its own dtype (a mixed-precision plan keeps some in fp32).
      for (const m of this.input_blocks) {
        h = m.forwardEmb(castFor(m, h), castFor(m, emb));
        hs.push(h);
      }
      h = this.middle_block.forwardEmb(castFor(this.middle_block, h), castFor(this.middle_block, emb));
      for (const m of this.output_blocks) h = m.forwardEmb(torch.cat([castFor(m, h), castFor(m, hs.pop()!)], 1), castFor(m, emb));
      let y = forwardInPlace(this.out, castFor(this.out, h)); // norm, SiLU (in place in inference), conv
      // vpdsr's residual form (unshuffled pixel space): x̂₀ = output + unshuffle₄(bicubic ×4 of the LR),
      // in the output layer's dtype (an fp32 output layer adds the f32 LR, not its bf16 rounding).
      if (this.config.lq_residual) y = y.add(torch.pixelUnshuffle(torch.interpolate(lq.dtype === y.dtype ? lq : lq.to({ dtype: y.dtype }), { scaleFactor: 4, mode: 'bicubic', alignCorners: false }), 4));
      return y.dtype === x.dtype ? y : y.to({ dtype: x.dtype });
    });
  }

  /**
   * Strict load (MODEL_SPEC §6.3): every parameter with its exact shape, no unknown key; the
   * buffers are optional, `relative_position_index` must equal the computed index, and a given
   * `attn_mask` is compared with the rule at the configured resolution (a warning, it is never used).
   */
  override loadStateDict(state: StateDict | Record<string, Tensor>, opts: { strict?: boolean; onWarning?: (msg: string) => void } = {}): LoadResult {
    const given: StateDict = state instanceof Map ? new Map(state) : new Map(Object.entries(state ?? {}));
    const warn = opts.onWarning ?? ((m: string) => process.emitWarning(m));
    for (const [key, current] of this.namedBuffers()) {
      const value = given.get(key);
      if (!value) { given.set(key, current); continue; }
      if (!(value instanceof Tensor) || value.isDisposed || value === current || value.shape.join() !== current.shape.join()) continue; // the base load reports these
      if (key.endsWith('relative_position_index')) {
        const ws = Math.round(Math.sqrt(current.size(0)));
        const want = relativePositionIndexData(ws);
        const same = !torch.isFloating(value.dtype) && torch.scope(() => {
          const got = value.to({ dtype: 'int64', device: 'cpu' }).toArray() as BigInt64Array;
          return got.every((v, i) => v === want[i]);
        });
        if (!same) throw new Error(`UNetModelSwin.loadStateDict(): ${key} differs from the relative position index of a ${ws}×${ws} window (MODEL_SPEC §2.4.2)`);
      } else if (key.endsWith('attn_mask')) {
        const block = this.blockOfBuffer(key);
        const want = calculateMaskData(block.input_resolution[0], block.input_resolution[1], block.window_size, block.shift_size, this.config.swin_mask);
        const got = torch.scope(() => value.to({ dtype: 'float32', device: 'cpu' }).toFloat32Array());
        if (got.some((v, i) => v !== want[i])) warn(`UNetModelSwin: ${key} differs from the shifted-window mask rule; it is never used (the mask is recomputed for each input size)`);
      }
    }
    return super.loadStateDict(given, { strict: opts.strict });
  }

  private blockOfBuffer(key: string): SwinTransformerBlock {
    const path = key.split('.').slice(0, -1).join('.');
    const m = this.namedModules().find(([p]) => p === path)?.[1];
    if (!(m instanceof SwinTransformerBlock)) throw new Error(`UNetModelSwin: ${key} is not a Swin block's buffer`);
    return m;
  }
}
