// OpenAI CLIP: image towers (VisionTransformer, ModifiedResNet with attention pooling) and the text
// transformer — CLIP@d05afc4:clip/model.py, with pyiqa@01ae427:pyiqa/archs/clip_model.py's
// any-size forwards (positional table dropped, or resized along the token axis). Attribute names
// are upstream's, so state-dict keys are OpenAI's. Inside the blocks the layout is batch-first
// ([N, L, W]); upstream's sequence-first layout is a permutation of the same arithmetic.
import * as torch from '../../engine/index.js';
import { Tensor } from '../../engine/index.js';
import { Module, Conv2d, Linear, LayerNorm as NNLayerNorm, BatchNorm2d, ModuleList, Embedding, Parameter } from '../../engine/nn/index.js';
import { type CLIPConfig, checkConfig } from './config.js';

/**
 * How an image tower treats its positional embedding:
 * - 'native': added as is (upstream); an input of another size is refused, as upstream fails;
 * - 'interpolate': resized bicubically along the token axis to the input's token count (pyiqa's
 *   pos_embedding=True; the identity at the native size);
 * - 'none': not added at all (pyiqa's pos_embedding=False, CLIP-IQA's setting).
 */
export type PosEmbeddingMode = 'native' | 'interpolate' | 'none';

/** clip/model.py LayerNorm: computes in float32 and casts back (matters for bf16/fp16 towers). */
export class LayerNorm extends NNLayerNorm {
  override forward(x: Tensor): Tensor {
    if (x.dtype !== 'bfloat16' && x.dtype !== 'float16') return super.forward(x);
    return torch.scope(() => super.forward(x.float()).to({ dtype: x.dtype }));
  }
}

/** clip/model.py QuickGELU: x·sigmoid(1.702x). */
export function quickGelu(x: Tensor): Tensor {
  return torch.scope(() => {
    const s = x.mul(1.702).sigmoid();
    if (torch.isGradEnabled() && (x.requiresGrad || s.requiresGrad)) return x.mul(s);
    s.mul_(x); // inference: one feature map fewer, same products
    return s;
  });
}

/** The weights of nn.MultiheadAttention (packed q, k, v rows) and its sequence-free math. */
export class MultiheadAttention extends Module {
  readonly embed_dim: number;
  readonly num_heads: number;
  in_proj_weight: Tensor;
  in_proj_bias: Tensor;
  out_proj: Linear;

  constructor(embedDim: number, numHeads: number) {
    super();
    if (embedDim % numHeads !== 0) throw new RangeError(`MultiheadAttention: ${numHeads} heads must divide the width ${embedDim}`);
    this.embed_dim = embedDim;
    this.num_heads = numHeads;
    this.in_proj_weight = Parameter(torch.zeros([3 * embedDim, embedDim]));
    this.in_proj_bias = Parameter(torch.zeros([3 * embedDim]));
    this.out_proj = new Linear(embedDim, embedDim);
  }

  /** Self-attention over x [N, L, E] with an optional additive mask [L, L]. */
  forward(x: Tensor, mask?: Tensor | null): Tensor {
    return torch.scope(() => {
      const [n, l, e] = x.shape as [number, number, number];
      const h = this.num_heads, d = e / h;
      const qkv = torch.linear(x, this.in_proj_weight, this.in_proj_bias).reshape(n, l, 3, h, d).permute(2, 0, 3, 1, 4);
      const [q, k, v] = qkv.unbind(0) as [Tensor, Tensor, Tensor];
      const o = attention(q, k, v, mask ?? null);
      return this.out_proj.forward(o.permute(0, 2, 1, 3).reshape(n, l, e));
    });
  }
}

/** softmax(q/√d · kᵀ + mask) · v over [N, H, L, D] (torch 1.13 _scaled_dot_product_attention). */
function attention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null): Tensor {
  const d = q.size(-1);
  let s = q.div(Math.sqrt(d)).matmul(k.transpose(-2, -1));
  if (mask) s = s.add(mask.to({ dtype: s.dtype, device: s.device }));
  return s.softmax(-1).matmul(v);
}

