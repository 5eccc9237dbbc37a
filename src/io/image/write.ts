// encodeImage / writeImage: a float tensor in [0, 1] → PNG, JPEG, WebP or TIFF through sharp,
// 8- or 16-bit, with EXIF / ICC blocks carried over only when given. Files are written to a
// temporary name in the target folder and renamed (io/atomic.ts), so a reader never sees a partial file.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { Tensor } from '../../engine/index.js';
import { writeFileAtomicAsync } from '../atomic.js';
import { ImageError, oneLine } from './errors.js';
import { ALPHA_FORMATS, SIXTEEN_BIT_FORMATS, WRITE_FORMATS, type WriteFormat, formatFromExtension, parseWriteFormat } from './formats.js';
import { jpegWithMetadata, normalizeExif, pngWithMetadata, tiffWithIcc, webpWithMetadata } from './metadata.js';
import { tensorToPixels } from './quantize.js';

export interface EncodeOptions {
  /** Output format; writeImage defaults to the file extension's. */
  format?: WriteFormat | 'jpg' | 'tif';
  /** Bits per sample (default 8); 16 only for PNG and TIFF. */
  bitDepth?: 8 | 16;
  /** JPEG / WebP quality 1–100 (default 95). */
  quality?: number;
  /** WebP: lossless encoding (default false). */
  lossless?: boolean;
  /** EXIF block to embed (TIFF-structured, with or without the "Exif\0\0" prefix). Not for TIFF output. */
  exif?: Buffer;
  /** ICC profile to embed, unchanged (the pixels are not converted). */
  icc?: Buffer;
}

export interface WriteOptions extends EncodeOptions {
  /** Replace an existing file (default false: an existing file is never overwritten implicitly). */
  overwrite?: boolean;
}

function checkData(name: string, data: unknown): Tensor {
  if (!(data instanceof Tensor) || data.isDisposed) throw new ImageError(name, 'image data must be a live Tensor');
  const s = data.shape;
  const ok = (data.ndim === 4 && s[0] === 1) || data.ndim === 3;
  if (!ok) throw new ImageError(name, `image data must be [1, C, H, W] or [C, H, W], got [${s.join(', ')}]`);
  const c = s[s.length - 3]!, h = s[s.length - 2]!, w = s[s.length - 1]!;
  if (c < 1 || c > 4) throw new ImageError(name, `image data must have 1–4 channels, got ${c}`);
  if (h < 1 || w < 1) throw new ImageError(name, `image data has an empty size ${h}×${w}`);
  if (h > 65535 || w > 65535) throw new ImageError(name, `image ${w}×${h} is larger than the formats allow (65535 per side)`);
  if (!['float32', 'float64', 'float16', 'bfloat16'].includes(data.dtype)) throw new ImageError(name, `image data must be floating point in [0, 1], got ${data.dtype}`);
  return data;
}

function resolveFormat(name: string, opts: EncodeOptions, file?: string): WriteFormat {
  if (opts.format !== undefined) {
    const f = typeof opts.format === 'string' ? parseWriteFormat(opts.format) : undefined;
    if (!f) throw new ImageError(name, `unsupported output format ${JSON.stringify(opts.format)} (writable: ${WRITE_FORMATS.join(', ')})`);
    return f;
  }
  const f = file ? formatFromExtension(file) : undefined;
  if (!f) throw new ImageError(name, file ? `cannot tell the output format from the extension "${path.extname(file)}" (use .png, .jpg, .webp, .tif or pass format)` : 'no output format given');
  return f;
}

