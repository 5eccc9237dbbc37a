// The Swin layers of UNetModelSwin — ResShift@3ce1d81:models/swin_transformer.py (Mlp,
// window_partition, window_reverse, WindowAttention, SwinTransformerBlock, BasicLayer, PatchEmbed,
// PatchUnEmbed). Everything is channels-first [B, C, H, W]; norms are GroupNorm32, not LayerNorm.
import * as torch from '../../engine/index.js';
import { Tensor } from '../../engine/index.js';
import { Module, Parameter, Conv2d, GELU, Identity, Linear, ModuleList, init } from '../../engine/nn/index.js';
import { normalization, GroupNorm32, type Layer } from './resblock.js';
import { calculateMask, relativePositionIndex, type SwinMaskMode } from './swin_mask.js';

/** Mlp: 1×1 conv → GELU (erf) → 1×1 conv (dropouts are p = 0 identities). */
export class Mlp extends Module implements Layer {
  fc1: Conv2d;
  act: GELU;
  fc2: Conv2d;

  constructor(in_features: number, hidden_features: number) {
    super();
    this.fc1 = new Conv2d(in_features, hidden_features, 1);
    this.act = new GELU();
    this.fc2 = new Conv2d(hidden_features, in_features, 1);
  }

  forward(x: Tensor): Tensor {
    return torch.scope(() => {
      const h = this.fc1.forward(x);
      // GELU in place on the fresh fc1 output when autograd will not need it (inference): the
      // hidden map is 4× the block's width, so this saves its largest allocation.
      if (!h.requiresGrad || !torch.isGradEnabled()) { torch.gelu_(h, this.act.approximate); return this.fc2.forward(h); }
      return this.fc2.forward(this.act.forward(h));
    });
  }
}

/** window_partition: [B, C, H, W] → [B·nW, ws·ws, C] (windows batch-major, then row, column; tokens row-major). */
export function windowPartition(x: Tensor, ws: number): Tensor {
  const [B, C, H, W] = x.shape as [number, number, number, number];
  return torch.scope(() => x.view(B, C, H / ws, ws, W / ws, ws).permute(0, 2, 4, 3, 5, 1).reshape(-1, ws * ws, C));
}

/**
 * window_reverse: [B·nW, ws·ws, C] → [B, C, H, W]; the exact inverse of windowPartition. With
 * 'channels_last' the same values come back in channels-last memory (tokens stay C-contiguous,
 * which saves a transpose when the rest of the network runs channels-last).
 */
export function windowReverse(windows: Tensor, ws: number, H: number, W: number, memoryFormat: 'contiguous' | 'channels_last' = 'contiguous'): Tensor {
  const C = windows.size(-1);
  const B = windows.size(0) / ((H / ws) * (W / ws));
  return torch.scope(() => {
    const v = windows.view(B, H / ws, W / ws, ws, ws, C);
    if (memoryFormat === 'channels_last') return v.permute(0, 1, 3, 2, 4, 5).reshape(B, H, W, C).permute(0, 3, 1, 2);
    return v.permute(0, 5, 1, 3, 2, 4).reshape(B, C, H, W);
  });
}

/** WindowAttention(dim, window_size, num_heads, qkv_bias=True, qk_scale=None). */
export class WindowAttention extends Module {
  readonly scale: number;
  relative_position_bias_table: Tensor;
  declare readonly relative_position_index: Tensor;
  qkv: Linear;
  proj: Linear;

  constructor(readonly dim: number, readonly window_size: number, readonly num_heads: number) {
    super();
    if (dim % num_heads !== 0) throw new RangeError(`WindowAttention: dim ${dim} is not divisible by ${num_heads} heads`);
    this.scale = (dim / num_heads) ** -0.5;
    // trunc_normal_(std=.02) with timm's absolute cut at ±2.
    this.relative_position_bias_table = Parameter(init.truncNormal_(torch.empty([(2 * window_size - 1) ** 2, num_heads]), 0, 0.02, -2, 2));
    this.registerBuffer('relative_position_index', relativePositionIndex(window_size));
    this.qkv = new Linear(dim, dim * 3);
    this.proj = new Linear(dim, dim);
  }

  /** The bias B[h, p, q] = table[index[p, q], h], as [nH, N, N] in dtype. */
  relativePositionBias(): Tensor {
    const N = this.window_size * this.window_size;
    return torch.scope(() => {
      const idx = this.relative_position_index.view(-1);
      return this.relative_position_bias_table.indexSelect(0, idx).view(N, N, -1).permute(2, 0, 1);
    });
  }

