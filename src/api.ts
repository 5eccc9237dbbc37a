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
// or a sharp instance. Options are the CLI's (docs/upscale.md). Errors are one line. The model
// computes in a worker thread of its own (src/api/remote.ts), so the caller's event loop stays
// free and an AbortSignal stops a job at its next tile.
import { parseColorFix, type ColorFix } from './api/colorfix.js';
import { AbortError, OptionError } from './api/errors.js';
import type { ImageJob, RawPixels } from './api/execute.js';
import { parseMemory } from './api/memory.js';
import { isModel, loadModel, type Model, type ModelSpec } from './api/model.js';
import { parseExt, type ExtChoice } from './api/naming.js';
import { checkSizeOptions } from './api/scale.js';
import type { WriteFormat } from './io/image/index.js';

export { loadModel, modelFromUpscaler, type Model, type ModelSpec, type LoadOptions } from './api/model.js';
export type { RawPixels } from './api/execute.js';
export { AbortError, OptionError } from './api/errors.js';
export { COLOR_FIXES, type ColorFix } from './api/colorfix.js';
export { EXT_CHOICES, type ExtChoice } from './api/naming.js';
export { expandInputs } from './api/inputs.js';
export { runBatch, type BatchSummary, type ItemResult, type JobOptions } from './api/runner.js';

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
  /** A model from loadModel() (reused), or a spec / 'vpdsr-x4' / 'bicubic' / a folder (loaded for this call). Default: the bundled model (vpdsr-x4). */
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

type FormatHint = ImageJob['formatHint'];

/** The job's input as plain data: a path, encoded bytes or typed pixels (sharp instances encoded losslessly here). */
async function jobInput(input: UpscaleInput): Promise<{ input: ImageJob['input']; formatHint?: FormatHint }> {
  if (typeof input === 'string') {
    if (input.length === 0) throw new OptionError('upscale(input): the file path is empty');
    return { input };
  }
  if (isRaw(input)) return { input };
  if (input instanceof Uint8Array) return { input };
  if (isSharp(input)) {
    // Lossless PNG of what the instance would output (its pending operations applied), at its
    // depth, with its metadata; readImage then handles grey, alpha, 16 bits and orientation.
    const meta = await input.metadata();
    let s = input.clone().keepMetadata();
    if (meta.depth === 'ushort') s = s.toColourspace(meta.space === 'grey16' || meta.space === 'b-w' ? 'grey16' : 'rgb16');
    const f = meta.format;
    return { input: await s.png({ compressionLevel: 0 }).toBuffer(), formatHint: f === 'jpeg' || f === 'webp' || f === 'tiff' || f === 'png' ? f : undefined };
  }
  throw new OptionError('upscale(input): input must be a file path, a Buffer, typed pixels { data, width, height, channels } or a sharp instance');
}

function checkOptions(o: UpscaleOptions): void {
  if (o === null || typeof o !== 'object') throw new OptionError('upscale(input, options): options must be an object');
  if (o.output !== undefined && (typeof o.output !== 'string' || o.output.length === 0)) throw new OptionError('output must be a file path');
  if (o.quality !== undefined && (!Number.isInteger(o.quality) || o.quality < 1 || o.quality > 100)) throw new OptionError(`quality must be an integer 1–100, got ${JSON.stringify(o.quality)}`);
  if (o.seed !== undefined && (!Number.isSafeInteger(o.seed) || o.seed < 0)) throw new OptionError(`seed must be a non-negative integer, got ${JSON.stringify(o.seed)}`);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw new OptionError('onProgress must be a function');
  if (o.onWarning !== undefined && typeof o.onWarning !== 'function') throw new OptionError('onWarning must be a function');
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw new OptionError('signal must be an AbortSignal');
  if (o.tileMerge !== undefined && o.tileMerge !== 'feather' && o.tileMerge !== 'average') throw new OptionError(`tileMerge must be feather or average, got ${JSON.stringify(o.tileMerge)}`);
  for (const k of ['tile', 'tileOverlap', 'maxPixels'] as const) {
    const v = o[k];
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 0)) throw new OptionError(`${k} must be a non-negative integer, got ${JSON.stringify(v)}`);
  }
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
  // The format: ext, else the output file's extension, else the input's (auto).
  let ext: ExtChoice = parseExt(options.ext);
  if (options.ext === undefined && options.output !== undefined) {
    const fromName = /\.(png|jpe?g|webp|tiff?)$/i.exec(options.output)?.[1]?.toLowerCase();
    if (!fromName) throw new OptionError(`output ${options.output}: cannot tell the format from the extension (use .png, .jpg, .webp or .tif, or pass ext)`);
    ext = parseExt(fromName);
  }
  const { input: jin, formatHint } = await jobInput(input);
  const job: ImageJob = {
    input: jin, formatHint, ext, output: options.output, overwrite: options.overwrite === true, quality: options.quality,
    colorFix, size: { outscale: options.outscale, width: options.width, height: options.height },
    tile: options.tile, tileOverlap: options.tileOverlap, tileMerge: options.tileMerge, maxMemory, seed: options.seed,
    stripMetadata: options.stripMetadata === true, maxPixels: options.maxPixels,
  };
  const owned = !isModel(options.model);
  const model = isModel(options.model) ? options.model : await loadModel(options.model ?? {});
  try {
    const onTile = options.onProgress ? (done: number, total: number) => options.onProgress!({ tile: done, tiles: total, fraction: done / total }) : undefined;
    const r = await model.execute(job, { onTile, onWarning: options.onWarning, signal });
    if (options.output === undefined) return r.bytes as Buffer;
    return { file: options.output, width: r.width, height: r.height, channels: r.channels, bitDepth: r.bitDepth, format: r.format };
  } finally {
    if (owned) model.dispose();
  }
}
export { train, distill, trainEncoder, ConfigError, type TrainOptions, type TrainResult, type TrainProgress, type TrainLogRecord, type TeacherConfig, type DistillConfig, type EncoderConfig } from './api/train.js';
