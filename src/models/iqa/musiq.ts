// MUSIQ (IQA_SPEC §4) — pyiqa@01ae427:pyiqa/archs/musiq_arch.py (StdConv, Bottleneck,
// MultiHeadAttention, TransformerBlock, AddHashSpatialPositionEmbs, AddScaleEmbs,
// TransformerEncoder, MUSIQ). Eval mode only: every dropout is inactive.
import * as torch from '../../engine/index.js';
import { Tensor } from '../../engine/index.js';
import { Module, Parameter, GroupNorm, LayerNorm, Linear, ModuleDict, Sequential, Softmax } from './layers.js';
import { multiscalePatches, padSame, type MultiscaleOptions, type MultiscalePatches } from './musiq_patches.js';
import { powCR } from '../diffusion/f64math.js';
// pyiqa's MUSIQ Mlp is timm's (fc1, exact GELU, fc2): the same module as the ViT's.
import { Mlp } from './maniqa_vit.js';

export interface MusiqConfig {
  patch_size: number;
  num_class: number;
  hidden_size: number;
  mlp_dim: number;
  num_heads: number;
  num_layers: number;
  num_scales: number;
  spatial_pos_grid_size: number;
  longer_side_lengths: number[];
  max_seq_len_from_original_res: number | null;
}

/** MUSIQ's constructor defaults, i.e. every released checkpoint (num_class 10 for AVA). */
export const MUSIQ_DEFAULT: MusiqConfig = {
  patch_size: 32, num_class: 1, hidden_size: 384, mlp_dim: 1152, num_heads: 6, num_layers: 14, num_scales: 3,
  spatial_pos_grid_size: 10, longer_side_lengths: [224, 384], max_seq_len_from_original_res: -1,
};

/** StdConv: weight-standardised conv (unbiased std, +1e-5) after TF SAME zero padding; no bias. */
export class StdConv extends Module {
  weight: Tensor;

  constructor(readonly in_channels: number, readonly out_channels: number, readonly kernel_size: number, readonly stride: number) {
    super();
    this.weight = Parameter(torch.nn.init.kaimingUniform_(torch.empty([out_channels, in_channels, kernel_size, kernel_size]), { a: Math.sqrt(5) }), false);
  }

  forward(x: Tensor): Tensor {
    return torch.scope(() => {
      const xp = padSame(x, this.kernel_size, this.stride);
      let w = this.weight.sub(this.weight.mean([1, 2, 3], true));
      w = w.div(torch.std(w, [1, 2, 3], 1, true).add(1e-5));
      return torch.conv2d(xp, w, null, { stride: this.stride });
    });
  }
}

/** Bottleneck(inplanes, outplanes): 1×1, 3×3, 1×1 StdConvs with GroupNorm(32, eps 1e-4) and a projected shortcut. */
export class Bottleneck extends Module {
  conv1: StdConv;
  gn1: GroupNorm;
  conv2: StdConv;
  gn2: GroupNorm;
  conv3: StdConv;
  gn3: GroupNorm;
  conv_proj: StdConv;
  gn_proj: GroupNorm;

  constructor(inplanes: number, outplanes: number) {
    super();
    const width = inplanes;
    this.conv1 = new StdConv(inplanes, width, 1, 1);
    this.gn1 = new GroupNorm(32, width, { eps: 1e-4 });
    this.conv2 = new StdConv(width, width, 3, 1);
    this.gn2 = new GroupNorm(32, width, { eps: 1e-4 });
    this.conv3 = new StdConv(width, outplanes, 1, 1);
    this.gn3 = new GroupNorm(32, outplanes, { eps: 1e-4 });
    // needs_projection is always true here (64 → 256).
    this.conv_proj = new StdConv(inplanes, outplanes, 1, 1);
    this.gn_proj = new GroupNorm(32, outplanes, { eps: 1e-4 });
  }

  forward(x: Tensor): Tensor {
    return torch.scope(() => {
      const identity = this.gn_proj.forward(this.conv_proj.forward(x));
      let y = this.gn1.forward(this.conv1.forward(x)).relu();
      y = this.gn2.forward(this.conv2.forward(y)).relu();
      y = this.gn3.forward(this.conv3.forward(y));
      return y.add_(identity).relu();
    });
  }
}

/** MultiHeadAttention: separate query/key/value Linear layers; masked logits replaced by −1000. */
export class MultiHeadAttention extends Module {
  readonly scale: number;
  query: Linear;
  key: Linear;
  value: Linear;
  out: Linear;

  constructor(readonly dim: number, readonly num_heads: number) {
    super();
    if (dim % num_heads !== 0) throw new RangeError(`MUSIQ: hidden size ${dim} is not divisible by ${num_heads} heads`);
    this.scale = powCR(dim / num_heads, -0.5);
    this.query = new Linear(dim, dim);
    this.key = new Linear(dim, dim);
    this.value = new Linear(dim, dim);
    this.out = new Linear(dim, dim);
  }

