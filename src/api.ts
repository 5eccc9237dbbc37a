// vpdsr as a library: `await loadModel(spec)` once, then `await upscale(input, options)` per image.
//
// ```ts
// import { loadModel, upscale } from 'vpdsr';
// const model = await loadModel({ model: 'bicubic' });           // or { model: DIR } / { preset, unet, vq }
// const png: Buffer = await upscale('photo.jpg', { model, outscale: 2 });
// await upscale(buffer, { model, output: 'out/photo.webp', quality: 90, signal, onProgress });
// model.dispose();
// ```
// Inputs: a file path, encoded bytes (Buffer / Uint8Array), typed pixels
// `{ data: Uint8Array | Uint16Array | Float32Array, width, height, channels }` (HWC interleaved)
// or a sharp instance. Options are the CLI's (docs/upscale.md). Errors are one line.
import { readImage, writeImage, encodeImage, type DecodedImage, type WriteFormat } from './io/image/index.js';
import { parseColorFix, type ColorFix } from './api/colorfix.js';
import { AbortError, OptionError } from './api/errors.js';
import { renderImage, type SourceImage } from './api/job.js';
import { parseMemory } from './api/memory.js';
import { isModel, loadModel, type Model, type ModelSpec } from './api/model.js';
import { parseExt, type ExtChoice, outputFormat } from './api/naming.js';
import { typedPixelsToTensor } from './api/pixels.js';
import { checkSizeOptions } from './api/scale.js';

export { loadModel, modelFromUpscaler, type Model, type ModelSpec } from './api/model.js';
export { AbortError, OptionError } from './api/errors.js';
export { COLOR_FIXES, type ColorFix } from './api/colorfix.js';
export { EXT_CHOICES, type ExtChoice } from './api/naming.js';
export { expandInputs } from './api/inputs.js';
export { runBatch, type BatchSummary, type ItemResult, type JobOptions } from './api/runner.js';

