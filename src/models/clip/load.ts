// CLIP weights from the files people have, read without running any code: OpenAI's TorchScript
// archives (CLIP@d05afc4:clip/clip.py load → build_model(model.state_dict())), Hugging Face
// `CLIPModel` safetensors (transformers' modeling_clip names, mapped back), and open_clip
// checkpoints (OpenAI's names, optionally under `state_dict` with DDP's `module.`).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as torch from '../../engine/index.js';
import { Tensor } from '../../engine/index.js';
import { readCheckpoint, stateDictFrom, type RawTensor } from '../../io/checkpoint/index.js';
import { rawToTensor } from '../../io/checkpoint/tensors.js';
import { type CLIPConfig, buildConfig } from './config.js';
import { CLIP, LayerNorm } from './model.js';

/** OpenAI's published archives (clip/clip.py _MODELS), for the one-line "where to get it" hint. */
export const OPENAI_CLIP_URLS: Readonly<Record<string, string>> = {
  'RN50.pt': 'https://openaipublic.azureedge.net/clip/models/afeb0e10f9e5a86da6080e35cf09123aca3b358a0c3e3b6c78a7b63bc04b6762/RN50.pt',
  'RN101.pt': 'https://openaipublic.azureedge.net/clip/models/8fa8567bab74a42d41c5915025a8e4538c3bdbe8804a470a72f30b0d94fab599/RN101.pt',
  'RN50x4.pt': 'https://openaipublic.azureedge.net/clip/models/7e526bd135e493cef0776de27d5f42653e6b4c8bf9e0f653bb11773263205fdd/RN50x4.pt',
  'RN50x16.pt': 'https://openaipublic.azureedge.net/clip/models/52378b407f34354e150460fe41077663dd5b39c54cd0bfd2b27167a4a06ec9aa/RN50x16.pt',
  'RN50x64.pt': 'https://openaipublic.azureedge.net/clip/models/be1cfb55d75a9666199fb2206c106743da0f6468c9d327f3e0d0a543a9919d9c/RN50x64.pt',
  'ViT-B-32.pt': 'https://openaipublic.azureedge.net/clip/models/40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af/ViT-B-32.pt',
  'ViT-B-16.pt': 'https://openaipublic.azureedge.net/clip/models/5806e77cd80f8b59890b7e101eabd078d9fb84e6937f9e85e4ecb61988df416f/ViT-B-16.pt',
  'ViT-L-14.pt': 'https://openaipublic.azureedge.net/clip/models/b8cca3fd41ae0c99ba7e8951adf17d267cdb84cd88be6f7c2e0eca1737a03836/ViT-L-14.pt',
  'ViT-L-14-336px.pt': 'https://openaipublic.azureedge.net/clip/models/3035c92b350959924f9f00213499208652fc7ea050643e8b385c2dac08641f02/ViT-L-14-336px.pt',
};

/** Where CLIP weights are published, for error messages (one line). */
export function whereToGet(file: string): string {
  const url = OPENAI_CLIP_URLS[path.basename(file)];
  if (url) return `OpenAI publishes ${path.basename(file)} at ${url}`;
  return 'CLIP weights are OpenAI\'s TorchScript archives (RN50.pt, ViT-B-16.pt, … at https://openaipublic.azureedge.net/clip/models/<sha256>/<name>.pt, listed in openai/CLIP clip/clip.py), Hugging Face CLIPModel model.safetensors (e.g. openai/clip-vit-base-patch16) or open_clip checkpoints';
}

export type ClipLayout = 'openai' | 'open_clip' | 'huggingface';

/** Keys in OpenAI archives that are not weights (build_model deletes them). */
const NON_WEIGHTS = new Set(['input_resolution', 'context_length', 'vocab_size']);

