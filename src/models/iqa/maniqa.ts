// MANIQA (IQA_SPEC §5) — pyiqa@01ae427:pyiqa/archs/maniqa_arch.py (TABlock, MANIQA). Eval mode:
// 20 uniform 224×224 crops, ViT-B/8 features of blocks 6–9, two token-attention + Swin stages,
// and one weighted mean of the per-patch scores over all crops of an image.
import * as torch from '../../engine/index.js';
import { Tensor } from '../../engine/index.js';
import { Module, Conv2d, Linear, ModuleList, Sequential, ReLU, Dropout, Sigmoid } from './layers.js';
import { VisionTransformer, VIT_B8 } from './maniqa_vit.js';
import { SwinTransformer } from './maniqa_swin.js';
import { upscaleForCrops, uniformCropPositions } from './crops.js';
import { powCR } from '../diffusion/f64math.js';

export interface ManiqaConfig {
  embed_dim: number;
  num_outputs: number;
  patch_size: number;
  depths: number[];
  window_size: number;
  dim_mlp: number;
  num_heads: number[];
  img_size: number;
  num_tab: number;
  /** The Swin residual scale (0.8 for koniq/kadid, 0.13 for pipal). */
  scale: number;
  test_sample: number;
  vit: { embed_dim: number; depth: number; num_heads: number; mlp_ratio: number; num_classes: number };
}

/** MANIQA's released configuration (scale per variant). */
export const MANIQA_DEFAULT: ManiqaConfig = {
  embed_dim: 768, num_outputs: 1, patch_size: 8, depths: [2, 2], window_size: 4, dim_mlp: 768, num_heads: [4, 4], img_size: 224,
  num_tab: 2, scale: 0.8, test_sample: 20,
  vit: { embed_dim: VIT_B8.embed_dim, depth: VIT_B8.depth, num_heads: VIT_B8.num_heads, mlp_ratio: VIT_B8.mlp_ratio, num_classes: VIT_B8.num_classes },
};

/** The crop size pyiqa hard-wires in MANIQA.forward. */
const CROP = 224;

/** TABlock(dim = tokens): attention between channels, Linear layers over the token axis. */
export class TABlock extends Module {
  readonly norm_fact: number;
  c_q: Linear;
  c_k: Linear;
  c_v: Linear;

  constructor(readonly dim: number) {
    super();
    this.c_q = new Linear(dim, dim);
    this.c_k = new Linear(dim, dim);
    this.c_v = new Linear(dim, dim);
    this.norm_fact = powCR(dim, -0.5);
  }

  /** x [B, C, N] → [B, C, N]. */
  forward(x: Tensor): Tensor {
    const [B, C, N] = x.shape as [number, number, number];
    return torch.scope(() => {
      const q = this.c_q.forward(x), k = this.c_k.forward(x), v = this.c_v.forward(x);
      const attn = torch.matmul(q, k.transpose(-2, -1)).mul_(this.norm_fact).softmax(-1);
      // (attn @ v).transpose(1, 2).reshape(B, C, N): a re-reading of [B, N, C] memory, not a transpose back.
      return torch.matmul(attn, v).transpose(1, 2).reshape(B, C, N).add_(x);
    });
  }
}

/** Taps for checking intermediate values against the reference (optional). */
export interface ManiqaTaps {
  /** Per-patch scores and weights [N, crops·tokens] (crop-major). */
  perPatch?: (score: Tensor, weight: Tensor) => void;
  /** The ViT features of token 0 of every crop [N·crops, 4·D]. */
  featToken0?: (t: Tensor) => void;
  /** ViT block 6's output for the first crop [tokens + 1, D]. */
  vitBlock6Crop0?: (t: Tensor) => void;
  /** Outputs of swintransformer1/2 at grid cell (0, 0) for every crop. */
  swin1Pixel00?: (t: Tensor) => void;
  swin2Pixel00?: (t: Tensor) => void;
}

export class MANIQA extends Module {
  readonly config: ManiqaConfig;
  readonly input_size: number;
  vit: VisionTransformer;
  tablock1: ModuleList<TABlock>;
  conv1: Conv2d;
  swintransformer1: SwinTransformer;
  tablock2: ModuleList<TABlock>;
  conv2: Conv2d;
  swintransformer2: SwinTransformer;
  fc_score: Sequential;
  fc_weight: Sequential;
  /** Crops sent through the network at once (crops are independent until the final weighted mean). */
  cropChunk = 4;

  constructor(config: ManiqaConfig = MANIQA_DEFAULT) {
    super();
    this.config = checkManiqaConfig(config);
    const c = this.config;
    this.input_size = c.img_size / c.patch_size;
    const res: [number, number] = [this.input_size, this.input_size];
    const tokens = this.input_size ** 2;
    this.vit = new VisionTransformer({ img_size: c.img_size, patch_size: c.patch_size, ...c.vit });
    this.tablock1 = new ModuleList<TABlock>();
    for (let i = 0; i < c.num_tab; i++) this.tablock1.append(new TABlock(tokens));
    this.conv1 = new Conv2d(c.embed_dim * 4, c.embed_dim, 1, { stride: 1, padding: 0 });
    this.swintransformer1 = new SwinTransformer(res, c.depths, c.num_heads, c.embed_dim, c.window_size, c.dim_mlp, c.scale);
    this.tablock2 = new ModuleList<TABlock>();
    for (let i = 0; i < c.num_tab; i++) this.tablock2.append(new TABlock(tokens));
    this.conv2 = new Conv2d(c.embed_dim, c.embed_dim / 2, 1, { stride: 1, padding: 0 });
    this.swintransformer2 = new SwinTransformer(res, c.depths, c.num_heads, c.embed_dim / 2, c.window_size, c.dim_mlp, c.scale);
    const half = c.embed_dim / 2;
    this.fc_score = new Sequential(new Linear(half, half), new ReLU(), new Dropout(0.1), new Linear(half, c.num_outputs), new ReLU());
    this.fc_weight = new Sequential(new Linear(half, half), new ReLU(), new Dropout(0.1), new Linear(half, c.num_outputs), new Sigmoid());
  }

