// torch.nn.functional: convolutions, normalisation, activations, pooling, resampling, losses.
import { Tensor } from '../tensor.js';
import { callT, callInplace } from '../dispatch.js';
import * as c from '../check.js';
import { T, optDtypeCode } from './util.js';
import type { DType } from '../dtype.js';

type Pair = number | [number, number];

function pair(op: string, arg: string, x: Pair, min: number): [number, number] {
  const l = c.intList(op, arg, x, { len: 2, min, max: 2 ** 24 });
  return [l[0]!, l[1]!];
}

export interface Conv2dOptions { stride?: Pair; padding?: Pair; dilation?: Pair; groups?: number }

/** F.conv2d */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  opts = c.options('conv2d', opts);
  const op = 'conv2d';
  T(op, 'input', x); T(op, 'weight', weight);
  c.rank(op, 'input', x.ndim, [3, 4]);
  c.rank(op, 'weight', weight.ndim, [4]);
  const groups = c.int(op, 'groups', opts.groups ?? 1, { min: 1, max: 2 ** 24 });
  const stride = pair(op, 'stride', opts.stride ?? 1, 1);
  const padding = pair(op, 'padding', opts.padding ?? 0, 0);
  const dilation = pair(op, 'dilation', opts.dilation ?? 1, 1);
  const cin = x.size(x.ndim - 3), [cout, cpg, kh, kw] = weight.shape as [number, number, number, number];
  if (cout % groups !== 0) throw new c.ArgumentError(op, 'weight', `has ${cout} output channels, not divisible by groups=${groups}`);
  if (cpg * groups !== cin) throw new c.ArgumentError(op, 'input', `has ${cin} channels, weight [${weight.shape.join(', ')}] with groups=${groups} expects ${cpg * groups}`);
  const h = x.size(-2) + 2 * padding[0] - dilation[0] * (kh - 1) - 1, w = x.size(-1) + 2 * padding[1] - dilation[1] * (kw - 1) - 1;
  if (h < 0 || w < 0) throw new c.ArgumentError(op, 'input', `spatial size [${x.size(-2)}, ${x.size(-1)}] (padded) is smaller than the kernel [${kh}, ${kw}]`);
  if (bias) { T(op, 'bias', bias); if (bias.ndim !== 1 || bias.size(0) !== cout) throw new c.ArgumentError(op, 'bias', `must have shape [${cout}], got [${bias.shape.join(', ')}]`); }
  return callT(op, '', [x, weight, bias ?? null, stride, padding, dilation, groups]);
}

export interface ConvTranspose2dOptions extends Conv2dOptions { outputPadding?: Pair }

/** F.conv_transpose2d */
export function convTranspose2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: ConvTranspose2dOptions = {}): Tensor {
  opts = c.options('convTranspose2d', opts);
  const op = 'convTranspose2d';
  T(op, 'input', x); T(op, 'weight', weight);
  c.rank(op, 'input', x.ndim, [3, 4]);
  c.rank(op, 'weight', weight.ndim, [4]);
  const groups = c.int(op, 'groups', opts.groups ?? 1, { min: 1, max: 2 ** 24 });
  const stride = pair(op, 'stride', opts.stride ?? 1, 1);
  const padding = pair(op, 'padding', opts.padding ?? 0, 0);
  const outputPadding = pair(op, 'output_padding', opts.outputPadding ?? 0, 0);
  const dilation = pair(op, 'dilation', opts.dilation ?? 1, 1);
  const cin = x.size(x.ndim - 3);
  if (weight.size(0) !== cin) throw new c.ArgumentError(op, 'weight', `has ${weight.size(0)} input channels, input has ${cin}`);
  if (cin % groups !== 0) throw new c.ArgumentError(op, 'groups', `must divide the ${cin} input channels`);
  if (outputPadding[0] >= Math.max(stride[0], dilation[0]) || outputPadding[1] >= Math.max(stride[1], dilation[1])) {
    throw new c.ArgumentError(op, 'output_padding', 'must be smaller than stride or dilation');
  }
  const oh = (x.size(-2) - 1) * stride[0] - 2 * padding[0] + dilation[0] * (weight.size(2) - 1) + outputPadding[0] + 1;
  const ow = (x.size(-1) - 1) * stride[1] - 2 * padding[1] + dilation[1] * (weight.size(3) - 1) + outputPadding[1] + 1;
  if (oh <= 0 || ow <= 0) throw new c.ArgumentError(op, 'padding', 'gives an empty output');
  if (oh * ow * weight.size(1) * groups * (x.ndim === 4 ? x.size(0) : 1) > c.MAX_NUMEL) throw new c.ArgumentError(op, 'stride', 'gives too large an output');
  if (bias) T(op, 'bias', bias);
  return callT('conv_transpose2d', 'input', [x, weight, bias ?? null, stride, padding, outputPadding, groups, dilation]);
}

