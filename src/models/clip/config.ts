// CLIP configuration: the arguments of CLIP@d05afc4:clip/model.py CLIP.__init__ as build_model()
// derives them from a state dict's shapes, plus the head counts (derived unless given).

/** What build_model() passes to CLIP(...), plus `vision_heads`. A tower whose fields are absent is not built. */
export interface CLIPConfig {
  embed_dim: number;
  // image tower (absent: no image tower)
  image_resolution?: number;
  /** ViT: number of blocks; ModifiedResNet: blocks per stage (4 numbers). */
  vision_layers?: number | number[];
  vision_width?: number;
  /** ViT patch size; null for the ModifiedResNet. */
  vision_patch_size?: number | null;
  vision_heads?: number;
  // text tower (absent: no text tower)
  context_length?: number;
  vocab_size?: number;
  transformer_width?: number;
  transformer_heads?: number;
  transformer_layers?: number;
  /**
   * The MLP activation of both transformers: 'quick_gelu' (OpenAI's weights, default) or 'gelu'
   * (open_clip models trained without QuickGELU; Hugging Face configs with hidden_act "gelu").
   * Not recorded in the weights.
   */
  activation?: 'quick_gelu' | 'gelu';
}

export type Shapes = ReadonlyMap<string, readonly number[]>;

function need(shapes: Shapes, key: string, rank: number): readonly number[] {
  const s = shapes.get(key);
  if (!s) throw new Error(`CLIP weights: key ${key} is missing`);
  if (s.length !== rank) throw new Error(`CLIP weights: ${key} has shape [${s.join(', ')}], expected ${rank} dimensions`);
  return s;
}

/** Distinct values of the dotted path segment `index` among keys with the prefix. */
function distinct(shapes: Shapes, prefix: string, index: number): number {
  return new Set([...shapes.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.split('.')[index])).size;
}

/** Whether the state dict holds an image tower / a text tower. */
export function hasVision(shapes: Shapes): boolean { return shapes.has('visual.conv1.weight'); }
export function hasText(shapes: Shapes): boolean { return shapes.has('token_embedding.weight'); }

/**
 * CLIP@d05afc4:clip/model.py build_model's reading of a state dict (keys → shapes), for whichever
 * towers it holds. Heads follow upstream's derivations (width // 64, ResNet width * 32 // 64).
 */
export function buildConfig(shapes: Shapes): CLIPConfig {
  const vision = hasVision(shapes), text = hasText(shapes);
  if (!vision && !text) throw new Error('CLIP weights: neither an image tower (visual.conv1.weight) nor a text tower (token_embedding.weight) found');
  let embed: number | undefined;
  const cfg: Partial<CLIPConfig> = {};
  if (vision) {
    if (shapes.has('visual.proj')) {
      const conv1 = need(shapes, 'visual.conv1.weight', 4);
      const pos = need(shapes, 'visual.positional_embedding', 2);
      const width = conv1[0]!;
      const layers = [...shapes.keys()].filter((k) => k.startsWith('visual.') && k.endsWith('.attn.in_proj_weight')).length;
      const patch = conv1[3]!;
      const grid = Math.round(Math.sqrt(pos[0]! - 1));
      if (grid * grid + 1 !== pos[0]) throw new Error(`CLIP weights: visual.positional_embedding has ${pos[0]} rows, not a square grid plus one`);
      Object.assign(cfg, { image_resolution: patch * grid, vision_layers: layers, vision_width: width, vision_patch_size: patch, vision_heads: Math.floor(width / 64) });
      embed = need(shapes, 'visual.proj', 2)[1];
    } else {
      const counts = [1, 2, 3, 4].map((b) => distinct(shapes, `visual.layer${b}.`, 2));
      const width = need(shapes, 'visual.layer1.0.conv1.weight', 4)[0]!;
      const pos = need(shapes, 'visual.attnpool.positional_embedding', 2);
      const grid = Math.round(Math.sqrt(pos[0]! - 1));
      if (grid * grid + 1 !== pos[0]) throw new Error(`CLIP weights: visual.attnpool.positional_embedding has ${pos[0]} rows, not a square grid plus one`);
      Object.assign(cfg, { image_resolution: grid * 32, vision_layers: counts, vision_width: width, vision_patch_size: null, vision_heads: Math.floor((width * 32) / 64) });
      embed = need(shapes, 'visual.attnpool.c_proj.weight', 2)[0];
    }
  }
  if (text) {
    const tEmbed = need(shapes, 'text_projection', 2)[1]!;
    if (embed !== undefined && embed !== tEmbed) throw new Error(`CLIP weights: the image tower projects to ${embed} dimensions, the text tower to ${tEmbed}`);
    embed = tEmbed;
    const width = need(shapes, 'ln_final.weight', 1)[0]!;
    Object.assign(cfg, {
      context_length: need(shapes, 'positional_embedding', 2)[0],
      vocab_size: need(shapes, 'token_embedding.weight', 2)[0],
      transformer_width: width,
      transformer_heads: Math.floor(width / 64),
      transformer_layers: distinct(shapes, 'transformer.resblocks.', 2),
    });
  }
  return { embed_dim: embed!, ...cfg };
}

/** Checks a configuration given by hand (every number a positive integer, heads dividing widths). */
export function checkConfig(cfg: CLIPConfig): CLIPConfig {
  const pos = (name: keyof CLIPConfig, v: unknown): void => {
    if (!Number.isInteger(v) || (v as number) < 1) throw new RangeError(`CLIP config: ${name} must be a positive integer, got ${JSON.stringify(v)}`);
  };
  if (!cfg || typeof cfg !== 'object') throw new TypeError('CLIP config: must be an object');
  pos('embed_dim', cfg.embed_dim);
  if (cfg.vision_width !== undefined) {
    pos('vision_width', cfg.vision_width);
    pos('image_resolution', cfg.image_resolution);
    pos('vision_heads', cfg.vision_heads);
    if (Array.isArray(cfg.vision_layers)) {
      if (cfg.vision_layers.length !== 4) throw new RangeError('CLIP config: vision_layers of a ModifiedResNet must list 4 stages');
      cfg.vision_layers.forEach((n) => pos('vision_layers', n));
      if ((cfg.vision_width * 32) % cfg.vision_heads! !== 0) throw new RangeError(`CLIP config: vision_heads ${cfg.vision_heads} must divide ${cfg.vision_width * 32}`);
    } else {
      pos('vision_layers', cfg.vision_layers);
      pos('vision_patch_size', cfg.vision_patch_size);
      if (cfg.vision_width % cfg.vision_heads! !== 0) throw new RangeError(`CLIP config: vision_heads ${cfg.vision_heads} must divide vision_width ${cfg.vision_width}`);
    }
  }
  if (cfg.activation !== undefined && cfg.activation !== 'quick_gelu' && cfg.activation !== 'gelu') throw new RangeError(`CLIP config: activation must be 'quick_gelu' or 'gelu', got ${JSON.stringify(cfg.activation)}`);
  if (cfg.transformer_width !== undefined) {
    for (const k of ['context_length', 'vocab_size', 'transformer_width', 'transformer_heads', 'transformer_layers'] as const) pos(k, cfg[k]);
    if (cfg.transformer_width % cfg.transformer_heads! !== 0) throw new RangeError(`CLIP config: transformer_heads ${cfg.transformer_heads} must divide transformer_width ${cfg.transformer_width}`);
  }
  return cfg;
}
