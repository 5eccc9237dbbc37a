// One image job, start to finish, in the thread that holds the model: decode (path, encoded bytes
// or typed pixels), render (job.ts), then encode to bytes or write the file atomically. The
// library's upscale() and the batch runner both come here — directly for a model in this thread,
// through src/api/worker.ts for a worker-backed one — so both paths compute the same thing.
import { readImage, writeImage, encodeImage, type DecodedImage, type WriteFormat } from '../io/image/index.js';
import { AbortError } from './errors.js';
import { renderImage, type InThreadModel, type RenderOptions, type SourceImage } from './job.js';
import { outputFormat, type ExtChoice } from './naming.js';
import { typedPixelsToTensor } from './pixels.js';

/** Interleaved (HWC) pixels: 8-bit, 16-bit, or float in [0, 1]. */
export interface RawPixels {
  data: Uint8Array | Uint8ClampedArray | Uint16Array | Float32Array;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

/** Everything a job needs, as plain data (it crosses to a worker by structured clone). */
export interface ImageJob extends Omit<RenderOptions, 'onTile' | 'signal'> {
  /** A file path, encoded bytes, or typed pixels. */
  input: string | Uint8Array | RawPixels;
  /** The output format: an --ext choice resolved against the input's format ('auto'). */
  ext: ExtChoice;
  /** Write here (atomically); without it the encoded bytes are returned. */
  output?: string;
  overwrite?: boolean;
  quality?: number;
  maxPixels?: number;
  /** The name the input's format is guessed from for ext 'auto' when it is not a path (sharp's input format). */
  formatHint?: DecodedImage['format'];
}

export interface JobResult {
  /** The encoded image when the job had no output file. */
  bytes?: Uint8Array;
  file?: string;
  width: number;
  height: number;
  channels: number;
  bitDepth: 8 | 16;
  format: WriteFormat;
}

export interface JobHooks {
  onTile?: (done: number, total: number) => void;
  onWarning?: (message: string) => void;
  signal?: AbortSignal;
}

function isRaw(v: unknown): v is RawPixels {
  const r = v as RawPixels;
  return typeof v === 'object' && v !== null && ArrayBuffer.isView(r.data) && typeof r.width === 'number' && typeof r.height === 'number' && typeof r.channels === 'number';
}

const FORMAT_EXT: Record<string, string> = { png: '.png', jpeg: '.jpg', webp: '.webp', tiff: '.tif', gif: '.gif', avif: '.avif', heif: '.heif' };

async function decode(job: ImageJob): Promise<SourceImage & { format?: DecodedImage['format']; hasAlpha: boolean }> {
  const input = job.input;
  if (typeof input === 'string') return readImage(input, { maxPixels: job.maxPixels });
  if (isRaw(input)) {
    const { data, bitDepth } = typedPixelsToTensor(input);
    return { data, width: input.width, height: input.height, channels: input.channels, bitDepth, hasAlpha: input.channels === 2 || input.channels === 4 };
  }
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  return readImage(buf, { maxPixels: job.maxPixels });
}

export async function executeJob(model: InThreadModel, job: ImageJob, hooks: JobHooks = {}): Promise<JobResult> {
  const signal = hooks.signal;
  if (signal?.aborted) throw new AbortError();
  const src = await decode(job);
  try {
    if (signal?.aborted) throw new AbortError();
    const inputName = typeof job.input === 'string' ? job.input : `x${FORMAT_EXT[job.formatHint ?? src.format ?? 'png'] ?? '.png'}`;
    const format = outputFormat(inputName, job.ext, src.hasAlpha);
    const r = await renderImage(src, model, format, { ...job, name: typeof job.input === 'string' ? job.input : undefined, onTile: hooks.onTile, signal });
    try {
      for (const w of r.warnings) hooks.onWarning?.(w);
      if (signal?.aborted) throw new AbortError();
      const enc = { format, bitDepth: r.bitDepth, quality: job.quality, exif: r.exif, icc: r.icc };
      const info = { width: r.data.size(3), height: r.data.size(2), channels: r.data.size(1), bitDepth: r.bitDepth, format };
      if (job.output === undefined) return { ...info, bytes: await encodeImage(r.data, enc) };
      await writeImage(job.output, r.data, { ...enc, overwrite: job.overwrite === true });
      return { ...info, file: job.output };
    } finally {
      r.data.dispose();
    }
  } finally {
    src.data.dispose();
  }
}
