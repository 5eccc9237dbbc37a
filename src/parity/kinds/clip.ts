// Golden set `clip` (../shared/golden/clip/README.md): tokenizer, preprocessing, the ViT and
// ModifiedResNet image towers (upstream and pyiqa forwards), the text tower, logits, gradients,
// build_model's configuration and pyiqa's CLIP-IQA score.
import * as torch from '../../engine/index.js';
import { Tensor } from '../../engine/index.js';
import { registerKind } from '../registry.js';
import type { CaseContext } from '../context.js';
import { loadSafetensors } from '../../io/checkpoint/tensors.js';
import { CLIP, type CLIPConfig, buildConfig, clipFromStateDict, tokenize, tokenizeIds } from '../../models/clip/index.js';
import { CLIP_MEAN, CLIP_STD, clipPreprocessU8, preprocessTensor } from '../../models/clip/preprocess.js';
import { clipiqaScoreDetailed } from '../../models/clip/clipiqa.js';

/** The union of a case's weight files as OpenAI's state dict (F16 upcast, I8 rows scaled by ws.*). */
function caseStateDict(ctx: CaseContext): Map<string, Tensor> {
  const files = ctx.params.weights as string[];
  const sd = new Map<string, Tensor>();
  for (const f of files) {
    torch.scope(() => {
      const m = loadSafetensors(ctx.resolve(f));
      for (const [k, t] of m) {
        if (!k.startsWith('w.')) continue;
        const key = k.slice(2);
        const scale = m.get(`ws.${key}`);
        sd.set(key, torch.keep(scale ? t.float().mul(scale) : torch.isFloating(t.dtype) ? t.float() : t.clone()));
      }
    });
  }
  return sd;
}

/** The CLIP of a case: its weights, with the case's explicit configuration (head counts). */
function withClip(ctx: CaseContext, fn: (model: CLIP) => void): void {
  const sd = caseStateDict(ctx);
  let model: CLIP;
  try {
    const cfg = ctx.params.config as CLIPConfig & { attnpool_grid?: number };
    const { attnpool_grid: _grid, ...config } = cfg;
    model = clipFromStateDict(sd, { config });
  } finally {
    for (const t of sd.values()) t.dispose();
  }
  try { torch.scope(() => fn(model)); } finally { model.dispose(); }
}

function expectRaises(ctx: CaseContext, fn: () => void): boolean {
  if (ctx.case.expect?.raises !== true) return false;
  let threw = false;
  try { fn(); } catch { threw = true; }
  ctx.compareValue('raises', threw, true);
  return true;
}

registerKind('clip.tokenize', (ctx) => {
  const p = ctx.params as { texts: string[]; context_length: number; truncate: boolean };
  const opts = { contextLength: p.context_length, truncate: p.truncate };
  if (expectRaises(ctx, () => tokenize(p.texts, opts).dispose())) return;
  ctx.compareValue('ids', tokenizeIds(p.texts, opts));
  torch.scope(() => ctx.compare('tokens', tokenize(p.texts, opts)));
});

registerKind('clip.build_config', (ctx) => {
  const shapes = new Map(Object.entries(ctx.params.shapes as Record<string, number[]>));
  const c = buildConfig(shapes);
  const exp = ctx.case.expect!.config as Record<string, unknown>;
  const got: Record<string, unknown> = {};
  for (const k of Object.keys(exp)) got[k] = (c as unknown as Record<string, unknown>)[k] ?? null;
  ctx.compareValue('config', got);
});

registerKind('clip.vision_vit', (ctx) => {
  withClip(ctx, (m) => torch.noGrad(() => {
    const o = m.visualForward(ctx.input('image'), { blocks: [0, 1] });
    ctx.compare('embedding', o.embedding);
    ctx.compare('ln_pre', o.lnPre!);
    ctx.compare('hidden.0', o.hidden!.get(0)!);
    ctx.compare('hidden.1', o.hidden!.get(1)!);
  }));
});

registerKind('clip.vision_vit_anyres', (ctx) => {
  withClip(ctx, (m) => torch.noGrad(() => {
    const x = ctx.input('image');
    ctx.compare('embedding_nope', m.visualForward(x, { posEmbedding: 'none' }).embedding);
    const o = m.visualForward(x, { posEmbedding: 'interpolate', returnTokens: true });
    ctx.compare('embedding_pe', o.embedding);
    ctx.compare('tokens_pe', o.tokens!);
    ctx.compare('pos_embedding_resized', o.posEmbedding!);
  }));
});

registerKind('clip.vision_resnet', (ctx) => {
  withClip(ctx, (m) => torch.noGrad(() => {
    const x = ctx.input('image');
    if (expectRaises(ctx, () => m.visualForward(x))) return;
    const o = m.visualForward(x, { stages: true });
    ctx.compare('embedding', o.embedding);
    ctx.compare('layer2', o.stages![1]!);
    ctx.compare('layer3', o.stages![2]!);
    ctx.compare('layer4', o.stages![3]!);
  }));
});

