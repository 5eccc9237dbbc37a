// The per-image work shared by the library's upscale() and the batch runner: choose the tile,
// run the pixels through the model, and decide bit depth and metadata for the output format.
import type { Tensor } from '../engine/index.js';
import type { DecodedImage, WriteFormat } from '../io/image/index.js';
import type { ColorFix } from '../models/colorfix.js';
import { chooseTile, type TileChoice } from './memory.js';
import { upscaleChannels } from './pixels.js';
import { targetSize, type SizeOptions } from './scale.js';
import type { PipelineDType, Upscaler, UpscalerKind } from '../models/pipeline.js';
import type { TileOptions } from '../models/tiling.js';

/** What rendering needs of a model held in this thread. */
export interface InThreadModel {
  readonly kind: UpscalerKind;
  readonly device: string;
  readonly dtype: PipelineDType;
  readonly upscaler: Upscaler;
}

export interface RenderOptions extends TileOptions {
  colorFix: ColorFix;
  size: SizeOptions;
  /** Bytes. */
  maxMemory?: number;
  seed?: number;
  stripMetadata: boolean;
  onTile?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** The image part of a DecodedImage this needs (typed-pixel inputs have no format or metadata). */
export type SourceImage = Pick<DecodedImage, 'data' | 'width' | 'height' | 'channels' | 'bitDepth' | 'exif' | 'icc'>;

export interface Rendered {
  /** [1, C, H, W] float32 in [0, 1]; the caller disposes it. */
  data: Tensor;
  bitDepth: 8 | 16;
  exif?: Buffer;
  icc?: Buffer;
  tile: TileChoice;
  /** Things the user should know (metadata a format cannot carry, an over-budget tile). */
  warnings: string[];
}

const SIXTEEN: readonly WriteFormat[] = ['png', 'tiff'];

export async function renderImage(img: SourceImage, model: InThreadModel, format: WriteFormat, o: RenderOptions & { name?: string }): Promise<Rendered> {
  const warnings: string[] = [];
  const [outWidth, outHeight] = targetSize(img.width, img.height, o.size);
  // Refuses (MemoryError) an image that cannot fit the budget, before any work.
  const tile = chooseTile(model.upscaler, { ...o, width: img.width, height: img.height, outWidth, outHeight });
  // The options as given, with the tile and overlap chosen for this image.
  const data = await upscaleChannels(img.data, model.upscaler, { ...o, tile: tile.tile, tileOverlap: tile.tileOverlap });
  const bitDepth: 8 | 16 = img.bitDepth === 16 && SIXTEEN.includes(format) ? 16 : 8;
  if (img.bitDepth === 16 && bitDepth === 8) warnings.push(`${format} stores 8 bits per sample: the 16-bit input is written as 8-bit (use --ext png or tiff to keep 16 bits)`);
  const out: Rendered = { data, bitDepth, tile, warnings };
  if (!o.stripMetadata) {
    if (img.icc) out.icc = img.icc;
    if (img.exif) {
      if (format === 'tiff') warnings.push('TIFF output cannot carry EXIF (libvips does not write it): EXIF dropped, ICC kept');
      else out.exif = img.exif;
    }
  }
  return out;
}
