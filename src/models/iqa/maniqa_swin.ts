// MANIQA's Swin stages (IQA_SPEC §5.5) — pyiqa@01ae427:pyiqa/archs/maniqa_swin.py (Mlp,
// window_partition, window_reverse, WindowAttention, SwinBlock, BasicLayer, SwinTransformer).
// Tokens are [B, H·W, C] (LayerNorm eps 1e-5); each layer closes with a 3×3 conv and ReLU, and the
// stage adds it back as x + scale·layer(x).
import * as torch from '../../engine/index.js';
import { Tensor } from '../../engine/index.js';
import { Module, Parameter, Conv2d, LayerNorm, Linear, ModuleList } from './layers.js';
import { Mlp } from './maniqa_vit.js';
import { calculateMask, relativePositionIndex } from '../unet/swin_mask.js';
import { powCR } from '../diffusion/f64math.js';

/** [B, H, W, C] → [B·nW, ws·ws, C] (windows row-major, tokens row-major inside). */
function windowPartition(x: Tensor, ws: number): Tensor {
  const [B, H, W, C] = x.shape as [number, number, number, number];
  return x.view(B, H / ws, ws, W / ws, ws, C).permute(0, 1, 3, 2, 4, 5).reshape(-1, ws * ws, C);
}

/** The inverse of windowPartition: [B·nW, ws·ws, C] → [B, H, W, C]. */
function windowReverse(windows: Tensor, ws: number, H: number, W: number): Tensor {
  const C = windows.size(-1);
  const B = windows.size(0) / ((H / ws) * (W / ws));
  return windows.view(B, H / ws, W / ws, ws, ws, C).permute(0, 1, 3, 2, 4, 5).reshape(B, H, W, C);
}

export class WindowAttention extends Module {
  readonly scale: number;
  relative_position_bias_table: Tensor;
  declare readonly relative_position_index: Tensor;
  qkv: Linear;
  proj: Linear;

  constructor(readonly dim: number, readonly window_size: number, readonly num_heads: number) {
    super();
    if (dim % num_heads !== 0) throw new RangeError(`Swin: dim ${dim} is not divisible by ${num_heads} heads`);
    this.scale = powCR(Math.floor(dim / num_heads), -0.5);
    this.relative_position_bias_table = Parameter(torch.nn.init.truncNormal_(torch.empty([(2 * window_size - 1) ** 2, num_heads]), 0, 0.02, -2, 2), false);
    this.registerBuffer('relative_position_index', relativePositionIndex(window_size));
    this.qkv = new Linear(dim, dim * 3);
    this.proj = new Linear(dim, dim);
  }

  /** x [B_, N, C]; mask [nW, N, N] (0 / −100) or null. */
  forward(x: Tensor, mask: Tensor | null): Tensor {
    const [B_, N, C] = x.shape as [number, number, number];
    const nH = this.num_heads;
    return torch.scope(() => {
      const qkv = this.qkv.forward(x).reshape(B_, N, 3, nH, C / nH).permute(2, 0, 3, 1, 4);
      const q = qkv.select(0, 0).mul(this.scale), k = qkv.select(0, 1), v = qkv.select(0, 2);
      let attn = torch.matmul(q, k.transpose(-2, -1));
      const bias = this.relative_position_bias_table.indexSelect(0, this.relative_position_index.view(-1)).view(N, N, -1).permute(2, 0, 1);
      attn = attn.add(bias.unsqueeze(0));
      if (mask) {
        const nW = mask.size(0);
        attn = attn.view(B_ / nW, nW, nH, N, N).add(mask.unsqueeze(1).unsqueeze(0)).view(-1, nH, N, N);
      }
      const probs = attn.softmax(-1);
      return this.proj.forward(torch.matmul(probs, v).transpose(1, 2).reshape(B_, N, C));
    });
  }
}

export class SwinBlock extends Module {
  readonly window_size: number;
  readonly shift_size: number;
  declare readonly attn_mask: Tensor | null;
  norm1: LayerNorm;
  attn: WindowAttention;
  norm2: LayerNorm;
  mlp: Mlp;