  /** x [B, N, C]; masked [B, 1, N, N] bool (true where the query or the key is padding) or null. */
  forward(x: Tensor, masked: Tensor | null): Tensor {
    const [B, N, C] = x.shape as [number, number, number];
    const H = this.num_heads;
    return torch.scope(() => {
      const heads = (t: Tensor): Tensor => t.reshape(B, N, H, C / H).permute(0, 2, 1, 3);
      const q = heads(this.query.forward(x)), k = heads(this.key.forward(x)), v = heads(this.value.forward(x));
      const attn = torch.matmul(q, k.transpose(-2, -1)).mul_(this.scale);
      if (masked) torch.maskedFill_(attn, masked, -1e3);
      const probs = attn.softmax(-1);
      return this.out.forward(torch.matmul(probs, v).transpose(1, 2).reshape(B, N, C));
    });
  }
}

export class TransformerBlock extends Module {
  norm1: LayerNorm;
  attention: MultiHeadAttention;
  norm2: LayerNorm;
  mlp: Mlp;

  constructor(dim: number, mlpDim: number, numHeads: number) {
    super();
    this.norm1 = new LayerNorm(dim, { eps: 1e-6 });
    this.attention = new MultiHeadAttention(dim, numHeads);
    this.norm2 = new LayerNorm(dim, { eps: 1e-6 });
    this.mlp = new Mlp(dim, mlpDim);
  }

  forward(x: Tensor, masked: Tensor | null): Tensor {
    return torch.scope(() => {
      const y = this.attention.forward(this.norm1.forward(x), masked).add_(x);
      return this.mlp.forward(this.norm2.forward(y)).add_(y);
    });
  }
}

export class AddHashSpatialPositionEmbs extends Module {
  position_emb: Tensor;
  constructor(gridSize: number, dim: number) {
    super();
    this.position_emb = Parameter(torch.nn.init.normal_(torch.empty([1, gridSize * gridSize, dim]), 0, 0.02), false);
  }
  forward(x: Tensor, positions: Tensor): Tensor {
    return torch.scope(() => x.add(this.position_emb.squeeze(0).indexSelect(0, positions.reshape(-1)).view(x.shape)));
  }
}

export class AddScaleEmbs extends Module {
  scale_emb: Tensor;
  constructor(numScales: number, dim: number) {
    super();
    this.scale_emb = Parameter(torch.nn.init.normal_(torch.empty([numScales, dim]), 0, 0.02), false);
  }
  forward(x: Tensor, scales: Tensor): Tensor {
    return torch.scope(() => x.add(this.scale_emb.indexSelect(0, scales.reshape(-1)).view(x.shape)));
  }
}

export class TransformerEncoder extends Module {
  posembed_input: AddHashSpatialPositionEmbs;
  scaleembed_input: AddScaleEmbs;
  cls: Tensor;
  encoder_norm: LayerNorm;
  transformer: ModuleDict<TransformerBlock>;

  constructor(readonly input_dim: number, mlpDim: number, numHeads: number, numLayers: number, numScales: number, gridSize: number) {
    super();
    this.posembed_input = new AddHashSpatialPositionEmbs(gridSize, input_dim);
    this.scaleembed_input = new AddScaleEmbs(numScales, input_dim);
    this.cls = Parameter(torch.zeros([1, 1, input_dim]), false);
    this.encoder_norm = new LayerNorm(input_dim, { eps: 1e-6 });
    this.transformer = new ModuleDict<TransformerBlock>();
    for (let i = 0; i < numLayers; i++) this.transformer.set(`encoderblock_${i}`, new TransformerBlock(input_dim, mlpDim, numHeads));
  }

  forward(x: Tensor, spatial: Tensor, scales: Tensor, mask: Tensor): Tensor {
    const [n, , c] = x.shape as [number, number, number];
    return torch.scope(() => {
      let h = this.scaleembed_input.forward(this.posembed_input.forward(x, spatial), scales);
      h = torch.cat([this.cls.expand(n, 1, c), h], 1);
      const m = torch.cat([torch.ones([n, 1], { dtype: 'bool' }), mask], 1);
      // mask2d == 0 where the query or the key is padding (mask_h · mask_w).
      const masked = torch.logicalNot(torch.logicalAnd(m.unsqueeze(2), m.unsqueeze(1))).unsqueeze(1);
      const anyMasked = masked.any().item() !== 0;
      for (const [, blk] of this.transformer.entries()) h = torch.scope(() => blk.forward(h, anyMasked ? masked : null));
      return this.encoder_norm.forward(h);
    });
  }
}

/** Taps for checking intermediate values against the reference (optional). */
export interface MusiqTaps {
  embedded?: (t: Tensor) => void;
  encoded?: (t: Tensor) => void;
  head?: (t: Tensor) => void;
}

export class MUSIQ extends Module {
  readonly config: MusiqConfig;
  readonly resnet_token_dim = 64;
  conv_root: StdConv;
  gn_root: GroupNorm;
  block1: Bottleneck;
  embedding: Linear;
  transformer_encoder: TransformerEncoder;
  head: Linear | Sequential;
  /** Patches sent through the convolutional stem at once (bounds its memory on large images). */
  stemChunk = 512;

