// upscale(input, options): one image through a model (the library's entry point; api.ts re-exports it).
import { AbortError, CallbackError, OptionError } from './errors.js';
import type { ImageJob, RawPixels } from './execute.js';
import { isModel, loadModel, type Model, type ModelSpec } from './model.js';
import type { ExtChoice } from './naming.js';
import { fn, parseOptions, shown, z } from './options.js';
import { checkRender, renderFields, renderJob } from './schema.js';
import type { TileOptions } from '../models/tiling.js';
import type { ColorFix } from '../models/colorfix.js';
import type { WriteFormat } from '../io/image/index.js';

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

/** upscale()'s options as a caller writes them (upscaleOptionsSchema checks them); tile, tileOverlap, tileMerge: TileOptions (tile default chosen from maxMemory). */
export interface UpscaleOptions extends TileOptions {
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

const modelOption = z.custom<Model | ModelSpec | string>((v) => isModel(v) || (typeof v === 'string' && v.length > 0) || (typeof v === 'object' && v !== null && !Array.isArray(v)), {
  error: (iss) => `must be a Model from loadModel(), a model name or folder, or a spec { model } / { preset, unet, vq }, got ${shown(iss.input)}`,
});

/** upscale()'s options: the CLI's render options plus the library's own (src/api/schema.ts). */
export const upscaleOptionsSchema = z.strictObject({
  model: modelOption.optional(),
  output: z.custom<string>((v) => typeof v === 'string' && v.length > 0, { error: (iss) => `must be a file path, got ${shown(iss.input)}` }).optional(),
  ...renderFields,
  onProgress: fn<(p: UpscaleProgress) => void>().optional(),
  onWarning: fn<(message: string) => void>().optional(),
  signal: z.custom<AbortSignal>((v) => v instanceof AbortSignal, { error: (iss) => `must be an AbortSignal, got ${shown(iss.input)}` }).optional(),
}).superRefine((o, ctx) => checkRender(o, ctx));

/** Upscales one image: returns the encoded output, or writes it to `options.output`. */
export async function upscale(input: UpscaleInput, options: UpscaleOptions & { output: string }): Promise<UpscaleResult>;
export async function upscale(input: UpscaleInput, options?: UpscaleOptions): Promise<Buffer>;
export async function upscale(input: UpscaleInput, options: UpscaleOptions = {}): Promise<Buffer | UpscaleResult> {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new OptionError('upscale(input, options): options must be an object');
  const o = parseOptions(upscaleOptionsSchema, options, { where: 'upscale(input, options)' });
  const signal = o.signal;
  if (signal?.aborted) throw new AbortError();
  // The format: ext, else the output file's extension, else the input's (auto).
  let ext: ExtChoice = o.ext;
  if (options.ext === undefined && o.output !== undefined) {
    const fromName = /\.(png|jpe?g|webp|tiff?)$/i.exec(o.output)?.[1]?.toLowerCase();
    if (!fromName) throw new OptionError(`output ${o.output}: cannot tell the format from the extension (use .png, .jpg, .webp or .tif, or pass ext)`);
    ext = fromName === 'jpeg' ? 'jpg' : fromName === 'tif' ? 'tiff' : fromName as ExtChoice;
  }
  const { input: jin, formatHint } = await jobInput(input);
  const job: ImageJob = { ...renderJob(o), input: jin, formatHint, ext, output: o.output };
  const owned = !isModel(o.model);
  const model = isModel(o.model) ? o.model : await loadModel(o.model);
  try {
    // A callback that throws stops this job (CallbackError); the model stays usable.
    const onProgress = o.onProgress, onWarn = o.onWarning;
    const onTile = onProgress ? (done: number, total: number): void => {
      try { onProgress({ tile: done, tiles: total, fraction: done / total }); } catch (e) { throw new CallbackError('onProgress', e); }
    } : undefined;
    const onWarning = onWarn ? (m: string): void => {
      try { onWarn(m); } catch (e) { throw new CallbackError('onWarning', e); }
    } : undefined;
    const r = await model.execute(job, { onTile, onWarning, signal });
    if (o.output === undefined) return r.bytes as Buffer;
    return { file: o.output, width: r.width, height: r.height, channels: r.channels, bitDepth: r.bitDepth, format: r.format };
  } finally {
    if (owned) model.dispose();
  }
}