/** F.group_norm */
export function groupNorm(x: Tensor, numGroups: number, weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  const op = 'groupNorm';
  T(op, 'input', x);
  if (x.ndim < 2) throw new c.ArgumentError(op, 'input', 'needs at least 2 dimensions (N, C, ...)');
  const ch = x.size(1);
  c.int(op, 'num_groups', numGroups, { min: 1, max: Math.max(ch, 1) });
  if (ch % numGroups !== 0) throw new c.ArgumentError(op, 'num_groups', `(${numGroups}) must divide the ${ch} channels`);
  for (const [n, t] of [['weight', weight], ['bias', bias]] as const) {
    if (t) { T(op, n, t); if (t.ndim !== 1 || t.size(0) !== ch) throw new c.ArgumentError(op, n, `must have shape [${ch}]`); }
  }
  return callT('group_norm', '', [x, numGroups, weight ?? null, bias ?? null, c.num(op, 'eps', eps, { min: 0 }), true]);
}

/** F.layer_norm */
export function layerNorm(x: Tensor, normalizedShape: number[], weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  const op = 'layerNorm';
  T(op, 'input', x);
  const ns = c.shape(op, 'normalized_shape', normalizedShape);
  const tail = x.shape.slice(x.ndim - ns.length);
  if (ns.length > x.ndim || ns.some((v, i) => v !== tail[i])) throw new c.ArgumentError(op, 'normalized_shape', `[${ns.join(', ')}] does not match the input's trailing shape [${x.shape.join(', ')}]`);
  for (const [n, t] of [['weight', weight], ['bias', bias]] as const) {
    if (t) { T(op, n, t); if (t.shape.join() !== ns.join()) throw new c.ArgumentError(op, n, `must have shape [${ns.join(', ')}]`); }
  }
  return callT('layer_norm', '', [x, ns, weight ?? null, bias ?? null, c.num(op, 'eps', eps, { min: 0 }), true]);
}

/** F.batch_norm */
export function batchNorm(x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, weight: Tensor | null, bias: Tensor | null, training: boolean, momentum = 0.1, eps = 1e-5): Tensor {
  const op = 'batchNorm';
  T(op, 'input', x);
  if (x.ndim < 2) throw new c.ArgumentError(op, 'input', 'needs at least 2 dimensions');
  const ch = x.size(1);
  for (const [n, t] of [['running_mean', runningMean], ['running_var', runningVar], ['weight', weight], ['bias', bias]] as const) {
    if (t) { T(op, n, t); if (t.numel !== ch) throw new c.ArgumentError(op, n, `must have ${ch} elements`); }
  }
  if (!training && (!runningMean || !runningVar)) throw new c.ArgumentError(op, 'running_mean', 'and running_var are needed in eval mode');
  // F.batch_norm's _verify_batch_size (a Python-side check; ATen divides by n - 1 = 0 without it).
  if (training && x.numel / Math.max(ch, 1) <= 1) throw new c.ArgumentError(op, 'input', `needs more than 1 value per channel when training, got shape [${x.shape.join(', ')}]`);
  return callT('batch_norm', '', [x, weight, bias, runningMean, runningVar, c.bool(op, 'training', training), c.num(op, 'momentum', momentum), c.num(op, 'eps', eps, { min: 0 }), true]);
}

