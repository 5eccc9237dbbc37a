// loadModel: an Upscaler loaded once and reused for many images (the library's handle on it).
import * as torch from '../engine/index.js';
import { loadUpscaler, defaultModel, resolveBundled, BUNDLED_MODEL, type UpscalerSpec } from '../models/index.js';
import { PIPELINE_DTYPES, type PipelineDType, type Upscaler } from '../models/pipeline.js';
import { SAMPLER_KINDS, type SamplerKind } from '../models/presets.js';
import { OptionError } from './errors.js';
import type { ModelKind } from './memory.js';
import { executeJob, type ImageJob, type JobHooks, type JobResult } from './execute.js';

export interface ModelSpec {
  /** A vpdsr model folder, 'vpdsr-x4' (the bundled model, the default) or 'bicubic' (the baseline). */
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

/** A loaded model; it runs in a worker thread of its own (default) or in the calling thread. */
export interface Model {
  readonly name: string;
  readonly kind: ModelKind;
  readonly device: string;
  readonly dtype: PipelineDType;
  /** 'worker': the model lives in a worker_thread, so the caller's event loop stays free. */
  readonly thread: 'worker' | 'main';
  readonly disposed: boolean;
  /** Runs one image job (src/api/execute.ts) where the model lives. */
  execute(job: ImageJob, hooks?: JobHooks): Promise<JobResult>;
  dispose(): void;
}

/** What rendering needs of a model in this thread. */
export interface InThreadModel {
  readonly kind: ModelKind;
  readonly device: string;
  readonly dtype: PipelineDType;
  readonly upscaler: Upscaler;
}

const models = new WeakSet<object>();

class LoadedModel implements Model, InThreadModel {
  readonly kind: ModelKind;
  readonly thread = 'main' as const;
  private up: Upscaler | undefined;

  constructor(up: Upscaler) {
    this.up = up;
    this.kind = up.name === 'bicubic' ? 'bicubic' : 'diffusion';
    models.add(this);
  }

  get upscaler(): Upscaler {
    if (!this.up) throw new Error('this model was disposed; load it again with loadModel()');
    return this.up;
  }

  get name(): string { return this.upscaler.name; }
  get device(): string { return this.upscaler.device; }
  get dtype(): PipelineDType { return this.upscaler.dtype; }
  get disposed(): boolean { return this.up === undefined; }

  execute(job: ImageJob, hooks?: JobHooks): Promise<JobResult> {
    return executeJob(this, job, hooks);
  }

  dispose(): void {
    this.up?.dispose();
    this.up = undefined;
  }
}

/** Marks a Model made elsewhere in this layer (the worker-backed one) as a Model. */
export function registerModel(m: Model): void {
  models.add(m);
}

export function isModel(v: unknown): v is Model {
  return typeof v === 'object' && v !== null && models.has(v);
}

/** Checks a ModelSpec and turns it into the models layer's UpscalerSpec (OptionError names the field). */
export function upscalerSpec(spec: ModelSpec | string = {}): UpscalerSpec {
  let s: ModelSpec = typeof spec === 'string' ? { model: spec } : spec;
  if (s === null || typeof s !== 'object') throw new OptionError(`model spec must be "${BUNDLED_MODEL}", "bicubic", a model folder, or { model } / { preset, unet, vq }`);
  // No model and no preset: the bundled model (the bicubic baseline when the package has no weights).
  if (s.model === undefined && s.preset === undefined) s = { ...s, model: defaultModel() };
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
    try {
      return { model: resolveBundled(s.model), ...common };
    } catch (e) {
      throw new OptionError((e as Error).message);
    }
  }
  if (s.preset === undefined) throw new OptionError('give a model ("bicubic" or a model folder) or a preset with its unet and vq files');
  if (typeof s.unet !== 'string' || typeof s.vq !== 'string') throw new OptionError(`preset ${s.preset} needs unet and vq (the public .pth files; see vpdsr convert)`);
  return { preset: s.preset, unet: s.unet, vq: s.vq, ...common };
}

export interface LoadOptions {
  /** Run the model in a worker thread of its own (default true), so the event loop stays free. */
  worker?: boolean;
}

/** Loads a model in this thread (synchronous file reads and tensor set-up; errors are one line). */
export function loadModelHere(spec: ModelSpec | string = {}): Model & InThreadModel {
  const s = upscalerSpec(spec);
  const threads = typeof spec === 'object' ? spec.threads : undefined;
  if (threads !== undefined) torch.setNumThreads(threads);
  return new LoadedModel(loadUpscaler(s));
}

/**
 * Loads a model once; pass it as `model` to upscale() for every image, then dispose() it. By
 * default it lives in a worker thread (ARCHITECTURE.md: heavy calls block their thread), so a
 * server's event loop, progress output and Ctrl-C stay responsive while it computes.
 */
export async function loadModel(spec: ModelSpec | string = {}, opts: LoadOptions = {}): Promise<Model> {
  upscalerSpec(spec); // check here: the caller gets the error, not the worker
  if (opts.worker === false) return loadModelHere(spec);
  const { loadWorkerModel } = await import('./remote.js');
  return loadWorkerModel(spec);
}

/** Wraps an Upscaler you built yourself (a custom or stand-in model) as a Model; dispose() frees it. */
export function modelFromUpscaler(up: Upscaler): Model {
  if (up === null || typeof up !== 'object' || typeof up.upscale !== 'function' || typeof up.dispose !== 'function' || up.scale !== 4) {
    throw new OptionError('modelFromUpscaler(up): up must be a ×4 Upscaler { scale: 4, name, device, dtype, upscale(), dispose() }');
  }
  return new LoadedModel(up);
}
