// Which formats vpdsr reads and writes, how they are recognised, and file-name conventions.
import path from 'node:path';

/** Formats readImage accepts (sharp's names; AVIF is reported as 'avif', other HEIF as 'heif'). */
export const READ_FORMATS = ['png', 'jpeg', 'webp', 'tiff', 'gif', 'avif', 'heif'] as const;
export type ReadFormat = (typeof READ_FORMATS)[number];

/** Formats writeImage produces. */
export const WRITE_FORMATS = ['png', 'jpeg', 'webp', 'tiff'] as const;
export type WriteFormat = (typeof WRITE_FORMATS)[number];

/** Formats that store 16 bits per sample (the others are 8-bit only). */
export const SIXTEEN_BIT_FORMATS: readonly WriteFormat[] = ['png', 'tiff'];
/** Formats that store an alpha channel. */
export const ALPHA_FORMATS: readonly WriteFormat[] = ['png', 'webp', 'tiff'];

const EXT: Record<string, WriteFormat> = {
  '.png': 'png', '.jpg': 'jpeg', '.jpeg': 'jpeg', '.jpe': 'jpeg', '.jfif': 'jpeg',
  '.webp': 'webp', '.tif': 'tiff', '.tiff': 'tiff',
};

/** The write format a file name implies, or undefined. */
export function formatFromExtension(file: string): WriteFormat | undefined {
  return EXT[path.extname(file).toLowerCase()];
}

/** Normalises a user-given format name ('jpg' → 'jpeg', 'tif' → 'tiff'), or undefined if unknown. */
export function parseWriteFormat(name: string): WriteFormat | undefined {
  const n = name.toLowerCase();
  if (n === 'jpg') return 'jpeg';
  if (n === 'tif') return 'tiff';
  return (WRITE_FORMATS as readonly string[]).includes(n) ? (n as WriteFormat) : undefined;
}

/**
 * Recognises a file by its first bytes, for clear errors about what sharp cannot or must not
 * decode (BMP has no decoder in sharp's prebuilt libvips; SVG and others are not raster photos).
 */
export function sniff(buf: Uint8Array): string | undefined {
  const b = (i: number): number => buf[i] ?? -1;
  const ascii = (start: number, s: string): boolean => [...s].every((ch, i) => b(start + i) === ch.charCodeAt(0));
  if (b(0) === 0x89 && ascii(1, 'PNG')) return 'png';
  if (b(0) === 0xff && b(1) === 0xd8) return 'jpeg';
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'webp';
  if ((ascii(0, 'II') && b(2) === 42 && b(3) === 0) || (ascii(0, 'MM') && b(2) === 0 && b(3) === 42)) return 'tiff';
  if ((ascii(0, 'II') && b(2) === 43) || (ascii(0, 'MM') && b(3) === 43)) return 'tiff';
  if (ascii(0, 'GIF87a') || ascii(0, 'GIF89a')) return 'gif';
  if (ascii(4, 'ftyp')) return ascii(8, 'avif') || ascii(8, 'avis') ? 'avif' : 'heif';
  if (ascii(0, 'BM')) return 'bmp';
  if (ascii(0, '8BPS')) return 'psd';
  if (b(0) === 0 && b(1) === 0 && b(2) === 1 && b(3) === 0) return 'ico';
  if (ascii(0, '\u00ff\u004f\u00ff\u0051') || ascii(4, 'jP  ')) return 'jp2';
  if (ascii(0, '\u00ff\u000a') || ascii(4, 'JXL ')) return 'jxl';
  const head = Buffer.from(buf.subarray(0, 256)).toString('latin1').trimStart().toLowerCase();
  if (head.startsWith('<svg') || (head.startsWith('<?xml') && head.includes('<svg'))) return 'svg';
  if (head.startsWith('%pdf')) return 'pdf';
  if (/^p[1-7]\s/.test(head)) return 'ppm';
  return undefined;
}