  /** x [B_, N, C] (windows of B images, nW per image), mask [nW, N, N] or null. */
  forward(x: Tensor, mask: Tensor | null): Tensor {
    const [B_, N, C] = x.shape as [number, number, number];
    const nH = this.num_heads;
    return torch.scope(() => {
      const qkv = this.qkv.forward(x).reshape(B_, N, 3, nH, C / nH).permute(2, 0, 3, 1, 4);
      const q = qkv.select(0, 0).mul(this.scale), k = qkv.select(0, 1), v = qkv.select(0, 2);
      const attn = torch.matmul(q, k.transpose(-2, -1));
      let bias = this.relativePositionBias();
      if (bias.dtype !== attn.dtype) bias = bias.to({ dtype: attn.dtype });
      // Upstream adds the bias, then the mask; adding their (small) sum once saves a pass over
      // attn. Unmasked entries get exactly the same bias; masked ones (−100) vanish in softmax.
      if (mask) {
        const nW = mask.size(0);
        attn.view(B_ / nW, nW, nH, N, N).add_(mask.unsqueeze(1).add(bias.unsqueeze(0)));
      } else {
        attn.add_(bias.unsqueeze(0));
      }
      const probs = attn.softmax(-1);
      const out = torch.matmul(probs, v).transpose(1, 2).reshape(B_, N, C);
      return this.proj.forward(out);
    });
  }
}

/**
 * The construction-time adjustment of SwinTransformerBlock.__init__: when the configured
 * resolution is not larger than the window, the window shrinks to it and the shift is dropped.
 * Decided from the configured resolution, never from the runtime size.
 */
export function clampWindow(inputResolution: [number, number], windowSize: number, shiftSize: number): { windowSize: number; shiftSize: number } {
  const m = Math.min(...inputResolution);
  if (m <= windowSize) return { windowSize: m, shiftSize: 0 };
  if (!(shiftSize >= 0 && shiftSize < windowSize)) throw new RangeError(`SwinTransformerBlock: shift_size must be in [0, ${windowSize}), got ${shiftSize}`);
  return { windowSize, shiftSize };
}

// calculate_mask results per (H, W, window, shift, mode, device, dtype): upstream recomputes the
// mask on every forward (its cached buffer is never used); the values only depend on these.
const MASK_CACHE = new Map<string, Tensor>();
const MASK_CACHE_LIMIT = 32;

function cachedMask(H: number, W: number, ws: number, s: number, mode: SwinMaskMode, device: string, dtype: torch.DType): Tensor {
  const key = `${H}x${W}/${ws}/${s}/${mode}/${device}/${dtype}`;
  let m = MASK_CACHE.get(key);
  if (!m) {
    m = torch.keep(torch.scope(() => {
      const t = calculateMask(H, W, ws, s, mode);
      return device === 'cpu' && dtype === 'float32' ? t : t.to({ device, dtype });
    }));
    if (MASK_CACHE.size >= MASK_CACHE_LIMIT) {
      const [k0, t0] = MASK_CACHE.entries().next().value as [string, Tensor];
      MASK_CACHE.delete(k0);
      t0.dispose();
    }
    MASK_CACHE.set(key, m);
  }
  return m;
}

/** Frees the cached shifted-window masks. */
export function clearSwinMaskCache(): void {
  for (const t of MASK_CACHE.values()) t.dispose();
  MASK_CACHE.clear();
}

/** SwinTransformerBlock(dim, input_resolution, num_heads, window_size, shift_size, mlp_ratio). */
export class SwinTransformerBlock extends Module implements Layer {
  readonly window_size: number;
  readonly shift_size: number;
  declare readonly attn_mask: Tensor | null;
  norm1: GroupNorm32;
  attn: WindowAttention;
  norm2: GroupNorm32;
  mlp: Mlp;

  constructor(readonly dim: number, readonly input_resolution: [number, number], readonly num_heads: number, window_size: number,
    shift_size: number, readonly mlp_ratio: number, readonly mask_mode: SwinMaskMode = 'upstream') {
    super();
    const w = clampWindow(input_resolution, window_size, shift_size);
    this.window_size = w.windowSize;
    this.shift_size = w.shiftSize;
    // Registered first so that it leads the block's state dict, as upstream's buffer does.
    this.registerBuffer('attn_mask', this.shift_size > 0 ? calculateMask(input_resolution[0], input_resolution[1], this.window_size, this.shift_size, mask_mode) : null);
    this.norm1 = normalization(dim);
    this.attn = new WindowAttention(dim, this.window_size, num_heads);
    this.norm2 = normalization(dim);
    this.mlp = new Mlp(dim, Math.trunc(dim * mlp_ratio));
  }

