// Building blocks of the VQ-f4 autoencoder (MODEL_SPEC.md §3.2): Normalize (GroupNorm, eps 1e-6),
// swish, Upsample, Downsample — ResShift@3ce1d81:ldm/modules/diffusionmodules/model.py — and the
// group-norm paths that keep channels-last bf16/f32 accurate on LibTorch 1.13.
//
// Activations stay in whatever memory format they arrive in (channels-last in the pipeline): every
// op here (conv, group_norm, silu, constant pad, nearest upsampling) preserves it in LibTorch 1.13.
import * as torch from '../../engine/index.js';
import { Tensor } from '../../engine/index.js';
import { Module, Conv2d, GroupNorm } from '../../engine/nn/index.js';
import { canUpsampleConv, upsampleConv } from '../upconv.js';
import { castFor } from '../precision.js';

export { ModuleList, GroupNorm } from '../../engine/nn/index.js';

export class VQError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'VQError';
  }
}

/** An attribute holder (upstream's bare `nn.Module()` used for `down.i`, `up.i`, `mid`). */
export class Namespace extends Module {}

/** Normalize(C) = GroupNorm(32, C, eps=1e-6) — in the module's dtype as upstream (§3.2), except bf16/f16 statistics (groupNorm below). */
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

const isLowPrecision = (x: Tensor): boolean => torch.isLowPrecision(x.dtype);

/**
 * norm(x), with the statistics in f32 for bf16/f16 input. Why: LibTorch 1.13's channels-last
 * GroupNorm kernel accumulates in the input dtype; in bf16 its output is off by O(1) (measured
 * max relative error 1.6 on N(0, 1) data, 128 channels at 256²), while the f32 kernel on the same
 * data is off by ~1e-6. So reduced-precision input is normalised in f32 and rounded once.
 */
export function groupNorm(norm: GroupNorm, x: Tensor, keepF32 = false): Tensor {
  if (!isLowPrecision(x)) return WELFORD.has(norm) && x.ndim === 4 && !x.isContiguous() ? welfordGroupNorm(norm, x) : norm.forward(x);
  return torch.scope(() => {
    const y = torch.groupNorm(x.float(), norm.num_groups, norm.weight?.float(), norm.bias?.float(), norm.eps);
    return keepF32 ? y : y.to({ dtype: x.dtype });
  });
}

/** GroupNorm modules that take the Welford path for channels-last f32 input (setWelfordGroupNorm). */
const WELFORD = new WeakSet<GroupNorm>();

/**
 * Chooses, per GroupNorm module, Welford statistics for channels-last f32 input. Why: LibTorch
 * 1.13's channels-last f32 kernel loses precision with the group size and the mean (measured
 * max relative error 1e-5–3e-5 at 128 channels × 512², 7e-4 at 256² with mean 20), where the
 * contiguous kernel and this path stay at 1e-7. It costs about 4× the native kernel's time.
 */
export function setWelfordGroupNorm(norm: GroupNorm, on: boolean): void {
  if (on) WELFORD.add(norm); else WELFORD.delete(norm);
}

/** (x − mean)·rstd·γ + β with var_mean (Welford, f32 accumulation) over each group of a channels-last view. */
function welfordGroupNorm(norm: GroupNorm, x: Tensor): Tensor {
  return torch.scope(() => {
    const [b, c, h, w] = x.shape as [number, number, number, number];
    const g = norm.num_groups, cg = c / g;
    const [v, m] = torch.varMean(x.view(b, g, cg, h, w), [2, 3, 4], 0, true);
    const perChannel = (t: Tensor): Tensor => t.expand(b, g, cg, 1, 1).reshape(b, c, 1, 1);
    let a = perChannel(v.add(norm.eps).rsqrt());
    if (norm.weight) a = a.mul(norm.weight.view(1, c, 1, 1));
    const y = x.sub(perChannel(m));
    y.mul_(a);
    if (norm.bias) y.add_(norm.bias.view(1, c, 1, 1));
    return y;
  });
}

/** swish(norm(x)) without an extra buffer: the group-norm output is activated in place (in f32 for bf16 input, then rounded once). */
export function normSwish(norm: GroupNorm, x: Tensor): Tensor {
  if (!isLowPrecision(x)) return swish_(groupNorm(norm, x));
  return torch.scope(() => swish_(groupNorm(norm, x, true)).to({ dtype: x.dtype }));
}

/**
 * normSwish for a child of a block whose children may differ in dtype (a mixed-precision plan):
 * bf16/f16 input is normalised with f32 statistics and parameters whatever the norm's dtype (as
 * normSwish does), f32 input is cast to the norm's dtype first.
 */
export function normSwishIn(norm: GroupNorm, x: Tensor): Tensor {
  if (isLowPrecision(x)) return normSwish(norm, x);
  const t = castFor(norm, x);
  try { return normSwish(norm, t); } finally { if (t !== x) t.dispose(); }
}

/** conv(x) with x cast to the conv's dtype when it differs (the cast is freed at once). */
export function convIn(conv: Conv2d, x: Tensor): Tensor {
  const t = castFor(conv, x);
  try { return conv.forward(t); } finally { if (t !== x) t.dispose(); }
}

/**
 * h + s, the residual sum: in place on h (a fresh branch output) when both share a dtype, else a new
 * tensor in the wider dtype (an fp32 stream keeps its precision when the branch ran in bf16).
 */
export function addResidual(h: Tensor, s: Tensor): Tensor {
  if (h.dtype === s.dtype) return h.add_(s);
  try { return torch.add(h, s); } finally { h.dispose(); }
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
    if (this.conv && canUpsampleConv(this.conv, x)) return upsampleConv(this.conv, x); // the same function at x's resolution (upconv.ts)
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
