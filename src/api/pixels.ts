// One decoded image through a ×4 Upscaler with its pixels kept right (issue 8 point 4):
// - RGB goes through the model; an alpha channel is upscaled on its own with the same bicubic ×4
//   as `--model bicubic` (PyTorch's, a = −0.75, clamped) and re-attached, as Real-ESRGAN does
//   (its alpha_upsampler 'realesrgan' runs the net on alpha; the cheap, artefact-free choice here);
// - grey (and grey + alpha) is replicated to RGB for the model and written back as grey (BT.601
//   luma of the output, which for a grey image through bicubic is the grey value itself);
// - the bit depth is the caller's business: values stay float in [0, 1] and are quantised once at
//   write time, so 16-bit in can be 16-bit out.
import * as torch from '../engine/index.js';
import { Tensor } from '../engine/index.js';
import { bicubicX4, UpscaleAbortedError, type Upscaler, type UpscaleOptions } from '../models/pipeline.js';
import { colorFixFromInput, resolveColorFix, type ColorFix } from '../models/colorfix.js';
import { AbortError } from './errors.js';
import { resizeTo, targetSize, type SizeOptions } from './scale.js';

/** The model's run options (tile and overlap already chosen), plus what happens to its output. */
export interface PixelOptions extends Pick<UpscaleOptions, 'tileMerge' | 'seed' | 'onTile' | 'signal'>, Required<Pick<UpscaleOptions, 'tile' | 'tileOverlap'>> {
  colorFix: ColorFix;
  size: SizeOptions;
}

/** BT.601 luma weights (ITU-R BT.601, what libvips and PIL use for RGB → grey). */
const LUMA = [0.299, 0.587, 0.114];

/**
 * An Upscaler that may also offer `upscaleAsync`, which yields to the event loop between tiles so
 * an AbortSignal fired by an event (Ctrl-C, a timer) is seen at the next tile. The synchronous
 * `upscale` only sees a signal that was aborted before it started or from inside onTile.
 */
type MaybeAsyncUpscaler = Upscaler & { upscaleAsync?: (lr: Tensor, opts?: UpscaleOptions) => Promise<Tensor> };

async function runModel(up: MaybeAsyncUpscaler, rgb: Tensor, opts: UpscaleOptions): Promise<Tensor> {
  try {
    if (typeof up.upscaleAsync === 'function') return await up.upscaleAsync(rgb, opts);
    // Let pending events (a signal handler) run before the synchronous work starts.
    await new Promise<void>((r) => setImmediate(r));
    if (opts.signal?.aborted) throw new AbortError();
    return up.upscale(rgb, opts);
  } catch (e) {
    if (e instanceof UpscaleAbortedError) throw new AbortError();
    throw e;
  }
}

/** [1, C, h, w] (C = 1–4) float32 in [0, 1] → [1, C, H, W] float32 in [0, 1] at the target size. */
export async function upscaleChannels(data: Tensor, up: Upscaler, o: PixelOptions): Promise<Tensor> {
  if (data.ndim !== 4 || data.size(0) !== 1 || data.size(1) < 1 || data.size(1) > 4) throw new RangeError(`image data must be [1, C, H, W] with 1–4 channels, got [${data.shape.join(', ')}]`);
  const c = data.size(1), h = data.size(2), w = data.size(3);
  const grey = c <= 2, alpha = c === 2 || c === 4;
  const [W, H] = targetSize(w, h, o.size);
  if (o.signal?.aborted) throw new AbortError();
  // Scopes are synchronous: the RGB input and the model output are kept across the await.
  const rgb = torch.keep(torch.scope(() => (grey ? data.narrow(1, 0, 1).expand(1, 3, h, w) : data.narrow(1, 0, 3)).to({ dtype: 'float32' }).contiguous()));
  let sr: Tensor | undefined;
  try {
    sr = await runModel(up, rgb, { tile: o.tile, tileOverlap: o.tileOverlap, tileMerge: o.tileMerge, seed: o.seed, onTile: o.onTile, signal: o.signal });
    if (o.signal?.aborted) throw new AbortError();
    const out = sr;
    const fix = resolveColorFix(o.colorFix, up.colorFix);
    // RGB at ×4 without a colour fix: the model's output is the result (no copy: memory).
    if (!grey && !alpha && fix.method === 'none' && W === out.size(3) && H === out.size(2)) {
      sr = undefined;
      return out;
    }
    return torch.scope(() => {
      let y = out;
      if (fix.method !== 'none') y = colorFixFromInput(fix, y, rgb);
      y = resizeTo(y, W, H);
      const parts: Tensor[] = [];
      if (grey) {
        parts.push(y.narrow(1, 0, 1).mul(LUMA[0]!).add(y.narrow(1, 1, 1).mul(LUMA[1]!)).add(y.narrow(1, 2, 1).mul(LUMA[2]!)).clamp(0, 1));
      } else {
        parts.push(y);
      }
      if (alpha) {
        const a = data.narrow(1, c - 1, 1).to({ dtype: 'float32' }).contiguous();
        parts.push(resizeTo(bicubicX4(a).clamp(0, 1), W, H));
      }
      // parts[0] is made in this scope (resize, luma): returned as is, not copied.
      return parts.length === 1 ? parts[0]! : torch.cat(parts, 1);
    });
  } finally {
    rgb.dispose();
    sr?.dispose();
  }
}

/** Interleaved typed pixels (HWC) → [1, C, H, W] float32 in [0, 1]; 8-bit /255, 16-bit /65535, float as is. */
export function typedPixelsToTensor(p: { data: Uint8Array | Uint8ClampedArray | Uint16Array | Float32Array; width: number; height: number; channels: number }): { data: Tensor; bitDepth: 8 | 16 } {
  const { width, height, channels } = p;
  if (!Number.isSafeInteger(width) || width < 1 || !Number.isSafeInteger(height) || height < 1) throw new RangeError(`pixels: width and height must be positive integers, got ${width}×${height}`);
  if (![1, 2, 3, 4].includes(channels)) throw new RangeError(`pixels: channels must be 1, 2, 3 or 4, got ${channels}`);
  const n = width * height * channels;
  if (p.data.length !== n) throw new RangeError(`pixels: data holds ${p.data.length} samples, ${width}×${height}×${channels} needs ${n}`);
  const f = new Float32Array(n);
  let bitDepth: 8 | 16 = 8;
  if (p.data instanceof Float32Array) {
    for (let i = 0; i < n; i++) {
      const v = p.data[i]!;
      if (!(v >= 0 && v <= 1)) throw new RangeError(`pixels: float samples must lie in [0, 1], found ${v} at index ${i}`);
      f[i] = v;
    }
  } else if (p.data instanceof Uint16Array) {
    bitDepth = 16;
    for (let i = 0; i < n; i++) f[i] = Math.fround(p.data[i]! / 65535);
  } else {
    for (let i = 0; i < n; i++) f[i] = Math.fround(p.data[i]! / 255);
  }
  const data = torch.scope(() => torch.fromTypedArray(f, [height, width, channels]).permute(2, 0, 1).unsqueeze(0).contiguous());
  return { data, bitDepth };
}
