// MUSIQ's multi-scale patch input (IQA_SPEC §4.2) — pyiqa@01ae427:pyiqa/data/multiscale_trans_util.py
// (get_multiscale_patches, _extract_patches_and_positions_from_image, get_hashed_spatial_pos_emb_index,
// resize_preserve_aspect_ratio, extract_image_patches).
import * as torch from '../../engine/index.js';
import { Tensor } from '../../engine/index.js';

export interface MultiscaleOptions {
  patch_size: number;
  patch_stride: number;
  hse_grid_size: number;
  longer_side_lengths: number[];
  /** Row budget of the original-resolution scale: −1 keeps all its patches, null drops the scale. */
  max_seq_len_from_original_res: number | null;
}

/** The rows the model reads: pixels [N, S, 3·p²] plus per-row position, scale id and mask [N, S]. */
export interface MultiscalePatches {
  pixels: Tensor;
  spatial: Tensor;
  scale: Tensor;
  mask: Tensor;
}

/** Python's round() on a double: ties to even (JavaScript's Math.round rounds ties up). */
export function pyRound(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * hash(n)[i]: F.interpolate(arange(g), n, mode='nearest') in float32, i.e.
 * min(floor(f32(i) · f32(g/n)), g − 1). (A double product rounded once to float32 is the float32
 * product; g/n rounded from double to float32 is the float32 quotient.)
 */
export function hashIndex1d(grid: number, n: number): number[] {
  const s = Math.fround(grid / n);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(Math.min(Math.floor(Math.fround(i * s)), grid - 1));
  return out;
}

/** get_hashed_spatial_pos_emb_index: row_hash · g + col_hash for every patch, row-major. */
export function hashIndex2d(grid: number, countH: number, countW: number): number[] {
  const hr = hashIndex1d(grid, countH), hc = hashIndex1d(grid, countW);
  const out: number[] = [];
  for (let r = 0; r < countH; r++) for (let c = 0; c < countW; c++) out.push(hr[r]! * grid + hc[c]!);
  return out;
}

/** TF 'SAME' padding for one axis: [before, after] (the extra pixel of an odd total goes after). */
export function samePadding(size: number, kernel: number, stride: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + kernel - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** Zero-pads [N, C, H, W] with TF's SAME rule for (kernel, stride) — matlab_utils/padding.py exact_padding_2d. */
export function padSame(x: Tensor, kernel: number, stride: number): Tensor {
  const [t, b] = samePadding(x.size(2), kernel, stride);
  const [l, r] = samePadding(x.size(3), kernel, stride);
  if (t === 0 && b === 0 && l === 0 && r === 0) return x;
  return torch.pad(x, [l, r, t, b]);
}

/** The size `resize_preserve_aspect_ratio` gives an h×w image for a longer side L. */
export function resizedSize(h: number, w: number, longer: number): [number, number] {
  const ratio = longer / Math.max(h, w);
  return [pyRound(h * ratio), pyRound(w * ratio)];
}

export function checkMultiscaleOptions(o: MultiscaleOptions): void {
  const posInt = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 1;
  if (!posInt(o.patch_size)) throw new RangeError(`MUSIQ: patch_size must be a positive integer, got ${o.patch_size}`);
  if (o.patch_stride !== o.patch_size) throw new RangeError(`MUSIQ: patch_stride must equal patch_size (${o.patch_size}), got ${o.patch_stride}`);
  if (!posInt(o.hse_grid_size)) throw new RangeError(`MUSIQ: hse_grid_size must be a positive integer, got ${o.hse_grid_size}`);
  if (!Array.isArray(o.longer_side_lengths) || !o.longer_side_lengths.every(posInt)) throw new RangeError('MUSIQ: longer_side_lengths must be positive integers');
  const m = o.max_seq_len_from_original_res;
  if (m !== null && !(Number.isInteger(m) && m >= -1)) throw new RangeError(`MUSIQ: max_seq_len_from_original_res must be null, -1 or a count, got ${m}`);
}

/**
 * Rows of one scale: [N, cnt, 3·p²] pixels (channel, row, column — F.unfold's order) of the
 * SAME-padded p×p patches, row-major, plus their hashed positions; padded/cut to maxSeqLen rows
 * (≥ 0) with all-zero rows (position 0, scale 0, mask 0).
 */
function scaleRows(img: Tensor, o: MultiscaleOptions, scaleId: number, maxSeqLen: number) {
  const p = o.patch_size;
  const [n, c, h, w] = img.shape as [number, number, number, number];
  const ch = Math.ceil(h / p), cw = Math.ceil(w / p);
  const padded = padSame(img, p, p);
  let pix = padded.view(n, c, ch, p, cw, p).permute(0, 2, 4, 1, 3, 5).reshape(n, ch * cw, c * p * p);
  let pos = hashIndex2d(o.hse_grid_size, ch, cw);
  let scale = pos.map(() => scaleId), mask = pos.map(() => 1);
  if (maxSeqLen >= 0) {
    const cnt = ch * cw;
    if (cnt > maxSeqLen) pix = pix.narrow(1, 0, maxSeqLen);
    else if (cnt < maxSeqLen) pix = torch.cat([pix, torch.zeros([n, maxSeqLen - cnt, c * p * p])], 1);
    const fill = (a: number[]): number[] => [...a, ...new Array<number>(Math.max(maxSeqLen - cnt, 0)).fill(0)].slice(0, maxSeqLen);
    pos = fill(pos); scale = fill(scale); mask = fill(mask);
  }
  return { pix, pos, scale, mask };
}

/**
 * get_multiscale_patches(xn, …) for an input already mapped to [−1, 1] ([N, 3, H, W] float32):
 * scales in ascending order of their longer side (bicubic, no antialias), then the original
 * resolution unless its budget is null.
 */
export function multiscalePatches(xn: Tensor, o: MultiscaleOptions): MultiscalePatches {
  checkMultiscaleOptions(o);
  if (xn.ndim !== 4 || xn.size(1) !== 3) throw new RangeError(`MUSIQ: expected an image batch [N, 3, H, W], got [${xn.shape.join(', ')}]`);
  const [n, , h, w] = xn.shape as [number, number, number, number];
  const lengths = [...o.longer_side_lengths].sort((a, b) => a - b);
  return torch.scope(() => {
    const parts: ReturnType<typeof scaleRows>[] = [];
    lengths.forEach((L, id) => {
      const [rh, rw] = resizedSize(h, w, L);
      const resized = torch.interpolate(xn, { size: [rh, rw], mode: 'bicubic', alignCorners: false });
      parts.push(scaleRows(resized, o, id, Math.ceil(L / o.patch_stride) ** 2));
    });
    if (o.max_seq_len_from_original_res !== null) parts.push(scaleRows(xn, o, lengths.length, o.max_seq_len_from_original_res));
    const pixels = parts.length === 1 ? parts[0]!.pix : torch.cat(parts.map((q) => q.pix), 1);
    const S = pixels.size(1);
    const row = (key: 'pos' | 'scale' | 'mask', dtype: 'int64' | 'bool'): Tensor => {
      const vals = parts.flatMap((q) => q[key]);
      const t = dtype === 'bool' ? torch.tensor(vals.map((v) => v !== 0)) : torch.tensor(vals, { dtype: 'int64' });
      return t.view(1, S).expand(n, S).contiguous();
    };
    return { pixels: pixels.contiguous(), spatial: row('pos', 'int64'), scale: row('scale', 'int64'), mask: row('mask', 'bool') };
  });
}

/** The single float tensor upstream returns: [N, S, 3·p² + 3] = pixels, position, scale id, mask. */
export function packPatches(p: MultiscalePatches): Tensor {
  return torch.scope(() => torch.cat([p.pixels, p.spatial.unsqueeze(2).float(), p.scale.unsqueeze(2).float(), p.mask.unsqueeze(2).float()], 2));
}
