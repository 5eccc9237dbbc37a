// The CLIP entry points vpdsr's losses and metrics use: image embeddings from [0, 1] tensors
// (differentiable) or from files (CLIP's exact Pillow preprocessing), text embeddings, and the
// patch tokens of a chosen block.
import * as torch from '../../engine/index.js';
import { Tensor } from '../../engine/index.js';
import type { CLIP, PosEmbeddingMode } from './model.js';
import { VisionTransformer } from './model.js';
import { preprocessImageFiles, preprocessTensor } from './preprocess.js';
import { tokenize } from './tokenizer.js';

export interface EncodeImageOptions {
  /**
   * How images reach the tower: 'crop' (default; CLIP's resize of the shorter side to the model's
   * resolution + centre crop), 'squash' (the whole image resized to resolution²), or 'none' (the
   * input is already normalised pixel values, used at its size).
   */
  preprocess?: 'crop' | 'squash' | 'none';
  /** Antialiased bicubic resize (default true). */
  antialias?: boolean;
  /** Positional embedding handling (default: 'native' at the native size, else 'interpolate'). */
  posEmbedding?: PosEmbeddingMode;
}

interface Parsed { preprocess: 'crop' | 'squash' | 'none'; antialias: boolean; posEmbedding?: PosEmbeddingMode }

function parseEncode(o: EncodeImageOptions): Parsed {
  if (o === null || typeof o !== 'object') throw new TypeError('encodeImage: options must be an object');
  const preprocess = o.preprocess ?? 'crop';
  if (!['crop', 'squash', 'none'].includes(preprocess)) throw new RangeError(`encodeImage: preprocess must be 'crop', 'squash' or 'none', got ${JSON.stringify(preprocess)}`);
  const antialias = o.antialias ?? true;
  if (typeof antialias !== 'boolean') throw new TypeError('encodeImage: antialias must be a boolean');
  if (o.posEmbedding !== undefined && !['native', 'interpolate', 'none'].includes(o.posEmbedding)) throw new RangeError(`encodeImage: posEmbedding must be 'native', 'interpolate' or 'none', got ${JSON.stringify(o.posEmbedding)}`);
  return { preprocess, antialias, ...(o.posEmbedding ? { posEmbedding: o.posEmbedding } : {}) };
}

/** Normalised pixel values at the model's resolution (or as given with preprocess 'none'). */
function pixels(model: CLIP, images: Tensor, p: Parsed): Tensor {
  if (p.preprocess === 'none') return torch.alias(images);
  return preprocessTensor(images, { size: model.imageResolution, mode: p.preprocess, antialias: p.antialias }).pixelValues;
}

/** Half-precision results come back as float32; float32/float64 ones as they are. */
function widen(t: Tensor): Tensor {
  return torch.isLowPrecision(t.dtype) ? t.float() : t;
}

function mode(model: CLIP, x: Tensor, p: Parsed): PosEmbeddingMode {
  if (p.posEmbedding) return p.posEmbedding;
  const r = model.imageResolution;
  return x.size(2) === r && x.size(3) === r ? 'native' : 'interpolate';
}

/**
 * Image embeddings [N, embed_dim] (before normalisation; float32 from bf16 towers) of images [N, 3, H, W] in
 * [0, 1]. Differentiable: gradients flow back to `images` through the resize, crop and
 * normalisation. With a bfloat16 model the towers compute in bfloat16.
 *
 * ESS-style loss: `1 − cos(encodeImage(clip, sr), encodeImage(clip, hr))`, with the HR side under
 * `torch.noGrad`.
 */
export function encodeImage(model: CLIP, images: Tensor, opts: EncodeImageOptions = {}): Tensor {
  const p = parseEncode(opts);
  return torch.scope(() => {
    const x = pixels(model, images, p);
    return widen(model.visualForward(x, { posEmbedding: mode(model, x, p) }).embedding);
  });
}

/** Image embeddings [N, embed_dim] of image files, preprocessed exactly as CLIP's `_transform` (no gradients). */
export async function encodeImageFiles(model: CLIP, files: readonly string[]): Promise<Tensor> {
  const x = await preprocessImageFiles(files, model.imageResolution);
  try {
    return torch.noGrad(() => torch.scope(() => widen(model.visualForward(x).embedding)));
  } finally {
    x.dispose();
  }
}

/** Text embeddings [N, embed_dim] (before normalisation; float32 from bf16 towers) of strings or token ids. */
export function encodeText(model: CLIP, texts: string | readonly string[] | Tensor, opts: { truncate?: boolean } = {}): Tensor {
  return torch.scope(() => {
    const tokens = texts instanceof Tensor ? texts : tokenize(texts as string | string[], { contextLength: model.config.context_length ?? 77, truncate: opts.truncate ?? false });
    return widen(model.textForward(tokens).features);
  });
}

export interface ImageTokensOptions extends EncodeImageOptions {
  /**
   * ViT: the block whose output to return (default −1, the last; negative counts from the end).
   * ModifiedResNet: the stage 1..4 (default 4), its feature map flattened row-major.
   */
  block?: number;
  /** ViT: pass the tokens through ln_post and proj, as the class token is (default false). */
  project?: boolean;
}

/**
 * Patch tokens of a chosen block, batch first: ViT [N, grid², width] (or [N, grid², embed_dim]
 * projected), the class token left out; ModifiedResNet [N, H'W', C] of a stage. Differentiable.
 */
export function imageTokens(model: CLIP, images: Tensor, opts: ImageTokensOptions = {}): Tensor {
  const p = parseEncode(opts);
  if (opts.project !== undefined && typeof opts.project !== 'boolean') throw new TypeError('imageTokens: project must be a boolean');
  return torch.scope(() => {
    const x = pixels(model, images, p);
    const vis = model.visual!;
    if (vis instanceof VisionTransformer) {
      const b = opts.block ?? -1;
      const o = model.visualForward(x, { posEmbedding: mode(model, x, p), blocks: [b] });
      const h = o.hidden!.get(b)!;
      let t = h.narrow(1, 1, h.size(1) - 1);
      if (opts.project) t = vis.ln_post.forward(t).matmul(vis.proj.to({ dtype: t.dtype }));
      return widen(t);
    }
    const stage = opts.block ?? 4;
    if (!Number.isInteger(stage) || stage < 1 || stage > 4) throw new RangeError(`imageTokens: a ModifiedResNet stage is 1..4, got ${stage}`);
    if (opts.project) throw new RangeError('imageTokens: project applies to ViT towers only');
    const s = model.visualForward(x, { posEmbedding: 'none', stages: true }).stages![stage - 1]!;
    return widen(s.flatten(2).transpose(1, 2));
  });
}
