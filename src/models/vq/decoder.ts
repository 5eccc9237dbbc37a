// Decoder — ResShift@3ce1d81:ldm/modules/diffusionmodules/model.py Decoder (MODEL_SPEC.md §3.4).
import { Tensor } from '../../engine/index.js';
import { Module, Conv2d } from '../../engine/nn/index.js';
import { castFor } from '../precision.js';
import { ModuleList, Namespace, Normalize, normSwish, Upsample, type GroupNorm } from './layers.js';
import { ResnetBlock } from './resnet.js';
import { AttnBlock } from './attention.js';
import { MidBlock } from './encoder.js';
import type { DDConfig } from './config.js';

/** One resolution level: `up.i.block`, `up.i.attn`, `up.i.upsample` (up.0 is full resolution). */
class UpLevel extends Namespace {
  block = new ModuleList<ResnetBlock>();
  attn = new ModuleList<AttnBlock>();
  upsample: Upsample | undefined;
}

export class Decoder extends Module {
  readonly ch: number;
  readonly temb_ch = 0;
  readonly num_resolutions: number;
  readonly resolution: number;
  readonly in_channels: number;
  readonly num_res_blocks: number[];
  /** (1, z_channels, curr_res, curr_res) at the configured resolution; informative only. */
  readonly z_shape: [number, number, number, number];
  conv_in: Conv2d;
  mid: MidBlock;
  up: ModuleList<UpLevel>;
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
    let blockIn = d.ch * d.ch_mult[this.num_resolutions - 1]!;
    let currRes = Math.trunc(d.resolution / 2 ** (this.num_resolutions - 1));
    this.z_shape = [1, d.z_channels, currRes, currRes];
    this.conv_in = new Conv2d(d.z_channels, blockIn, 3, { stride: 1, padding: 1 });
    this.mid = new MidBlock(blockIn);
    // Built from the lowest resolution up and prepended, so that up[i] is level i.
    const levels: UpLevel[] = [];
    for (let i = this.num_resolutions - 1; i >= 0; i--) {
      const level = new UpLevel();
      const blockOut = d.ch * d.ch_mult[i]!;
      for (let j = 0; j < this.num_res_blocks[i]! + 1; j++) {
        level.block.append(new ResnetBlock(blockIn, blockOut));
        blockIn = blockOut;
        if (d.attn_resolutions.includes(currRes)) level.attn.append(new AttnBlock(blockIn));
      }
      if (i !== 0) {
        level.upsample = new Upsample(blockIn, withConv);
        currRes *= 2;
      }
      levels.unshift(level);
    }
    this.up = new ModuleList(levels);
    this.norm_out = Normalize(blockIn);
    this.conv_out = new Conv2d(blockIn, d.out_ch, 3, { stride: 1, padding: 1 });
  }

  /**
   * Decoder.forward: conv_in, mid, levels from lowest to full resolution, norm_out, swish, conv_out.
   * Each module gets its input in its own dtype (a mixed-precision plan keeps some in fp32).
   */
  forward(z: Tensor): Tensor {
    const z0 = castFor(this.conv_in, z);
    let h = this.conv_in.forward(z0);
    if (z0 !== z) z0.dispose();
    const step = (m: Module, f: (t: Tensor) => Tensor): void => {
      const x = castFor(m, h);
      if (x !== h) h.dispose();
      const n = f(x);
      x.dispose();
      h = n;
    };
    step(this.mid, (t) => this.mid.forward(t));
    for (let i = this.num_resolutions - 1; i >= 0; i--) {
      const level = this.up.at(i);
      for (let j = 0; j < this.num_res_blocks[i]! + 1; j++) {
        step(level.block.at(j), (t) => level.block.at(j).forward(t));
        if (level.attn.length > 0) step(level.attn.at(j), (t) => level.attn.at(j).forward(t));
      }
      if (level.upsample) step(level.upsample, (t) => level.upsample!.forward(t));
    }
    step(this.norm_out, (t) => normSwish(this.norm_out, t));
    step(this.conv_out, (t) => this.conv_out.forward(t));
    return h;
  }
}
