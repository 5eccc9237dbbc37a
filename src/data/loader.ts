// Batches with prefetching on worker_threads. Each worker loads the engine itself (one intra-op
// thread each, so workers do not fight over the cores) and computes whole batches; tensors never
// cross threads: a finished batch travels as raw ArrayBuffers (transferred, not copied) and
// becomes tensors again on the receiving side. Every batch is a pure function of its task
// (file names + a seed derived from the run seed and the batch index), so the output does not
// depend on which worker computed it or in which order batches finished.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import * as torch from '../engine/index.js';
import { Tensor } from '../engine/index.js';
import { Rng, deriveSeed } from './rng.js';
import { degradeFile, degradeHrBatch, loadPairedBatch, listImages, listPairs, type PairedOptions } from './dataset.js';
import type { DegradationPreset } from './degradation/params.js';

/** A unit of work a worker (or the main thread) can do. */
export type LoaderTask =
  | { kind: 'degradeFile'; root: string; name: string; seed: number; preset: DegradationPreset; gtPrep: boolean }
  | { kind: 'hrBatch'; root: string; names: string[]; batchSeed: number; preset: DegradationPreset }
  | { kind: 'pairedBatch'; hrDir: string; lrDir: string; names: string[]; batchSeed: number; opts: PairedOptions };

interface WireTensor { buf: ArrayBuffer; shape: number[] }
/** A finished batch as it crosses threads. `meta` is plain JSON (names, sampled parameters). */
export interface WireBatch { gt: WireTensor; lq: WireTensor; meta: Record<string, unknown> }

export interface Batch {
  gt: Tensor;
  lq: Tensor;
  names: string[];
  meta: Record<string, unknown>;
}

function toWire(t: Tensor): WireTensor {
  const bytes = t.toBytes();
  const buf = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer : bytes.slice().buffer;
  return { buf: buf as ArrayBuffer, shape: t.shape };
}

/** Rebuilds the tensors of a WireBatch (float32); the caller owns them. */
export function fromWire(w: WireBatch): Batch {
  const mk = (x: WireTensor): Tensor => torch.keep(torch.scope(() => torch.fromBytes(new Uint8Array(x.buf), 'float32', x.shape)));
  const names = Array.isArray(w.meta.names) ? (w.meta.names as string[]) : [];
  return { gt: mk(w.gt), lq: mk(w.lq), names, meta: w.meta };
}

/** Runs a task on this thread and returns it in wire form. */
export async function runTask(task: LoaderTask): Promise<WireBatch> {
  let r: { gt: Tensor; lq: Tensor; meta: Record<string, unknown> };
  if (task.kind === 'degradeFile' || task.kind === 'hrBatch') {
    const b = task.kind === 'degradeFile'
      ? await degradeFile(task.root, task.name, task.seed, task.preset, { gtPrep: task.gtPrep })
      : await degradeHrBatch(task.root, task.names, task.batchSeed, task.preset);
    r = { gt: b.gt, lq: b.lq, meta: { names: b.names, items: b.items, choices: b.choices, jpeg_quality: b.jpeg_quality } };
  } else if (task.kind === 'pairedBatch') {
    const b = await loadPairedBatch(task.hrDir, task.lrDir, task.names, task.batchSeed, task.opts);
    r = { gt: b.gt, lq: b.lq, meta: { names: b.names, crops: b.crops } };
  } else {
    throw new Error(`unknown loader task ${JSON.stringify((task as { kind: unknown }).kind)}`);
  }
  try {
    return { gt: toWire(r.gt), lq: toWire(r.lq), meta: r.meta };
  } finally {
    r.gt.dispose(); r.lq.dispose();
  }
}

// ---------------------------------------------------------------- worker pool

interface Pending { resolve: (w: WireBatch) => void; reject: (e: Error) => void }
type Reply = { id: number; ok: true; batch: WireBatch } | { id: number; ok: false; error: string };

