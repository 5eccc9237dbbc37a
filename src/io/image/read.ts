// readImage: any supported image file or buffer → a float32 [1, C, H, W] tensor in [0, 1] with
// its metadata, through sharp (libvips). Pixels are taken as stored: embedded ICC profiles are
// reported, not applied (the reference decodes with cv2.imdecode, which ignores them; CMYK is the
// exception and is converted to sRGB). EXIF orientation is applied unless asked not to.
import { open, stat } from 'node:fs/promises';
import sharp, { type Metadata, type SharpOptions, type OutputInfo } from 'sharp';
import type { Tensor } from '../../engine/index.js';
import { ImageError, oneLine } from './errors.js';
import { READ_FORMATS, type ReadFormat, sniff } from './formats.js';
import { normalizeExif, resetExifOrientation } from './metadata.js';
import { pixelsToTensor } from './quantize.js';

export interface DecodedImage {
  /** float32 [1, C, H, W] in [0, 1]; C = 1 (grey), 2 (grey + alpha), 3 (RGB), 4 (RGBA). The caller disposes it. */
  data: Tensor;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  bitDepth: 8 | 16;
  hasAlpha: boolean;
  /** sharp's name of the container: png, jpeg, webp, tiff, gif, avif, heif. */
  format: ReadFormat;
  /** EXIF as a TIFF-structured block (no "Exif\0\0" prefix); Orientation reset to 1 when it was applied. */
  exif?: Buffer;
  /** The embedded ICC profile, unchanged (pixels are not converted through it). */
  icc?: Buffer;
  /** The EXIF orientation the file declared (1–8), whether or not it was applied. */
  orientation?: number;
}

export interface ReadImageOptions {
  /** Refuse images with more pixels than this (decompression bombs). Default: VPDSR_MAX_PIXELS or 100 MP. */
  maxPixels?: number;
  /** Rotate / flip upright as EXIF orientation says (default true). */
  autoOrient?: boolean;
}

export const DEFAULT_MAX_PIXELS = 100_000_000;

/** The pixel limit in force: the option, else VPDSR_MAX_PIXELS, else 100 MP. */
export function maxPixelsLimit(opt?: number): number {
  if (opt !== undefined) {
    if (!Number.isSafeInteger(opt) || opt < 1) throw new TypeError(`readImage(): maxPixels must be a positive integer, got ${String(opt)}`);
    return opt;
  }
  const env = process.env.VPDSR_MAX_PIXELS;
  if (env !== undefined && env !== '') {
    const v = Number(env);
    if (!Number.isSafeInteger(v) || v < 1) throw new TypeError(`VPDSR_MAX_PIXELS must be a positive integer, got ${JSON.stringify(env)}`);
    return v;
  }
  return DEFAULT_MAX_PIXELS;
}

/** Bytes enough to sniff every format sniff() knows (SVG looks furthest, 256 bytes). */
const SNIFF_BYTES = 4096;

/** The format the bytes start with, or an ImageError naming the file. */
function sniffOrRefuse(head: Uint8Array, name: string): ReadFormat {
  if (head.length === 0) throw new ImageError(name, 'empty file');
  const sniffed = sniff(head);
  if (sniffed === undefined) throw new ImageError(name, 'not a recognised image format');
  if (!(READ_FORMATS as readonly string[]).includes(sniffed)) {
    throw new ImageError(name, `unsupported image format ${sniffed} (readable: ${READ_FORMATS.join(', ')})`);
  }
  return sniffed as ReadFormat;
}

/**
 * The file's bytes. The format is sniffed from its first bytes and the size checked against what
 * an image within the pixel limit can take (8 bytes a pixel, 16-bit RGBA stored raw, plus room
 * for metadata) before the rest is read: a large file that is no image costs a few kilobytes.
 */
