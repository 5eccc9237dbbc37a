// The ×4 super-resolution pipeline (MODEL_SPEC.md §1.7): the library-facing Upscaler.
//
// ```ts
// interface Upscaler {
//   readonly scale: 4;
//   readonly name: string;                  // 'bicubic', 'sinsr-v1', a model folder's name …
//   readonly device: string;                // 'cpu', 'cuda:0'
//   readonly dtype: 'fp32' | 'bf16' | 'auto';   // the precision that runs (auto: precision.ts's plan)
//   /** lr: [1, 3, h, w] float32 in [0, 1] (any device) → [1, 3, 4h, 4w] float32 in [0, 1] on
//    *  the CPU, clamped, not rounded (quantise with round-half-to-even ×255 to match upstream). */
//   upscale(lr: Tensor, opts?: UpscaleOptions): Tensor;
//   dispose(): void;
// }
// interface UpscaleOptions {
//   seed?: number;            // noise seed (default 12345, upstream's); one generator per call
//   noise?: Tensor;           // explicit prior noise [1, 3, H64, W64] (untiled runs only; parity)
//   tile?: number;            // LR pixels; 0 = whole image in one piece
//   tileOverlap?: number;     // LR pixels shared by neighbouring tiles (≤ tile / 2)
//   tileMerge?: 'feather' | 'average';   // smooth weights (default) or upstream's plain average
//   onTile?: (done: number, total: number) => void;
//   signal?: AbortSignal;     // checked before every tile; aborting throws UpscaleAbortedError
// }
// loadUpscaler(spec) — in ./index.ts: { model: 'bicubic' } | { model: DIR } | { preset, unet, vq },
//   plus device, dtype, threads.
// ```
//
// Per tile (or the whole image): map to [−1, 1], reflect-pad bottom/right to a multiple of 64 LR
// px, bicubic ×4 (A = −0.75, align_corners false, no clamp), VQ encode (no quantisation), sample
// the latent (one-step / ddim / stochastic), VQ decode (quantises), crop to 4h×4w, clamp to
// [−1, 1]; tiles are merged (tiling.ts), then x·0.5 + 0.5 clamped to [0, 1].
import * as torch from '../engine/index.js';
import { Tensor } from '../engine/index.js';
import { MIN_TILE, planTiles, TileMerger, TILE_MERGES, type TileOptions } from './tiling.js';
import { UPSTREAM_DEFAULTS } from './presets.js';
import type { ColorFixSpec } from './colorfix.js';

/** fp32, bf16, or auto: bf16 networks with the modules of precision.ts's AUTO_PLAN in fp32. */
export type PipelineDType = 'fp32' | 'bf16' | 'auto';
export const PIPELINE_DTYPES: readonly PipelineDType[] = ['fp32', 'bf16', 'auto'];
/** The dtype of the tensors the pipeline passes between the networks (auto: f32; each network casts at its modules). */
export const ENGINE_DTYPE = { fp32: 'float32', bf16: 'bfloat16', auto: 'float32' } as const;

