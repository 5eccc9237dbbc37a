// The CLIP image tower as ESS's frozen encoder (VPDSR_METHOD §3.2): eval mode, no trainable
// parameters; images in [0, 1] resized whole to the tower's input size (bicubic, antialiased),
// CLIP's mean/std, and the global projected embedding (CLIP@d05afc4:clip/model.py encode_image).
import * as torch from '../engine/index.js';
import { Tensor } from '../engine/index.js';
import { type CLIP, VisionTransformer, encodeImage, loadClip, preprocessTensor } from '../models/clip/index.js';
import type { ImageEncoder } from './losses.js';

export class ClipImageEncoder implements ImageEncoder {
  /** patchWeight: β_patch of the optional patch-token term (ViT towers; default 0). */
  constructor(readonly model: CLIP, readonly patchWeight = 0) {
    if (!model.visual) throw new RangeError('CLIP encoder: the weights hold no image tower');
    if (!(Number.isFinite(patchWeight) && patchWeight >= 0)) throw new RangeError(`CLIP encoder: the patch weight must be a number ≥ 0, got ${patchWeight}`);
    if (patchWeight > 0 && !(model.visual instanceof VisionTransformer)) throw new RangeError('clip.patch: the patch term needs a ViT image tower');
    model.requiresGrad_(false).eval();
  }

  /** One forward: the projected embedding [B, D] and the patch tokens through ln_post and proj [B, grid², D]. */
  embedTokens(x01: Tensor): { embedding: Tensor; tokens: Tensor } {
    if (!(x01 instanceof Tensor) || x01.isDisposed || x01.ndim !== 4 || x01.size(1) !== 3) throw new RangeError('CLIP encoder: input must be a live [B, 3, H, W] tensor in [0, 1]');
    return torch.scope(() => {
      const vis = this.model.visual as VisionTransformer;
      const x = this.model.dtype === 'bfloat16' ? x01.to({ dtype: 'bfloat16' }) : x01;
      const px = preprocessTensor(x, { size: this.model.imageResolution, mode: 'squash', antialias: true }).pixelValues;
      const o = this.model.visualForward(px, { posEmbedding: 'native', blocks: [-1] });
      const h = o.hidden!.get(-1)!;
      const tokens = vis.ln_post.forward(h.narrow(1, 1, h.size(1) - 1)).matmul(vis.proj.to({ dtype: h.dtype }));
      return { embedding: o.embedding.float(), tokens: tokens.float() };
    });
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
export function loadClipEncoder(file: string, opts: { bf16?: boolean; visionHeads?: number; patchWeight?: number } = {}): ClipImageEncoder {
  let m: CLIP;
  try {
    m = loadClip(file, { towers: 'image', ...(opts.bf16 ? { dtype: 'bfloat16' as const } : {}), ...(opts.visionHeads ? { config: { vision_heads: opts.visionHeads } } : {}) });
  } catch (e) {
    throw new Error(`clip.file: ${(e as Error).message.split('\n')[0]}`);
  }
  try {
    return new ClipImageEncoder(m, opts.patchWeight ?? 0);
  } catch (e) {
    m.dispose();
    throw e;
  }
}
