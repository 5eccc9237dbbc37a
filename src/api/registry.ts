// What a Model is, and which objects are Models: shared by the in-thread model (model.ts) and the
// worker-backed one (remote.ts), so neither imports the other.
import type { PipelineDType, UpscalerKind } from '../models/pipeline.js';
import type { ImageJob, JobHooks, JobResult } from './execute.js';

/** A loaded model; it runs in a worker thread of its own (default) or in the calling thread. */
export interface Model {
  readonly name: string;
  readonly kind: UpscalerKind;
  readonly device: string;
  readonly dtype: PipelineDType;
  /** 'worker': the model lives in a worker_thread, so the caller's event loop stays free. */
  readonly thread: 'worker' | 'main';
  readonly disposed: boolean;
  /** Runs one image job (src/api/execute.ts) where the model lives. */
  execute(job: ImageJob, hooks?: JobHooks): Promise<JobResult>;
  dispose(): void;
}

const models = new WeakSet<object>();

/** Marks an object made in this layer as a Model (upscale() reuses Models, loads anything else). */
export function registerModel(m: Model): void {
  models.add(m);
}

export function isModel(v: unknown): v is Model {
  return typeof v === 'object' && v !== null && models.has(v);
}