/** clip/model.py ResidualAttentionBlock (attn, ln_1, mlp.c_fc, mlp.c_proj, ln_2). */
export class ResidualAttentionBlock extends Module {
  attn: MultiheadAttention;
  ln_1: LayerNorm;
  mlp: MLP;
  ln_2: LayerNorm;

  constructor(dModel: number, nHead: number, activation: 'quick_gelu' | 'gelu' = 'quick_gelu') {
    super();
    this.attn = new MultiheadAttention(dModel, nHead);
    this.ln_1 = new LayerNorm(dModel);
    this.mlp = new MLP(dModel, activation);
    this.ln_2 = new LayerNorm(dModel);
  }

  forward(x: Tensor, mask: Tensor | null): Tensor {
    return torch.scope(() => {
      const y = x.add(this.attn.forward(this.ln_1.forward(x), mask));
      return y.add(this.mlp.forward(this.ln_2.forward(y)));
    });
  }
}

/** The block's nn.Sequential(c_fc, QuickGELU, c_proj). */
export class MLP extends Module {
  readonly activation: 'quick_gelu' | 'gelu';
  c_fc: Linear;
  c_proj: Linear;
  constructor(d: number, activation: 'quick_gelu' | 'gelu' = 'quick_gelu') {
    super();
    this.activation = activation;
    this.c_fc = new Linear(d, d * 4);
    this.c_proj = new Linear(d * 4, d);
  }
  forward(x: Tensor): Tensor {
    return torch.scope(() => this.c_proj.forward(this.activation === 'gelu' ? torch.gelu(this.c_fc.forward(x)) : quickGelu(this.c_fc.forward(x))));
  }
}

/** clip/model.py Transformer; `keep` collects the outputs of the listed blocks. */
export class Transformer extends Module {
  readonly width: number;
  readonly layers: number;
  resblocks: ModuleList<ResidualAttentionBlock>;

  constructor(width: number, layers: number, heads: number, activation: 'quick_gelu' | 'gelu' = 'quick_gelu') {
    super();
    this.width = width;
    this.layers = layers;
    this.resblocks = new ModuleList(Array.from({ length: layers }, () => new ResidualAttentionBlock(width, heads, activation)));
  }

  /** Runs the blocks on x [N, L, W]; `keep`'s keys name blocks whose outputs are stored in it. */
  forward(x: Tensor, mask: Tensor | null = null, keep?: Map<number, Tensor | null>): Tensor {
    let h = x;
    let i = 0;
    for (const blk of this.resblocks) {
      h = blk.forward(h, mask);
      if (keep?.has(i)) keep.set(i, h);
      i++;
    }
    return h;
  }
}

/** Resizes a positional table [L, W] to [L', W] bicubically along the token axis (pyiqa). */
export function resizePositionalEmbedding(pe: Tensor, rows: number): Tensor {
  return torch.scope(() => torch.interpolate(pe.unsqueeze(0).unsqueeze(0), { size: [rows, pe.size(1)], mode: 'bicubic', alignCorners: false }).squeeze(0).squeeze(0));
}

function addPositional(x: Tensor, pe: Tensor, mode: PosEmbeddingMode, what: string): { x: Tensor; pe?: Tensor } {
  const rows = x.size(1);
  if (mode === 'none') return { x: torch.alias(x) };
  if (mode === 'native') {
    if (rows !== pe.size(0)) throw new RangeError(`${what}: the input gives ${rows} tokens but the positional embedding has ${pe.size(0)} rows (native input size only; use posEmbedding 'interpolate' or 'none' for other sizes)`);
    return { x: x.add(pe.to({ dtype: x.dtype })) };
  }
  const r = resizePositionalEmbedding(pe, rows);
  return { x: x.add(r.to({ dtype: x.dtype })), pe: r };
}