/** Hugging Face CLIPModel → OpenAI names (returns undefined for keys without a counterpart). */
function hfName(k: string): string | undefined {
  const layer = /^(vision_model|text_model)\.encoder\.layers\.(\d+)\.(.+)$/.exec(k);
  if (layer) {
    const base = `${layer[1] === 'vision_model' ? 'visual.' : ''}transformer.resblocks.${layer[2]}.`;
    const rest = layer[3]!;
    const map: Record<string, string> = {
      'self_attn.out_proj.weight': 'attn.out_proj.weight', 'self_attn.out_proj.bias': 'attn.out_proj.bias',
      'layer_norm1.weight': 'ln_1.weight', 'layer_norm1.bias': 'ln_1.bias', 'layer_norm2.weight': 'ln_2.weight', 'layer_norm2.bias': 'ln_2.bias',
      'mlp.fc1.weight': 'mlp.c_fc.weight', 'mlp.fc1.bias': 'mlp.c_fc.bias', 'mlp.fc2.weight': 'mlp.c_proj.weight', 'mlp.fc2.bias': 'mlp.c_proj.bias',
    };
    return map[rest] === undefined ? undefined : base + map[rest];
  }
  const flat: Record<string, string> = {
    'text_model.embeddings.token_embedding.weight': 'token_embedding.weight',
    'text_model.embeddings.position_embedding.weight': 'positional_embedding',
    'text_model.final_layer_norm.weight': 'ln_final.weight', 'text_model.final_layer_norm.bias': 'ln_final.bias',
    'vision_model.embeddings.class_embedding': 'visual.class_embedding',
    'vision_model.embeddings.patch_embedding.weight': 'visual.conv1.weight',
    'vision_model.embeddings.position_embedding.weight': 'visual.positional_embedding',
    'vision_model.pre_layrnorm.weight': 'visual.ln_pre.weight', 'vision_model.pre_layrnorm.bias': 'visual.ln_pre.bias',
    'vision_model.post_layernorm.weight': 'visual.ln_post.weight', 'vision_model.post_layernorm.bias': 'visual.ln_post.bias',
    logit_scale: 'logit_scale',
  };
  return flat[k];
}

/** Maps a Hugging Face CLIPModel state dict to OpenAI's names (q/k/v packed, projections transposed). */
export function fromHuggingFace(hf: ReadonlyMap<string, Tensor>): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  const qkv = new Map<string, { q?: Tensor; k?: Tensor; v?: Tensor }>();
  for (const [k, t] of hf) {
    const m = /^(vision_model|text_model)\.encoder\.layers\.(\d+)\.self_attn\.([qkv])_proj\.(weight|bias)$/.exec(k);
    if (m) {
      const key = `${m[1] === 'vision_model' ? 'visual.' : ''}transformer.resblocks.${m[2]}.attn.in_proj_${m[4]}`;
      const e = qkv.get(key) ?? {};
      e[m[3] as 'q' | 'k' | 'v'] = t;
      qkv.set(key, e);
      continue;
    }
    if (k === 'text_projection.weight') { out.set('text_projection', t.t().contiguous()); continue; }
    if (k === 'visual_projection.weight') { out.set('visual.proj', t.t().contiguous()); continue; }
    const name = hfName(k);
    if (name) out.set(name, t);
    // position_ids buffers and anything else without a counterpart are left out
  }
  for (const [key, e] of qkv) {
    if (!e.q || !e.k || !e.v) throw new Error(`Hugging Face CLIP weights: ${key.replace('.attn.in_proj_', ' q/k/v ')} incomplete`);
    out.set(key, torch.cat([e.q, e.k, e.v], 0));
  }
  return out;
}

export interface ClipStateDict {
  layout: ClipLayout;
  /** Tensors by OpenAI's names, in the file's dtypes (CPU). */
  tensors: Map<string, Tensor>;
}

/** Reads CLIP weights of any of the three layouts into OpenAI's names. The caller owns the tensors. */
export function readClipStateDict(file: string): ClipStateDict {
  if (typeof file !== 'string' || file === '') throw new TypeError('CLIP weights: the file must be a non-empty path string');
  let st: fs.Stats;
  try { st = fs.statSync(file); } catch { throw new Error(`CLIP weights: ${file} not found; ${whereToGet(file)}`); }
  if (!st.isFile()) throw new Error(`CLIP weights: ${file} is not a file; ${whereToGet(file)}`);
  let raw: Map<string, RawTensor>;
  let format: string;
  try {
    const ckpt = readCheckpoint(file);
    format = ckpt.format;
    raw = stateDictFrom(ckpt, { unwrap: ['state_dict', 'model'], stripPrefixes: ['module.', '_orig_mod.'] });
  } catch (e) {
    throw new Error(`CLIP weights: ${(e as Error).message.split('\n')[0]}; ${whereToGet(file)}`);
  }
  const keys = [...raw.keys()];
  const hf = keys.some((k) => k.startsWith('vision_model.') || k.startsWith('text_model.'));
  const openai = keys.some((k) => k.startsWith('visual.') || k === 'token_embedding.weight');
  if (!hf && !openai) {
    throw new Error(`CLIP weights: ${file} holds no CLIP tensors (neither visual.* / token_embedding.weight nor Hugging Face vision_model.* / text_model.*); ${whereToGet(file)}`);
  }
  return torch.scope(() => {
    const tensors = new Map<string, Tensor>();
    try {
      for (const [k, r] of raw) {
        if (NON_WEIGHTS.has(k) || k.endsWith('attn_mask') || k.endsWith('position_ids')) continue;
        tensors.set(k, rawToTensor(r));
      }
    } catch (e) {
      throw new Error(`CLIP weights: ${file}: ${(e as Error).message.split('\n')[0]}`);
    }
    if (hf) return { layout: 'huggingface' as const, tensors: fromHuggingFace(tensors) };
    return { layout: format === 'torchscript' ? 'openai' as const : 'open_clip' as const, tensors };
  });
}