  constructor(readonly dim: number, readonly input_resolution: [number, number], numHeads: number, windowSize: number, shiftSize: number, dimMlp: number) {
    super();
    let ws = windowSize, s = shiftSize;
    if (Math.min(...input_resolution) <= ws) { s = 0; ws = Math.min(...input_resolution); }
    if (!(s >= 0 && s < ws)) throw new RangeError('Swin: shift_size must be in [0, window_size)');
    this.window_size = ws;
    this.shift_size = s;
    // A buffer of the block itself: PyTorch lists it before the children's keys.
    this.registerBuffer('attn_mask', s > 0 ? calculateMask(input_resolution[0], input_resolution[1], ws, s, 'correct') : null);
    this.norm1 = new LayerNorm(dim);
    this.attn = new WindowAttention(dim, ws, numHeads);
    this.norm2 = new LayerNorm(dim);
    this.mlp = new Mlp(dim, dimMlp);
  }

  forward(x: Tensor): Tensor {
    const [H, W] = this.input_resolution;
    const [B, L, C] = x.shape as [number, number, number];
    if (L !== H * W) throw new RangeError(`Swin: expected ${H * W} tokens, got ${L}`);
    const ws = this.window_size, s = this.shift_size;
    return torch.scope(() => {
      let h = this.norm1.forward(x).view(B, H, W, C);
      if (s > 0) h = h.roll([-s, -s], [1, 2]);
      const attnWindows = this.attn.forward(windowPartition(h, ws), this.attn_mask);
      h = windowReverse(attnWindows, ws, H, W);
      if (s > 0) h = h.roll([s, s], [1, 2]);
      const y = x.add(h.reshape(B, H * W, C));
      return y.add(this.mlp.forward(this.norm2.forward(y)));
    });
  }
}

export class BasicLayer extends Module {
  conv: Conv2d;
  blocks: ModuleList<SwinBlock>;

  constructor(readonly dim: number, readonly input_resolution: [number, number], depth: number, numHeads: number, windowSize: number, dimMlp: number) {
    super();
    this.conv = new Conv2d(dim, dim, 3, { stride: 1, padding: 1 });
    this.blocks = new ModuleList<SwinBlock>();
    for (let i = 0; i < depth; i++) {
      this.blocks.append(new SwinBlock(dim, input_resolution, numHeads, windowSize, i % 2 === 0 ? 0 : Math.floor(windowSize / 2), dimMlp));
    }
  }

  forward(x: Tensor): Tensor {
    const [H, W] = this.input_resolution;
    return torch.scope(() => {
      let h = x;
      for (const blk of this.blocks) h = blk.forward(h);
      const B = h.size(0), C = h.size(2);
      // 'b (h w) c -> b c h w', conv, ReLU, 'b c h w -> b (h w) c'
      const img = h.transpose(1, 2).reshape(B, C, H, W);
      return this.conv.forward(img).relu().flatten(2).transpose(1, 2);
    });
  }
}

export class SwinTransformer extends Module {
  downsample: Conv2d;
  layers: ModuleList<BasicLayer>;

  constructor(readonly patches_resolution: [number, number], depths: number[], numHeads: number[], readonly embed_dim: number,
    windowSize: number, dimMlp: number, readonly scale: number) {
    super();
    if (depths.length !== numHeads.length) throw new RangeError('Swin: depths and num_heads must have the same length');
    // Exists in the state dict, never called (upstream's forward does not use it).
    this.downsample = new Conv2d(embed_dim, embed_dim, 3, { stride: 2, padding: 1 });
    this.layers = new ModuleList<BasicLayer>();
    depths.forEach((d, i) => this.layers.append(new BasicLayer(embed_dim, patches_resolution, d, numHeads[i]!, windowSize, dimMlp)));
  }

  /** [B, C, H, W] → [B, C, H, W]. */
  forward(x: Tensor): Tensor {
    const [B, C, H, W] = x.shape as [number, number, number, number];
    return torch.scope(() => {
      let h = x.flatten(2).transpose(1, 2);
      for (const layer of this.layers) h = torch.scope(() => layer.forward(h).mul(this.scale).add(h));
      return h.transpose(1, 2).reshape(B, C, H, W);
    });
  }
}