registerKind('clip.vision_resnet_anyres', (ctx) => {
  withClip(ctx, (m) => torch.noGrad(() => {
    const x = ctx.input('image');
    ctx.compare('embedding_nope', m.visualForward(x, { posEmbedding: 'none' }).embedding);
    const o = m.visualForward(x, { posEmbedding: 'interpolate', returnTokens: true });
    ctx.compare('embedding_pe', o.embedding);
    ctx.compare('tokens_pe', o.tokens!.transpose(0, 1)); // pyiqa returns them sequence-first
    ctx.compare('pos_embedding_resized', o.posEmbedding!);
  }));
});

registerKind('clip.text', (ctx) => {
  withClip(ctx, (m) => torch.noGrad(() => {
    const o = m.textForward(ctx.input('tokens'));
    ctx.compare('text_features', o.features);
    ctx.compare('ln_final', o.lnFinal);
    ctx.compare('eot_index', o.eotIndex);
  }));
});

registerKind('clip.logits', (ctx) => {
  withClip(ctx, (m) => torch.noGrad(() => {
    const fi = m.visualForward(ctx.input('image')).embedding;
    const ft = m.textForward(ctx.input('tokens')).features;
    const logits = m.logits(fi, ft);
    ctx.compare('logits_per_image', logits);
    ctx.compare('logits_per_text', logits.t());
    ctx.compare('image_features', fi);
    ctx.compare('text_features', ft);
  }));
});

registerKind('clip.grad', (ctx) => {
  withClip(ctx, (m) => {
    const pre = ctx.params.preprocess as null | { n_px: number; antialias: boolean; mean: number[]; std: number[] };
    const image = ctx.input('image').clone().requiresGrad_();
    const target = ctx.input('text_embedding');
    const x = pre ? preprocessTensor(image, { size: pre.n_px, antialias: pre.antialias, mean: pre.mean, std: pre.std }).pixelValues : image;
    const emb = m.visualForward(x).embedding;
    const loss = torch.rsub(torch.cosineSimilarity(emb, target, -1, 1e-8), 1).mean();
    loss.backward();
    ctx.compare('loss', loss);
    ctx.compare('image_embedding', emb);
    ctx.compare('grad_image', image.grad!);
  });
});

registerKind('clip.preprocess', (ctx) => {
  const p = ctx.params as { n_px: number; pil_mode: 'RGB' | 'L'; mean: number[]; std: number[] };
  const img = ctx.input('image');
  const [h, w] = img.shape as [number, number];
  const u8 = { data: img.toBytes(), height: h, width: w, channels: p.pil_mode === 'L' ? 1 : 3 };
  const s = clipPreprocessU8(u8, p.n_px, p.mean, p.std);
  torch.scope(() => {
    const asTensor = (im: typeof u8): Tensor => torch.fromBytes(im.data, 'uint8', im.channels === 1 ? [im.height, im.width] : [im.height, im.width, im.channels]);
    ctx.compare('resized', asTensor(s.resized));
    ctx.compare('cropped', asTensor(s.cropped));
    ctx.compare('rgb', asTensor(s.rgb));
    ctx.compare('pixel_values', s.pixelValues);
  });
  s.pixelValues.dispose();
});

registerKind('clip.preprocess_tensor', (ctx) => {
  const p = ctx.params as { n_px: number; interpolation: string; align_corners: boolean; antialias: boolean; mean: number[]; std: number[] };
  if (p.interpolation !== 'bicubic' || p.align_corners !== false) throw new Error(`unsupported interpolation ${p.interpolation} align_corners ${p.align_corners}`);
  torch.scope(() => {
    const o = preprocessTensor(ctx.input('image'), { size: p.n_px, antialias: p.antialias, mean: p.mean, std: p.std });
    ctx.compare('resized', o.resized);
    ctx.compare('pixel_values', o.pixelValues);
  });
});

registerKind('clipiqa.score', (ctx) => {
  const p = ctx.params as { prompts: string[]; model_type: string; pos_embedding: boolean; mean: number[]; std: number[] };
  if (p.model_type !== 'clipiqa') throw new Error(`model_type ${p.model_type} is not implemented`);
  if (JSON.stringify(p.mean) !== JSON.stringify(CLIP_MEAN) || JSON.stringify(p.std) !== JSON.stringify(CLIP_STD)) throw new Error('the case normalises with other statistics than CLIP\'s');
  withClip(ctx, (m) => torch.noGrad(() => {
    const x = ctx.input('image').float().div(255);
    const d = clipiqaScoreDetailed(m, x, { posEmbedding: p.pos_embedding, prompts: p.prompts });
    ctx.compare('score', d.score);
    ctx.compare('tokens', d.tokens);
    ctx.compare('text_features', d.textFeatures);
    ctx.compare('image_features', d.imageFeatures);
    ctx.compare('logits_per_image', d.logitsPerImage);
    ctx.compare('probs', d.probs);
  }));
});