  /** Crops [B, 3, 224, 224] (normalised) → per-patch score and weight [B, tokens, outputs]. */
  private forwardCrops(x: Tensor, first: boolean, taps: ManiqaTaps): { s: Tensor; w: Tensor; feat0: Tensor; sw1: Tensor; sw2: Tensor } {
    const n = this.input_size;
    return torch.scope(() => {
      const feats = this.vit.features(x, undefined, (i, t) => { if (i === 6 && first) taps.vitBlock6Crop0?.(t.select(0, 0)); });
      const feat0 = feats.select(1, 0);
      const B = feats.size(0), C1 = feats.size(2);
      // stage 1: 'b (h w) c -> b c (h w)'
      let h = feats.transpose(1, 2).contiguous();
      for (const tab of this.tablock1) h = tab.forward(h);
      h = this.swintransformer1.forward(this.conv1.forward(h.view(B, C1, n, n)));
      const sw1 = h.select(3, 0).select(2, 0);
      // stage 2
      const C2 = h.size(1);
      h = h.view(B, C2, n * n);
      for (const tab of this.tablock2) h = tab.forward(h);
      h = this.swintransformer2.forward(this.conv2.forward(h.view(B, C2, n, n)));
      const sw2 = h.select(3, 0).select(2, 0);
      const t = h.flatten(2).transpose(1, 2);
      return { s: this.fc_score.forward(t), w: this.fc_weight.forward(t), feat0, sw1, sw2 };
    });
  }

  /** Eval-mode forward of an image batch in [0, 1]: the score [N, 1]. */
  forward(x: Tensor, taps: ManiqaTaps = {}): Tensor {
    const N = x.size(0);
    return torch.scope(() => {
      const xn = x.sub(0.5).div(0.5);
      const up = upscaleForCrops(xn, CROP);
      const positions = uniformCropPositions(up.size(2), up.size(3), CROP, this.config.test_sample);
      // Image-major, as uniform_crop batches them.
      const jobs: [number, number, number][] = [];
      for (let i = 0; i < N; i++) for (const [t, l] of positions) jobs.push([i, t, l]);
      const s: Tensor[] = [], w: Tensor[] = [], f0: Tensor[] = [], a1: Tensor[] = [], a2: Tensor[] = [];
      const chunk = Math.max(1, Math.floor(this.cropChunk));
      for (let j = 0; j < jobs.length; j += chunk) {
        const r = torch.scope(() => {
          const crops = torch.cat(jobs.slice(j, j + chunk).map(([i, t, l]) => up.narrow(0, i, 1).narrow(2, t, CROP).narrow(3, l, CROP)), 0);
          return this.forwardCrops(crops, j === 0, taps);
        });
        s.push(r.s); w.push(r.w); f0.push(r.feat0); a1.push(r.sw1); a2.push(r.sw2);
      }
      const score = torch.cat(s, 0).reshape(N, -1), weight = torch.cat(w, 0).reshape(N, -1);
      taps.perPatch?.(score, weight);
      taps.featToken0?.(torch.cat(f0, 0));
      taps.swin1Pixel00?.(torch.cat(a1, 0));
      taps.swin2Pixel00?.(torch.cat(a2, 0));
      return weight.mul(score).sum(-1).div(weight.sum(-1).add(1e-8)).unsqueeze(1);
    });
  }
}

export function checkManiqaConfig(c: ManiqaConfig): ManiqaConfig {
  const posInt = (v: unknown, what: string): void => {
    if (!Number.isInteger(v) || (v as number) < 1) throw new RangeError(`MANIQA config: ${what} must be a positive integer, got ${JSON.stringify(v)}`);
  };
  for (const k of ['embed_dim', 'num_outputs', 'patch_size', 'window_size', 'dim_mlp', 'img_size', 'num_tab', 'test_sample'] as const) posInt(c[k], k);
  if (c.img_size !== CROP) throw new RangeError(`MANIQA config: img_size must be ${CROP} (the crop size of the forward pass), got ${c.img_size}`);
  if (c.img_size % c.patch_size !== 0) throw new RangeError('MANIQA config: img_size must be a multiple of patch_size');
  if (c.embed_dim % 2 !== 0) throw new RangeError('MANIQA config: embed_dim must be even');
  if (c.vit.embed_dim !== c.embed_dim) throw new RangeError(`MANIQA config: the ViT width (${c.vit.embed_dim}) must equal embed_dim (${c.embed_dim})`);
  if (c.vit.depth < 10) throw new RangeError('MANIQA config: the ViT needs at least 10 blocks (features come from blocks 6–9)');
  if (!(typeof c.scale === 'number' && Number.isFinite(c.scale))) throw new RangeError('MANIQA config: scale must be a finite number');
  return { ...c, depths: [...c.depths], num_heads: [...c.num_heads], vit: { ...c.vit } };
}