export interface VisualOptions {
  /** Positional embedding handling (default 'native'). */
  posEmbedding?: PosEmbeddingMode;
  /** Also return the patch tokens (ViT: ln_post of tokens 1..; ResNet: attention-pool outputs 1..). */
  returnTokens?: boolean;
  /** ViT: block indices whose outputs [N, L, W] to return (negative counts from the end). */
  blocks?: number[];
  /** ResNet: return the four stage outputs. */
  stages?: boolean;
}

export interface VisualOutput {
  /** The image embedding [N, output_dim]. */
  embedding: Tensor;
  /** ViT: ln_post of the patch tokens [N, L-1, W]; ResNet: pooled outputs of positions 1.. [N, HW, output_dim]. */
  tokens?: Tensor;
  /** ViT: tokens after ln_pre [N, L, W]. */
  lnPre?: Tensor;
  /** ViT: requested block outputs, by the index asked for. */
  hidden?: Map<number, Tensor>;
  /** ResNet: layer1..layer4 outputs. */
  stages?: Tensor[];
  /** The resized positional table ('interpolate' only). */
  posEmbedding?: Tensor;
}

/** clip/model.py VisionTransformer. */
export class VisionTransformer extends Module {
  readonly input_resolution: number;
  readonly output_dim: number;
  readonly patch_size: number;
  conv1: Conv2d;
  class_embedding: Tensor;
  positional_embedding: Tensor;
  ln_pre: LayerNorm;
  transformer: Transformer;
  ln_post: LayerNorm;
  proj: Tensor;

  constructor(inputResolution: number, patchSize: number, width: number, layers: number, heads: number, outputDim: number, activation: 'quick_gelu' | 'gelu' = 'quick_gelu') {
    super();
    this.input_resolution = inputResolution;
    this.output_dim = outputDim;
    this.patch_size = patchSize;
    this.conv1 = new Conv2d(3, width, patchSize, { stride: patchSize, bias: false });
    const grid = Math.floor(inputResolution / patchSize);
    this.class_embedding = Parameter(torch.zeros([width]));
    this.positional_embedding = Parameter(torch.zeros([grid * grid + 1, width]));
    this.ln_pre = new LayerNorm(width);
    this.transformer = new Transformer(width, layers, heads, activation);
    this.ln_post = new LayerNorm(width);
    this.proj = Parameter(torch.zeros([width, outputDim]));
  }

  forward(x: Tensor, opts: VisualOptions = {}): VisualOutput {
    const mode = opts.posEmbedding ?? 'native';
    const layers = this.transformer.layers;
    const keep = new Map<number, Tensor | null>();
    for (const b of opts.blocks ?? []) {
      if (!Number.isInteger(b) || b < -layers || b >= layers) throw new RangeError(`VisionTransformer: block ${b} out of range for ${layers} blocks`);
      keep.set(b < 0 ? b + layers : b, null);
    }
    return torch.scope(() => {
      const f = this.conv1.forward(x.to({ dtype: this.conv1.weight.dtype }));
      const [n, w] = f.shape as [number, number];
      const patches = f.reshape(n, w, -1).permute(0, 2, 1);
      const cls = this.class_embedding.to({ dtype: patches.dtype }).reshape(1, 1, w).expand(n, 1, w);
      const tokens = torch.cat([cls, patches], 1);
      const { x: withPos, pe } = addPositional(tokens, this.positional_embedding, mode, 'VisionTransformer');
      const lnPre = this.ln_pre.forward(withPos);
      const h = this.transformer.forward(lnPre, null, keep);
      const embedding = this.ln_post.forward(h.select(1, 0)).matmul(this.proj.to({ dtype: h.dtype }));
      const out: VisualOutput = { embedding, lnPre };
      if (opts.returnTokens) out.tokens = this.ln_post.forward(h.narrow(1, 1, h.size(1) - 1));
      if (opts.blocks) out.hidden = new Map((opts.blocks).map((b) => [b, keep.get(b < 0 ? b + layers : b)!]));
      if (pe) out.posEmbedding = pe;
      return out;
    });
  }
}