/** n workers, each with its own engine; run() queues a task and resolves with its batch. */
export class WorkerPool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: { id: number; task: LoaderTask }[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly busy = new Map<Worker, number>();
  private nextId = 1;
  private closed = false;
  private failure: Error | undefined;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1 || size > 64) throw new RangeError(`WorkerPool: size must be an integer in [1, 64], got ${size}`);
    // Workers set one intra-op thread. ATen keeps that count in a process-wide value that each
    // thread adopts lazily on its first parallel op, so make this thread adopt its own count now,
    // before any worker lowers it.
    torch.setNumThreads(torch.getNumThreads());
    for (let i = 0; i < size; i++) {
      const w = new Worker(new URL(import.meta.url), { workerData: { vpdsrLoaderWorker: true } });
      w.on('message', (m: Reply) => this.onReply(w, m));
      w.on('error', (e) => this.onCrash(w, e));
      w.on('exit', (code) => { if (!this.closed && code !== 0) this.onCrash(w, new Error(`a data worker exited with code ${code}`)); });
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  run(task: LoaderTask): Promise<WireBatch> {
    if (this.closed) return Promise.reject(new Error('WorkerPool: closed'));
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const p = new Promise<WireBatch>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.queue.push({ id, task });
    this.pump();
    return p;
  }

  private pump(): void {
    while (this.idle.length && this.queue.length) {
      const w = this.idle.shift()!, job = this.queue.shift()!;
      this.busy.set(w, job.id);
      w.postMessage({ id: job.id, task: job.task });
    }
  }

  private onReply(w: Worker, m: Reply): void {
    this.busy.delete(w);
    this.idle.push(w);
    const p = this.pending.get(m.id);
    this.pending.delete(m.id);
    if (p) { if (m.ok) p.resolve(m.batch); else p.reject(new Error(m.error)); }
    this.pump();
  }

  private onCrash(w: Worker, e: Error): void {
    if (this.closed) return;
    this.failure = new Error(`data worker failed: ${e.message.split('\n')[0]}`);
    for (const [, p] of this.pending) p.reject(this.failure);
    this.pending.clear();
    this.queue.length = 0;
    this.busy.delete(w);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

if (!isMainThread && (workerData as { vpdsrLoaderWorker?: boolean } | null)?.vpdsrLoaderWorker) {
  torch.setNumThreads(1);
  const port = parentPort!;
  // One task at a time per worker: the pool sends the next one when this reply arrives.
  port.on('message', (m: { id: number; task: LoaderTask }) => {
    runTask(m.task).then(
      (batch) => port.postMessage({ id: m.id, ok: true, batch } satisfies Reply, [batch.gt.buf, batch.lq.buf]),
      (e: unknown) => port.postMessage({ id: m.id, ok: false, error: e instanceof Error ? e.message.split('\n')[0]! : String(e) } satisfies Reply),
    );
  });
}

// ---------------------------------------------------------------- in-order prefetching runner

/**
 * Runs tasks with up to `inFlight` outstanding and yields results in task order: on a pool when
 * `pool` is given, else on this thread (one at a time; JPEG still runs on libuv threads).
 */
export async function* runOrdered(tasks: Iterable<LoaderTask>, pool: WorkerPool | null, inFlight: number): AsyncGenerator<{ task: LoaderTask; result: Promise<WireBatch> }> {
  const it = tasks[Symbol.iterator]();
  const window: { task: LoaderTask; result: Promise<WireBatch> }[] = [];
  const start = (task: LoaderTask): { task: LoaderTask; result: Promise<WireBatch> } => {
    const result = pool ? pool.run(task) : runTask(task);
    result.catch(() => undefined); // handled by the consumer; avoids an unhandled rejection meanwhile
    return { task, result };
  };
  const limit = pool ? Math.max(1, inFlight) : 1;
  for (;;) {
    while (window.length < limit) {
      const n = it.next();
      if (n.done) break;
      window.push(start(n.value));
    }
    const head = window.shift();
    if (!head) return;
    if (!pool) await head.result.catch(() => undefined);
    yield head;
  }
}

// ---------------------------------------------------------------- training loaders

export interface LoaderOptions {
  batchSize: number;
  seed: number;
  /** 0 = compute on the main thread; n ≥ 1 = n worker threads. */
  workers: number;
  /** Batches in flight per worker (default 2). */
  prefetch?: number;
  shuffle?: boolean;
  dropLast?: boolean;
  /**
   * Data-parallel: this rank's share. batchSize is then per rank; every rank shuffles the same
   * order, global batch b holds batchSize × worldSize images and rank r reads its run
   * [r·batchSize, (r+1)·batchSize) of it (so the ranks together read what one process with the
   * global batch reads). A last, partial global batch is dropped: every rank takes as many steps.
   */
  shard?: { rank: number; worldSize: number };
}

function checkLoader(o: LoaderOptions): void {
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) throw new RangeError(`loader: batchSize must be a positive integer, got ${o.batchSize}`);
  if (!Number.isSafeInteger(o.seed) || o.seed < 0) throw new RangeError(`loader: seed must be a non-negative integer, got ${o.seed}`);
  if (!Number.isInteger(o.workers) || o.workers < 0 || o.workers > 64) throw new RangeError(`loader: workers must be an integer in [0, 64], got ${o.workers}`);
  if (o.prefetch !== undefined && (!Number.isInteger(o.prefetch) || o.prefetch < 1)) throw new RangeError(`loader: prefetch must be a positive integer, got ${o.prefetch}`);
  if (o.shard !== undefined) {
    const { rank, worldSize } = o.shard;
    if (!Number.isInteger(worldSize) || worldSize < 1) throw new RangeError(`loader: shard.worldSize must be a positive integer, got ${worldSize}`);
    if (!Number.isInteger(rank) || rank < 0 || rank >= worldSize) throw new RangeError(`loader: shard.rank must be an integer in [0, ${worldSize - 1}], got ${rank}`);
  }
}

/** Fisher–Yates with the run's Rng for this epoch. */
function order(n: number, seed: number, epoch: number, shuffle: boolean): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  if (!shuffle) return idx;
  const rng = new Rng(deriveSeed(seed, 'epoch', epoch));
  for (let i = n - 1; i > 0; i--) {
    const j = rng.randint(0, i);
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx;
}

/** A data loader over an HR folder (on-the-fly degradation) or paired HR/LR folders. */
export class DataLoader {
  private pool: WorkerPool | null = null;

  private constructor(
    private readonly names: string[],
    private readonly makeTask: (names: string[], batchSeed: number) => LoaderTask,
    readonly options: LoaderOptions,
  ) {
    checkLoader(options);
    if (names.length === 0) throw new Error('loader: the folder holds no images');
  }

  /** HR images, §7.2 GT preparation and the §7 degradation per batch (ResShift's training data). */
  static async hrFolder(root: string, preset: DegradationPreset, options: LoaderOptions): Promise<DataLoader> {
    const names = await listImages(root);
    return new DataLoader(names, (n, s) => ({ kind: 'hrBatch', root, names: n, batchSeed: s, preset }), options);
  }

  /** Paired folders as `vpdsr degrade` writes them (OUT/hr, OUT/lr), random crops. */
  static async paired(hrDir: string, lrDir: string, paired: PairedOptions, options: LoaderOptions): Promise<DataLoader> {
    const names = await listPairs(hrDir, lrDir);
    return new DataLoader(names, (n, s) => ({ kind: 'pairedBatch', hrDir, lrDir, names: n, batchSeed: s, opts: paired }), options);
  }

  get length(): number { return this.names.length; }

  /** Number of batches per epoch. */
  get batches(): number {
    const b = this.options.batchSize;
    if (this.options.shard) return Math.floor(this.names.length / (b * this.options.shard.worldSize));
    return this.options.dropLast ? Math.floor(this.names.length / b) : Math.ceil(this.names.length / b);
  }

  /** The image names of each batch of an epoch (this rank's part when sharded). */
  batchNames(epoch: number): string[][] {
    const idx = order(this.names.length, this.options.seed, epoch, this.options.shuffle ?? true);
    const B = this.options.batchSize, shard = this.options.shard;
    const out: string[][] = [];
    for (let b = 0; b < this.batches; b++) {
      const start = shard ? (b * shard.worldSize + shard.rank) * B : b * B;
      out.push(idx.slice(start, start + B).map((i) => this.names[i]!));
    }
    return out;
  }

  private tasks(epoch: number): LoaderTask[] {
    const shard = this.options.shard;
    const out: LoaderTask[] = [];
    for (const [b, names] of this.batchNames(epoch).entries()) {
      const rank = shard && shard.worldSize > 1 ? ['rank', shard.rank] : [];
      out.push(this.makeTask(names, deriveSeed(this.options.seed, 'batch', epoch, b, ...rank)));
    }
    return out;
  }

  /**
   * The batches of one epoch, in order, prefetched, from batch `start` on (a resumed run continues
   * mid-epoch: each batch is a function of the seed, the epoch and its index). The consumer disposes
   * each batch's tensors.
   */
  async *epoch(epoch = 0, start = 0): AsyncGenerator<Batch> {
    if (!Number.isInteger(start) || start < 0) throw new RangeError(`loader: start batch must be a non-negative integer, got ${start}`);
    if (this.options.workers > 0 && !this.pool) this.pool = new WorkerPool(this.options.workers);
    const inFlight = (this.options.prefetch ?? 2) * Math.max(1, this.options.workers);
    for await (const { result } of runOrdered(this.tasks(epoch).slice(start), this.pool, inFlight)) {
      yield fromWire(await result);
    }
  }

  async close(): Promise<void> {
    if (this.pool) { await this.pool.close(); this.pool = null; }
  }
}
