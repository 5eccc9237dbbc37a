// The CLIP image tower as ESS's frozen encoder (VPDSR_METHOD §3.2): eval mode, no trainable
// parameters; images in [0, 1] resized whole to the tower's input size (bicubic, antialiased),
// CLIP's mean/std, and the global projected embedding (CLIP@d05afc4:clip/model.py encode_image).
import * as torch from '../engine/index.js';
import { Tensor } from '../engine/index.js';
import { type CLIP, encodeImage, loadClip } from '../models/clip/index.js';
import type { ImageEncoder } from './losses.js';

export class ClipImageEncoder implements ImageEncoder {
  constructor(readonly model: CLIP) {
    if (!model.visual) throw new RangeError('CLIP encoder: the weights hold no image tower');
    model.requiresGrad_(false).eval();
  }

  /** x in [0, 1] [B, 3, H, W] → projected image embedding [B, embed_dim] (float32). */
  embed(x01: Tensor): Tensor {
    if (!(x01 instanceof Tensor) || x01.isDisposed || x01.ndim !== 4 || x01.size(1) !== 3) throw new RangeError('CLIP encoder: input must be a live [B, 3, H, W] tensor in [0, 1]');
    return torch.scope(() => {
      const x = this.model.dtype === 'bfloat16' ? x01.to({ dtype: 'bfloat16' }) : x01;
      return encodeImage(this.model, x, { preprocess: 'squash', antialias: true }).float();
    });
  }

  dispose(): void {
    this.model.dispose();
  }
}

/** Loads CLIP weights for ESS; a missing or wrong file gives one line naming it and where OpenAI publishes the weights. */
export function loadClipEncoder(file: string, opts: { bf16?: boolean; visionHeads?: number } = {}): ClipImageEncoder {
  let m: CLIP;
  try {
    m = loadClip(file, { towers: 'image', ...(opts.bf16 ? { dtype: 'bfloat16' as const } : {}), ...(opts.visionHeads ? { config: { vision_heads: opts.visionHeads } } : {}) });
  } catch (e) {
    throw new Error(`clip.file: ${(e as Error).message.split('\n')[0]}`);
  }
  return new ClipImageEncoder(m);
}
