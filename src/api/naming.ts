// Output names: OUT_DIR/NAME[_SUFFIX].EXT, as Real-ESRGAN's inference script names them
// (`f'{imgname}_{suffix}.{extension}'`, no suffix by default here). --ext auto keeps the input's
// format, and PNG for formats sharp cannot write (GIF, AVIF, HEIF); an image with alpha asked to be
// written as JPEG is written as PNG instead (JPEG has no alpha), as Real-ESRGAN does.
import path from 'node:path';
import type { WriteFormat } from '../io/image/index.js';

export type ExtChoice = 'png' | 'jpg' | 'webp' | 'tiff' | 'auto';
export const EXT_CHOICES: readonly ExtChoice[] = ['png', 'jpg', 'webp', 'tiff', 'auto'];

/** The write format a file's extension implies for --ext auto (PNG where sharp cannot write it). */
function formatFromInputName(file: string): WriteFormat {
  switch (path.extname(file).toLowerCase()) {
    case '.jpg': case '.jpeg': case '.jpe': case '.jfif': return 'jpeg';
    case '.webp': return 'webp';
    case '.tif': case '.tiff': return 'tiff';
    default: return 'png';
  }
}

const CANONICAL_EXT: Record<WriteFormat, string> = { png: '.png', jpeg: '.jpg', webp: '.webp', tiff: '.tif' };

/** The output format for an input: the --ext choice, the input's (auto), PNG if alpha meets JPEG. */
export function outputFormat(input: string, ext: ExtChoice, hasAlpha = false): WriteFormat {
  const f: WriteFormat = ext === 'auto' ? formatFromInputName(input) : ext === 'jpg' ? 'jpeg' : ext;
  return hasAlpha && f === 'jpeg' ? 'png' : f;
}

/**
 * OUT_DIR/NAME[_SUFFIX].EXT. With --ext auto and an unchanged format the input's own extension is
 * kept (photo.jpeg → photo.jpeg); otherwise the canonical one (.png .jpg .webp .tif).
 */
export function outputPath(input: string, outDir: string, format: WriteFormat, suffix = ''): string {
  const { name, ext } = path.parse(input);
  const e = format !== 'png' && formatFromInputName(input) === format ? ext.toLowerCase() : CANONICAL_EXT[format];
  return path.join(outDir, `${name}${suffix ? `_${suffix}` : ''}${e}`);
}
