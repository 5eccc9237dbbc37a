// `--model bicubic`: PyTorch bicubic ×4 — the baseline every report compares with.
// F.interpolate(x, scale_factor=4, mode='bicubic', align_corners=False) (A = −0.75, border taps
// clamped), then clamped to [0, 1]; the caller rounds (×255, half to even) when it writes 8 bits.
//
// Tiled, it gives the same values as untiled: each tile is computed from its LR rectangle
// widened by MARGIN px (every tap of its output pixels lies inside: output o reads LR
// ⌊(o + 0.5)/4 − 0.5⌋ − 1 … + 2), only the tile's own output is kept, and at the image border the
// tile's border is the image's, so the clamped taps are the same.
import * as torch from '../engine/index.js';
import { Tensor } from '../engine/index.js';
import { bicubicX4, checkLr, largestTile, UpscaleAbortedError, type PipelineDType, type Upscaler, type UpscaleOptions } from './pipeline.js';
import { MIN_TILE } from './tiling.js';

const MARGIN = 3;

export class BicubicUpscaler implements Upscaler {
  readonly scale = 4 as const;
  readonly kind = 'bicubic' as const;
  readonly name = 'bicubic';
  readonly device: string;
  readonly dtype: PipelineDType = 'fp32';
  /** Tiles only bound memory here (no quality effect): large ones are fine. */
  readonly maxTile = 1024;

  constructor(device = 'cpu') {
    this.device = device;
  }

  /** Input, interpolation result and its clamped copy of one widened tile, float32. */
  tileBytes(tile: number): number {
    const s = tile + 2 * MARGIN;
    return s * s * 3 * 4 * (1 + 2 * 16);
  }

  defaultTile(budget: number): number { return largestTile(this, budget); }

  /** opts.tile (LR px, 0 = untiled) bounds the memory of the interpolation; overlap and merge do not apply. */
  upscale(lr: Tensor, opts: UpscaleOptions = {}): Tensor {
    checkLr(lr);
    if (opts.signal?.aborted) throw new UpscaleAbortedError();
    const tile = opts.tile ?? 0;
    if (!Number.isSafeInteger(tile) || tile < 0 || (tile > 0 && tile < MIN_TILE)) throw new RangeError(`tile must be 0 (no tiling) or an integer of at least ${MIN_TILE} LR pixels, got ${opts.tile}`);
    const h = lr.size(2), w = lr.size(3);
    if (tile === 0 || (h <= tile && w <= tile)) {
      const out = torch.scope(() => bicubicX4(lr.to({ device: this.device })).clamp(0, 1).to({ device: 'cpu' }));
      opts.onTile?.(1, 1);
      return out;
    }
    const out = torch.empty([1, 3, 4 * h, 4 * w]);
    try {
      const ys: number[] = [], xs: number[] = [];
      for (let y = 0; y < h; y += tile) ys.push(y);
      for (let x = 0; x < w; x += tile) xs.push(x);
      const total = ys.length * xs.length;
      let done = 0;
      for (const y of ys) {
        for (const x of xs) {
          if (opts.signal?.aborted) throw new UpscaleAbortedError();
          torch.scope(() => {
            const th = Math.min(tile, h - y), tw = Math.min(tile, w - x);
            const y0 = Math.max(0, y - MARGIN), x0 = Math.max(0, x - MARGIN);
            const y1 = Math.min(h, y + th + MARGIN), x1 = Math.min(w, x + tw + MARGIN);
            const src = lr.narrow(2, y0, y1 - y0).narrow(3, x0, x1 - x0).to({ device: this.device });
            const up = bicubicX4(src).clamp(0, 1).narrow(2, 4 * (y - y0), 4 * th).narrow(3, 4 * (x - x0), 4 * tw).to({ device: 'cpu' });
            torch.copy_(out.narrow(2, 4 * y, 4 * th).narrow(3, 4 * x, 4 * tw), up);
          });
          opts.onTile?.(++done, total);
        }
      }
      return out;
    } catch (e) {
      out.dispose();
      throw e;
    }
  }

  dispose(): void { /* nothing held */ }
}
