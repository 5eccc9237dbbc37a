// Tiles of a large LR image and the merge of their ×4 outputs (MODEL_SPEC.md §1.7 steps 3 and 5).
//
// Tiles are in LR pixels. Upstream (ImageSpliterTh) averages overlapping tiles uniformly after
// clamping each one; GroupNorm statistics and the global VQ attention differ from tile to tile,
// so a uniform average leaves visible steps where a tile ends. The default merge here weights
// each tile with a raised-cosine ramp across every overlap it shares with a neighbour, so the
// weights of two overlapping tiles sum to one and the transition is smooth.
import * as torch from '../engine/index.js';
import { Tensor } from '../engine/index.js';

export type TileMerge = 'feather' | 'average';
export const TILE_MERGES: readonly TileMerge[] = ['feather', 'average'];

/** The smallest tile (LR px) accepted anywhere: below it the overlap and padding dominate. */
export const MIN_TILE = 16;

/** A tile in LR pixels. */
export interface TileRect { y: number; x: number; h: number; w: number }

export interface TilePlan {
  /** LR image size. */
  height: number;
  width: number;
  /** Tile starts per axis (LR px), and the tile size actually used per axis. */
  ys: number[];
  xs: number[];
  tileH: number;
  tileW: number;
  /** Row-major, as upstream visits them. */
  tiles: TileRect[];
}

/**
 * Tile starts along an axis of length L with patch P and stride S — ImageSpliterTh.extract_starts
 * (ResShift@3ce1d81:utils/util_image.py): 0, S, 2S, … < L, each start past L − P moved to L − P,
 * duplicates dropped keeping the first.
 */
export function extractStarts(L: number, P: number, S: number): number[] {
  if (L <= P) return [0];
  const out: number[] = [];
  for (let s = 0; s < L; s += S) {
    const v = s + P > L ? L - P : s;
    if (!out.includes(v)) out.push(v);
  }
  return out;
}

/**
 * The tiles of an h×w LR image for tile size `tile` and overlap `overlap` (LR px). No tiling (one
 * tile, the whole image) when tile is undefined/0 or the image fits in one tile, as upstream.
 */
export function planTiles(height: number, width: number, tile?: number, overlap = 0): TilePlan {
  for (const [n, v] of [['height', height], ['width', width]] as const) {
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`planTiles: ${n} must be a positive integer, got ${v}`);
  }
  if (tile === undefined || tile === 0 || (height <= tile && width <= tile)) {
    return { height, width, ys: [0], xs: [0], tileH: height, tileW: width, tiles: [{ y: 0, x: 0, h: height, w: width }] };
  }
  if (!Number.isSafeInteger(tile) || tile < MIN_TILE) throw new RangeError(`tile size must be an integer of at least ${MIN_TILE} LR pixels, got ${tile}`);
  if (!Number.isSafeInteger(overlap) || overlap < 0 || overlap > tile / 2) {
    throw new RangeError(`tile overlap must be an integer between 0 and half the tile size (${Math.floor(tile / 2)}), got ${overlap}`);
  }
  const stride = tile - overlap;
  const ys = extractStarts(height, tile, stride), xs = extractStarts(width, tile, stride);
  const tileH = Math.min(tile, height), tileW = Math.min(tile, width);
  const tiles: TileRect[] = [];
  for (const y of ys) for (const x of xs) tiles.push({ y, x, h: tileH, w: tileW });
  return { height, width, ys, xs, tileH, tileW, tiles };
}

/**
 * Merge weights of one tile along one axis, in output pixels: 1 inside, a sin² ramp over the part
 * shared with the previous tile, a cos² ramp over the part shared with the next. Two neighbours'
 * ramps cover the same interval and sum to exactly 1 there; no weight is 0.
 */
export function axisWeights(starts: number[], index: number, size: number, scale: number): Float32Array {
  const a = starts[index]!, n = size * scale;
  const w = new Float32Array(n).fill(1);
  const prevEnd = index > 0 ? starts[index - 1]! + size : a;
  const nextStart = index + 1 < starts.length ? starts[index + 1]! : a + size;
  const rl = Math.max(0, (prevEnd - a) * scale), rr = Math.max(0, (a + size - nextStart) * scale);
  for (let i = 0; i < n; i++) {
    if (i < rl) w[i]! *= Math.sin((Math.PI / 2) * ((i + 0.5) / rl)) ** 2;
    if (i >= n - rr) w[i]! *= Math.sin((Math.PI / 2) * ((n - i - 0.5) / rr)) ** 2;
  }
  return w;
}

/**
 * Accumulates tile outputs ([1, C, scale·h, scale·w], already clamped) into the full output.
 * 'average' is upstream's im_res / pixel_count; 'feather' the weighted sum / weight sum.
 */
export class TileMerger {
  readonly plan: TilePlan;
  readonly scale: number;
  readonly mode: TileMerge;
  private acc: Tensor | undefined;
  private weight: Tensor | undefined;
  private readonly single: boolean;
  private result: Tensor | undefined;