  forward(x: Tensor): Tensor {
    const [B, C, H, W] = x.shape as [number, number, number, number];
    const ws = this.window_size, s = this.shift_size;
    if (C !== this.dim) throw new RangeError(`SwinTransformerBlock: expected ${this.dim} channels, got ${C}`);
    if (H % ws !== 0 || W % ws !== 0) throw new RangeError(`SwinTransformerBlock: feature map ${H}×${W} is not a multiple of the window size ${ws}`);
    return torch.scope(() => {
      let h = this.norm1.forward(x);
      if (s > 0) h = h.roll([-s, -s], [2, 3]);
      const windows = windowPartition(h, ws);
      // The mask for the actual size (upstream's size check never matches, §2.4.5); shift-0 blocks
      // would get an all-zero mask, i.e. none.
      const mask = s > 0 ? cachedMask(H, W, ws, s, this.mask_mode, x.device, x.dtype) : null;
      const attnWindows = this.attn.forward(windows, mask);
      h = windowReverse(attnWindows, ws, H, W, x.isContiguous('channels_last') && !x.isContiguous() ? 'channels_last' : 'contiguous');
      if (s > 0) h = h.roll([s, s], [2, 3]);
      // x + attn, then + mlp; h and the MLP output are fresh tensors, so add in place.
      const y = h.add_(x);
      void B;
      return this.mlp.forward(this.norm2.forward(y)).add_(y);
    });
  }
}

/** PatchEmbed with patch_size 1: a 1×1 conv to embed_dim, then GroupNorm32 if patch_norm. */
export class PatchEmbed extends Module implements Layer {
  proj: Conv2d;
  norm: GroupNorm32 | Identity;
  constructor(in_chans: number, embed_dim: number, patch_norm: boolean) {
    super();
    this.proj = new Conv2d(in_chans, embed_dim, 1);
    this.norm = patch_norm ? normalization(embed_dim) : new Identity();
  }
  forward(x: Tensor): Tensor { return torch.scope(() => this.norm.forward(this.proj.forward(x))); }
}

/** PatchUnEmbed: a 1×1 conv back to out_chans, then GroupNorm32 if patch_norm. */
export class PatchUnEmbed extends Module implements Layer {
  proj: Conv2d;
  norm: GroupNorm32 | Identity;
  constructor(out_chans: number, embed_dim: number, patch_norm: boolean) {
    super();
    this.proj = new Conv2d(embed_dim, out_chans, 1);
    this.norm = patch_norm ? normalization(out_chans) : new Identity();
  }
  forward(x: Tensor): Tensor { return torch.scope(() => this.norm.forward(this.proj.forward(x))); }
}

export interface BasicLayerOptions {
  in_chans: number;
  embed_dim: number;
  num_heads: number;
  window_size: number;
  depth: number;
  /** The configured resolution of this level (fixes the window clamp and the buffer mask). */
  img_size: number;
  mlp_ratio: number;
  patch_norm: boolean;
  swin_mask?: SwinMaskMode;
}

/**
 * BasicLayer (patch_size 1): patch_embed → blocks (shift 0, ws/2, 0, …) → patch_unembed, with no
 * residual around the layer. Attribute order gives upstream's key order: patch_embed,
 * patch_unembed, blocks.
 */
export class BasicLayer extends Module implements Layer {
  patch_embed: PatchEmbed;
  patch_unembed: PatchUnEmbed;
  blocks: ModuleList<SwinTransformerBlock>;
  readonly in_chans: number;

  constructor(o: BasicLayerOptions) {
    super();
    this.in_chans = o.in_chans;
    this.patch_embed = new PatchEmbed(o.in_chans, o.embed_dim, o.patch_norm);
    this.patch_unembed = new PatchUnEmbed(o.in_chans, o.embed_dim, o.patch_norm);
    const res: [number, number] = [o.img_size, o.img_size];
    this.blocks = new ModuleList<SwinTransformerBlock>();
    for (let i = 0; i < o.depth; i++) {
      this.blocks.append(new SwinTransformerBlock(o.embed_dim, res, o.num_heads, o.window_size, i % 2 === 0 ? 0 : Math.floor(o.window_size / 2), o.mlp_ratio, o.swin_mask ?? 'upstream'));
    }
  }

  /** The largest effective window of the blocks: the runtime size must be a multiple of it. */
  get windowMultiple(): number {
    let m = 1;
    for (const b of this.blocks) m = lcm(m, b.window_size);
    return m;
  }

  forward(x: Tensor): Tensor {
    if (x.ndim !== 4 || x.size(1) !== this.in_chans) throw new RangeError(`BasicLayer: input must be [B, ${this.in_chans}, H, W], got [${x.shape.join(', ')}]`);
    const m = this.windowMultiple;
    if (x.size(2) % m !== 0 || x.size(3) % m !== 0) throw new RangeError(`BasicLayer: feature map ${x.size(2)}×${x.size(3)} is not a multiple of the window size ${m}`);
    return torch.scope(() => {
      let h = this.patch_embed.forward(x);
      for (const b of this.blocks) h = b.forward(h);
      return this.patch_unembed.forward(h);
    });
  }
}

export function gcd(a: number, b: number): number { return b === 0 ? a : gcd(b, a % b); }
export function lcm(a: number, b: number): number { return (a / gcd(a, b)) * b; }
