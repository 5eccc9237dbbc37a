// MANIQA's test-time crops (IQA_SPEC §5.2, §5.8) — pyiqa@01ae427:pyiqa/archs/arch_util.py
// (uniform_crop; random_crop with numpy's legacy global RandomState for the pre-v0.1.12 mode).
import * as torch from '../../engine/index.js';
import { Tensor } from '../../engine/index.js';

/**
 * The upscale step shared by both crop functions: when the short side is ≤ crop, bilinear with
 * scale_factor (crop + 1) / short (a double), the output size floored in double.
 */
export function upscaledSize(h: number, w: number, crop: number): { size: [number, number]; scaleFactor: number | null } {
  if (Math.min(h, w) > crop) return { size: [h, w], scaleFactor: null };
  const s = (crop + 1) / Math.min(h, w);
  return { size: [Math.floor(h * s), Math.floor(w * s)], scaleFactor: s };
}

/** [top, left] of uniform_crop's crops: a ceil(√n)² grid with steps (H − c) // floor(√n), first n kept. */
export function uniformCropPositions(h: number, w: number, crop: number, num: number): [number, number][] {
  if (!Number.isInteger(num) || num < 1) throw new RangeError(`crop count must be a positive integer, got ${num}`);
  if (h < crop || w < crop) throw new RangeError(`a ${h}×${w} image is smaller than the ${crop}×${crop} crop`);
  const k = Math.floor(Math.sqrt(num)), g = Math.ceil(Math.sqrt(num));
  const sh = Math.floor((h - crop) / k), sw = Math.floor((w - crop) / k);
  const out: [number, number][] = [];
  for (let i = 0; i < g; i++) for (let j = 0; j < g; j++) out.push([i * sh, j * sw]);
  return out.slice(0, num);
}

/** The upscale step on a tensor [N, C, H, W] (the input itself when none is needed). */
export function upscaleForCrops(x: Tensor, crop: number): Tensor {
  const up = upscaledSize(x.size(2), x.size(3), crop);
  if (up.scaleFactor === null) return x;
  return torch.interpolate(x, { scaleFactor: up.scaleFactor, mode: 'bilinear', alignCorners: false });
}

/** uniform_crop(x, crop, num): the (possibly upscaled) image, the crops [N·num, C, crop, crop] image-major, and their positions. */
export function uniformCrop(x: Tensor, crop: number, num: number): { resized: Tensor; crops: Tensor; positions: [number, number][] } {
  return torch.scope(() => {
    const resized = upscaleForCrops(x, crop);
    const positions = uniformCropPositions(resized.size(2), resized.size(3), crop, num);
    const list: Tensor[] = [];
    for (let n = 0; n < x.size(0); n++) {
      for (const [t, l] of positions) list.push(resized.narrow(0, n, 1).narrow(2, t, crop).narrow(3, l, crop));
    }
    return { resized: resized === x ? x.clone() : resized, crops: torch.cat(list, 0), positions };
  });
}

/** numpy's legacy MT19937 (RandomState): init_genrand seeding and 32-bit outputs. */
export class LegacyMT19937 {
  private readonly mt = new Uint32Array(624);
  private mti = 624;

  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`seed must be an integer in [0, 2^32), got ${seed}`);
    this.mt[0] = seed >>> 0;
    for (let i = 1; i < 624; i++) {
      const p = this.mt[i - 1]! ^ (this.mt[i - 1]! >>> 30);
      this.mt[i] = (Math.imul(1812433253, p) + i) >>> 0;
    }
  }

  nextUint32(): number {
    const mt = this.mt;
    if (this.mti >= 624) {
      for (let k = 0; k < 624; k++) {
        const y = (mt[k]! & 0x80000000) | (mt[(k + 1) % 624]! & 0x7fffffff);
        mt[k] = mt[(k + 397) % 624]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      this.mti = 0;
    }
    let y = mt[this.mti++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** randint(0, n) for 1 ≤ n ≤ 2^32: masked rejection; n = 1 returns 0 without drawing. */
  randint(n: number): number {
    const max = n - 1;
    if (max === 0) return 0;
    let mask = max;
    mask |= mask >>> 1; mask |= mask >>> 2; mask |= mask >>> 4; mask |= mask >>> 8; mask |= mask >>> 16;
    mask >>>= 0;
    for (;;) {
      const v = (this.nextUint32() & mask) >>> 0;
      if (v <= max) return v;
    }
  }
}

/**
 * random_crop's positions right after np.random.seed(seed) (pyiqa v0.1.9–v0.1.11 at test time):
 * per crop top = randint(0, H − c + 1), then left = randint(0, W − c + 1).
 */
export function legacyRandomCropPositions(h: number, w: number, crop: number, num: number, seed: number | LegacyMT19937): [number, number][] {
  const rng = typeof seed === 'number' ? new LegacyMT19937(seed) : seed;
  const out: [number, number][] = [];
  for (let i = 0; i < num; i++) {
    const t = rng.randint(h - crop + 1);
    const l = rng.randint(w - crop + 1);
    out.push([t, l]);
  }
  return out;
}