/** clip/model.py Bottleneck (anti-aliased: AvgPool2d(stride) after the 3×3 and before the shortcut conv). */
export class Bottleneck extends Module {
  static readonly expansion = 4;
  readonly stride: number;
  conv1: Conv2d;
  bn1: BatchNorm2d;
  conv2: Conv2d;
  bn2: BatchNorm2d;
  conv3: Conv2d;
  bn3: BatchNorm2d;
  downsample: Downsample | null;

  constructor(inplanes: number, planes: number, stride = 1) {
    super();
    this.stride = stride;
    this.conv1 = new Conv2d(inplanes, planes, 1, { bias: false });
    this.bn1 = new BatchNorm2d(planes);
    this.conv2 = new Conv2d(planes, planes, 3, { padding: 1, bias: false });
    this.bn2 = new BatchNorm2d(planes);
    this.conv3 = new Conv2d(planes, planes * 4, 1, { bias: false });
    this.bn3 = new BatchNorm2d(planes * 4);
    this.downsample = stride > 1 || inplanes !== planes * 4 ? new Downsample(inplanes, planes * 4, stride) : null;
  }

  // relu and the residual add in place, as upstream (nn.ReLU(inplace=True), out += identity)
  forward(x: Tensor): Tensor {
    return torch.scope(() => {
      let out = this.bn1.forward(this.conv1.forward(x));
      torch.relu_(out);
      out = this.bn2.forward(this.conv2.forward(out));
      torch.relu_(out);
      if (this.stride > 1) out = torch.avgPool2d(out, this.stride);
      out = this.bn3.forward(this.conv3.forward(out));
      out.add_(this.downsample ? this.downsample.forward(x) : x);
      torch.relu_(out);
      return out;
    });
  }
}

/** The shortcut nn.Sequential('-1': AvgPool2d(stride), '0': 1×1 conv, '1': BatchNorm2d). */
export class Downsample extends Module {
  readonly stride: number;
  constructor(inplanes: number, outplanes: number, stride: number) {
    super();
    this.stride = stride;
    this.registerModule('0', new Conv2d(inplanes, outplanes, 1, { bias: false }));
    this.registerModule('1', new BatchNorm2d(outplanes));
  }
  forward(x: Tensor): Tensor {
    const self = this as unknown as { '0': Conv2d; '1': BatchNorm2d };
    return torch.scope(() => self['1'].forward(self['0'].forward(this.stride > 1 ? torch.avgPool2d(x, this.stride) : x)));
  }
}

/** clip/model.py AttentionPool2d (pyiqa's forward when tokens or a non-native mode are asked for). */
export class AttentionPool2d extends Module {
  readonly num_heads: number;
  readonly spacial_dim: number;
  positional_embedding: Tensor;
  k_proj: Linear;
  q_proj: Linear;
  v_proj: Linear;
  c_proj: Linear;

  constructor(spacialDim: number, embedDim: number, numHeads: number, outputDim: number) {
    super();
    if (embedDim % numHeads !== 0) throw new RangeError(`AttentionPool2d: ${numHeads} heads must divide ${embedDim}`);
    this.spacial_dim = spacialDim;
    this.num_heads = numHeads;
    this.positional_embedding = Parameter(torch.zeros([spacialDim * spacialDim + 1, embedDim]));
    this.k_proj = new Linear(embedDim, embedDim);
    this.q_proj = new Linear(embedDim, embedDim);
    this.v_proj = new Linear(embedDim, embedDim);
    this.c_proj = new Linear(embedDim, outputDim);
  }

