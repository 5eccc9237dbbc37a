// nn.GroupNorm, nn.LayerNorm (torch/nn/modules/normalization.py) and nn.BatchNorm2d (batchnorm.py).
import { Tensor } from '../tensor.js';
import * as c from '../check.js';
import { ArgumentError } from '../check.js';
import { empty, ones, zeros, full } from '../ops/creation.js';
import { groupNorm, layerNorm, batchNorm } from '../ops/nnf.js';
import { noGrad } from '../autograd.js';
import { Module, Parameter } from './module.js';
import { ones_, zeros_ } from './init.js';
import type { FactoryOptions } from './conv.js';

type Factory = Omit<FactoryOptions, 'generator'>;

export class GroupNorm extends Module {
  readonly num_groups: number;
  readonly num_channels: number;
  readonly eps: number;
  readonly affine: boolean;
  weight: Tensor | null;
  bias: Tensor | null;

  constructor(numGroups: number, numChannels: number, opts: Factory & { eps?: number; affine?: boolean } = {}) {
    super();
    this.num_groups = c.int('GroupNorm', 'num_groups', numGroups, { min: 1, max: 2 ** 24 });
    this.num_channels = c.int('GroupNorm', 'num_channels', numChannels, { min: 1, max: 2 ** 24 });
    if (this.num_channels % this.num_groups !== 0) throw new ArgumentError('GroupNorm', 'num_groups', `(${numGroups}) must divide num_channels (${numChannels})`);
    this.eps = c.num('GroupNorm', 'eps', opts.eps ?? 1e-5, { min: 0, finite: true });
    this.affine = c.bool('GroupNorm', 'affine', opts.affine ?? true);
    const f = { dtype: opts.dtype, device: opts.device };
    // GroupNorm.reset_parameters: ones_/zeros_
    this.weight = this.affine ? Parameter(ones_(empty([this.num_channels], f))) : null;
    this.bias = this.affine ? Parameter(zeros_(empty([this.num_channels], f))) : null;
  }

  forward(x: Tensor): Tensor {
    return groupNorm(x, this.num_groups, this.weight, this.bias, this.eps);
  }
}

export class LayerNorm extends Module {
  readonly normalized_shape: number[];
  readonly eps: number;
  readonly elementwise_affine: boolean;
  weight: Tensor | null;
  bias: Tensor | null;

  constructor(normalizedShape: number | number[], opts: Factory & { eps?: number; elementwiseAffine?: boolean } = {}) {
    super();
    this.normalized_shape = c.shape('LayerNorm', 'normalized_shape', typeof normalizedShape === 'number' ? [normalizedShape] : normalizedShape);
    this.eps = c.num('LayerNorm', 'eps', opts.eps ?? 1e-5, { min: 0, finite: true });
    this.elementwise_affine = c.bool('LayerNorm', 'elementwise_affine', opts.elementwiseAffine ?? true);
    const f = { dtype: opts.dtype, device: opts.device };
    this.weight = this.elementwise_affine ? Parameter(ones_(empty(this.normalized_shape, f))) : null;
    this.bias = this.elementwise_affine ? Parameter(zeros_(empty(this.normalized_shape, f))) : null;
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalized_shape, this.weight, this.bias, this.eps);
  }
}

export interface BatchNormOptions extends Factory {
  eps?: number;
  /** null: cumulative moving average (1/num_batches_tracked) */
  momentum?: number | null;
  affine?: boolean;
  trackRunningStats?: boolean;
}

export class BatchNorm2d extends Module {
  readonly num_features: number;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly track_running_stats: boolean;
  weight: Tensor | null;
  bias: Tensor | null;
  declare running_mean: Tensor | null;
  declare running_var: Tensor | null;
  declare num_batches_tracked: Tensor | null;

  constructor(numFeatures: number, opts: BatchNormOptions = {}) {
    super();
    const op = 'BatchNorm2d';
    this.num_features = c.int(op, 'num_features', numFeatures, { min: 1, max: 2 ** 24 });
    this.eps = c.num(op, 'eps', opts.eps ?? 1e-5, { min: 0, finite: true });
    this.momentum = opts.momentum === null ? null : c.num(op, 'momentum', opts.momentum ?? 0.1, { min: 0, max: 1 });
    this.affine = c.bool(op, 'affine', opts.affine ?? true);
    this.track_running_stats = c.bool(op, 'track_running_stats', opts.trackRunningStats ?? true);
    const f = { dtype: opts.dtype, device: opts.device };
    this.weight = this.affine ? Parameter(ones([this.num_features], f)) : null;
    this.bias = this.affine ? Parameter(zeros([this.num_features], f)) : null;
    if (this.track_running_stats) {
      this.registerBuffer('running_mean', zeros([this.num_features], f));
      this.registerBuffer('running_var', ones([this.num_features], f));
      this.registerBuffer('num_batches_tracked', full([], 0, { dtype: 'int64', device: opts.device }));
    } else {
      this.registerBuffer('running_mean', null);
      this.registerBuffer('running_var', null);
      this.registerBuffer('num_batches_tracked', null);
    }
  }

  /** _BatchNorm.forward */
  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor) || x.isDisposed) throw new ArgumentError('BatchNorm2d', 'input', 'must be a live Tensor');
    if (x.ndim !== 4) throw new ArgumentError('BatchNorm2d', 'input', `expected 4D input, got ${x.ndim}D`);
    let factor = this.momentum ?? 0.0;
    if (this.training && this.track_running_stats && this.num_batches_tracked) {
      const n = this.num_batches_tracked;
      noGrad(() => n.add_(1));
      if (this.momentum === null) factor = 1.0 / n.item();
    }
    const bnTraining = this.training ? true : this.running_mean === null && this.running_var === null;
    const useStats = !this.training || this.track_running_stats;
    return batchNorm(x, useStats ? this.running_mean : null, useStats ? this.running_var : null, this.weight, this.bias, bnTraining, factor, this.eps);
  }
}
