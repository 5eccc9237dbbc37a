// loadModel: an Upscaler loaded once and reused for many images (the library's handle on it).
import * as torch from '../engine/index.js';
import { loadUpscaler, type UpscalerSpec } from '../models/index.js';
import { PIPELINE_DTYPES, type PipelineDType, type Upscaler } from '../models/pipeline.js';
import { SAMPLER_KINDS, type SamplerKind } from '../models/presets.js';
import { OptionError } from './errors.js';
import type { ModelKind } from './memory.js';

export interface ModelSpec {
  /** A vpdsr model folder, or 'bicubic' (the baseline). */
  model?: string;
  /** Public checkpoints: a preset name with its UNet and autoencoder .pth files. */
  preset?: string;
  unet?: string;
  vq?: string;
  sampler?: SamplerKind;
  steps?: number;
  /** 'cpu' (default), 'cuda', 'cuda:N'. */
  device?: string;
  dtype?: PipelineDType;
  /** CPU threads for LibTorch (process-wide; default: LibTorch's). */
  threads?: number;
  onWarning?: (message: string) => void;
}

export interface Model {
  readonly name: string;
  readonly kind: ModelKind;
  readonly device: string;
  readonly dtype: PipelineDType;
  readonly upscaler: Upscaler;
  readonly disposed: boolean;
  dispose(): void;
}

class LoadedModel implements Model {
  readonly kind: ModelKind;
  private up: Upscaler | undefined;

  constructor(up: Upscaler) {
    this.up = up;
    this.kind = up.name === 'bicubic' ? 'bicubic' : 'diffusion';
  }

  get upscaler(): Upscaler {
    if (!this.up) throw new Error('this model was disposed; load it again with loadModel()');
    return this.up;
  }

  get name(): string { return this.upscaler.name; }
  get device(): string { return this.upscaler.device; }
  get dtype(): PipelineDType { return this.upscaler.dtype; }
  get disposed(): boolean { return this.up === undefined; }

  dispose(): void {
    this.up?.dispose();
    this.up = undefined;
  }
}

export function isModel(v: unknown): v is Model {
  return v instanceof LoadedModel;
}

/** Checks a ModelSpec and turns it into the models layer's UpscalerSpec (OptionError names the field). */
export function upscalerSpec(spec: ModelSpec | string): UpscalerSpec {
  const s: ModelSpec = typeof spec === 'string' ? { model: spec } : spec;
  if (s === null || typeof s !== 'object') throw new OptionError('model spec must be "bicubic", a model folder, or { model } / { preset, unet, vq }');
  if (s.device !== undefined && (typeof s.device !== 'string' || !/^(cpu|cuda(:\d+)?)$/.test(s.device))) throw new OptionError(`device must be cpu, cuda or cuda:N, got ${JSON.stringify(s.device)}`);
  if (s.dtype !== undefined && !PIPELINE_DTYPES.includes(s.dtype)) throw new OptionError(`dtype must be one of ${PIPELINE_DTYPES.join(', ')}, got ${JSON.stringify(s.dtype)}`);
  if (s.sampler !== undefined && !SAMPLER_KINDS.includes(s.sampler)) throw new OptionError(`sampler must be one of ${SAMPLER_KINDS.join(', ')}, got ${JSON.stringify(s.sampler)}`);
  if (s.steps !== undefined && (!Number.isSafeInteger(s.steps) || s.steps < 1)) throw new OptionError(`steps must be a positive integer, got ${JSON.stringify(s.steps)}`);
  if (s.threads !== undefined && (!Number.isSafeInteger(s.threads) || s.threads < 1 || s.threads > 1024)) throw new OptionError(`threads must be a positive integer, got ${JSON.stringify(s.threads)}`);
  const common = { device: s.device, dtype: s.dtype, sampler: s.sampler, steps: s.steps, onWarning: s.onWarning };
  if (s.model !== undefined) {
    if (typeof s.model !== 'string' || s.model.length === 0) throw new OptionError('model must be "bicubic" or a model folder');
    if (s.preset !== undefined || s.unet !== undefined || s.vq !== undefined) throw new OptionError('model cannot be combined with preset/unet/vq');
    if (s.model === 'bicubic') {
      if (s.sampler !== undefined || s.steps !== undefined) throw new OptionError('sampler and steps do not apply to the bicubic model');
      if (s.dtype === 'bf16') throw new OptionError('dtype bf16 does not apply to the bicubic model');
      return { model: 'bicubic', device: s.device, onWarning: s.onWarning };
    }
    return { model: s.model, ...common };
  }
  if (s.preset === undefined) throw new OptionError('give a model ("bicubic" or a model folder) or a preset with its unet and vq files');
  if (typeof s.unet !== 'string' || typeof s.vq !== 'string') throw new OptionError(`preset ${s.preset} needs unet and vq (the public .pth files; see vpdsr convert)`);
  return { preset: s.preset, unet: s.unet, vq: s.vq, ...common };
}

/** Loads a model once; pass it as `model` to upscale() for every image, then dispose() it. */
export async function loadModel(spec: ModelSpec | string): Promise<Model> {
  const s = upscalerSpec(spec);
  const threads = typeof spec === 'object' ? spec.threads : undefined;
  if (threads !== undefined) torch.setNumThreads(threads);
  // loadUpscaler is synchronous (file reads and tensor set-up); its errors are one line already.
  return new LoadedModel(loadUpscaler(s));
}

/** Wraps an Upscaler you built yourself (a custom or stand-in model) as a Model; dispose() frees it. */
export function modelFromUpscaler(up: Upscaler): Model {
  if (up === null || typeof up !== 'object' || typeof up.upscale !== 'function' || typeof up.dispose !== 'function' || up.scale !== 4) {
    throw new OptionError('modelFromUpscaler(up): up must be a ×4 Upscaler { scale: 4, name, device, dtype, upscale(), dispose() }');
  }
  return new LoadedModel(up);
}