export function softmax(x: Tensor, dim: number, dtype?: DType): Tensor {
  T('softmax', 'input', x);
  return callT('softmax', 'int', [x, c.dim('softmax', 'dim', dim, x.ndim), optDtypeCode('softmax', dtype)]);
}
export function logSoftmax(x: Tensor, dim: number, dtype?: DType): Tensor {
  T('logSoftmax', 'input', x);
  return callT('log_softmax', 'int', [x, c.dim('logSoftmax', 'dim', dim, x.ndim), optDtypeCode('logSoftmax', dtype)]);
}

/** F.gelu, approximate 'none' (exact erf) or 'tanh'. */
export function gelu(x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor {
  T('gelu', 'input', x);
  return callT('gelu', '', [x, c.str('gelu', 'approximate', approximate, ['none', 'tanh'] as const)]);
}
/** F.gelu in place (aten::gelu_): overwrites x (not for tensors whose value autograd still needs). */
export function gelu_(x: Tensor, approximate: 'none' | 'tanh' = 'none'): void {
  T('gelu_', 'input', x);
  callInplace('gelu_', '', [x, c.str('gelu_', 'approximate', approximate, ['none', 'tanh'] as const)]);
}
export function silu(x: Tensor): Tensor { return callT('silu', '', [T('silu', 'input', x)]); }
/** F.silu(x, inplace=True): overwrites x (not for tensors whose value autograd still needs). */
export function silu_(x: Tensor): void { callInplace('silu_', '', [T('silu_', 'input', x)]); }
/** F.relu(x, inplace=True) (aten::relu_): overwrites x; autograd's relu backward uses the result, so this is allowed under grad as in PyTorch. */
export function relu_(x: Tensor): void { callInplace('relu_', '', [T('relu_', 'input', x)]); }
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  return callT('leaky_relu', '', [T('leakyRelu', 'input', x), { float: c.num('leakyRelu', 'negative_slope', negativeSlope) }]);
}
export function softplus(x: Tensor, beta = 1, threshold = 20): Tensor {
  return callT('softplus', '', [T('softplus', 'input', x), c.num('softplus', 'beta', beta), c.num('softplus', 'threshold', threshold)]);
}
export function dropout(x: Tensor, p: number, training: boolean): Tensor {
  T('dropout', 'input', x);
  c.num('dropout', 'p', p, { min: 0, max: 1 });
  if (!training || p === 0) return callT('alias', '', [x]);
  return callT('dropout', '', [x, p, true]);
}

export type InterpolateMode = 'nearest' | 'nearest-exact' | 'bilinear' | 'bicubic' | 'area';
export interface InterpolateOptions {
  size?: number | [number, number];
  scaleFactor?: number | [number, number];
  mode?: InterpolateMode;
  alignCorners?: boolean;
  antialias?: boolean;
  recomputeScaleFactor?: boolean;
}

