// Tiny random CLIP models for the tests (seeded), and their state dicts in the public layouts.
import * as torch from '../../../src/engine/index.js';
import { Tensor } from '../../../src/engine/index.js';
import { CLIP, type CLIPConfig } from '../../../src/models/clip/index.js';
import { PickleWriter, stateDictPickle, buildZip, type FixtureTensor, type ZipInput } from '../../io/fixtures.js';

export const TINY_TEXT: CLIPConfig = { embed_dim: 16, context_length: 8, vocab_size: 100, transformer_width: 16, transformer_heads: 2, transformer_layers: 1 };
export const TINY_VIT: CLIPConfig = { embed_dim: 16, image_resolution: 16, vision_patch_size: 8, vision_width: 16, vision_layers: 2, vision_heads: 2 };
export const TINY_RN: CLIPConfig = { embed_dim: 16, image_resolution: 64, vision_layers: [1, 1, 1, 1], vision_width: 4, vision_heads: 2 };

/** A CLIP with every parameter and buffer drawn from a seeded generator (running variances positive). */
export function tinyClip(config: CLIPConfig, seed = 1): CLIP {
  const m = new CLIP(config);
  const g = new torch.Generator(seed);
  torch.noGrad(() => {
    for (const [k, t] of m.stateDict()) {
      if (!torch.isFloating(t.dtype)) continue;
      if (k.endsWith('running_var')) t.uniform_(0.5, 1.5, g);
      else if (k === 'logit_scale') t.fill_(Math.log(100));
      else t.normal_(0, k.endsWith('weight') && t.ndim === 1 ? 0.2 : 0.3, g).add_(k.endsWith('ln_1.weight') || k.endsWith('ln_2.weight') || /ln_(pre|post|final)\.weight$|bn\d\.weight$|\.1\.weight$/.test(k) ? 1 : 0);
    }
  });
  return m;
}

function fixtureTensor(t: Tensor): FixtureTensor {
  const cls: Record<string, string> = { float32: 'FloatStorage', float16: 'HalfStorage', int64: 'LongStorage' };
  const size = [...t.shape];
  const stride = size.map((_, i) => size.slice(i + 1).reduce((a, b) => a * b, 1));
  return { storageClass: cls[t.dtype]!, data: t.contiguous().toBytes(), numel: t.numel, size, stride };
}

/**
 * An open_clip training checkpoint: torch.save({'epoch': 3, 'state_dict': {'module.<key>': …}})
 * in the zip layout.
 */
export function openClipCheckpoint(sd: Map<string, Tensor>): Buffer {
  const tensors: Record<string, FixtureTensor> = {};
  for (const [k, t] of sd) tensors[`module.${k}`] = fixtureTensor(t);
  const inner = stateDictPickle(tensors); // PROTO 2 … STOP
  const w = new PickleWriter().proto().op(0x7d).mark().str('epoch').int(3).str('state_dict');
  const body = Buffer.concat([w.bytes(), inner.subarray(2, inner.length - 1), new PickleWriter().setitems().stop().bytes()]);
  const entries: ZipInput[] = [{ name: 'ckpt/data.pkl', data: body }];
  Object.values(tensors).forEach((t, i) => entries.push({ name: `ckpt/data/${i}`, data: t.data }));
  entries.push({ name: 'ckpt/version', data: Buffer.from('3\n') });
  return buildZip(entries);
}

/** OpenAI names → Hugging Face CLIPModel names (the inverse of the loader's mapping). */
export function toHuggingFace(sd: Map<string, Tensor>): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [k, t] of sd) {
    const blk = /^(visual\.)?transformer\.resblocks\.(\d+)\.(.+)$/.exec(k);
    if (blk) {
      const base = `${blk[1] ? 'vision_model' : 'text_model'}.encoder.layers.${blk[2]}.`;
      const rest = blk[3]!;
      if (rest.startsWith('attn.in_proj_')) {
        const kind = rest.slice('attn.in_proj_'.length);
        const [q, kk, v] = t.chunk(3, 0) as [Tensor, Tensor, Tensor];
        out.set(`${base}self_attn.q_proj.${kind}`, q.contiguous());
        out.set(`${base}self_attn.k_proj.${kind}`, kk.contiguous());
        out.set(`${base}self_attn.v_proj.${kind}`, v.contiguous());
        continue;
      }
      const map: Record<string, string> = { 'attn.out_proj': 'self_attn.out_proj', ln_1: 'layer_norm1', ln_2: 'layer_norm2', 'mlp.c_fc': 'mlp.fc1', 'mlp.c_proj': 'mlp.fc2' };
      const [, mod, p] = /^(.+)\.(weight|bias)$/.exec(rest)!;
      out.set(`${base}${map[mod!]}.${p}`, t);
      continue;
    }
    const flat: Record<string, string> = {
      'token_embedding.weight': 'text_model.embeddings.token_embedding.weight', positional_embedding: 'text_model.embeddings.position_embedding.weight',
      'ln_final.weight': 'text_model.final_layer_norm.weight', 'ln_final.bias': 'text_model.final_layer_norm.bias',
      'visual.class_embedding': 'vision_model.embeddings.class_embedding', 'visual.conv1.weight': 'vision_model.embeddings.patch_embedding.weight',
      'visual.positional_embedding': 'vision_model.embeddings.position_embedding.weight',
      'visual.ln_pre.weight': 'vision_model.pre_layrnorm.weight', 'visual.ln_pre.bias': 'vision_model.pre_layrnorm.bias',
      'visual.ln_post.weight': 'vision_model.post_layernorm.weight', 'visual.ln_post.bias': 'vision_model.post_layernorm.bias', logit_scale: 'logit_scale',
    };
    if (k === 'text_projection') out.set('text_projection.weight', t.t().contiguous());
    else if (k === 'visual.proj') out.set('visual_projection.weight', t.t().contiguous());
    else out.set(flat[k]!, t);
  }
  out.set('text_model.embeddings.position_ids', torch.arange(0, sd.get('positional_embedding')!.size(0), 1, { dtype: 'int64' }).unsqueeze(0));
  return out;
}