/** Interleaved (HWC) pixels: 8-bit, 16-bit, or float in [0, 1]. */
export interface RawPixels {
  data: Uint8Array | Uint8ClampedArray | Uint16Array | Float32Array;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

/** What sharp instances offer that is used here (so sharp stays an implementation detail). */
export interface SharpLike {
  clone(): SharpLike;
  metadata(): Promise<{ depth?: string; space?: string; format?: string }>;
  keepMetadata(): SharpLike;
  toColourspace(space: string): SharpLike;
  png(o?: { compressionLevel?: number }): SharpLike;
  toBuffer(): Promise<Buffer>;
}

export type UpscaleInput = string | Buffer | Uint8Array | RawPixels | SharpLike;

export interface UpscaleProgress {
  /** Tiles of this image done so far, and in all. */
  tile: number;
  tiles: number;
  /** 0–1. */
  fraction: number;
}

export interface UpscaleOptions {
  /** A model from loadModel() (reused), or a spec / 'bicubic' / a folder (loaded for this call). Default 'bicubic'. */
  model?: Model | ModelSpec | string;
  /** Write to this file (atomically) instead of returning the encoded bytes. */
  output?: string;
  /** Output format: png | jpg | webp | tiff | auto (default: the output file's extension, else auto = the input's format, PNG where sharp cannot write it). */
  ext?: ExtChoice;
  /** JPEG / WebP quality 1–100 (default 95). */
  quality?: number;
  outscale?: number;
  width?: number;
  height?: number;
  stripMetadata?: boolean;
  colorFix?: ColorFix;
  /** Tile size in LR px (0 = none); default chosen from maxMemory. */
  tile?: number;
  tileOverlap?: number;
  /** How overlapping tiles are merged: 'feather' (default, seamless) or 'average' (upstream's). */
  tileMerge?: 'feather' | 'average';
  /** Memory budget: bytes, or '4G', '512M' …; default ¾ of free RAM. */
  maxMemory?: number | string;
  seed?: number;
  /** Replace an existing output file (default false). */
  overwrite?: boolean;
  /** Pixel limit of decoded inputs (decompression bombs); default 100 MP or VPDSR_MAX_PIXELS. */
  maxPixels?: number;
  onProgress?: (p: UpscaleProgress) => void;
  /** Receives notes such as "TIFF output cannot carry EXIF" (default: ignored). */
  onWarning?: (message: string) => void;
  signal?: AbortSignal;
}

export interface UpscaleResult {
  file: string;
  width: number;
  height: number;
  channels: number;
  bitDepth: 8 | 16;
  format: WriteFormat;
}

function isSharp(v: unknown): v is SharpLike {
  const s = v as SharpLike;
  return typeof v === 'object' && v !== null && typeof s.clone === 'function' && typeof s.metadata === 'function' && typeof s.toBuffer === 'function';
}

function isRaw(v: unknown): v is RawPixels {
  const r = v as RawPixels;
  return typeof v === 'object' && v !== null && ArrayBuffer.isView(r.data) && 'width' in r && 'height' in r && 'channels' in r;
}

type Source = SourceImage & { format?: DecodedImage['format']; name: string };

async function decodeInput(input: UpscaleInput, maxPixels: number | undefined): Promise<Source> {
  if (typeof input === 'string') return { ...(await readImage(input, { maxPixels })), name: input };
  if (Buffer.isBuffer(input) || input instanceof Uint8Array && !isRaw(input)) {
    const buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    return { ...(await readImage(buf, { maxPixels })), name: '<buffer>' };
  }
  if (isSharp(input)) {
    // Lossless PNG of what the instance would output (its pending operations applied), at its
    // depth, with its metadata; readImage then handles grey, alpha, 16 bits and orientation.
    const meta = await input.metadata();
    let s = input.clone().keepMetadata();
    if (meta.depth === 'ushort') s = s.toColourspace(meta.space === 'grey16' || meta.space === 'b-w' ? 'grey16' : 'rgb16');
    const buf = await s.png({ compressionLevel: 0 }).toBuffer();
    const img = await readImage(buf, { maxPixels });
    const f = meta.format;
    return { ...img, format: f === 'jpeg' || f === 'webp' || f === 'tiff' || f === 'png' ? f : img.format, name: '<sharp>' };
  }
  if (isRaw(input)) {
    const { data, bitDepth } = typedPixelsToTensor(input);
    return { data, width: input.width, height: input.height, channels: input.channels, bitDepth, name: '<pixels>' };
  }
  throw new OptionError('upscale(input): input must be a file path, a Buffer, typed pixels { data, width, height, channels } or a sharp instance');
}

const FORMAT_EXT: Record<string, string> = { png: '.png', jpeg: '.jpg', webp: '.webp', tiff: '.tif', gif: '.gif', avif: '.avif', heif: '.heif' };

function checkOptions(o: UpscaleOptions): void {
  if (o === null || typeof o !== 'object') throw new OptionError('upscale(input, options): options must be an object');
  if (o.output !== undefined && (typeof o.output !== 'string' || o.output.length === 0)) throw new OptionError('output must be a file path');
  if (o.quality !== undefined && (!Number.isInteger(o.quality) || o.quality < 1 || o.quality > 100)) throw new OptionError(`quality must be an integer 1–100, got ${JSON.stringify(o.quality)}`);
  if (o.seed !== undefined && (!Number.isSafeInteger(o.seed) || o.seed < 0)) throw new OptionError(`seed must be a non-negative integer, got ${JSON.stringify(o.seed)}`);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw new OptionError('onProgress must be a function');
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw new OptionError('signal must be an AbortSignal');
  if (o.tileMerge !== undefined && o.tileMerge !== 'feather' && o.tileMerge !== 'average') throw new OptionError(`tileMerge must be feather or average, got ${JSON.stringify(o.tileMerge)}`);
  checkSizeOptions(o);
}

/** Upscales one image: returns the encoded output, or writes it to `options.output`. */
export async function upscale(input: UpscaleInput, options: UpscaleOptions & { output: string }): Promise<UpscaleResult>;
export async function upscale(input: UpscaleInput, options?: UpscaleOptions): Promise<Buffer>;
export async function upscale(input: UpscaleInput, options: UpscaleOptions = {}): Promise<Buffer | UpscaleResult> {
  checkOptions(options);
  const colorFix = parseColorFix(options.colorFix);
  const maxMemory = options.maxMemory === undefined ? undefined : parseMemory(options.maxMemory);
  const signal = options.signal;
  if (signal?.aborted) throw new AbortError();
  // The format: --ext, else the output file's extension, else the input's (auto).
  let ext: ExtChoice = parseExt(options.ext);
  if (options.ext === undefined && options.output !== undefined) {
    const fromName = /\.(png|jpe?g|webp|tiff?)$/i.exec(options.output)?.[1]?.toLowerCase();
    if (!fromName) throw new OptionError(`output ${options.output}: cannot tell the format from the extension (use .png, .jpg, .webp or .tif, or pass ext)`);
    ext = parseExt(fromName);
  }
  const owned = !isModel(options.model);
  const model = isModel(options.model) ? options.model : await loadModel(options.model ?? 'bicubic');
  try {
    const src = await decodeInput(input, options.maxPixels);
    try {
      if (signal?.aborted) throw new AbortError();
      const hasAlpha = src.channels === 2 || src.channels === 4;
      const format = outputFormat(`x${FORMAT_EXT[src.format ?? 'png'] ?? '.png'}`, ext, hasAlpha);
      const onTile = options.onProgress ? (done: number, total: number) => options.onProgress!({ tile: done, tiles: total, fraction: done / total }) : undefined;
      const r = await renderImage(src, model, format, {
        colorFix, size: options, tile: options.tile, tileOverlap: options.tileOverlap, tileMerge: options.tileMerge, maxMemory, seed: options.seed,
        stripMetadata: options.stripMetadata === true, onTile, signal,
      });
      try {
        for (const w of r.warnings) options.onWarning?.(w);
        if (signal?.aborted) throw new AbortError();
        const enc = { format, bitDepth: r.bitDepth, quality: options.quality, exif: r.exif, icc: r.icc };
        if (options.output === undefined) return await encodeImage(r.data, enc);
        await writeImage(options.output, r.data, { ...enc, overwrite: options.overwrite === true });
        return { file: options.output, width: r.data.size(3), height: r.data.size(2), channels: r.data.size(1), bitDepth: r.bitDepth, format };
      } finally {
        r.data.dispose();
      }
    } finally {
      src.data.dispose();
    }
  } finally {
    if (owned) model.dispose();
  }
}