  /**
   * [N, C, H, W] → { embedding [N, out], tokens [N, HW, out] }. Upstream queries with token 0 only;
   * pyiqa queries with every token (same token-0 value up to rounding): done when tokens are asked
   * for or `allQueries` is set.
   */
  forward(x: Tensor, mode: PosEmbeddingMode, returnTokens: boolean, allQueries = returnTokens): { embedding: Tensor; tokens?: Tensor; pe?: Tensor } {
    return torch.scope(() => {
      const [n, c, hh, ww] = x.shape as [number, number, number, number];
      const seq = x.reshape(n, c, hh * ww).permute(0, 2, 1);
      const t0 = torch.cat([seq.mean(1, true), seq], 1); // [N, HW+1, C]
      const { x: t, pe } = addPositional(t0, this.positional_embedding, mode, 'AttentionPool2d');
      const h = this.num_heads, d = c / h, l = t.size(1);
      const query = allQueries ? t : t.narrow(1, 0, 1);
      const lq = query.size(1);
      const heads = (u: Tensor, rows: number): Tensor => u.reshape(n, rows, h, d).permute(0, 2, 1, 3);
      const q = heads(this.q_proj.forward(query), lq);
      const k = heads(this.k_proj.forward(t), l);
      const v = heads(this.v_proj.forward(t), l);
      const o = attention(q, k, v, null).permute(0, 2, 1, 3).reshape(n, lq, c);
      const y = this.c_proj.forward(o);
      const out: { embedding: Tensor; tokens?: Tensor; pe?: Tensor } = { embedding: y.select(1, 0) };
      if (returnTokens) out.tokens = y.narrow(1, 1, lq - 1);
      if (pe) out.pe = pe;
      return out;
    });
  }
}

/** clip/model.py ModifiedResNet. */
export class ModifiedResNet extends Module {
  readonly output_dim: number;
  readonly input_resolution: number;
  conv1: Conv2d;
  bn1: BatchNorm2d;
  conv2: Conv2d;
  bn2: BatchNorm2d;
  conv3: Conv2d;
  bn3: BatchNorm2d;
  layer1: ModuleList<Bottleneck>;
  layer2: ModuleList<Bottleneck>;
  layer3: ModuleList<Bottleneck>;
  layer4: ModuleList<Bottleneck>;
  attnpool: AttentionPool2d;

  constructor(layers: number[], outputDim: number, heads: number, inputResolution = 224, width = 64) {
    super();
    this.output_dim = outputDim;
    this.input_resolution = inputResolution;
    const half = Math.floor(width / 2);
    this.conv1 = new Conv2d(3, half, 3, { stride: 2, padding: 1, bias: false });
    this.bn1 = new BatchNorm2d(half);
    this.conv2 = new Conv2d(half, half, 3, { padding: 1, bias: false });
    this.bn2 = new BatchNorm2d(half);
    this.conv3 = new Conv2d(half, width, 3, { padding: 1, bias: false });
    this.bn3 = new BatchNorm2d(width);
    let inplanes = width;
    const make = (planes: number, blocks: number, stride: number): ModuleList<Bottleneck> => {
      const list = new ModuleList<Bottleneck>([new Bottleneck(inplanes, planes, stride)]);
      inplanes = planes * 4;
      for (let i = 1; i < blocks; i++) list.append(new Bottleneck(inplanes, planes));
      return list;
    };
    this.layer1 = make(width, layers[0]!, 1);
    this.layer2 = make(width * 2, layers[1]!, 2);
    this.layer3 = make(width * 4, layers[2]!, 2);
    this.layer4 = make(width * 8, layers[3]!, 2);
    this.attnpool = new AttentionPool2d(Math.floor(inputResolution / 32), width * 32, heads, outputDim);
    // Channels-last convolution weights: oneDNN's kernels then keep the feature maps channels-last,
    // measurably faster on CPU than NCHW (bench/clip); the values are the same convolutions'.
    this.to({ memoryFormat: 'channels_last' });
  }

