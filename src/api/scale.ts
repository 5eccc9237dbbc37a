// Output size: the model is ×4; --outscale F resizes its output to ⌊F·w⌋×⌊F·h⌋ afterwards, as
// Real-ESRGAN's `cv2.resize(output, (int(w * outscale), int(h * outscale)))`; --width/--height give
// an exact size (one of them keeps the aspect ratio). The resize is PyTorch's antialiased bicubic
// (F.interpolate(..., mode='bicubic', antialias=True): PIL's bicubic, a = −0.5, widened when
// shrinking so nothing aliases), done on the float output before it is quantised once.
import * as torch from '../engine/index.js';
import type { Tensor } from '../engine/index.js';
import { OptionError } from './errors.js';

export interface SizeOptions {
  /** Final scale relative to the input (default 4, the model's). */
  outscale?: number;
  /** Exact output width / height in pixels. */
  width?: number;
  height?: number;
}

const MAX_SIDE = 65535;

export function checkSizeOptions(o: SizeOptions): SizeOptions {
  if (o.outscale !== undefined && (typeof o.outscale !== 'number' || !Number.isFinite(o.outscale) || o.outscale <= 0 || o.outscale > 64)) {
    throw new OptionError(`outscale must be a number in (0, 64], got ${JSON.stringify(o.outscale)}`);
  }
  for (const k of ['width', 'height'] as const) {
    const v = o[k];
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 1 || v > MAX_SIDE)) throw new OptionError(`${k} must be an integer from 1 to ${MAX_SIDE}, got ${JSON.stringify(v)}`);
  }
  if (o.outscale !== undefined && (o.width !== undefined || o.height !== undefined)) throw new OptionError('outscale cannot be combined with width/height: give one or the other');
  return o;
}

/** The final [width, height] of an input of w×h. */
export function targetSize(w: number, h: number, o: SizeOptions): [number, number] {
  checkSizeOptions(o);
  let W: number, H: number;
  if (o.width !== undefined && o.height !== undefined) [W, H] = [o.width, o.height];
  else if (o.width !== undefined) [W, H] = [o.width, Math.max(1, Math.round((h * o.width) / w))];
  else if (o.height !== undefined) [W, H] = [Math.max(1, Math.round((w * o.height) / h)), o.height];
  else {
    const s = o.outscale ?? 4;
    // A small epsilon so 3.5 × 10 gives 35 where the binary product is 34.999…
    [W, H] = [Math.max(1, Math.floor(w * s + 1e-9)), Math.max(1, Math.floor(h * s + 1e-9))];
  }
  if (W > MAX_SIDE || H > MAX_SIDE) throw new OptionError(`output size ${W}×${H} is larger than image formats allow (${MAX_SIDE} per side)`);
  return [W, H];
}

/** Resizes [1, C, h, w] float in [0, 1] to [1, C, H, W] (antialiased bicubic, clamped); the same tensor's copy when the size is unchanged. */
export function resizeTo(x: Tensor, width: number, height: number): Tensor {
  if (x.size(2) === height && x.size(3) === width) return x.clone();
  return torch.scope(() => torch.interpolate(x, { size: [height, width], mode: 'bicubic', alignCorners: false, antialias: true }).clamp(0, 1));
}
