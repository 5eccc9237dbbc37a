// A Model that lives in a worker thread (worker.ts): the caller's event loop stays free while the
// model computes, so progress, timers and Ctrl-C are handled at once, and an AbortSignal stops the
// job at the next tile. Tensors never cross threads: jobs and results are plain data.
import { Worker } from 'node:worker_threads';
import { AbortError, CallbackError, MemoryError, OptionError } from './errors.js';
import { ImageError } from '../io/image/errors.js';
import { CheckpointError } from '../io/checkpoint/errors.js';
import { ModelFormatError } from '../models/format.js';
import type { ImageJob, JobHooks, JobResult } from './execute.js';
import { registerModel, type Model } from './registry.js';
import type { PipelineDType, UpscalerKind } from '../models/pipeline.js';
import type { ParsedModelSpec } from './schema.js';
import type { FromWorker, SerializedError, ToWorker, WorkerSpec } from './protocol.js';

interface Pending {
  hooks: JobHooks;
  flag: Int32Array;
  resolve: (r: JobResult) => void;
  reject: (e: Error) => void;
  detach: () => void;
}

/** Rebuilds a worker's error as the same kind of one-line error here. */
function revive(e: SerializedError): Error {
  const make: Record<string, (m: string) => Error> = {
    AbortError: (m) => new AbortError(m), OptionError: (m) => new OptionError(m), MemoryError: (m) => new MemoryError(m),
    ModelFormatError: (m) => new ModelFormatError(m), CheckpointError: (m) => new CheckpointError(m),
    // The message already names the file: keep it as is.
    ImageError: (m) => Object.assign(new ImageError('', ''), { message: m, file: e.file ?? '' }),
  };
  const err = (make[e.name] ?? ((m: string) => new Error(m)))(e.message);
  if (err.name !== e.name) err.name = e.name;
  return err;
}

class WorkerModel implements Model {
  readonly thread = 'worker' as const;
  name = '';
  kind: UpscalerKind = 'custom';
  device = 'cpu';
  dtype: PipelineDType = 'fp32';
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private onWarning?: (message: string) => void;

  constructor(worker: Worker, onWarning?: (message: string) => void) {
    this.worker = worker;
    this.onWarning = onWarning;
  }

  get disposed(): boolean { return this.worker === undefined; }

  /** Routes the worker's messages; called once it has loaded. */
  attach(): void {
    const w = this.worker!;
    w.on('message', (m: FromWorker) => {
      if (m.type === 'warning') {
        const p = m.id !== undefined ? this.pending.get(m.id) : undefined;
        if (p) this.callback(m.id!, 'onWarning', () => p.hooks.onWarning?.(m.message));
        else {
          try { this.onWarning?.(m.message); } catch (e) { process.emitWarning(`vpdsr: onWarning threw: ${(e as Error)?.message ?? String(e)}`); }
        }
        return;
      }
      if (m.type !== 'tile' && m.type !== 'done' && m.type !== 'error') return;
      const p = this.pending.get(m.id);
      if (!p) return;
      if (m.type === 'tile') { this.callback(m.id, 'onProgress', () => p.hooks.onTile?.(m.done, m.total)); return; }
      this.settle(m.id);
      if (m.type === 'done') {
        const r = m.result;
        p.resolve(r.bytes ? { ...r, bytes: Buffer.from(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength) } : r);
      } else {
        p.reject(revive(m.error));
      }
    });
    const fail = (why: string): void => {
      for (const [id, p] of [...this.pending]) { this.settle(id); p.reject(new Error(`the upscale worker stopped (${why})`)); }
      this.worker = undefined;
    };
    w.on('error', (e) => fail(e.message.split('\n')[0]!));
    w.on('exit', (code) => fail(`exit code ${code}`));
    w.unref();
  }

  /**
   * Runs a caller's callback for job `id`. One that throws must not become an uncaught exception
   * of this message handler (it would end the host process): the job's promise rejects with it,
   * and the worker is told to stop the job, so the model stays usable for the next one.
   */
  private callback(id: number, which: string, f: () => void): void {
    try {
      f();
    } catch (e) {
      const p = this.pending.get(id);
      if (!p) return;
      Atomics.store(p.flag, 0, 1);
      this.worker?.postMessage({ type: 'abort', id } satisfies ToWorker);
      this.settle(id);
      p.reject(e instanceof CallbackError ? e : new CallbackError(which, e));
    }
  }

  private settle(id: number): void {
    const p = this.pending.get(id);
    if (!p) return;
    p.detach();
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker?.unref();
  }

  execute(job: ImageJob, hooks: JobHooks = {}): Promise<JobResult> {
    const w = this.worker;
    if (!w) return Promise.reject(new Error('this model was disposed; load it again with loadModel()'));
    if (hooks.signal?.aborted) return Promise.reject(new AbortError());
    const id = this.nextId++;
    const sab = new SharedArrayBuffer(4);
    const flag = new Int32Array(sab);
    return new Promise<JobResult>((resolve, reject) => {
      const onAbort = (): void => {
        Atomics.store(flag, 0, 1);
        this.worker?.postMessage({ type: 'abort', id } satisfies ToWorker);
      };
      hooks.signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, { hooks, flag, resolve, reject, detach: () => hooks.signal?.removeEventListener('abort', onAbort) });
      w.ref();
      w.postMessage({ type: 'job', id, job, flag: sab } satisfies ToWorker);
    });
  }

  dispose(): void {
    const w = this.worker;
    this.worker = undefined;
    for (const [id, p] of [...this.pending]) { this.settle(id); p.reject(new AbortError('the model was disposed')); }
    void w?.terminate();
  }
}

/** Starts a worker that loads `spec`; resolves once it has loaded (or rejects with its one-line error). */
export function loadWorkerModel(spec: ParsedModelSpec): Promise<Model> {
  const { onWarning, ...plain } = spec;
  // execArgv: [] — the worker must not inherit the host's Node flags: some are refused in workers
  // (`node --input-type=module` fails to start one).
  const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: plain satisfies WorkerSpec, execArgv: [] });
  const model = new WorkerModel(worker, onWarning);
  return new Promise<Model>((resolve, reject) => {
    const onMessage = (m: FromWorker): void => {
      if (m.type === 'warning') {
        try {
          onWarning?.(m.message);
        } catch (e) {
          cleanup();
          void worker.terminate();
          reject(new CallbackError('onWarning', e));
        }
        return;
      }
      if (m.type === 'loaded') {
        cleanup();
        Object.assign(model, { name: m.name, kind: m.kind, device: m.device, dtype: m.dtype });
        model.attach();
        registerModel(model);
        resolve(model);
      } else if (m.type === 'load-error') {
        cleanup();
        void worker.terminate();
        reject(revive(m.error));
      }
    };
    const onError = (e: Error): void => { cleanup(); reject(new Error(`the upscale worker failed to start (${e.message.split('\n')[0]})`)); };
    const onExit = (code: number): void => { cleanup(); reject(new Error(`the upscale worker exited while loading (code ${code})`)); };
    const cleanup = (): void => { worker.off('message', onMessage); worker.off('error', onError); worker.off('exit', onExit); };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}
