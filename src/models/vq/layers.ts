// Building blocks of the VQ-f4 autoencoder (MODEL_SPEC.md §3.2): Normalize (GroupNorm, eps 1e-6),
// swish, Upsample, Downsample, and a ModuleList — ResShift@3ce1d81:ldm/modules/diffusionmodules/model.py.
//
// Activations stay in whatever memory format they arrive in (channels-last in the pipeline): every
// op here (conv, group_norm, silu, constant pad, nearest upsampling) preserves it in LibTorch 1.13.
import * as torch from '../../engine/index.js';
import { Tensor } from '../../engine/index.js';
import { Module, Conv2d, GroupNorm } from '../../engine/nn/index.js';

export { ModuleList, GroupNorm } from '../../engine/nn/index.js';

export class VQError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'VQError';
  }
}

/** An attribute holder (upstream's bare `nn.Module()` used for `down.i`, `up.i`, `mid`). */
export class Namespace extends Module {}

/** Normalize(C) = GroupNorm(32, C, eps=1e-6) — runs in the module's dtype (no f32 forcing, §3.2). */
export function Normalize(inChannels: number, numGroups = 32): GroupNorm {
  if (inChannels % numGroups !== 0) throw new VQError(`Normalize: ${inChannels} channels cannot be split into ${numGroups} groups`);
  return new GroupNorm(numGroups, inChannels, { eps: 1e-6, affine: true });
}

/** True when x may be overwritten: autograd will not need its value. */
function mayOverwrite(x: Tensor): boolean {
  return !x.requiresGrad || !torch.isGradEnabled();
}

/** nonlinearity(x) = x·sigmoid(x) (swish); in place on a fresh tensor when autograd allows. */
export function swish_(x: Tensor): Tensor {
  if (mayOverwrite(x)) { torch.silu_(x); return x; }
  const y = torch.silu(x);
  x.dispose();
  return y;
}

/** swish(norm(x)) without an extra buffer: the group-norm output is activated in place. */
export function normSwish(norm: GroupNorm, x: Tensor): Tensor {
  return swish_(norm.forward(x));
}

/** Upsample(C, with_conv=True): nearest ×2 (scale_factor=2.0), then a 3×3 conv. */
export class Upsample extends Module {
  readonly with_conv: boolean;
  conv: Conv2d | undefined;

  constructor(inChannels: number, withConv: boolean) {
    super();
    this.with_conv = withConv;
    this.conv = withConv ? new Conv2d(inChannels, inChannels, 3, { stride: 1, padding: 1 }) : undefined;
  }

  forward(x: Tensor): Tensor {
    const up = torch.interpolate(x, { scaleFactor: 2.0, mode: 'nearest' });
    if (!this.conv) return up;
    try { return this.conv.forward(up); } finally { up.dispose(); }
  }
}

/** Downsample(C, with_conv=True): F.pad(x, (0, 1, 0, 1)) with zeros, then a 3×3 conv, stride 2, padding 0. */
export class Downsample extends Module {
  readonly with_conv: boolean;
  conv: Conv2d | undefined;

  constructor(inChannels: number, withConv: boolean) {
    super();
    this.with_conv = withConv;
    // no asymmetric padding in torch conv, must do it ourselves (upstream's comment)
    this.conv = withConv ? new Conv2d(inChannels, inChannels, 3, { stride: 2, padding: 0 }) : undefined;
  }

  forward(x: Tensor): Tensor {
    if (!this.conv) return torch.avgPool2d(x, 2, { stride: 2 });
    const p = torch.pad(x, [0, 1, 0, 1], 'constant', 0);
    try { return this.conv.forward(p); } finally { p.dispose(); }
  }
}
