// ResnetBlock without timestep embedding (temb_channels = 0, dropout 0) —
// ResShift@3ce1d81:ldm/modules/diffusionmodules/model.py ResnetBlock (MODEL_SPEC.md §3.2).
import { Tensor } from '../../engine/index.js';
import { Module, Conv2d } from '../../engine/nn/index.js';
import { Normalize, normSwishIn, convIn, addResidual, type GroupNorm } from './layers.js';

export class ResnetBlock extends Module {
  readonly in_channels: number;
  readonly out_channels: number;
  readonly use_conv_shortcut = false;
  norm1: GroupNorm;
  conv1: Conv2d;
  norm2: GroupNorm;
  conv2: Conv2d;
  nin_shortcut: Conv2d | undefined;

  constructor(inChannels: number, outChannels: number = inChannels) {
    super();
    this.in_channels = inChannels;
    this.out_channels = outChannels;
    this.norm1 = Normalize(inChannels);
    this.conv1 = new Conv2d(inChannels, outChannels, 3, { stride: 1, padding: 1 });
    this.norm2 = Normalize(outChannels);
    this.conv2 = new Conv2d(outChannels, outChannels, 3, { stride: 1, padding: 1 });
    this.nin_shortcut = inChannels !== outChannels ? new Conv2d(inChannels, outChannels, 1, { stride: 1, padding: 0 }) : undefined;
  }

  /**
   * x + conv2(dropout(swish(norm2(conv1(swish(norm1(x))))))), with nin_shortcut(x) when channels change.
   * Each child gets its input in its own dtype: a mixed-precision plan may keep the norms (and so the
   * block's input and residual sum) in fp32 and run the convolutions in bf16 (precision.ts).
   */
  forward(x: Tensor): Tensor {
    let a = normSwishIn(this.norm1, x);
    const h1 = convIn(this.conv1, a);
    a.dispose();
    a = normSwishIn(this.norm2, h1);
    h1.dispose();
    const h = convIn(this.conv2, a); // dropout(p = 0) is the identity
    a.dispose();
    const s = this.nin_shortcut ? convIn(this.nin_shortcut, x) : x;
    try {
      return addResidual(h, s);
    } finally {
      if (s !== x) s.dispose();
    }
  }
}
