// loadModel: an Upscaler loaded once and reused for many images (the library's handle on it).
import * as torch from '../engine/index.js';
import { loadUpscaler, type UpscalerSpec } from '../models/index.js';
import type { PipelineDType, Upscaler, UpscalerKind } from '../models/pipeline.js';
import type { SamplerKind } from '../models/presets.js';
import { OptionError } from './errors.js';
import { executeJob, type ImageJob, type JobHooks, type JobResult } from './execute.js';
import type { InThreadModel } from './job.js';
import { resolveModel } from './models-dir.js';
import { registerModel, type Model } from './registry.js';
import { parseOptions } from './options.js';
import { DEFAULT_MODEL, modelSpecSchema, type ParsedModelSpec } from './schema.js';

export type { InThreadModel } from './job.js';

export interface ModelSpec {
  /** A model name (vpdsr models), a vpdsr model folder, or 'bicubic' (the baseline). Default DEFAULT_MODEL. */
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

export type { Model } from './registry.js';

class LoadedModel implements Model, InThreadModel {
  readonly kind: UpscalerKind;
  readonly thread = 'main' as const;
  private up: Upscaler | undefined;

  constructor(up: Upscaler) {
    this.up = up;
    this.kind = up.kind ?? 'custom';
    registerModel(this);
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

export { isModel } from './registry.js';

/** Checks a ModelSpec once (OptionError naming the field); a string is `{ model }`. */
export function parseModelSpec(spec: ModelSpec | string | undefined): ParsedModelSpec {
  const s = spec === undefined ? {} : typeof spec === 'string' ? { model: spec } : spec;
  if (s === null || typeof s !== 'object' || Array.isArray(s)) throw new OptionError('loadModel(spec): spec must be a model name, a folder, or { model } / { preset, unet, vq }');
  return parseOptions(modelSpecSchema, s, { where: 'loadModel(spec)' });
}

/** The models layer's UpscalerSpec of a parsed spec (a model name resolved to its folder). */
export function upscalerSpec(s: ParsedModelSpec): UpscalerSpec {
  const common = { device: s.device, dtype: s.dtype, sampler: s.sampler, steps: s.steps, onWarning: s.onWarning };
  if (s.preset !== undefined) return { preset: s.preset, unet: s.unet!, vq: s.vq!, ...common };
  const model = resolveModel(s.model ?? DEFAULT_MODEL);
  if (model === 'bicubic') return { model: 'bicubic', device: s.device, onWarning: s.onWarning };
  return { model, ...common };
}

export interface LoadOptions {
  /** Run the model in a worker thread of its own (default true), so the event loop stays free. */
  worker?: boolean;
}

/** Loads a model in this thread (synchronous file reads and tensor set-up; errors are one line). */
export function loadModelHere(spec: ParsedModelSpec): Model & InThreadModel {
  const s = upscalerSpec(spec);
  if (spec.threads !== undefined) torch.setNumThreads(spec.threads);
  return new LoadedModel(loadUpscaler(s));
}

/**
 * Loads a model once; pass it as `model` to upscale() for every image, then dispose() it. By
 * default it lives in a worker thread (ARCHITECTURE.md: heavy calls block their thread), so a
 * server's event loop, progress output and Ctrl-C stay responsive while it computes.
 */
export async function loadModel(spec: ModelSpec | string = DEFAULT_MODEL, opts: LoadOptions = {}): Promise<Model> {
  // Checked here, so the caller gets the error, not the worker.
  const parsed = parseModelSpec(spec);
  if (opts === null || typeof opts !== 'object') throw new OptionError('loadModel(spec, options): options must be an object');
  for (const k of Object.keys(opts)) if (k !== 'worker') throw new OptionError(`loadModel(spec, options): unknown option ${k} (the only one is worker)`);
  if (opts.worker !== undefined && typeof opts.worker !== 'boolean') throw new OptionError('loadModel(spec, options): worker must be true or false');
  if (opts.worker === false) return loadModelHere(parsed);
  // The folder is resolved here too, so a wrong name is this call's error.
  upscalerSpec(parsed);
  const { loadWorkerModel } = await import('./remote.js');
  return loadWorkerModel(parsed);
}

/** Wraps an Upscaler you built yourself (a custom or stand-in model) as a Model; dispose() frees it. */
export function modelFromUpscaler(up: Upscaler): Model {
  if (up === null || typeof up !== 'object' || typeof up.upscale !== 'function' || typeof up.dispose !== 'function' || up.scale !== 4) {
    throw new OptionError('modelFromUpscaler(up): up must be a ×4 Upscaler { scale: 4, name, device, dtype, upscale(), dispose() }');
  }
  return new LoadedModel(up);
}