async function encode(name: string, data: unknown, opts: EncodeOptions, file?: string): Promise<Buffer> {
  if (opts === null || typeof opts !== 'object') throw new ImageError(name, 'options must be an object');
  const format = resolveFormat(name, opts, file);
  const t = checkData(name, data);
  const bitDepth = opts.bitDepth ?? 8;
  if (bitDepth !== 8 && bitDepth !== 16) throw new ImageError(name, `bitDepth must be 8 or 16, got ${String(bitDepth)}`);
  if (bitDepth === 16 && !SIXTEEN_BIT_FORMATS.includes(format)) throw new ImageError(name, `${format} cannot store 16-bit samples (use png or tiff)`);
  const quality = opts.quality ?? 95;
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) throw new ImageError(name, `quality must be an integer 1–100, got ${String(quality)}`);
  if (opts.exif !== undefined && !Buffer.isBuffer(opts.exif)) throw new ImageError(name, 'exif must be a Buffer');
  if (opts.icc !== undefined && !Buffer.isBuffer(opts.icc)) throw new ImageError(name, 'icc must be a Buffer');
  const exif = opts.exif && opts.exif.length > 0 ? normalizeExif(opts.exif) : undefined;
  if (opts.exif && opts.exif.length > 0 && !exif) throw new ImageError(name, 'exif is not a TIFF-structured EXIF block');
  if (exif && format === 'tiff') throw new ImageError(name, 'TIFF output cannot carry EXIF (libvips does not write it); use png, jpeg or webp');
  const icc = opts.icc && opts.icc.length > 0 ? opts.icc : undefined;

  const c = t.size(-3);
  const alpha = c === 2 || c === 4;
  if (alpha && !ALPHA_FORMATS.includes(format)) throw new ImageError(name, `${format} cannot store an alpha channel (use png, webp or tiff, or drop the alpha)`);
  const { pixels, width, height, channels, nan } = tensorToPixels(t, bitDepth);
  if (nan) throw new ImageError(name, 'image data contains NaN');
  const grey = channels <= 2;
  let s = sharp(pixels, { raw: { width, height, channels: channels as 1 | 2 | 3 | 4 }, limitInputPixels: false });
  // Raw 8-bit RGB(A) is already sRGB; grey and 16-bit need the interpretation set, or sharp
  // writes grey as RGB and 16-bit as 8-bit.
  if (grey || bitDepth === 16) s = s.toColourspace(grey ? (bitDepth === 16 ? 'grey16' : 'b-w') : 'rgb16');
  switch (format) {
    case 'png': s = s.png({ compressionLevel: 6, adaptiveFiltering: false, palette: false }); break;
    case 'jpeg': s = s.jpeg({ quality, chromaSubsampling: quality >= 90 ? '4:4:4' : '4:2:0' }); break;
    case 'webp': s = s.webp({ quality, lossless: opts.lossless === true, alphaQuality: 100, exact: true }); break;
    case 'tiff': s = s.tiff({ compression: 'deflate', predictor: 'horizontal' }); break;
  }
  let out: Buffer;
  try {
    out = await s.toBuffer();
  } catch (e) {
    throw new ImageError(name, `cannot encode ${format}: ${oneLine((e as Error).message)}`);
  }
  try {
    if (exif || icc) {
      if (format === 'png') out = pngWithMetadata(out, exif, icc);
      else if (format === 'jpeg') out = jpegWithMetadata(out, exif, icc);
      else if (format === 'webp') out = webpWithMetadata(out, width, height, alpha, exif, icc);
      else if (icc) out = tiffWithIcc(out, icc);
    }
  } catch (e) {
    throw new ImageError(name, (e as Error).message);
  }
  return out;
}

/** Encodes [1, C, H, W] / [C, H, W] float data in [0, 1] (clamped, rounded half to even) to a file format in memory. */
export async function encodeImage(data: Tensor, opts: EncodeOptions): Promise<Buffer> {
  return encode('<buffer>', data, opts ?? {});
}

/**
 * Writes an image atomically: encoded in memory, written to a temporary file in the target
 * folder, flushed, then moved into place. The temporary file is removed on any failure. An
 * existing target is only replaced with overwrite: true.
 */
export async function writeImage(file: string, data: Tensor, opts: WriteOptions = {}): Promise<void> {
  if (typeof file !== 'string' || file.length === 0) throw new TypeError('writeImage(): file must be a non-empty path');
  const dir = path.dirname(path.resolve(file));
  try {
    if (!(await stat(dir)).isDirectory()) throw new ImageError(file, `folder ${dir} is not a directory`);
  } catch (e) {
    if (e instanceof ImageError) throw e;
    throw new ImageError(file, `folder ${dir} does not exist`);
  }
  const overwrite = opts.overwrite ?? false;
  if (typeof overwrite !== 'boolean') throw new ImageError(file, 'overwrite must be a boolean');
  const existing = await stat(file).catch(() => undefined);
  if (existing?.isDirectory()) throw new ImageError(file, 'is a directory');
  if (existing && !overwrite) throw new ImageError(file, 'already exists (pass overwrite: true to replace it)');
  const buf = await encode(file, data, opts, file);
  try {
    await writeFileAtomicAsync(file, buf, { overwrite });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new ImageError(file, 'already exists (pass overwrite: true to replace it)');
    throw new ImageError(file, `cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
