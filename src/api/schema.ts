// The option schemas of upscaling, shared by the library (upscale(), loadModel()) and the CLI
// (`vpdsr upscale` builds the same objects from its flags). Defaults live here and only here.
import { DEFAULT_TILE, PIPELINE_DTYPES, type PipelineDType } from '../models/pipeline.js';
import { defaultDType } from '../models/precision.js';
import { SAMPLER_KINDS, UPSTREAM_DEFAULTS, type SamplerKind } from '../models/presets.js';
import { MIN_TILE, TILE_MERGES, type TileMerge } from '../models/tiling.js';
import { BUNDLED_MODEL, bundledModelDir } from '../models/bundled.js';
import { COLOR_FIXES, type ColorFix } from '../models/colorfix.js';
import { parseMemory } from './memory.js';
import { EXT_CHOICES, type ExtChoice } from './naming.js';
import type { SizeOptions } from './scale.js';
import { choice, flagOption, fn, intOption, nonEmpty, shown, z } from './options.js';

/**
 * The model used when none is named, by the library and the CLI alike: the bundled vpdsr-x4
 * (models/vpdsr-x4), or the bicubic baseline where the package carries no weights for it.
 */
export const DEFAULT_MODEL: string = bundledModelDir() ? BUNDLED_MODEL : 'bicubic';

/** Every default of an upscale, in one place (tile, tileOverlap and maxMemory: chosen per image from the budget). */
export const DEFAULTS = {
  model: DEFAULT_MODEL,
  device: 'cpu',
  /** On the default device; loadUpscaler resolves an unset dtype per device (precision.ts defaultDType: auto on CUDA). */
  dtype: defaultDType('cpu') as PipelineDType,
  ext: 'auto' as ExtChoice,
  quality: 95,
  /** auto: the model folder's own (model.json colorFix), else none. */
  colorFix: 'auto' as ColorFix,
  tileMerge: 'feather' as TileMerge,
  tileOverlap: DEFAULT_TILE.overlap,
  seed: UPSTREAM_DEFAULTS.seed,
  suffix: '',
} as const;

const device = z.custom<string>((v) => typeof v === 'string' && /^(cpu|cuda(:\d+)?)$/.test(v), { error: (iss) => `must be cpu, cuda or cuda:N, got ${shown(iss.input)}` });

/** png | jpg | webp | tiff | auto (jpeg and tif accepted). */
const ext = z.preprocess(
  (v) => (typeof v === 'string' ? ({ jpeg: 'jpg', tif: 'tiff' } as Record<string, string>)[v.toLowerCase()] ?? v.toLowerCase() : v),
  choice(EXT_CHOICES),
);

/** Bytes, or a size such as '4G', '512M', '1.5GiB'. */
const memory = z.custom<number | string>((v) => typeof v === 'number' || typeof v === 'string', { error: (iss) => `must be a size like 4G or 512M, got ${shown(iss.input)}` })
  .transform((v, ctx) => {
    try {
      return parseMemory(v);
    } catch (e) {
      ctx.issues.push({ code: 'custom', message: `must be a size like 4G, 512M or 2GiB, got ${shown(v)}`, input: v });
      void e;
      return z.NEVER;
    }
  });

const outscale = z.custom<number>((v) => typeof v === 'number' && Number.isFinite(v) && v > 0 && v <= 64, { error: (iss) => `must be a number in (0, 64], got ${shown(iss.input)}` });

const tile = z.custom<number>((v) => typeof v === 'number' && Number.isSafeInteger(v) && (v === 0 || v >= MIN_TILE), {
  error: (iss) => `must be 0 (no tiling) or an integer of at least ${MIN_TILE} LR pixels, got ${shown(iss.input)}`,
});

const suffix = z.custom<string>((v) => typeof v === 'string' && !/[/\\\0]/.test(v), { error: (iss) => `must be text without path separators, got ${shown(iss.input)}` });

/** What every image job takes: the library's upscale() options and the CLI's flags share these. */
export const renderFields = {
  ext: ext.default(DEFAULTS.ext),
  quality: intOption(1, 100).default(DEFAULTS.quality),
  outscale: outscale.optional(),
  width: intOption(1, 65535).optional(),
  height: intOption(1, 65535).optional(),
  stripMetadata: flagOption.default(false),
  colorFix: choice(COLOR_FIXES).default(DEFAULTS.colorFix),
  tile: tile.optional(),
  tileOverlap: intOption(0).optional(),
  tileMerge: choice(TILE_MERGES).default(DEFAULTS.tileMerge),
  maxMemory: memory.optional(),
  seed: intOption(0).default(DEFAULTS.seed),
  overwrite: flagOption.default(false),
  /** Pixel limit of decoded inputs (decompression bombs); default 100 MP or VPDSR_MAX_PIXELS. */
  maxPixels: intOption(1).optional(),
};

