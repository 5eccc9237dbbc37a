// The torch.nn layers the IQA networks use, plus the two key-less activations they need as
// modules (nn.Softmax, nn.Sigmoid inside Sequential heads, so that Linear keys keep their indices).
import { Tensor } from '../../engine/index.js';
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
