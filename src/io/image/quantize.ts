// Pixels ↔ float tensors with the reference conventions: reading divides by 255 / 65535 in
// float32; writing clamps to [0, 1], multiplies by 255 / 65535 in float32 and rounds half to even
// (torch.round), as BasicSR's tensor2img and ResShift's outputs do. Never Math.round.
import * as torch from '../../engine/index.js';
import { Tensor, ArgumentError } from '../../engine/index.js';

/**
 * One reusable float32 staging buffer: fresh pages cost ~4.5 ms/MB to touch on these machines,
 * so converting through a buffer that stays mapped is much faster than a new one per image. It is
 * only used inside synchronous code, so one is enough.
 */
let staging = new Float32Array(0);
function stagingBuffer(n: number): Float32Array {
  if (staging.length < n) staging = new Float32Array(n);
  return staging.subarray(0, n);
}

/** float32(i / 255) for every 8-bit level: an exact float32 division, looked up. */
const LUT8 = Float32Array.from({ length: 256 }, (_, i) => Math.fround(i / 255));

/**
 * Interleaved HWC samples (channels picked by `pick`, in that order) → [1, C, H, W] float32 in
 * [0, 1]. One pass in JS: the double quotient rounded once to float32 equals float32 division.
 */
export function pixelsToTensor(src: Uint8Array | Uint16Array, width: number, height: number, srcChannels: number, pick: number[]): Tensor {
  const n = width * height, c = pick.length;
  const out = stagingBuffer(n * c);
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

/**
 * [1, C, H, W] or [C, H, W] float → interleaved HWC samples of the given depth, with exactly the
 * toUint8 / toUint16 rule (clamp, ×max in float32, round half to even) in one JS pass instead of
 * five tensor passes. `nan` is true if any value was NaN (written as 0).
 */
export function tensorToPixels(t: Tensor, bitDepth: 8 | 16): { pixels: Uint8Array | Uint16Array; width: number; height: number; channels: number; nan: boolean } {
  const s = t.shape;
  const channels = s[s.length - 3]!, height = s[s.length - 2]!, width = s[s.length - 1]!;
  const n = width * height;
  const f = stagingBuffer(channels * n);
  if (t.dtype === 'float32' && t.device === 'cpu') t.copyInto(f);
  else torch.scope(() => t.to({ dtype: 'float32', device: 'cpu' }).copyInto(f));
  const pixels = bitDepth === 8 ? new Uint8Array(channels * n) : new Uint16Array(channels * n);
  const nan = bitDepth === 8 ? quantize(f, pixels as Uint8Array, channels, n, 255) : quantize(f, pixels as Uint16Array, channels, n, 65535);
  return { pixels, width, height, channels, nan };
}

/**
 * CHW float32 → HWC samples: clamp to [0, max], the float32 product (the double product rounded
 * once to float32 is the float32 product), round half to even. Returns whether a NaN was seen.
 */
function quantize<A extends Uint8Array | Uint16Array>(f: Float32Array, out: A, channels: number, n: number, max: number): boolean {
  let nan = false;
  for (let c = 0; c < channels; c++) {
    const base = c * n;
    for (let i = 0, j = c; i < n; i++, j += channels) {
      const v = f[base + i]!;
      if (v > 0) {
        if (v >= 1) { out[j] = max; continue; }
        const p = Math.fround(v * max);
        let r = Math.floor(p);
        const d = p - r;
        if (d > 0.5 || (d === 0.5 && (r & 1) === 1)) r++;
        out[j] = r;
      } else if (v !== v) {
        nan = true;
        out[j] = 0;
      } else {
        out[j] = 0;
      }
    }
  }
  return nan;
}