export interface UpscaleOptions extends TileOptions {
  seed?: number;
  noise?: Tensor;
  onTile?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** What an Upscaler is, declared by its class (never guessed from its name). */
export type UpscalerKind = 'bicubic' | 'diffusion' | 'custom';

export interface Upscaler {
  readonly scale: 4;
  readonly name: string;
  /** Default 'custom' (an Upscaler built outside vpdsr). */
  readonly kind?: UpscalerKind;
  readonly device: string;
  readonly dtype: PipelineDType;
  /** The colour fix this model is meant to run with (`--color-fix auto`); absent or null: none. */
  readonly colorFix?: ColorFixSpec | null;
  upscale(lr: Tensor, opts?: UpscaleOptions): Tensor;
  /** Peak bytes one tile of `tile` × `tile` LR px needs while it runs (its own intermediates). */
  tileBytes?(tile: number): number;
  /** The largest tile (LR px) worth running on this device; larger only costs memory or time. */
  readonly maxTile?: number;
  dispose(): void;
}

/** Tiles chosen from a budget are multiples of this (the diffusion models pad to 64 anyway). */
export const TILE_STEP = 64;

/**
 * The largest tile (a multiple of TILE_STEP up to up.maxTile) whose tileBytes fit `budget`; 0 when
 * not even the smallest one fits. The upscalers' defaultTile(budget).
 */
export function largestTile(up: Pick<Upscaler, 'tileBytes' | 'maxTile'>, budget: number): number {
  const cap = up.maxTile ?? DEFAULT_TILE.cpu;
  let best = 0;
  for (let t = TILE_STEP; t <= cap; t += TILE_STEP) if ((up.tileBytes?.(t) ?? 0) <= budget) best = t;
  return best;
}

export class UpscaleAbortedError extends Error {
  constructor() {
    super('upscale aborted');
    this.name = 'UpscaleAbortedError';
  }
}

/** Default CPU tiling: a 128-px tile keeps each VQ attention at 16384² scores (§3.5, issue 4). */
export const DEFAULT_TILE = { cpu: 128, cuda: 512, overlap: 16 } as const;

/** Checks an Upscaler input; throws one line naming what is wrong. */
export function checkLr(lr: unknown, who = 'upscale'): Tensor {
  if (!(lr instanceof Tensor)) throw new TypeError(`${who}: input must be a Tensor [1, 3, h, w], got ${lr === null ? 'null' : typeof lr}`);
  if (lr.isDisposed) throw new TypeError(`${who}: input tensor was disposed`);
  if (lr.dtype !== 'float32') throw new TypeError(`${who}: input must be float32 in [0, 1], got ${lr.dtype}`);
  const s = lr.shape;
  if (s.length !== 4 || s[0] !== 1 || s[1] !== 3 || s[2]! < 1 || s[3]! < 1) throw new TypeError(`${who}: input must have shape [1, 3, h, w], got [${s.join(', ')}]`);
  const [lo, hi] = torch.scope(() => [lr.min().item(), lr.max().item()]);
  if (!(lo >= 0 && hi <= 1)) throw new RangeError(`${who}: input values must lie in [0, 1], got [${lo}, ${hi}]`);
  return lr;
}

/** Checks UpscaleOptions; returns them with the defaults filled in. */
export function checkUpscaleOptions(opts: UpscaleOptions, device: string): Required<Pick<UpscaleOptions, 'seed' | 'tile' | 'tileOverlap' | 'tileMerge'>> {
  const seed = opts.seed ?? UPSTREAM_DEFAULTS.seed;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative integer, got ${opts.seed}`);
  const tile = opts.tile ?? (device.startsWith('cuda') ? DEFAULT_TILE.cuda : DEFAULT_TILE.cpu);
  if (!Number.isSafeInteger(tile) || tile < 0 || (tile > 0 && tile < MIN_TILE)) throw new RangeError(`tile must be 0 (no tiling) or an integer of at least ${MIN_TILE} LR pixels, got ${opts.tile}`);
  const tileOverlap = opts.tileOverlap ?? Math.min(DEFAULT_TILE.overlap, Math.floor(tile / 2));
  if (!Number.isSafeInteger(tileOverlap) || tileOverlap < 0 || (tile > 0 && tileOverlap > tile / 2)) {
    throw new RangeError(`tile overlap must be an integer between 0 and half the tile size, got ${opts.tileOverlap}`);
  }
  const tileMerge = opts.tileMerge ?? 'feather';
  if (!TILE_MERGES.includes(tileMerge)) throw new RangeError(`tile merge must be one of ${TILE_MERGES.join(', ')}, got ${JSON.stringify(opts.tileMerge)}`);
  if (opts.onTile !== undefined && typeof opts.onTile !== 'function') throw new TypeError('onTile must be a function');
  return { seed, tile, tileOverlap, tileMerge };
}

/**
 * F.pad(x, (0, pw, 0, ph), mode='reflect') as the samplers do it (§1.7 4a). PyTorch needs
 * pad < size; vpdsr reflects repeatedly in chunks of at most size − 1 (equal to upstream wherever
 * upstream works) and replicates a 1-px side, which has nothing to mirror.
 */
export function reflectPadBottomRight(x: Tensor, ph: number, pw: number): Tensor {
  return torch.scope(() => {
    let y = x;
    for (const [dim, total] of [[3, pw], [2, ph]] as const) {
      let left = total;
      while (left > 0) {
        const n = y.size(dim);
        const p = n > 1 ? Math.min(left, n - 1) : left;
        const pads = dim === 3 ? [0, p, 0, 0] : [0, 0, 0, p];
        y = torch.pad(y, pads, n > 1 ? 'reflect' : 'replicate');
        left -= p;
      }
    }
    return y === x ? x.clone() : y;
  });
}

/** Bottom/right reflect padding to a multiple of `multiple` (ResShift padding_offset, SinSR desired_min_size). */
export function padToMultiple(x: Tensor, multiple: number): Tensor {
  const h = x.size(2), w = x.size(3);
  return reflectPadBottomRight(x, Math.ceil(h / multiple) * multiple - h, Math.ceil(w / multiple) * multiple - w);
}

/** F.interpolate(x, scale_factor=4, mode='bicubic') — A = −0.75, align_corners False, no clamp (§1.7 4c). */
export function bicubicX4(x: Tensor): Tensor {
  return torch.interpolate(x, { scaleFactor: 4, mode: 'bicubic', alignCorners: false });
}

/** What the pipeline needs of the VQ autoencoder (src/models/vq): encode without, decode with quantisation. */
export interface LatentCodec {
  encode(x: Tensor): Tensor;
  decode(z: Tensor): Tensor;
}

/** x̂0 = denoiser(z scaled by _scale_input, t (int64 [B]), lq) — one UNet call (§4.1). */
export type Denoiser = (x: Tensor, t: Tensor, lq: Tensor) => Tensor;

/** Draws standard normal noise of a shape (float32, on the compute device), in upstream's order. */
export type NoiseSource = (shape: number[]) => Tensor;

/** z0 = sample(z_y, lq, denoiser, noise): one of the samplers of §1.4–§1.6. */
export type LatentSampler = (zy: Tensor, lq: Tensor, denoise: Denoiser, noise: NoiseSource) => Tensor;

/** The samplers (one-step, ddim, stochastic) are src/models/diffusion's, over a GaussianDiffusion. */
export { latentSampler } from './diffusion/index.js';

/** The parts of a diffusion upscaler, on their device and in their dtype. */
export interface DiffusionParts {
  name: string;
  /** The colour fix the model folder asks for (model.json colorFix), or null. */
  colorFix?: ColorFixSpec | null;
  codec: LatentCodec;
  denoise: Denoiser;
  sample: LatentSampler;
  device: string;
  dtype: PipelineDType;
  /** LR padding multiple: 64 for every released model (8-px windows × 2³ downsamplings). */
  padding: number;
  /** Activation layout (default channels-last, oneDNN's fast path; 'contiguous' = upstream's NCHW). */
  layout?: 'channels_last' | 'contiguous';
  /** Channels of the VQ decoder's full-resolution blocks (ddconfig ch · ch_mult[0]; 128 for VQ-f4): its memory peak. */
  decoderChannels?: number;
  /** Frees the modules. */
  dispose(): void;
}

/** Every intermediate of one tile, for parity checks and diagnostics (all on the compute device). */
export interface TileStages {
  lqPadded: Tensor;
  lqUp: Tensor;
  zy: Tensor;
  z0: Tensor;
  decoded: Tensor;
  /** Cropped to 4h×4w and clamped to [−1, 1], float32. */
  out: Tensor;
}

/** Runs one tile ([1, 3, h, w] in [−1, 1], float32) through §1.7 step 4, returning every stage. */
export function runTileStages(parts: DiffusionParts, lq: Tensor, noise: NoiseSource): TileStages {
  const h = lq.size(2), w = lq.size(3);
  // Inference only: no autograd graph (the parameters may require grad).
  return torch.noGrad(() => torch.scope(() => {
    const dt = ENGINE_DTYPE[parts.dtype];
    // Padding and bicubic in float32 as upstream (cheap); the networks then run in parts.dtype.
    const padded32 = padToMultiple(lq.to({ device: parts.device, dtype: 'float32' }), parts.padding);
    const lqPadded = padded32.to({ dtype: dt });
    // Channels-last from here: the convolutions of both networks are fastest in it (oneDNN).
    const lqUp = bicubicX4(padded32).to({ dtype: dt, memoryFormat: parts.layout ?? 'channels_last' });
    const zy = parts.codec.encode(lqUp);
    const z0 = parts.sample(zy, lqPadded, parts.denoise, noise);
    const decoded = parts.codec.decode(z0);
    const out = decoded.narrow(2, 0, 4 * h).narrow(3, 0, 4 * w).to({ dtype: 'float32' }).clamp(-1, 1);
    return { lqPadded, lqUp, zy, z0, decoded, out };
  }));
}

/** A noise source drawing from one seeded generator (the stream continues across tiles). */
export function seededNoise(seed: number, device: string): NoiseSource {
  const g = new torch.Generator(seed);
  // Drawn on the CPU (the generator is CPU's) and moved: the same stream whatever the device.
  return (shape) => torch.scope(() => torch.randn(shape, { generator: g }).to({ device }));
}

/** A noise source that hands out given tensors in order (parity: upstream's draws, injected). */
export function fixedNoise(tensors: Tensor[], device: string, unusedAfter = Infinity): NoiseSource {
  let i = 0;
  return (shape) => {
    const t = tensors[i];
    if (i >= unusedAfter && !t) {
      // A draw upstream makes and discards (one-step's second draw): any value will do.
      i++;
      return torch.zeros(shape, { device });
    }
    if (!t) throw new Error(`the sampler asked for noise draw ${i + 1}, only ${tensors.length} given`);
    if (t.shape.join() !== shape.join()) throw new RangeError(`noise draw ${i + 1}: shape [${t.shape.join(', ')}], the sampler needs [${shape.join(', ')}]`);
    i++;
    return t.to({ device, dtype: 'float32' });
  };
}

// A diffusion tile's peak is dominated by the VQ decoder's full-resolution activations (its
// full-resolution channels at 4·tile px per side) and the chunked VQ mid-block attention (≤ 2
// chunks of 2^26 scores, src/models/vq/attention.ts). Calibrated with bench/upscale/memory.ts
// (full-size SinSR architecture, fp32, CPU, one untiled run over the loaded model): 64² LR →
// +641 MiB peak RSS, 128² → +2559 MiB; the formula gives 640 and 2560. In bf16 and auto the
// values are 2 bytes but the norms make f32 copies (vq/layers.ts groupNorm), so more of them are
// alive: measured bf16 +421 / +1827 MiB and auto +413 / +1820 MiB at 64² / 128² (bench/models
// memory child); 24 live 2-byte tensors give 512 / 2048 MiB, above both.

/** Full-resolution decoder tensors alive at the peak, allocator cache included (measured): fp32, and bf16/auto (2-byte values). */
const LIVE_FULLRES = 16;
const LIVE_FULLRES_LOW = 24;
/** VQ-f4's ch · ch_mult[0]. */
export const VQ_F4_DECODER_CHANNELS = 128;
/** Two query chunks of at most 2^26 float32 scores each. */
const ATTN_MAX = 2 * 2 ** 26 * 4;

/** Bytes one diffusion tile of `tile` LR px needs at its peak in `dtype` (padded to 64 as the pipeline does). */
export function diffusionTileBytes(tile: number, dtype: PipelineDType = 'fp32', decoderChannels = VQ_F4_DECODER_CHANNELS): number {
  const t = Math.ceil(tile / 64) * 64;
  const perPixelChannel = dtype === 'fp32' ? LIVE_FULLRES * 4 : LIVE_FULLRES_LOW * 2;
  const fullres = perPixelChannel * decoderChannels * (4 * t) ** 2;
  const attn = Math.min(ATTN_MAX, 2 * (t * t) ** 2 * 4);
  return fullres + attn;
}

/** The diffusion Upscaler: parts + tiling. */
export class DiffusionUpscaler implements Upscaler {
  readonly scale = 4 as const;
  readonly kind = 'diffusion' as const;
  readonly name: string;
  readonly device: string;
  readonly dtype: PipelineDType;
  readonly colorFix: ColorFixSpec | null;
  private parts: DiffusionParts | undefined;

  constructor(parts: DiffusionParts) {
    this.parts = parts;
    this.name = parts.name;
    this.colorFix = parts.colorFix ?? null;
    this.device = parts.device;
    this.dtype = parts.dtype;
  }

  get maxTile(): number { return this.device.startsWith('cuda') ? DEFAULT_TILE.cuda : DEFAULT_TILE.cpu; }

  /** Peak bytes of one tile (diffusionTileBytes with this model's decoder width and dtype). */
  tileBytes(tile: number): number {
    return diffusionTileBytes(tile, this.dtype, this.parts?.decoderChannels ?? VQ_F4_DECODER_CHANNELS);
  }

  /** The largest tile within `budget` bytes (0: none fits). */
  defaultTile(budget: number): number { return largestTile(this, budget); }

  private get p(): DiffusionParts {
    if (!this.parts) throw new Error(`upscaler ${this.name} was disposed`);
    return this.parts;
  }

  upscale(lr: Tensor, opts: UpscaleOptions = {}): Tensor {
    const parts = this.p;
    checkLr(lr);
    const o = checkUpscaleOptions(opts, this.device);
    const h = lr.size(2), w = lr.size(3);
    const plan = planTiles(h, w, o.tile, o.tileOverlap);
    let noise: NoiseSource;
    if (opts.noise !== undefined) {
      if (!(opts.noise instanceof Tensor) || opts.noise.isDisposed) throw new TypeError('noise must be a live Tensor');
      if (plan.tiles.length > 1) throw new RangeError('explicit noise is only accepted for an untiled run (set tile: 0)');
      noise = fixedNoise([opts.noise], this.device, 1);
    } else {
      noise = seededNoise(o.seed, this.device);
    }
    const merger = new TileMerger(plan, 3, 4, o.tileMerge);
    try {
      // (x − 0.5) / 0.5 as upstream writes it (§1.7 2).
      const y = torch.scope(() => lr.sub(0.5).div(0.5));
      try {
        plan.tiles.forEach((r, i) => {
          if (opts.signal?.aborted) throw new UpscaleAbortedError();
          torch.scope(() => {
            const tile = y.narrow(2, r.y, r.h).narrow(3, r.x, r.w);
            const out = runTileStages(parts, tile, noise).out;
            merger.add(i, out.to({ device: 'cpu' }));
          });
          opts.onTile?.(i + 1, plan.tiles.length);
        });
      } finally {
        y.dispose();
      }
      const merged = merger.finish();
      return torch.scope(() => {
        const r = merged.mul(0.5).add(0.5).clamp(0, 1);
        merged.dispose();
        return r;
      });
    } finally {
      merger.dispose();
    }
  }

  dispose(): void {
    this.parts?.dispose();
    this.parts = undefined;
  }
}
