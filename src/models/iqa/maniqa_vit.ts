// MANIQA's backbone, timm's vit_base_patch8_224 (IQA_SPEC §5.3) — timm@e44f14d:timm/models/vision_transformer.py
// (VisionTransformer, Block, Attention), timm/layers/patch_embed.py, timm/layers/mlp.py. Only what
// MANIQA reads runs: the outputs of blocks 6–9; norm and head exist for the state dict.
import * as torch from '../../engine/index.js';
import { Tensor } from '../../engine/index.js';
import { Module, Parameter, Conv2d, LayerNorm, Linear, ModuleList } from './layers.js';
import { powCR } from '../diffusion/f64math.js';

export interface VitConfig {
  img_size: number;
  patch_size: number;
  embed_dim: number;
  depth: number;
  num_heads: number;
  mlp_ratio: number;
  num_classes: number;
}

export const VIT_B8: VitConfig = { img_size: 224, patch_size: 8, embed_dim: 768, depth: 12, num_heads: 12, mlp_ratio: 4, num_classes: 1000 };

/** The blocks whose outputs MANIQA concatenates (pyiqa's MANIQA.extract_feature). */
export const MANIQA_VIT_TAPS = [6, 7, 8, 9];

export class PatchEmbed extends Module {
  proj: Conv2d;
  constructor(patchSize: number, embedDim: number) {
    super();
    this.proj = new Conv2d(3, embedDim, patchSize, { stride: patchSize });
  }
  /** [B, 3, H, W] → tokens [B, (H/p)·(W/p), D], row-major. */
  forward(x: Tensor): Tensor {
    return torch.scope(() => this.proj.forward(x).flatten(2).transpose(1, 2));
  }
}

/** timm Attention: fused qkv Linear (rows q | k | v), q scaled before q·kᵀ. */
export class Attention extends Module {
  readonly scale: number;
  qkv: Linear;
  proj: Linear;
  constructor(readonly dim: number, readonly num_heads: number) {
    super();
    this.scale = powCR(dim / num_heads, -0.5);
    this.qkv = new Linear(dim, dim * 3);
    this.proj = new Linear(dim, dim);
  }
  forward(x: Tensor): Tensor {
    const [B, N, C] = x.shape as [number, number, number];
    const H = this.num_heads;
    return torch.scope(() => {
      const qkv = this.qkv.forward(x).reshape(B, N, 3, H, C / H).permute(2, 0, 3, 1, 4);
      const q = qkv.select(0, 0).mul(this.scale), k = qkv.select(0, 1), v = qkv.select(0, 2);
      const attn = torch.matmul(q, k.transpose(-2, -1)).softmax(-1);
      return this.proj.forward(torch.matmul(attn, v).transpose(1, 2).reshape(B, N, C));
    });
  }
}

export class Mlp extends Module {
  fc1: Linear;
  fc2: Linear;
  constructor(inFeatures: number, hiddenFeatures: number) {
    super();
    this.fc1 = new Linear(inFeatures, hiddenFeatures);
    this.fc2 = new Linear(hiddenFeatures, inFeatures);
  }
  forward(x: Tensor): Tensor {
    return torch.scope(() => {
      const h = this.fc1.forward(x);
      torch.gelu_(h);
      return this.fc2.forward(h);
    });
  }
}

export class Block extends Module {
  norm1: LayerNorm;
  attn: Attention;
  norm2: LayerNorm;
  mlp: Mlp;
  constructor(dim: number, numHeads: number, mlpRatio: number) {
    super();
    this.norm1 = new LayerNorm(dim, { eps: 1e-6 });
    this.attn = new Attention(dim, numHeads);
    this.norm2 = new LayerNorm(dim, { eps: 1e-6 });
    this.mlp = new Mlp(dim, Math.trunc(dim * mlpRatio));
  }
  forward(x: Tensor): Tensor {
    return torch.scope(() => {
      const y = this.attn.forward(this.norm1.forward(x)).add_(x);
      return this.mlp.forward(this.norm2.forward(y)).add_(y);
    });
  }
}

export class VisionTransformer extends Module {
  cls_token: Tensor;
  pos_embed: Tensor;
  patch_embed: PatchEmbed;
  blocks: ModuleList<Block>;
  norm: LayerNorm;
  head: Linear;

  constructor(readonly config: VitConfig = VIT_B8) {
    super();
    const c = config;
    const grid = c.img_size / c.patch_size;
    if (!Number.isInteger(grid)) throw new RangeError(`ViT: img_size ${c.img_size} is not a multiple of patch_size ${c.patch_size}`);
    if (c.embed_dim % c.num_heads !== 0) throw new RangeError(`ViT: embed_dim ${c.embed_dim} is not divisible by ${c.num_heads} heads`);
    this.cls_token = Parameter(torch.zeros([1, 1, c.embed_dim]), false);
    this.pos_embed = Parameter(torch.nn.init.normal_(torch.empty([1, grid * grid + 1, c.embed_dim]), 0, 0.02), false);
    this.patch_embed = new PatchEmbed(c.patch_size, c.embed_dim);
    this.blocks = new ModuleList<Block>();
    for (let i = 0; i < c.depth; i++) this.blocks.append(new Block(c.embed_dim, c.num_heads, c.mlp_ratio));
    this.norm = new LayerNorm(c.embed_dim, { eps: 1e-6 });
    this.head = new Linear(c.embed_dim, c.num_classes);
  }

  /**
   * The outputs of the tapped blocks without the class token, concatenated along channels
   * ([B, tokens, D·taps]); onBlock sees every block output computed (class token included).
   */
  features(x: Tensor, taps: number[] = MANIQA_VIT_TAPS, onBlock?: (i: number, t: Tensor) => void): Tensor {
    const last = Math.max(...taps);
    if (last >= this.blocks.length) throw new RangeError(`ViT: block ${last} requested of ${this.blocks.length}`);
    return torch.scope(() => {
      const tokens = this.patch_embed.forward(x);
      const B = tokens.size(0), N = tokens.size(1);
      let h = torch.cat([this.cls_token.expand(B, 1, this.config.embed_dim), tokens], 1).add(this.pos_embed);
      const feats: Tensor[] = [];
      for (let i = 0; i <= last; i++) {
        const prev = h;
        h = this.blocks.at(i).forward(prev);
        onBlock?.(i, h);
        if (taps.includes(i)) feats.push(h.narrow(1, 1, N));
      }
      return torch.cat(taps.map((i) => feats[taps.slice().sort((a, b) => a - b).indexOf(i)]!), 2);
    });
  }
}