/** F.interpolate for 4-D input, with PyTorch 1.13's argument conventions (scale factors passed through). */
export function interpolate(x: Tensor, opts: InterpolateOptions): Tensor {
  const op = 'interpolate';
  T(op, 'input', x);
  if (opts === undefined) throw new c.ArgumentError(op, 'options', 'must give size or scaleFactor');
  opts = c.options(op, opts);
  c.rank(op, 'input', x.ndim, [4]);
  const mode = c.str(op, 'mode', opts.mode ?? 'nearest', ['nearest', 'nearest-exact', 'bilinear', 'bicubic', 'area'] as const);
  if ((opts.size === undefined) === (opts.scaleFactor === undefined)) throw new c.ArgumentError(op, 'size', 'exactly one of size and scaleFactor must be given');
  const [h, w] = [x.size(2), x.size(3)];
  let outSize: [number, number] | null = null;
  let scales: [number, number] | null = null;
  if (opts.size !== undefined) {
    outSize = c.intList(op, 'size', opts.size, { len: 2, min: 1, max: 2 ** 24 }) as [number, number];
  } else {
    const s = (typeof opts.scaleFactor === 'number' ? [opts.scaleFactor, opts.scaleFactor] : opts.scaleFactor) as unknown;
    if (!Array.isArray(s) || s.length !== 2) throw new c.ArgumentError(op, 'scaleFactor', 'must be a number or a pair');
    scales = [c.num(op, 'scaleFactor', s[0], { finite: true, min: 1e-6, max: 2 ** 24 }), c.num(op, 'scaleFactor', s[1], { finite: true, min: 1e-6, max: 2 ** 24 })];
    const oh = Math.floor(h * scales[0]), ow = Math.floor(w * scales[1]);
    if (oh < 1 || ow < 1) throw new c.ArgumentError(op, 'scaleFactor', `gives an empty output from [${h}, ${w}]`);
    if (opts.recomputeScaleFactor || mode === 'area') { outSize = [oh, ow]; scales = null; }
  }
  const outN = (outSize ? outSize[0] * outSize[1] : Math.floor(h * scales![0]) * Math.floor(w * scales![1])) * x.size(0) * x.size(1);
  if (outN > c.MAX_NUMEL) throw new c.ArgumentError(op, 'size', 'gives too large an output');
  if (h === 0 || w === 0) throw new c.ArgumentError(op, 'input', 'has an empty spatial dimension');
  const alignCorners = opts.alignCorners;
  if (alignCorners !== undefined && (mode === 'nearest' || mode === 'nearest-exact' || mode === 'area')) {
    throw new c.ArgumentError(op, 'alignCorners', `only applies to bilinear and bicubic, not ${mode}`);
  }
  const ac = alignCorners ?? false;
  const sf = scales ? [scales[0], scales[1]] : null;
  switch (mode) {
    case 'nearest': return callT('upsample_nearest2d', 'vec', [x, outSize, sf]);
    case 'nearest-exact': return callT('_upsample_nearest_exact2d', 'vec', [x, outSize, sf]);
    case 'bilinear': return callT(opts.antialias ? '_upsample_bilinear2d_aa' : 'upsample_bilinear2d', 'vec', [x, outSize, ac, sf]);
    case 'bicubic': return callT(opts.antialias ? '_upsample_bicubic2d_aa' : 'upsample_bicubic2d', 'vec', [x, outSize, ac, sf]);
    case 'area': return callT('adaptive_avg_pool2d', '', [x, outSize!]);
  }
}

export function adaptiveAvgPool2d(x: Tensor, outputSize: Pair): Tensor {
  T('adaptiveAvgPool2d', 'input', x);
  c.rank('adaptiveAvgPool2d', 'input', x.ndim, [3, 4]);
  return callT('adaptive_avg_pool2d', '', [x, pair('adaptiveAvgPool2d', 'output_size', outputSize, 1)]);
}

export interface Pool2dOptions { stride?: Pair; padding?: Pair; ceilMode?: boolean }

function poolChecks(op: string, x: Tensor, k: [number, number], padding: [number, number]): void {
  c.rank(op, 'input', x.ndim, [3, 4]);
  if (padding[0] * 2 > k[0] || padding[1] * 2 > k[1]) throw new c.ArgumentError(op, 'padding', 'must be at most half the kernel size');
  if (x.size(-2) + 2 * padding[0] < k[0] || x.size(-1) + 2 * padding[1] < k[1]) throw new c.ArgumentError(op, 'input', 'is smaller than the kernel');
}