  constructor(config: MusiqConfig = MUSIQ_DEFAULT) {
    super();
    this.config = checkMusiqConfig(config);
    const c = this.config, rd = this.resnet_token_dim;
    this.conv_root = new StdConv(3, rd, 7, 2);
    this.gn_root = new GroupNorm(32, rd, { eps: 1e-6 });
    const tokenPatch = Math.floor(c.patch_size / 4);
    this.block1 = new Bottleneck(rd, rd * 4);
    this.embedding = new Linear(rd * 4 * tokenPatch * tokenPatch, c.hidden_size);
    this.transformer_encoder = new TransformerEncoder(c.hidden_size, c.mlp_dim, c.num_heads, c.num_layers, c.num_scales, c.spatial_pos_grid_size);
    this.head = c.num_class > 1 ? new Sequential(new Linear(c.hidden_size, c.num_class), new Softmax(-1)) : new Linear(c.hidden_size, c.num_class);
  }

  get preprocessOptions(): MultiscaleOptions {
    const c = this.config;
    return {
      patch_size: c.patch_size, patch_stride: c.patch_size, hse_grid_size: c.spatial_pos_grid_size,
      longer_side_lengths: c.longer_side_lengths, max_seq_len_from_original_res: c.max_seq_len_from_original_res,
    };
  }

  /** conv_root → gn_root → ReLU → SAME pad → 3×3/2 max pool → block1, flattened (row, column, channel). */
  private stem(pixels: Tensor): Tensor {
    const p = this.config.patch_size;
    return torch.scope(() => {
      let x = pixels.reshape(-1, 3, p, p);
      x = this.gn_root.forward(this.conv_root.forward(x)).relu();
      x = torch.maxPool2d(padSame(x, 3, 2), 3, { stride: 2 });
      x = this.block1.forward(x);
      return x.permute(0, 2, 3, 1).reshape(x.size(0), -1);
    });
  }

  /** MUSIQ.forward on the patch rows of get_multiscale_patches: the head output [N, num_class]. */
  forwardPatches(p: MultiscalePatches, taps: MusiqTaps = {}): Tensor {
    const [b, S] = p.pixels.shape as [number, number, number];
    return torch.scope(() => {
      const flat = p.pixels.reshape(b * S, -1);
      const rows = flat.size(0), chunk = Math.max(1, this.stemChunk);
      const parts: Tensor[] = [];
      for (let i = 0; i < rows; i += chunk) {
        parts.push(torch.scope(() => this.embedding.forward(this.stem(flat.narrow(0, i, Math.min(chunk, rows - i))))));
      }
      const emb = (parts.length === 1 ? parts[0]! : torch.cat(parts, 0)).view(b, S, -1);
      taps.embedded?.(emb);
      const enc = this.transformer_encoder.forward(emb, p.spatial, p.scale, p.mask);
      taps.encoded?.(enc);
      const q = this.head.forward(enc.select(1, 0));
      taps.head?.(q);
      return q;
    });
  }

  /** Eval-mode forward of an image batch in [0, 1]: the score [N, 1] (and the head output). */
  forward(x: Tensor, taps: MusiqTaps = {}): { score: Tensor; dist: Tensor } {
    return torch.scope(() => {
      const xn = x.sub(0.5).mul(2);
      const q = this.forwardPatches(multiscalePatches(xn, this.preprocessOptions), taps);
      return { score: distToMos(q), dist: q };
    });
  }
}

/** dist_to_mos (arch_util.py): Σ_i i·p_i over the last axis, i = 1..C, keepdim. */
export function distToMos(q: Tensor): Tensor {
  return torch.scope(() => q.mul(torch.arange(1, q.size(-1) + 1, 1, { dtype: 'float32' })).sum(-1, true));
}

export function checkMusiqConfig(c: MusiqConfig): MusiqConfig {
  const posInt = (k: keyof MusiqConfig): void => {
    const v = c[k];
    if (!Number.isInteger(v) || (v as number) < 1) throw new RangeError(`MUSIQ config: ${k} must be a positive integer, got ${JSON.stringify(v)}`);
  };
  for (const k of ['patch_size', 'num_class', 'hidden_size', 'mlp_dim', 'num_heads', 'num_layers', 'num_scales', 'spatial_pos_grid_size'] as const) posInt(k);
  if (c.patch_size % 4 !== 0) throw new RangeError(`MUSIQ config: patch_size must be a multiple of 4, got ${c.patch_size}`);
  if (c.longer_side_lengths.length + (c.max_seq_len_from_original_res === null ? 0 : 1) > c.num_scales) {
    throw new RangeError(`MUSIQ config: ${c.longer_side_lengths.length} resized scales plus the original need num_scales ≥ that, got ${c.num_scales}`);
  }
  return { ...c, longer_side_lengths: [...c.longer_side_lengths] };
}
