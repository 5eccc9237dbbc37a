// The recipe's stand-in for CLIP in ESS (VPDSR_METHOD §8.3): a small CNN trained to tell which
// training photo a clean crop comes from; its 64-d embedding is what ESS compares.
import * as torch from '../engine/index.js';
import { Tensor } from '../engine/index.js';
import { Module, Conv2d, Linear, ReLU, Sequential } from '../engine/nn/index.js';
import type { ImageEncoder } from './losses.js';

export interface StandInConfig {
  /** Widths of the stride-2 3×3 convolutions (§8.3: [32, 64, 128, 128]). */
  widths: number[];
  /** Embedding size (64). */
  embed_dim: number;
  /** Classes of the instance-classification head (the number of training photos). */
  num_classes: number;
}

export class StandInEncoder extends Module implements ImageEncoder {
  features: Sequential;
  embedding: Linear;
  classifier: Linear;

  constructor(readonly config: StandInConfig) {
    super();
    const layers: Module[] = [];
    let c = 3;
    for (const w of config.widths) {
      layers.push(new Conv2d(c, w, 3, { stride: 2, padding: 1 }), new ReLU());
      c = w;
    }
    this.features = new Sequential(...(layers as ConstructorParameters<typeof Sequential>));
    this.embedding = new Linear(c, config.embed_dim);
    this.classifier = new Linear(config.embed_dim, config.num_classes);
  }

  /** x in [0, 1] [B, 3, H, W] → embedding [B, embed_dim]. */
  embed(x01: Tensor): Tensor {
    if (!(x01 instanceof Tensor) || x01.isDisposed || x01.ndim !== 4 || x01.size(1) !== 3) throw new RangeError('stand-in encoder: input must be a live [B, 3, H, W] tensor in [0, 1]');
    return torch.scope(() => {
      const h = this.features.forward(x01.sub(0.5).div(0.5));
      return this.embedding.forward(h.mean([2, 3]));
    });
  }

  /** Class logits [B, num_classes] (training only). */
  logits(x01: Tensor): Tensor {
    return torch.scope(() => this.classifier.forward(this.embed(x01)));
  }
}