export function avgPool2d(x: Tensor, kernelSize: Pair, opts: Pool2dOptions & { countIncludePad?: boolean } = {}): Tensor {
  opts = c.options('avgPool2d', opts);
  const op = 'avgPool2d';
  T(op, 'input', x);
  const k = pair(op, 'kernel_size', kernelSize, 1), s = pair(op, 'stride', opts.stride ?? k, 1), p = pair(op, 'padding', opts.padding ?? 0, 0);
  poolChecks(op, x, k, p);
  return callT('avg_pool2d', '', [x, k, s, p, opts.ceilMode ?? false, opts.countIncludePad ?? true, null]);
}

export function maxPool2d(x: Tensor, kernelSize: Pair, opts: Pool2dOptions & { dilation?: Pair } = {}): Tensor {
  opts = c.options('maxPool2d', opts);
  const op = 'maxPool2d';
  T(op, 'input', x);
  const k = pair(op, 'kernel_size', kernelSize, 1), s = pair(op, 'stride', opts.stride ?? k, 1), p = pair(op, 'padding', opts.padding ?? 0, 0);
  const d = pair(op, 'dilation', opts.dilation ?? 1, 1);
  poolChecks(op, x, k, p);
  return callT('max_pool2d', '', [x, k, s, p, d, opts.ceilMode ?? false]);
}

export function pixelShuffle(x: Tensor, upscaleFactor: number): Tensor {
  const op = 'pixelShuffle';
  T(op, 'input', x);
  if (x.ndim < 3) throw new c.ArgumentError(op, 'input', 'needs at least 3 dimensions');
  const r = c.int(op, 'upscale_factor', upscaleFactor, { min: 1, max: 4096 });
  if (x.size(-3) % (r * r) !== 0) throw new c.ArgumentError(op, 'input', `channels (${x.size(-3)}) must be divisible by upscale_factor² (${r * r})`);
  return callT('pixel_shuffle', '', [x, r]);
}

export function pixelUnshuffle(x: Tensor, downscaleFactor: number): Tensor {
  const op = 'pixelUnshuffle';
  T(op, 'input', x);
  if (x.ndim < 3) throw new c.ArgumentError(op, 'input', 'needs at least 3 dimensions');
  const r = c.int(op, 'downscale_factor', downscaleFactor, { min: 1, max: 4096 });
  if (x.size(-1) % r !== 0 || x.size(-2) % r !== 0) throw new c.ArgumentError(op, 'input', `height and width must be divisible by ${r}`);
  return callT('pixel_unshuffle', '', [x, r]);
}

/** F.embedding(indices, weight) */
export function embedding(indices: Tensor, weight: Tensor, paddingIdx?: number): Tensor {
  const op = 'embedding';
  T(op, 'input', indices); T(op, 'weight', weight);
  c.rank(op, 'weight', weight.ndim, [2]);
  if (indices.dtype !== 'int64' && indices.dtype !== 'int32') throw new c.ArgumentError(op, 'input', `must hold int64 or int32 indices, got ${indices.dtype}`);
  if (indices.numel > 0) {
    const mn = indices.min(), mx = indices.max();
    const lo = mn.item(), hi = mx.item();
    mn.dispose(); mx.dispose();
    if (lo < 0 || hi >= weight.size(0)) throw new c.ArgumentError(op, 'input', `indices must lie in [0, ${weight.size(0)}), got [${lo}, ${hi}]`);
  }
  return callT('embedding', '', [weight, indices, paddingIdx === undefined ? -1 : c.int(op, 'padding_idx', paddingIdx, { min: 0, max: weight.size(0) - 1 }), false, false]);
}

export type Reduction = 'none' | 'mean' | 'sum';
const REDUCTION: Record<Reduction, number> = { none: 0, mean: 1, sum: 2 };

