// Tile size from a memory budget (--max-memory, default from free RAM). A diffusion tile's peak
// is dominated by the VQ decoder's full-resolution activations (128 channels at 4·tile px per side)
// and the chunked VQ mid-block attention (≤ 2 chunks of 2^26 scores, src/models/vq/attention.ts);
// the merged output and its weights add a few floats per output pixel for the whole image.
// Calibrated with bench/upscale/memory.ts (full-size SinSR architecture, fp32, CPU, one untiled
// run over the loaded model): 64² LR → +641 MiB peak RSS, 128² → +2559 MiB; the formula below
// gives 640 and 2560. bf16 is assumed to halve the activations (not measured). The tile is also
// capped at the pipeline's device default (128 LR px on CPU: larger tiles make the O(N²)
// attention slow long before memory runs out).
import os from 'node:os';
import { DEFAULT_TILE } from '../models/pipeline.js';
import { OptionError } from './errors.js';

export type ModelKind = 'bicubic' | 'diffusion';

/** Full-resolution 128-channel decoder tensors alive at the peak, allocator cache included (measured). */
const LIVE_FULLRES = 16;
const DECODER_CH = 128;
/** Two query chunks of at most 2^26 float32 scores each. */
const ATTN_MAX = 2 * 2 ** 26 * 4;

/** Parses 4G, 512M, 1.5GiB, 800MB, 1e9 (bytes). */
export function parseMemory(v: unknown): number {
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return Math.floor(v);
  const m = typeof v === 'string' ? /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([kmgt]?)(i?b)?\s*$/i.exec(v) : null;
  if (!m) throw new OptionError(`max memory must be a size like 4G, 512M or 2GiB, got ${JSON.stringify(v)}`);
  const mult = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  const n = Math.floor(Number(m[1]) * mult);
  if (!(n >= 1)) throw new OptionError(`max memory must be positive, got ${JSON.stringify(v)}`);
  return n;
}

/** Default budget: three quarters of the RAM free now (the model is already loaded). */
export function defaultBudget(): number {
  return Math.floor(os.freemem() * 0.75);
}

/** Bytes one diffusion tile of `tile` LR px needs at its peak (padded to 64 as the pipeline does). */
export function tileBytes(tile: number, bytesPerValue = 4): number {
  const t = Math.ceil(tile / 64) * 64;
  const fullres = LIVE_FULLRES * DECODER_CH * (4 * t) ** 2 * bytesPerValue;
  const attn = Math.min(ATTN_MAX, 2 * (t * t) ** 2 * 4);
  return fullres + attn;
}

/**
 * Bytes the whole image needs outside the tiles, per output pixel in float32: the merge's
 * accumulator (3) and weight (1), the merged result (3), colour-fix and resize copies (3 + 3),
 * alpha (1).
 */
export function imageBytes(outWidth: number, outHeight: number): number {
  return outWidth * outHeight * 4 * 14;
}

export interface TileChoice {
  /** LR px; 0 = the whole image in one piece. */
  tile: number;
  tileOverlap: number;
  /** Why: --tile given; the whole image fits one tile; the device default; smaller for the budget; the minimum (over budget). */
  reason: 'given' | 'whole' | 'default' | 'budget' | 'minimum';
  budget: number;
  estimate: number;
}

export interface TileRequest {
  kind: ModelKind;
  device: string;
  width: number;
  height: number;
  /** Bytes; default defaultBudget(). */
  maxMemory?: number;
  tile?: number;
  tileOverlap?: number;
  bf16?: boolean;
}

/**
 * The tile for an image: --tile when given; otherwise the largest multiple of 64 LR px up to the
 * device default whose estimate fits the budget (64 at least), or no tiling when the whole image
 * fits in one such tile.
 */
export function chooseTile(r: TileRequest): TileChoice {
  const budget = r.maxMemory ?? defaultBudget();
  const bpv = r.bf16 ? 2 : 4;
  const overlapFor = (tile: number): number => r.tileOverlap ?? Math.min(DEFAULT_TILE.overlap, Math.floor(tile / 2));
  if (r.tileOverlap !== undefined && (!Number.isSafeInteger(r.tileOverlap) || r.tileOverlap < 0)) throw new OptionError(`tile overlap must be a non-negative integer, got ${JSON.stringify(r.tileOverlap)}`);
  if (r.tile !== undefined) {
    if (!Number.isSafeInteger(r.tile) || r.tile < 0 || (r.tile > 0 && r.tile < 16)) throw new OptionError(`tile must be 0 (no tiling) or an integer of at least 16 LR pixels, got ${JSON.stringify(r.tile)}`);
    const ov = overlapFor(r.tile);
    if (r.tile > 0 && ov > r.tile / 2) throw new OptionError(`tile overlap ${ov} is more than half the tile (${r.tile})`);
    return { tile: r.tile, tileOverlap: ov, reason: 'given', budget, estimate: r.kind === 'bicubic' ? imageBytes(4 * r.width, 4 * r.height) : tileBytes(r.tile || Math.max(r.width, r.height), bpv) };
  }
  const fixed = imageBytes(4 * r.width, 4 * r.height);
  if (r.kind === 'bicubic') return { tile: 0, tileOverlap: 0, reason: 'whole', budget, estimate: fixed };
  const cap = r.device.startsWith('cuda') ? DEFAULT_TILE.cuda : DEFAULT_TILE.cpu;
  let best = 0;
  for (let t = 64; t <= cap; t += 64) if (fixed + tileBytes(t, bpv) <= budget) best = t;
  const side = Math.max(r.width, r.height);
  if (best === 0) return { tile: 64, tileOverlap: overlapFor(64), reason: 'minimum', budget, estimate: fixed + tileBytes(64, bpv) };
  if (side <= best) return { tile: 0, tileOverlap: 0, reason: 'whole', budget, estimate: fixed + tileBytes(side, bpv) };
  return { tile: best, tileOverlap: overlapFor(best), reason: best < cap ? 'budget' : 'default', budget, estimate: fixed + tileBytes(best, bpv) };
}