  forward(x: Tensor, opts: VisualOptions = {}): VisualOutput {
    const mode = opts.posEmbedding ?? 'native';
    return torch.scope(() => {
      let h = x.to({ dtype: this.conv1.weight.dtype });
      for (const [conv, bn] of [[this.conv1, this.bn1], [this.conv2, this.bn2], [this.conv3, this.bn3]] as const) {
        h = bn.forward(conv.forward(h));
        torch.relu_(h);
      }
      h = torch.avgPool2d(h, 2);
      const stages: Tensor[] = [];
      for (const layer of [this.layer1, this.layer2, this.layer3, this.layer4]) {
        for (const blk of layer) h = blk.forward(h);
        stages.push(h);
      }
      const pooled = this.attnpool.forward(h, mode, opts.returnTokens ?? false, opts.returnTokens || mode !== 'native');
      const out: VisualOutput = { embedding: pooled.embedding };
      if (pooled.tokens) out.tokens = pooled.tokens;
      if (pooled.pe) out.posEmbedding = pooled.pe;
      if (opts.stages) out.stages = stages;
      return out;
    });
  }
}

export interface TextOutput {
  /** text_features [N, embed_dim] (before normalisation). */
  features: Tensor;
  /** ln_final of every position [N, L, W]. */
  lnFinal: Tensor;
  /** The pooled positions (argmax of the ids) [N]. */
  eotIndex: Tensor;
}

/** clip/model.py CLIP: the towers a configuration asks for (either may be absent). */
export class CLIP extends Module {
  readonly config: CLIPConfig;
  visual: VisionTransformer | ModifiedResNet | null = null;
  transformer: Transformer | null = null;
  token_embedding: Embedding | null = null;
  positional_embedding: Tensor | null = null;
  ln_final: LayerNorm | null = null;
  text_projection: Tensor | null = null;
  logit_scale: Tensor;
  private attnMask: Tensor | null = null;
  private readonly textCache = new Map<string, Tensor>();

  constructor(config: CLIPConfig) {
    super();
    const cfg = checkConfig(config);
    this.config = cfg;
    if (cfg.vision_width !== undefined) {
      if (Array.isArray(cfg.vision_layers)) {
        this.visual = new ModifiedResNet(cfg.vision_layers, cfg.embed_dim, cfg.vision_heads!, cfg.image_resolution!, cfg.vision_width);
      } else {
        this.visual = new VisionTransformer(cfg.image_resolution!, cfg.vision_patch_size!, cfg.vision_width, cfg.vision_layers!, cfg.vision_heads!, cfg.embed_dim, cfg.activation);
      }
    }
    if (cfg.transformer_width !== undefined) {
      const w = cfg.transformer_width;
      this.transformer = new Transformer(w, cfg.transformer_layers!, cfg.transformer_heads!, cfg.activation);
      this.token_embedding = new Embedding(cfg.vocab_size!, w);
      this.positional_embedding = Parameter(torch.zeros([cfg.context_length!, w]));
      this.ln_final = new LayerNorm(w);
      this.text_projection = Parameter(torch.zeros([w, cfg.embed_dim]));
    }
    this.logit_scale = Parameter(torch.full([], Math.log(1 / 0.07)));
    this.eval();
  }

  get hasVision(): boolean { return this.visual !== null; }
  get hasText(): boolean { return this.transformer !== null; }
  get isViT(): boolean { return this.visual instanceof VisionTransformer; }
  /** The native input size of the image tower. */
  get imageResolution(): number {
    if (!this.visual) throw new Error('CLIP: this model has no image tower');
    return this.visual.input_resolution;
  }
  /** The dtype the towers compute in (their weights'). */
  get dtype(): torch.DType {
    return (this.visual ? this.visual.conv1.weight : this.text_projection!).dtype;
  }