export function mseLoss(x: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  T('mseLoss', 'input', x); T('mseLoss', 'target', target);
  return callT('mse_loss', '', [x, target, REDUCTION[c.str('mseLoss', 'reduction', reduction, ['none', 'mean', 'sum'] as const)]]);
}
export function l1Loss(x: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  T('l1Loss', 'input', x); T('l1Loss', 'target', target);
  return callT('l1_loss', '', [x, target, REDUCTION[c.str('l1Loss', 'reduction', reduction, ['none', 'mean', 'sum'] as const)]]);
}

/** F.unfold (im2col) of a 4-D input → [N, C·kh·kw, L] */
export function unfold(x: Tensor, kernelSize: Pair, opts: { dilation?: Pair; padding?: Pair; stride?: Pair } = {}): Tensor {
  const op = 'unfold';
  T(op, 'input', x);
  opts = c.options(op, opts);
  c.rank(op, 'input', x.ndim, [3, 4]);
  const k = pair(op, 'kernel_size', kernelSize, 1), d = pair(op, 'dilation', opts.dilation ?? 1, 1);
  const p = pair(op, 'padding', opts.padding ?? 0, 0), s = pair(op, 'stride', opts.stride ?? 1, 1);
  if (x.size(-2) + 2 * p[0] < d[0] * (k[0] - 1) + 1 || x.size(-1) + 2 * p[1] < d[1] * (k[1] - 1) + 1) throw new c.ArgumentError(op, 'input', 'is smaller than the kernel');
  return callT('im2col', '', [x, k, d, p, s]);
}

/** F.fold (col2im) */
export function fold(x: Tensor, outputSize: Pair, kernelSize: Pair, opts: { dilation?: Pair; padding?: Pair; stride?: Pair } = {}): Tensor {
  const op = 'fold';
  T(op, 'input', x);
  opts = c.options(op, opts);
  c.rank(op, 'input', x.ndim, [2, 3]);
  const o = pair(op, 'output_size', outputSize, 1), k = pair(op, 'kernel_size', kernelSize, 1), d = pair(op, 'dilation', opts.dilation ?? 1, 1);
  const p = pair(op, 'padding', opts.padding ?? 0, 0), s = pair(op, 'stride', opts.stride ?? 1, 1);
  return callT('col2im', '', [x, o, k, d, p, s]);
}

export function cosineSimilarity(a: Tensor, b: Tensor, dim = 1, eps = 1e-8): Tensor {
  T('cosineSimilarity', 'x1', a); T('cosineSimilarity', 'x2', b);
  return callT('cosine_similarity', '', [a, b, c.dim('cosineSimilarity', 'dim', dim, Math.max(a.ndim, b.ndim)), c.num('cosineSimilarity', 'eps', eps)]);
}

/** F.normalize: x / max(‖x‖_p, eps) along dim */
export function normalize(x: Tensor, p = 2, dim = 1, eps = 1e-12): Tensor {
  T('normalize', 'input', x);
  const d = c.dim('normalize', 'dim', dim, x.ndim);
  const n = callT('linalg_vector_norm', '', [x, { float: c.num('normalize', 'p', p) }, [d], true, null]);
  try {
    const m = callT('clamp_min', '', [n, { float: c.num('normalize', 'eps', eps) }]);
    try {
      const e = callT('expand_as', '', [m, x]);
      try { return callT('div', 'Tensor', [x, e]); } finally { e.dispose(); }
    } finally { m.dispose(); }
  } finally { n.dispose(); }
}

export function oneHot(x: Tensor, numClasses = -1): Tensor {
  T('oneHot', 'input', x);
  if (x.dtype !== 'int64') throw new c.ArgumentError('oneHot', 'input', 'must be an int64 tensor');
  return callT('one_hot', '', [x, c.int('oneHot', 'num_classes', numClasses, { min: -1, max: 2 ** 24 })]);
}
