// nn.SiLU, nn.GELU, nn.ReLU (torch/nn/modules/activation.py) and nn.Dropout (dropout.py).
import { Tensor } from '../tensor.js';
import * as c from '../check.js';
import { silu, gelu, dropout } from '../ops/nnf.js';
import { relu } from '../ops/math.js';
import { Module } from './module.js';

export class SiLU extends Module {
  forward(x: Tensor): Tensor { return silu(x); }
}

export class GELU extends Module {
  readonly approximate: 'none' | 'tanh';
  constructor(opts: { approximate?: 'none' | 'tanh' } = {}) {
    super();
    this.approximate = c.str('GELU', 'approximate', opts.approximate ?? 'none', ['none', 'tanh'] as const);
  }
  forward(x: Tensor): Tensor { return gelu(x, this.approximate); }
}

export class ReLU extends Module {
  forward(x: Tensor): Tensor { return relu(x); }
}

/** nn.Dropout(p): active only in training mode (uses the default generator, as PyTorch). */
export class Dropout extends Module {
  readonly p: number;
  constructor(p = 0.5) {
    super();
    this.p = c.num('Dropout', 'p', p, { min: 0, max: 1 });
  }
  forward(x: Tensor): Tensor { return dropout(x, this.p, this.training); }
}
