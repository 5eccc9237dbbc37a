// Messages between a worker-backed Model (remote.ts) and its worker (worker.ts).
import type { PipelineDType, UpscalerKind } from '../models/pipeline.js';
import type { ImageJob, JobResult } from './execute.js';
import type { ParsedModelSpec } from './schema.js';

/** workerData: the spec without its callback (warnings come back as messages). */
export type WorkerSpec = Omit<ParsedModelSpec, 'onWarning'>;

export type ToWorker =
  | { type: 'job'; id: number; job: ImageJob; flag: SharedArrayBuffer }
  | { type: 'abort'; id: number };

export type FromWorker =
  | { type: 'loaded'; name: string; kind: UpscalerKind; device: string; dtype: PipelineDType }
  | { type: 'load-error'; error: SerializedError }
  | { type: 'warning'; id?: number; message: string }
  | { type: 'tile'; id: number; done: number; total: number }
  | { type: 'done'; id: number; result: JobResult }
  | { type: 'error'; id: number; error: SerializedError };

export interface SerializedError { name: string; message: string; file?: string }

export function serializeError(e: unknown): SerializedError {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e) };
  const file = (e as { file?: unknown }).file;
  return typeof file === 'string' ? { name: e.name, message: e.message, file } : { name: e.name, message: e.message };
}