export interface LoadClipOptions {
  /** Compute dtype: 'float32' (default) or 'bfloat16' (LayerNorms still compute in float32). */
  dtype?: 'float32' | 'bfloat16';
  /** Which towers to build (default both that the file holds). */
  towers?: 'both' | 'image' | 'text';
  /** Overrides of the inferred configuration (e.g. head counts of non-standard models, activation). */
  config?: Partial<CLIPConfig>;
}

function parseLoadOptions(opts: LoadClipOptions): Required<Omit<LoadClipOptions, 'config'>> & { config: Partial<CLIPConfig> } {
  if (opts === null || typeof opts !== 'object') throw new TypeError('loadClip: options must be an object');
  const dtype = opts.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'bfloat16') throw new RangeError(`loadClip: dtype must be 'float32' or 'bfloat16', got ${JSON.stringify(dtype)}`);
  const towers = opts.towers ?? 'both';
  if (!['both', 'image', 'text'].includes(towers)) throw new RangeError(`loadClip: towers must be 'both', 'image' or 'text', got ${JSON.stringify(towers)}`);
  return { dtype, towers, config: opts.config ?? {} };
}

const TEXT_KEYS = /^(transformer\.|token_embedding\.|positional_embedding$|ln_final\.|text_projection$)/;

/**
 * A CLIP model from a state dict with OpenAI's names: configuration inferred from the shapes
 * (build_model), every key checked, weights copied (fp16 values upcast as CPU clip.load does).
 */
export function clipFromStateDict(sd: ReadonlyMap<string, Tensor>, opts: LoadClipOptions = {}, what = 'CLIP weights'): CLIP {
  const o = parseLoadOptions(opts);
  const state = new Map([...sd].filter(([k]) => (o.towers === 'image' ? !TEXT_KEYS.test(k) : o.towers === 'text' ? !k.startsWith('visual.') : true)));
  const shapes = new Map([...state].map(([k, t]) => [k, t.shape] as [string, readonly number[]]));
  let config: CLIPConfig;
  try { config = { ...buildConfig(shapes), ...o.config }; } catch (e) { throw new Error(`${what}: ${(e as Error).message.replace(/^CLIP weights: /, '')}`); }
  if (o.towers === 'image' && config.vision_width === undefined) throw new Error(`${what}: no image tower (visual.*) in the weights`);
  if (o.towers === 'text' && config.transformer_width === undefined) throw new Error(`${what}: no text tower (token_embedding.weight, transformer.*) in the weights`);
  const model = new CLIP(config);
  try {
    if (!state.has('logit_scale')) state.set('logit_scale', model.logit_scale);
    torch.scope(() => {
      const own = model.stateDict();
      const missing = [...own.keys()].filter((k) => !state.has(k) && !k.endsWith('num_batches_tracked'));
      const unexpected = [...state.keys()].filter((k) => !own.has(k));
      if (missing.length || unexpected.length) {
        const parts = [];
        if (missing.length) parts.push(`missing ${missing.slice(0, 4).join(', ')}${missing.length > 4 ? ` (+${missing.length - 4} more)` : ''}`);
        if (unexpected.length) parts.push(`unexpected ${unexpected.slice(0, 4).join(', ')}${unexpected.length > 4 ? ` (+${unexpected.length - 4} more)` : ''}`);
        throw new Error(`${what}: keys do not match CLIP's: ${parts.join('; ')}`);
      }
      try {
        model.loadStateDict(state, { strict: false });
      } catch (e) {
        throw new Error(`${what}: ${(e as Error).message.replace(/^loadStateDict\(\): /, '')}`);
      }
    });
    if (o.dtype === 'bfloat16') toBFloat16(model);
    return model;
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/** Casts the towers to bfloat16, keeping LayerNorm parameters in float32 (they compute in float32). */
export function toBFloat16(model: CLIP): CLIP {
  model.to({ dtype: 'bfloat16' });
  for (const m of model.modules()) if (m instanceof LayerNorm) m.to({ dtype: 'float32' });
  return model;
}

/**
 * Loads CLIP from OpenAI's `.pt` (TorchScript, read as data), a Hugging Face CLIPModel
 * safetensors or an open_clip checkpoint. Errors are one line naming the file and where the
 * weights are published.
 */
export function loadClip(file: string, opts: LoadClipOptions = {}): CLIP {
  parseLoadOptions(opts);
  const { tensors } = readClipStateDict(file);
  try {
    return clipFromStateDict(tensors, opts, `CLIP weights ${file}`);
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}