const renderSchema = z.object(renderFields);

/** The render options once parsed (renderFields' output): what upscale() and the CLI hand to a job. */
export type ParsedRender = z.output<typeof renderSchema>;

/** A job's render options: the parsed ones as they are, with outscale/width/height as its size. */
export function renderJob(p: ParsedRender): Omit<ParsedRender, 'outscale' | 'width' | 'height'> & { size: SizeOptions } {
  const { outscale, width, height, ...rest } = Object.fromEntries(Object.keys(renderFields).filter((k) => k in p).map((k) => [k, p[k as keyof ParsedRender]])) as ParsedRender;
  return { ...rest, size: { outscale, width, height } };
}

/** Checks that involve two options; `label` names them as the caller shows them. */
export function checkRender(o: { outscale?: number; width?: number; height?: number; tile?: number; tileOverlap?: number }, ctx: z.RefinementCtx, label: (k: string) => string = (k) => k): void {
  if (o.outscale !== undefined && (o.width !== undefined || o.height !== undefined)) {
    ctx.addIssue({ code: 'custom', path: ['outscale'], message: `cannot be combined with ${label('width')}/${label('height')}: give one or the other` });
  }
  if (o.tile !== undefined && o.tile > 0 && o.tileOverlap !== undefined && o.tileOverlap > o.tile / 2) {
    ctx.addIssue({ code: 'custom', path: ['tileOverlap'], message: `${o.tileOverlap} is more than half of ${label('tile')} ${o.tile}` });
  }
}

/** A model to load: a name or folder (or 'bicubic'), or public checkpoints (preset, unet, vq). */
export const modelFields = {
  model: nonEmpty.optional(),
  preset: nonEmpty.optional(),
  unet: nonEmpty.optional(),
  vq: nonEmpty.optional(),
  sampler: choice<SamplerKind>(SAMPLER_KINDS).optional(),
  steps: intOption(1).optional(),
  device: device.default(DEFAULTS.device),
  dtype: choice<PipelineDType>(PIPELINE_DTYPES).optional(),
  /** CPU threads for LibTorch (process-wide; default: LibTorch's). */
  threads: intOption(1, 1024).optional(),
};

export function checkModel(s: { model?: string; preset?: string; unet?: string; vq?: string; sampler?: string; steps?: number; dtype?: string }, ctx: z.RefinementCtx, label: (k: string) => string = (k) => k): void {
  const add = (path: string, message: string): void => { ctx.addIssue({ code: 'custom', path: [path], message }); };
  if (s.model !== undefined && (s.preset !== undefined || s.unet !== undefined || s.vq !== undefined)) return add('model', `cannot be combined with ${label('preset')}/${label('unet')}/${label('vq')}`);
  if (s.model === undefined && (s.unet !== undefined || s.vq !== undefined) && s.preset === undefined) return add('preset', `is needed with ${label('unet')} and ${label('vq')} (resshift-v1, resshift-v2, resshift-v3, sinsr …)`);
  if (s.preset !== undefined && (s.unet === undefined || s.vq === undefined)) return add('preset', `${s.preset} needs ${label('unet')} FILE and ${label('vq')} FILE (the public .pth files; see vpdsr convert)`);
  if ((s.model ?? (s.preset === undefined ? DEFAULT_MODEL : undefined)) === 'bicubic') {
    if (s.sampler !== undefined || s.steps !== undefined) return add(s.sampler !== undefined ? 'sampler' : 'steps', 'does not apply to the bicubic model');
    if (s.dtype === 'bf16') return add('dtype', 'bf16 does not apply to the bicubic model');
  }
}

/** loadModel(spec): the library's model spec. */
export const modelSpecSchema = z.strictObject({
  ...modelFields,
  onWarning: fn<(message: string) => void>().optional(),
}).superRefine((s, ctx) => checkModel(s, ctx));

export type ParsedModelSpec = z.output<typeof modelSpecSchema>;
