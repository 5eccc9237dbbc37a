// nn.Conv2d and nn.ConvTranspose2d (torch/nn/modules/conv.py) with _ConvNd.reset_parameters.
import { Tensor, type Device } from '../tensor.js';
import type { DType } from '../dtype.js';
import * as c from '../check.js';
import { ArgumentError } from '../check.js';
import { empty } from '../ops/creation.js';
import { conv2d, convTranspose2d } from '../ops/nnf.js';
import { pad } from '../ops/shape.js';
import { Generator } from '../ops/random.js';
import { Module, Parameter } from './module.js';
import { kaimingUniform_, uniform_, calculateFanInAndFanOut } from './init.js';

type Pair = number | [number, number];
export type PaddingMode = 'zeros' | 'reflect' | 'replicate' | 'circular';

export interface FactoryOptions { dtype?: DType; device?: Device; generator?: Generator }

export interface Conv2dOptions extends FactoryOptions {
  stride?: Pair;
  padding?: Pair | 'valid' | 'same';
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
  paddingMode?: PaddingMode;
}

function pair(op: string, arg: string, v: unknown, min: number): [number, number] {
  const l = c.intList(op, arg, v, { len: 2, min, max: 2 ** 24 });
  return [l[0]!, l[1]!];
}

/** _ConvNd.reset_parameters: kaiming_uniform_(a=√5), bias U(±1/√fan_in) with fan_in from the weight. */
function resetConv(weight: Tensor, bias: Tensor | null, g: Generator | undefined): void {
  kaimingUniform_(weight, { a: Math.sqrt(5), generator: g });
  if (bias) {
    const [fanIn] = calculateFanInAndFanOut(weight);
    if (fanIn !== 0) {
      const bound = 1 / Math.sqrt(fanIn);
      uniform_(bias, -bound, bound, g);
    }
  }
}

export class Conv2d extends Module {
  readonly in_channels: number;
  readonly out_channels: number;
  readonly kernel_size: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;
  readonly padding_mode: PaddingMode;
  /** Left/right/top/bottom padding (F.pad order) for non-zero padding modes. */
  private readonly reversedPadding: number[];
  weight: Tensor;
  bias: Tensor | null;

  constructor(inChannels: number, outChannels: number, kernelSize: Pair, opts: Conv2dOptions = {}) {
    super();
    const op = 'Conv2d';
    this.in_channels = c.int(op, 'in_channels', inChannels, { min: 1, max: 2 ** 24 });
    this.out_channels = c.int(op, 'out_channels', outChannels, { min: 1, max: 2 ** 24 });
    this.kernel_size = pair(op, 'kernel_size', kernelSize, 1);
    this.stride = pair(op, 'stride', opts.stride ?? 1, 1);
    this.dilation = pair(op, 'dilation', opts.dilation ?? 1, 1);
    this.groups = c.int(op, 'groups', opts.groups ?? 1, { min: 1, max: 2 ** 24 });
    if (this.in_channels % this.groups !== 0) throw new ArgumentError(op, 'groups', `(${this.groups}) must divide in_channels (${this.in_channels})`);
    if (this.out_channels % this.groups !== 0) throw new ArgumentError(op, 'groups', `(${this.groups}) must divide out_channels (${this.out_channels})`);
    this.padding_mode = c.str(op, 'padding_mode', opts.paddingMode ?? 'zeros', ['zeros', 'reflect', 'replicate', 'circular'] as const);
    const p = opts.padding ?? 0;
    if (p === 'valid') this.padding = [0, 0];
    else if (p === 'same') {
      if (this.stride[0] !== 1 || this.stride[1] !== 1) throw new ArgumentError(op, 'padding', "'same' is not supported for strided convolutions");
      const total = [0, 1].map((i) => this.dilation[i]! * (this.kernel_size[i]! - 1));
      if (total.some((t) => t % 2 !== 0)) throw new ArgumentError(op, 'padding', "'same' needs an even dilation·(kernel_size−1) here (asymmetric padding is not supported)");
      this.padding = [total[0]! / 2, total[1]! / 2];
    } else this.padding = pair(op, 'padding', p, 0);
    this.reversedPadding = [this.padding[1], this.padding[1], this.padding[0], this.padding[0]];
    const bias = opts.bias ?? true;
    c.bool(op, 'bias', bias);
    const f = { dtype: opts.dtype, device: opts.device };
    this.weight = Parameter(empty([this.out_channels, this.in_channels / this.groups, ...this.kernel_size], f));
    this.bias = bias ? Parameter(empty([this.out_channels], f)) : null;
    resetConv(this.weight, this.bias, opts.generator);
  }

  /** Conv2d.forward (_conv_forward) */
  forward(x: Tensor): Tensor {
    if (this.padding_mode !== 'zeros') {
      const xp = pad(x, this.reversedPadding, this.padding_mode);
      try {
        return conv2d(xp, this.weight, this.bias, { stride: this.stride, padding: 0, dilation: this.dilation, groups: this.groups });
      } finally { xp.dispose(); }
    }
    return conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups });
  }
}

export interface ConvTranspose2dOptions extends FactoryOptions {
  stride?: Pair;
  padding?: Pair;
  outputPadding?: Pair;
  groups?: number;
  bias?: boolean;
  dilation?: Pair;
}

export class ConvTranspose2d extends Module {
  readonly in_channels: number;
  readonly out_channels: number;
  readonly kernel_size: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly output_padding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;
  weight: Tensor;
  bias: Tensor | null;

  constructor(inChannels: number, outChannels: number, kernelSize: Pair, opts: ConvTranspose2dOptions = {}) {
    super();
    const op = 'ConvTranspose2d';
    this.in_channels = c.int(op, 'in_channels', inChannels, { min: 1, max: 2 ** 24 });
    this.out_channels = c.int(op, 'out_channels', outChannels, { min: 1, max: 2 ** 24 });
    this.kernel_size = pair(op, 'kernel_size', kernelSize, 1);
    this.stride = pair(op, 'stride', opts.stride ?? 1, 1);
    this.padding = pair(op, 'padding', opts.padding ?? 0, 0);
    this.output_padding = pair(op, 'output_padding', opts.outputPadding ?? 0, 0);
    this.dilation = pair(op, 'dilation', opts.dilation ?? 1, 1);
    this.groups = c.int(op, 'groups', opts.groups ?? 1, { min: 1, max: 2 ** 24 });
    if (this.in_channels % this.groups !== 0) throw new ArgumentError(op, 'groups', `(${this.groups}) must divide in_channels (${this.in_channels})`);
    if (this.out_channels % this.groups !== 0) throw new ArgumentError(op, 'groups', `(${this.groups}) must divide out_channels (${this.out_channels})`);
    const bias = opts.bias ?? true;
    c.bool(op, 'bias', bias);
    const f = { dtype: opts.dtype, device: opts.device };
    // transposed weights are [in, out/groups, kh, kw]; PyTorch's fan_in is then out/groups·kh·kw
    this.weight = Parameter(empty([this.in_channels, this.out_channels / this.groups, ...this.kernel_size], f));
    this.bias = bias ? Parameter(empty([this.out_channels], f)) : null;
    resetConv(this.weight, this.bias, opts.generator);
  }

  /** ConvTranspose2d.forward without output_size */
  forward(x: Tensor): Tensor {
    return convTranspose2d(x, this.weight, this.bias, {
      stride: this.stride, padding: this.padding, outputPadding: this.output_padding, groups: this.groups, dilation: this.dilation,
    });
  }
}
