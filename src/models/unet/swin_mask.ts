// The Swin buffers: the shifted-window attention mask (with upstream's quirk) and the relative
// position index — ResShift@3ce1d81:models/swin_transformer.py SwinTransformerBlock.calculate_mask,
// WindowAttention.__init__.
import * as torch from '../../engine/index.js';
import { Tensor } from '../../engine/index.js';

/** Python's slice(start, end) on a dimension of length n, as the half-open range it selects. */
function pySlice(n: number, start: number | null, end: number | null): [number, number] {
  const norm = (v: number | null, dflt: number): number => {
    if (v === null) return dflt;
    const w = v < 0 ? v + n : v;
    return Math.min(Math.max(w, 0), n);
  };
  const lo = norm(start, 0), hi = norm(end, n);
  return [lo, Math.max(lo, hi)];
}

export type SwinMaskMode = 'upstream' | 'correct';

/**
 * The additive mask [nW, ws², ws²] (0 or −100, float32) for an H×W map, as calculate_mask computes it.
 *
 * 'upstream' reproduces the released code literally: img_mask is allocated [1, 1, H, W] but indexed
 * as if it were [1, H, W, 1], so the "height" slices hit the singleton axis and the "width" slices the
 * rows; the partitioned labels are then permuted (0, 2, 3, 1), which transposes the in-window order.
 * The checkpoints were trained with this mask (MODEL_SPEC §2.4.5), so it is the default.
 * 'correct' is the textbook Swin mask (rows and columns of the wrapped border regions separated).
 */
export function calculateMaskData(H: number, W: number, windowSize: number, shiftSize: number, mode: SwinMaskMode = 'upstream'): Float32Array {
  const ws = windowSize, s = shiftSize;
  if (!Number.isInteger(ws) || ws < 1) throw new RangeError(`swin mask: window size must be a positive integer, got ${ws}`);
  if (!Number.isInteger(s) || s < 0 || s >= ws) throw new RangeError(`swin mask: shift must be an integer in [0, ${ws}), got ${s}`);
  if (!Number.isInteger(H) || !Number.isInteger(W) || H < 1 || W < 1 || H % ws !== 0 || W % ws !== 0) {
    throw new RangeError(`swin mask: feature map ${H}×${W} is not a multiple of the window size ${ws}`);
  }
  const slices: [number | null, number | null][] = [[0, -ws], [-ws, -s], [-s, null]];
  // img[r][c]: the region label of pixel (r, c); img_mask's dims are [1, 1, H, W].
  const img = new Float32Array(H * W);
  let cnt = 0;
  for (const h of slices) {
    for (const w of slices) {
      if (mode === 'upstream') {
        // img_mask[:, h, w, :] = cnt — h on the singleton axis, w on the rows, all columns.
        const [h0, h1] = pySlice(1, h[0], h[1]);
        const [r0, r1] = pySlice(H, w[0], w[1]);
        if (h1 > h0) for (let r = r0; r < r1; r++) img.fill(cnt, r * W, (r + 1) * W);
      } else {
        const [r0, r1] = pySlice(H, h[0], h[1]);
        const [c0, c1] = pySlice(W, w[0], w[1]);
        for (let r = r0; r < r1; r++) img.fill(cnt, r * W + c0, r * W + c1);
      }
      cnt++;
    }
  }
  const nWr = H / ws, nWc = W / ws, N = ws * ws;
  const out = new Float32Array(nWr * nWc * N * N);
  const labels = new Float32Array(N);
  for (let i = 0; i < nWr; i++) {
    for (let j = 0; j < nWc; j++) {
      for (let r = 0; r < ws; r++) {
        for (let c = 0; c < ws; c++) {
          const v = img[(i * ws + r) * W + j * ws + c]!;
          // upstream: window_partition(...).permute(0, 2, 3, 1) puts token (r, c) at c·ws + r.
          labels[mode === 'upstream' ? c * ws + r : r * ws + c] = v;
        }
      }
      const base = (i * nWc + j) * N * N;
      // attn_mask = mask_windows.unsqueeze(1) - mask_windows.unsqueeze(2): [n, a, b] = m[b] − m[a].
      for (let a = 0; a < N; a++) for (let b = 0; b < N; b++) out[base + a * N + b] = labels[b] !== labels[a] ? -100 : 0;
    }
  }
  return out;
}

/** calculate_mask as a float32 CPU tensor [nW, ws², ws²]. */
export function calculateMask(H: number, W: number, windowSize: number, shiftSize: number, mode: SwinMaskMode = 'upstream'): Tensor {
  const n = (H / windowSize) * (W / windowSize), N = windowSize * windowSize;
  return torch.fromTypedArray(calculateMaskData(H, W, windowSize, shiftSize, mode), [n, N, N]);
}

/** WindowAttention.relative_position_index: int64 [ws², ws²], index[p, q] = (r_p − r_q + ws − 1)(2ws − 1) + (c_p − c_q + ws − 1). */
export function relativePositionIndexData(windowSize: number): BigInt64Array {
  const ws = windowSize, N = ws * ws;
  if (!Number.isInteger(ws) || ws < 1) throw new RangeError(`relative position index: window size must be a positive integer, got ${ws}`);
  const out = new BigInt64Array(N * N);
  for (let p = 0; p < N; p++) {
    const rp = Math.floor(p / ws), cp = p % ws;
    for (let q = 0; q < N; q++) {
      const rq = Math.floor(q / ws), cq = q % ws;
      out[p * N + q] = BigInt((rp - rq + ws - 1) * (2 * ws - 1) + (cp - cq + ws - 1));
    }
  }
  return out;
}

export function relativePositionIndex(windowSize: number): Tensor {
  const N = windowSize * windowSize;
  return torch.fromTypedArray(relativePositionIndexData(windowSize), [N, N]);
}
