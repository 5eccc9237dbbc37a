// pyiqa's CLIP-IQA score — pyiqa@01ae427:pyiqa/archs/clipiqa_arch.py CLIPIQA(model_type='clipiqa'):
// the image only normalised with CLIP's mean/std (no resize or crop), pyiqa's any-size image tower
// (positional embedding off by default), five antonym prompt pairs, softmax per pair, mean of the
// positive probabilities.
import * as torch from '../../engine/index.js';
import { Tensor } from '../../engine/index.js';
import type { CLIP, PosEmbeddingMode } from './model.js';
import { CLIP_MEAN, CLIP_STD } from './preprocess.js';
import { tokenize } from './tokenizer.js';

/** pyiqa's prompts, positive first in each pair. */
export const CLIPIQA_PROMPTS: readonly string[] = [
  'Good image', 'bad image', 'Sharp image', 'blurry image', 'sharp edges', 'blurry edges',
  'High resolution image', 'low resolution image', 'Noise-free image', 'noisy image',
];

export interface ClipiqaOptions {
  /** pyiqa's pos_embedding: false (default, the `clipiqa` metric) drops it; true resizes it to the input. */
  posEmbedding?: boolean;
  /** Prompt pairs (positive, negative, …); default CLIPIQA_PROMPTS. */
  prompts?: readonly string[];
}

export interface ClipiqaDetail {
  /** [N, 1] */
  score: Tensor;
  tokens: Tensor;
  textFeatures: Tensor;
  imageFeatures: Tensor;
  logitsPerImage: Tensor;
  /** [N, pairs]: probability of each pair's positive prompt. */
  probs: Tensor;
}

function promptFeatures(model: CLIP, prompts: readonly string[]): { tokens: Tensor; features: Tensor } {
  const tokens = tokenize(prompts, { contextLength: model.config.context_length });
  const features = model.cachedTextFeatures(`clipiqa:${JSON.stringify(prompts)}`, () => model.textForward(tokens).features.float());
  return { tokens, features };
}

function parse(images01: Tensor, opts: ClipiqaOptions): { mode: PosEmbeddingMode; prompts: readonly string[] } {
  if (!(images01 instanceof Tensor) || images01.isDisposed) throw new TypeError('clipiqa: images must be a live Tensor');
  if (images01.ndim !== 4 || images01.size(1) !== 3) throw new RangeError(`clipiqa: expected images [N, 3, H, W] in [0, 1], got [${images01.shape.join(', ')}]`);
  if (!torch.isFloating(images01.dtype)) throw new TypeError(`clipiqa: expected floating-point images in [0, 1], got ${images01.dtype}`);
  if (opts === null || typeof opts !== 'object') throw new TypeError('clipiqa: options must be an object');
  const pe = opts.posEmbedding ?? false;
  if (typeof pe !== 'boolean') throw new TypeError('clipiqa: posEmbedding must be a boolean');
  const prompts = opts.prompts ?? CLIPIQA_PROMPTS;
  if (!Array.isArray(prompts) || prompts.length === 0 || prompts.length % 2 !== 0 || prompts.some((p) => typeof p !== 'string')) throw new TypeError('clipiqa: prompts must be a non-empty even-length array of strings');
  return { mode: pe ? 'interpolate' : 'none', prompts };
}

/** CLIP-IQA with every intermediate (tokens, features, logits, per-pair probabilities). */
export function clipiqaScoreDetailed(model: CLIP, images01: Tensor, opts: ClipiqaOptions = {}): ClipiqaDetail {
  const { mode, prompts } = parse(images01, opts);
  if (!model.hasVision || !model.hasText) throw new Error('clipiqa: the CLIP model needs both its image and text towers');
  return torch.scope(() => {
    const f = { dtype: images01.dtype, device: images01.device };
    const mean = torch.tensor([...CLIP_MEAN], f).reshape(1, 3, 1, 1);
    const std = torch.tensor([...CLIP_STD], f).reshape(1, 3, 1, 1);
    const x = images01.sub(mean).div(std);
    const imageFeatures = model.visualForward(x, { posEmbedding: mode }).embedding.float();
    const { tokens, features: textFeatures } = promptFeatures(model, prompts);
    const logitsPerImage = model.logits(imageFeatures, textFeatures.to({ device: imageFeatures.device }));
    const n = images01.size(0);
    const probs = logitsPerImage.reshape(n, -1, 2).softmax(-1).select(2, 0);
    return { score: probs.mean(1, true), tokens, textFeatures, imageFeatures, logitsPerImage, probs };
  });
}

/**
 * pyiqa's `clipiqa` metric on images [N, 3, H, W] in [0, 1] (any size ≥ 32 px, used as is):
 * [N, 1] in 0..1, higher is better. Differentiable with respect to the images.
 */
export function clipiqaScore(model: CLIP, images01: Tensor, opts: ClipiqaOptions = {}): Tensor {
  return torch.scope(() => clipiqaScoreDetailed(model, images01, opts).score);
}