  /** The image tower on normalised images [N, 3, H, W] (CLIP.encode_image, pyiqa's options). */
  visualForward(image: Tensor, opts: VisualOptions = {}): VisualOutput {
    if (!this.visual) throw new Error('CLIP: this model has no image tower (load weights that hold visual.*)');
    if (!(image instanceof Tensor) || image.isDisposed) throw new TypeError('CLIP image: must be a live Tensor');
    if (image.ndim !== 4 || image.size(1) !== 3) throw new RangeError(`CLIP image: expected [N, 3, H, W], got [${image.shape.join(', ')}]`);
    if (!torch.isFloating(image.dtype)) throw new TypeError(`CLIP image: expected a floating-point tensor, got ${image.dtype}`);
    if (opts === null || typeof opts !== 'object') throw new TypeError('CLIP image: options must be an object');
    if (opts.posEmbedding !== undefined && !['native', 'interpolate', 'none'].includes(opts.posEmbedding)) throw new RangeError(`CLIP image: posEmbedding must be 'native', 'interpolate' or 'none', got ${JSON.stringify(opts.posEmbedding)}`);
    if (opts.blocks !== undefined && !Array.isArray(opts.blocks)) throw new TypeError('CLIP image: blocks must be an array of block indices');
    const device = this.visual.conv1.weight.device;
    if (image.device === device) return this.visual.forward(image, opts);
    return torch.scope(() => this.visual!.forward(image.to({ device }), opts));
  }

  /** The text tower on token ids [N, context_length] (CLIP.encode_text). */
  textForward(tokens: Tensor): TextOutput {
    if (!this.transformer) throw new Error('CLIP: this model has no text tower (load weights that hold token_embedding.weight, transformer.*)');
    const ctx = this.config.context_length!;
    if (!(tokens instanceof Tensor) || tokens.isDisposed) throw new TypeError('CLIP text: tokens must be a live Tensor');
    if (tokens.ndim !== 2 || tokens.size(1) !== ctx) throw new RangeError(`CLIP text: expected token ids [N, ${ctx}], got [${tokens.shape.join(', ')}]`);
    if (tokens.dtype !== 'int64' && tokens.dtype !== 'int32') throw new TypeError(`CLIP text: token ids must be int64 or int32, got ${tokens.dtype}`);
    return torch.scope(() => {
      const dtype = this.dtype;
      const n = tokens.size(0), w = this.config.transformer_width!;
      tokens = tokens.to({ device: this.token_embedding!.weight.device });
      const x = this.token_embedding!.forward(tokens).to({ dtype }).add(this.positional_embedding!.to({ dtype }));
      const h = this.transformer!.forward(x, this.causalMask());
      const lnFinal = this.ln_final!.forward(h);
      const eotIndex = tokens.argmax(-1);
      const rows = torch.arange(0, n, 1, { dtype: 'int64', device: tokens.device }).mul(ctx).add(eotIndex);
      const pooled = lnFinal.reshape(n * ctx, w).indexSelect(0, rows);
      const features = pooled.matmul(this.text_projection!.to({ dtype }));
      return { features, lnFinal, eotIndex };
    });
  }

  /** CLIP.build_attention_mask: additive −inf above the diagonal. */
  private causalMask(): Tensor {
    if (!this.attnMask) {
      const c = this.config.context_length!;
      this.attnMask = torch.keep(torch.scope(() => torch.triu(torch.full([c, c], -Infinity), 1)));
    }
    return this.attnMask;
  }

  /** CLIP.forward: logits_per_image [N_img, N_txt] = exp(logit_scale)·cos, and the features. */
  logits(imageFeatures: Tensor, textFeatures: Tensor): Tensor {
    return torch.scope(() => {
      const a = imageFeatures.div(imageFeatures.norm(2, -1, true));
      const b = textFeatures.div(textFeatures.norm(2, -1, true));
      return a.matmul(b.t()).mul(this.logit_scale.exp());
    });
  }

  /**
   * Text features that do not depend on the input (e.g. CLIP-IQA's prompts), computed once per key
   * without gradients and owned by the model; call clearTextCache() after changing the weights.
   */
  cachedTextFeatures(key: string, compute: () => Tensor): Tensor {
    let f = this.textCache.get(key);
    if (!f || f.isDisposed) {
      f = torch.keep(torch.noGrad(() => torch.scope(compute)));
      this.textCache.set(key, f);
    }
    return torch.alias(f);
  }

  clearTextCache(): void {
    for (const t of this.textCache.values()) t.dispose();
    this.textCache.clear();
  }

  override dispose(): void {
    this.attnMask?.dispose();
    this.attnMask = null;
    this.clearTextCache();
    super.dispose();
  }
}
