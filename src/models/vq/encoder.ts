// Encoder — ResShift@3ce1d81:ldm/modules/diffusionmodules/model.py Encoder (MODEL_SPEC.md §3.3).
import { Tensor } from '../../engine/index.js';
import { Module, Conv2d } from '../../engine/nn/index.js';
import { ModuleList, Namespace, Normalize, normSwish, Downsample, type GroupNorm } from './layers.js';
import { ResnetBlock } from './resnet.js';
import { AttnBlock } from './attention.js';
import type { DDConfig } from './config.js';
import { castFor } from '../precision.js';

/** One resolution level: `down.i.block`, `down.i.attn`, `down.i.downsample`. */
class DownLevel extends Namespace {
  block = new ModuleList<ResnetBlock>();
  attn = new ModuleList<AttnBlock>();
  downsample: Downsample | undefined;
}

/** `mid`: block_1, attn_1, block_2 at the lowest resolution (shared by Encoder and Decoder). */
export class MidBlock extends Namespace {
  block_1: ResnetBlock;
  attn_1: AttnBlock;
  block_2: ResnetBlock;

  constructor(ch: number) {
    super();
    this.block_1 = new ResnetBlock(ch);
    this.attn_1 = new AttnBlock(ch);
    this.block_2 = new ResnetBlock(ch);
  }

  /** Each module gets its input in its own dtype (a mixed-precision plan may keep some in fp32). */
  forward(x: Tensor): Tensor {
    let h = x;
    for (const m of [this.block_1, this.attn_1, this.block_2]) {
      const t = castFor(m, h);
      if (t !== h && h !== x) h.dispose();
      const n = m.forward(t);
      if (t !== x) t.dispose();
      h = n;
    }
    return h;
  }
}

export class Encoder extends Module {
  readonly ch: number;
  readonly temb_ch = 0;
  readonly num_resolutions: number;
  readonly resolution: number;
  readonly in_channels: number;
  readonly num_res_blocks: number[];
  conv_in: Conv2d;
  readonly in_ch_mult: number[];
  down: ModuleList<DownLevel>;
  mid: MidBlock;
  norm_out: GroupNorm;
  conv_out: Conv2d;

  constructor(d: DDConfig & { num_res_blocks: number[] }) {
    super();
    this.ch = d.ch;
    this.num_resolutions = d.ch_mult.length;
    this.resolution = d.resolution;
    this.in_channels = d.in_channels;
    this.num_res_blocks = d.num_res_blocks;
    const withConv = d.resamp_with_conv ?? true;
    this.conv_in = new Conv2d(d.in_channels, d.ch, 3, { stride: 1, padding: 1 });
    let currRes = d.resolution;
    this.in_ch_mult = [1, ...d.ch_mult];
    this.down = new ModuleList<DownLevel>();
    let blockIn = d.ch;
    for (let i = 0; i < this.num_resolutions; i++) {
      const level = new DownLevel();
      blockIn = d.ch * this.in_ch_mult[i]!;
      const blockOut = d.ch * d.ch_mult[i]!;
      for (let j = 0; j < this.num_res_blocks[i]!; j++) {
        level.block.append(new ResnetBlock(blockIn, blockOut));
        blockIn = blockOut;
        if (d.attn_resolutions.includes(currRes)) level.attn.append(new AttnBlock(blockIn));
      }
      if (i !== this.num_resolutions - 1) {
        level.downsample = new Downsample(blockIn, withConv);
        currRes = Math.trunc(currRes / 2);
      }
      this.down.append(level);
    }
    this.mid = new MidBlock(blockIn);
    this.norm_out = Normalize(blockIn);
    this.conv_out = new Conv2d(blockIn, d.double_z ? 2 * d.z_channels : d.z_channels, 3, { stride: 1, padding: 1 });
  }

  /**
   * Encoder.forward: conv_in, the levels (blocks, attention, downsample), mid, norm_out, swish, conv_out.
   * Each module gets its input in its own dtype (a mixed-precision plan keeps some in fp32).
   */
  forward(x: Tensor): Tensor {
    // Upstream keeps every intermediate in `hs`; only the last is ever read, so we keep one.
    const x0 = castFor(this.conv_in, x);
    let h = this.conv_in.forward(x0);
    if (x0 !== x) x0.dispose();
    const step = (m: Module, f: (t: Tensor) => Tensor): void => {
      const t = castFor(m, h);
      if (t !== h) h.dispose();
      const n = f(t);
      t.dispose();
      h = n;
    };
    for (let i = 0; i < this.num_resolutions; i++) {
      const level = this.down.at(i);
      for (let j = 0; j < this.num_res_blocks[i]!; j++) {
        step(level.block.at(j), (t) => level.block.at(j).forward(t));
        if (level.attn.length > 0) step(level.attn.at(j), (t) => level.attn.at(j).forward(t));
      }
      if (level.downsample) step(level.downsample, (t) => level.downsample!.forward(t));
    }
    step(this.mid, (t) => this.mid.forward(t));
    step(this.norm_out, (t) => normSwish(this.norm_out, t));
    step(this.conv_out, (t) => this.conv_out.forward(t));
    return h;
  }
}
