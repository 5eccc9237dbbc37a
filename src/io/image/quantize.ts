// Pixels ↔ float tensors with the reference conventions: reading divides by 255 / 65535 in
// float32; writing clamps to [0, 1], multiplies by 255 / 65535 in float32 and rounds half to even
// (torch.round), as BasicSR's tensor2img and ResShift's outputs do. Never Math.round.
import * as torch from '../../engine/index.js';
import { Tensor, ArgumentError } from '../../engine/index.js';

/** float32(i / 255) for every 8-bit level: an exact float32 division, looked up. */
const LUT8 = Float32Array.from({ length: 256 }, (_, i) => Math.fround(i / 255));

/**
 * Interleaved HWC samples (channels picked by `pick`, in that order) → [1, C, H, W] float32 in
 * [0, 1]. One pass in JS: the double quotient rounded once to float32 equals float32 division.
 */
export function pixelsToTensor(src: Uint8Array | Uint16Array, width: number, height: number, srcChannels: number, pick: number[]): Tensor {
  const n = width * height, c = pick.length;
  const out = new Float32Array(n * c);
  if (src instanceof Uint8Array) {
    for (let k = 0; k < c; k++) {
      const ch = pick[k]!, base = k * n;
      for (let i = 0, j = ch; i < n; i++, j += srcChannels) out[base + i] = LUT8[src[j]!]!;
    }
  } else {
    for (let k = 0; k < c; k++) {
      const ch = pick[k]!, base = k * n;
      for (let i = 0, j = ch; i < n; i++, j += srcChannels) out[base + i] = Math.fround(src[j]! / 65535);
    }
  }
  return torch.fromTypedArray(out, [1, c, height, width]);
}

function checkFloatImage(op: string, t: unknown): Tensor {
  if (!(t instanceof Tensor) || t.isDisposed) throw new ArgumentError(op, 'data', 'must be a live Tensor');
  if (!torch.isFloating(t.dtype)) throw new ArgumentError(op, 'data', `must be floating point in [0, 1], got ${t.dtype}`);
  return t;
}

/** clamp(t, 0, 1) · 255 in float32, rounded half to even, as uint8 (same shape). */
export function toUint8(t: Tensor): Tensor {
  checkFloatImage('toUint8', t);
  return torch.scope(() => t.to({ dtype: 'float32' }).clamp(0, 1).mul(255).round().to({ dtype: 'uint8' }));
}

/**
 * clamp(t, 0, 1) · 65535 in float32, rounded half to even. LibTorch 1.13 has no uint16 dtype,
 * so the result is an int32 tensor holding 0..65535 (same shape).
 */
export function toUint16(t: Tensor): Tensor {
  checkFloatImage('toUint16', t);
  return torch.scope(() => t.to({ dtype: 'float32' }).clamp(0, 1).mul(65535).round().to({ dtype: 'int32' }));
}

/** [1, C, H, W] or [C, H, W] float → interleaved HWC samples of the given depth. */
export function tensorToPixels(t: Tensor, bitDepth: 8 | 16): { pixels: Uint8Array | Uint16Array; width: number; height: number; channels: number } {
  const chw = t.ndim === 4 ? t.select(0, 0) : t;
  try {
    const [channels, height, width] = chw.shape as [number, number, number];
    if (bitDepth === 8) {
      const pixels = torch.scope(() => toUint8(chw).permute([1, 2, 0]).contiguous().toBytes());
      return { pixels, width, height, channels };
    }
    const i32 = torch.scope(() => toUint16(chw).permute([1, 2, 0]).contiguous().toArray() as Int32Array);
    return { pixels: Uint16Array.from(i32), width, height, channels };
  } finally {
    if (chw !== t) chw.dispose();
  }
}