async function load(input: string | Buffer, name: string, maxPixels: number): Promise<Buffer> {
  if (Buffer.isBuffer(input)) return input;
  let st;
  try {
    st = await stat(input);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ImageError(name, code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : `cannot read (${code ?? (e as Error).message})`);
  }
  if (st.isDirectory()) throw new ImageError(name, 'is a directory, not an image file');
  if (!st.isFile()) throw new ImageError(name, 'is not a regular file');
  try {
    const fh = await open(input, 'r');
    try {
      const head = Buffer.alloc(Math.min(SNIFF_BYTES, st.size));
      const { bytesRead } = await fh.read(head, 0, head.length, 0);
      sniffOrRefuse(head.subarray(0, bytesRead), name);
      const most = maxPixels * 8 + 64 * 2 ** 20;
      if (st.size > most) throw new ImageError(name, `file of ${st.size} bytes is larger than an image within the pixel limit (${maxPixels}) can be`);
      return await fh.readFile();
    } finally {
      await fh.close();
    }
  } catch (e) {
    if (e instanceof ImageError) throw e;
    throw new ImageError(name, `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

function formatOf(meta: Metadata): ReadFormat | undefined {
  const f = meta.format as string;
  if (f === 'heif') return meta.compression === 'av1' ? 'avif' : 'heif';
  return (READ_FORMATS as readonly string[]).includes(f) ? (f as ReadFormat) : undefined;
}

/** Reads an image file (path) or encoded bytes (Buffer). Errors are ImageError, one line, naming the file. */
export async function readImage(input: string | Buffer, opts: ReadImageOptions = {}): Promise<DecodedImage> {
  if (typeof input !== 'string' && !Buffer.isBuffer(input)) throw new TypeError('readImage(): input must be a file path or a Buffer');
  const name = typeof input === 'string' ? input : '<buffer>';
  if (typeof input === 'string' && input.length === 0) throw new ImageError('""', 'empty file name');
  const maxPixels = maxPixelsLimit(opts.maxPixels);
  const autoOrient = opts.autoOrient ?? true;
  if (typeof autoOrient !== 'boolean') throw new TypeError('readImage(): autoOrient must be a boolean');

  const buf = await load(input, name, maxPixels);
  const sniffed = sniffOrRefuse(buf, name);

  // limitInputPixels as well as our own check: sharp then refuses bombs hidden behind a header.
  const inputOpts: SharpOptions = { failOn: 'warning', limitInputPixels: maxPixels, ignoreIcc: true, page: 0, pages: 1 };
  let meta: Metadata;
  try {
    // Header only: our own limit check below gives the clearer message.
    meta = await sharp(buf, { ...inputOpts, limitInputPixels: false }).metadata();
  } catch (e) {
    throw decodeError(name, sniffed, e);
  }
  const format = formatOf(meta);
  if (!format) throw new ImageError(name, `unsupported image format ${String(meta.format)}`);
  const w0 = meta.width ?? 0, h0 = meta.height ?? 0;
  if (w0 < 1 || h0 < 1) throw new ImageError(name, 'image has no pixels');
  if (w0 * h0 > maxPixels) throw new ImageError(name, `${w0}×${h0} = ${w0 * h0} pixels exceeds the limit of ${maxPixels} (set maxPixels or VPDSR_MAX_PIXELS)`);
  let bitDepth: 8 | 16;
  if (meta.depth === 'uchar') bitDepth = 8;
  else if (meta.depth === 'ushort') bitDepth = 16;
  else throw new ImageError(name, `unsupported sample format ${String(meta.depth)} (8- and 16-bit unsigned only)`);
  const grey = meta.space === 'b-w' || meta.space === 'grey16';

  // Decode to RGB(A) of the stored depth; greyscale comes back replicated and is picked apart below
  // (sharp's grey output colourspace drops alpha for 8-bit grey + alpha).
  let raw: { data: Buffer; info: OutputInfo };
  try {
    raw = await sharp(buf, { ...inputOpts, autoOrient })
      .toColourspace(bitDepth === 16 ? 'rgb16' : 'srgb')
      .raw({ depth: bitDepth === 16 ? 'ushort' : 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw decodeError(name, format, e);
  }
  const { width, height, channels: srcC } = raw.info;
  const samples = bitDepth === 16 ? new Uint16Array(raw.data.buffer, raw.data.byteOffset, raw.data.length / 2) : new Uint8Array(raw.data.buffer, raw.data.byteOffset, raw.data.length);
  if (samples.length !== width * height * srcC) throw new ImageError(name, 'decoder returned a truncated pixel buffer');
  const rgbAlpha = srcC === 4 || srcC === 2;
  const pick = grey ? (rgbAlpha ? [0, srcC - 1] : [0]) : [...Array(srcC).keys()];
  const data = pixelsToTensor(samples, width, height, srcC, pick);

  const orientation = meta.orientation;
  let exif = normalizeExif(meta.exif);
  if (exif && autoOrient && orientation !== undefined && orientation !== 1) exif = resetExifOrientation(exif);
  const out: DecodedImage = { data, width, height, channels: pick.length as 1 | 2 | 3 | 4, bitDepth, hasAlpha: rgbAlpha, format };
  if (exif) out.exif = exif;
  if (meta.icc && meta.icc.length > 0) out.icc = Buffer.from(meta.icc);
  if (orientation !== undefined) out.orientation = orientation;
  return out;
}

function decodeError(name: string, format: string, e: unknown): ImageError {
  const msg = oneLine((e as Error).message ?? String(e));
  if (/pixel limit/i.test(msg)) return new ImageError(name, `exceeds the pixel limit (${msg})`);
  if (/unsupported image format/i.test(msg)) return new ImageError(name, `not a decodable ${format} image`);
  if (/premature end|truncated|unexpected end|not enough data|read error|out of data|short read/i.test(msg)) return new ImageError(name, `truncated or corrupt ${format} file (${msg})`);
  return new ImageError(name, `corrupt or unreadable ${format} file (${msg})`);
}