  constructor(plan: TilePlan, channels: number, scale: number, mode: TileMerge = 'feather', device = 'cpu') {
    if (!TILE_MERGES.includes(mode)) throw new RangeError(`tile merge must be one of ${TILE_MERGES.join(', ')}, got ${JSON.stringify(mode)}`);
    this.plan = plan;
    this.scale = scale;
    this.mode = mode;
    this.single = plan.tiles.length === 1;
    if (!this.single) {
      this.acc = torch.keep(torch.zeros([1, channels, plan.height * scale, plan.width * scale], { device }));
      this.weight = torch.keep(torch.zeros([1, 1, plan.height * scale, plan.width * scale], { device }));
    }
  }

  /** Adds the output of plan.tiles[index]; takes no ownership of `out`. */
  add(index: number, out: Tensor): void {
    const r = this.plan.tiles[index];
    if (!r) throw new RangeError(`tile index ${index} out of range (${this.plan.tiles.length} tiles)`);
    const s = this.scale;
    const want = [1, out.size(1), r.h * s, r.w * s];
    if (out.shape.join() !== want.join()) throw new RangeError(`tile ${index}: output shape [${out.shape.join(', ')}], expected [${want.join(', ')}]`);
    if (this.single) {
      this.result?.dispose();
      this.result = torch.keep(out.to({ dtype: 'float32' }).clone());
      return;
    }
    torch.scope(() => {
      const o = out.to({ dtype: 'float32' });
      const accView = this.acc!.narrow(2, r.y * s, r.h * s).narrow(3, r.x * s, r.w * s);
      const wView = this.weight!.narrow(2, r.y * s, r.h * s).narrow(3, r.x * s, r.w * s);
      if (this.mode === 'average') {
        accView.add_(o);
        wView.add_(1);
        return;
      }
      const iy = this.plan.ys.indexOf(r.y), ix = this.plan.xs.indexOf(r.x);
      const wy = torch.fromTypedArray(axisWeights(this.plan.ys, iy, r.h, s), [1, 1, r.h * s, 1]);
      const wx = torch.fromTypedArray(axisWeights(this.plan.xs, ix, r.w, s), [1, 1, 1, r.w * s]);
      const w2 = wy.mul(wx).to({ device: o.device });
      accView.add_(o.mul(w2));
      wView.add_(w2);
    });
  }

  /** The merged output [1, C, scale·H, scale·W] (float32); the merger keeps no reference to it. */
  finish(): Tensor {
    if (this.single) {
      if (!this.result) throw new Error('TileMerger.finish(): no tile was added');
      const r = this.result;
      this.result = undefined;
      return r;
    }
    const out = torch.scope(() => this.acc!.div(this.weight!));
    this.dispose();
    return out;
  }

  dispose(): void {
    this.acc?.dispose();
    this.weight?.dispose();
    this.result?.dispose();
    this.acc = this.weight = this.result = undefined;
  }
}

export interface SeamStats {
  /** Mean |difference| of neighbouring output pixels straddling a tile edge. */
  border: number;
  /** The same over every other neighbouring pair. */
  inside: number;
  /** border / inside: about 1 means no visible seam. */
  ratio: number;
}

/**
 * Seam visibility of a tiled output ([1, C, H, W]): the mean absolute difference between adjacent
 * pixels across every tile edge (both ends of every tile, vertical and horizontal) against the
 * mean over all other adjacent pairs.
 */
export function seamVisibility(img: Tensor, plan: TilePlan, scale: number): SeamStats {
  const H = img.size(2), W = img.size(3);
  if (H !== plan.height * scale || W !== plan.width * scale) throw new RangeError(`seamVisibility: image ${H}×${W} does not match the plan (${plan.height}×${plan.width} ×${scale})`);
  const edges = (starts: number[], size: number, total: number): number[] => {
    const e = new Set<number>();
    for (const s of starts) {
      if (s > 0) e.add(s * scale);
      if (s + size < total) e.add((s + size) * scale);
    }
    return [...e].sort((a, b) => a - b);
  };
  const ey = edges(plan.ys, plan.tileH, plan.height), ex = edges(plan.xs, plan.tileW, plan.width);
  return torch.scope(() => {
    const x = img.to({ dtype: 'float64' });
    // dx[..., j] = |x[..., j+1] − x[..., j]|: pair (j, j+1) straddles edge e when j + 1 = e.
    const dx = x.narrow(3, 1, W - 1).sub(x.narrow(3, 0, W - 1)).abs().mean([0, 1, 2]).toArray() as Float64Array;
    const dy = x.narrow(2, 1, H - 1).sub(x.narrow(2, 0, H - 1)).abs().mean([0, 1, 3]).toArray() as Float64Array;
    let bSum = 0, bN = 0, iSum = 0, iN = 0;
    const tally = (d: Float64Array, e: number[], rows: number): void => {
      const border = new Set(e.map((v) => v - 1));
      d.forEach((v, j) => {
        if (border.has(j)) { bSum += v * rows; bN += rows; } else { iSum += v * rows; iN += rows; }
      });
    };
    tally(dx, ex, H);
    tally(dy, ey, W);
    const border = bN ? bSum / bN : 0, inside = iN ? iSum / iN : 0;
    return { border, inside, ratio: inside > 0 ? border / inside : 0 };
  });
}
