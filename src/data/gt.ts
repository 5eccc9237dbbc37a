// ResShift's training GT preparation (ResShift@3ce1d81 basicsr/data/realesrgan_dataset.py,
// RealESRGANDataset.__getitem__, mode "training"; MODEL_SPEC §7.2): optional horizontal flip,
// reflect-101 padding loop to crop_pad_size, random square crop, INTER_AREA resize to gt_size.
// Flip, padding and crop are pure index maps, so they are composed in JS and applied with one
// index_select per axis: the pixels are exact copies, as in OpenCV.
import * as torch from '../engine/index.js';
import { Tensor } from '../engine/index.js';
import type { RandomSource } from './rng.js';
import { resizeArea } from './resize.js';

export interface GtPrepConfig {
  gt_size: number;
  crop_pad_size: number;
  use_hflip: boolean;
  rescale_gt: boolean;
}

/** What the preparation drew and derived for one image (logged per pair; replayed by golden cases). */
export interface GtPrepSample {
  hflip: boolean;
  crop_pad_size: number;
  padded_hw: [number, number];
  top: number;
  left: number;
  resize_to: number | null;
}

// cv2.borderInterpolate(p, len, BORDER_REFLECT_101)
function reflect101(p: number, len: number): number {
  if (len === 1) return 0;
  do {
    if (p < 0) p = -p - 1 + 1;
    else p = len - 1 - (p - len) - 1;
  } while (p < 0 || p >= len);
  return p;
}

/** The sizes the padding loop goes through: while h < cps or w < cps pad by min(max(0, cps − h), h). */
function padLoop(h: number, w: number, cps: number, onRound?: (padH: number, padW: number) => void): [number, number] {
  while (h < cps || w < cps) {
    const padH = Math.min(Math.max(0, cps - h), h);
    const padW = Math.min(Math.max(0, cps - w), w);
    if (onRound) onRound(padH, padW);
    h += padH;
    w += padW;
  }
  return [h, w];
}

function checkConfig(cfg: GtPrepConfig): void {
  for (const k of ['gt_size', 'crop_pad_size'] as const) {
    if (!Number.isInteger(cfg[k]) || cfg[k] < 1) throw new RangeError(`GT preparation: ${k} must be a positive integer, got ${cfg[k]}`);
  }
}

/** The draws of the GT steps, in upstream order: flip (random.random() < 0.5), then top, left. */
export function sampleGtPrep(rng: RandomSource, h: number, w: number, cfg: GtPrepConfig): GtPrepSample {
  checkConfig(cfg);
  if (!Number.isInteger(h) || !Number.isInteger(w) || h < 1 || w < 1) throw new RangeError(`GT preparation: bad image size ${h}×${w}`);
  const hflip = cfg.use_hflip && rng.random() < 0.5;
  const cps = cfg.rescale_gt ? Math.max(Math.min(h, w), cfg.gt_size) : cfg.crop_pad_size;
  const [ph, pw] = padLoop(h, w, cps);
  let top = 0, left = 0;
  if (ph > cps || pw > cps) {
    top = rng.randint(0, ph - cps);
    left = rng.randint(0, pw - cps);
  }
  return { hflip, crop_pad_size: cps, padded_hw: [ph, pw], top, left, resize_to: cfg.rescale_gt && cps !== cfg.gt_size ? cfg.gt_size : null };
}

/** Row and column source indices of the flipped, padded and cropped image. */
function indexMaps(h: number, w: number, s: GtPrepSample): { rows: number[]; cols: number[] } {
  let rows = Array.from({ length: h }, (_, i) => i);
  let cols = Array.from({ length: w }, (_, i) => (s.hflip ? w - 1 - i : i));
  const [ph, pw] = padLoop(h, w, s.crop_pad_size, (padH, padW) => {
    const r = rows, c = cols;
    rows = r.concat(Array.from({ length: padH }, (_, i) => r[reflect101(r.length + i, r.length)]!));
    cols = c.concat(Array.from({ length: padW }, (_, i) => c[reflect101(c.length + i, c.length)]!));
  });
  if (ph !== s.padded_hw[0] || pw !== s.padded_hw[1]) throw new RangeError(`GT preparation: the image pads to ${ph}×${pw}, the sample says ${s.padded_hw.join('×')}`);
  if (ph > s.crop_pad_size || pw > s.crop_pad_size) {
    const cps = s.crop_pad_size;
    if (s.top < 0 || s.left < 0 || s.top > ph - cps || s.left > pw - cps) throw new RangeError(`GT preparation: crop at (${s.top}, ${s.left}) leaves the ${ph}×${pw} image`);
    rows = rows.slice(s.top, s.top + cps);
    cols = cols.slice(s.left, s.left + cps);
  }
  return { rows, cols };
}

/**
 * Applies a GtPrepSample to one image (C, H, W) float32 in [0, 1] (already divided by 255, as
 * upstream divides before any geometric step). Returns (C, S, S) float32.
 */
export function applyGtPrep(img: Tensor, s: GtPrepSample): Tensor {
  if (!(img instanceof Tensor) || img.ndim !== 3 || img.dtype !== 'float32') throw new RangeError('applyGtPrep(): img must be a float32 (C, H, W) tensor');
  const [, h, w] = img.shape as [number, number, number];
  const { rows, cols } = indexMaps(h, w, s);
  return torch.scope(() => {
    const r = torch.tensor(rows, { dtype: 'int64' }), c = torch.tensor(cols, { dtype: 'int64' });
    const sq = img.indexSelect(1, r).indexSelect(2, c);
    return s.resize_to === null ? sq.contiguous() : resizeArea(sq, s.resize_to, s.resize_to);
  });
}

/** sampleGtPrep + applyGtPrep. */
export function prepareGt(img: Tensor, rng: RandomSource, cfg: GtPrepConfig): { gt: Tensor; sample: GtPrepSample } {
  if (!(img instanceof Tensor) || img.ndim !== 3) throw new RangeError('prepareGt(): img must be a (C, H, W) tensor');
  const sample = sampleGtPrep(rng, img.size(1), img.size(2), cfg);
  return { gt: applyGtPrep(img, sample), sample };
}

/** The default `vpdsr degrade` GT: the whole image cropped (top-left anchored) to multiples of sf. */
export function modCrop(img: Tensor, sf: number): Tensor {
  if (!(img instanceof Tensor) || img.ndim < 2) throw new RangeError('modCrop(): img must be a (…, H, W) tensor');
  const h = img.size(-2), w = img.size(-1);
  const hh = h - (h % sf), ww = w - (w % sf);
  if (hh < 1 || ww < 1) throw new RangeError(`modCrop(): a ${h}×${w} image is smaller than the scale ${sf}`);
  return torch.scope(() => img.slice(-2, 0, hh).slice(-1, 0, ww).contiguous());
}
