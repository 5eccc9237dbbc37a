// The torch.nn layers the IQA networks use: the two key-less activations needed as modules
// (nn.Softmax, nn.Sigmoid inside Sequential heads, so that Linear keys keep their indices),
// torchvision's MaxPool2d and DISTS's L2pooling.
import * as torch from '../../engine/index.js';
import { Tensor, nn } from '../../engine/index.js';
import { Module } from '../../engine/nn/index.js';

export { Module, Parameter, Conv2d, GroupNorm, LayerNorm, Linear, ModuleDict, ModuleList, Sequential, ReLU, Dropout } from '../../engine/nn/index.js';

/** nn.Softmax(dim). */
export class Softmax extends Module {
  constructor(readonly dim: number) { super(); }
  forward(x: Tensor): Tensor { return x.softmax(this.dim); }
}

/** nn.Sigmoid(). */
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor { return x.sigmoid(); }
}

/** nn.MaxPool2d(kernel_size, stride) with floor sizes (ceil_mode=False). */
export class MaxPool2d extends nn.Module {
  readonly kernel_size: number;
  readonly stride: number;
  constructor(kernelSize: number, stride: number) {
    super();
    this.kernel_size = kernelSize;
    this.stride = stride;
  }
  forward(x: Tensor): Tensor { return torch.maxPool2d(x, this.kernel_size, { stride: this.stride }); }
}

/**
 * DISTS_pt.L2pooling / pyiqa dists_arch.L2pooling(filter_size=5, stride=2, channels):
 * sqrt(conv2d(x², hanning(5)[1:-1] ⊗ itself / sum, stride 2, padding 1, groups=C) + 1e-12).
 */
export class L2pooling extends nn.Module {
  readonly padding = 1;
  readonly stride = 2;
  readonly channels: number;
  declare filter: Tensor;
  constructor(channels: number) {
    super();
    this.channels = channels;
    const g = torch.scope(() => torch.tensor([[1, 2, 1], [2, 4, 2], [1, 2, 1]]).div(16).view([1, 1, 3, 3]).repeat([channels, 1, 1, 1]));
    this.registerBuffer('filter', g);
  }
  forward(x: Tensor): Tensor {
    return torch.scope(() => torch.conv2d(x.pow(2), this.filter, null, { stride: this.stride, padding: this.padding, groups: x.size(1) }).add(1e-12).sqrt());
  }
}

/** The torchvision `features.<i>.{weight,bias}` entries of a state dict, renamed by `rename(i)`. */
export function mapFeatures(sd: Map<string, Tensor>, rename: (index: number) => string | undefined): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [k, t] of sd) {
    const m = /^features\.(\d+)\.(weight|bias)$/.exec(k);
    if (!m) continue;
    const to = rename(Number(m[1]));
    if (to !== undefined) out.set(`${to}.${m[2]}`, t);
  }
  return out;
}
