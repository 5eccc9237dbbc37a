// Process groups on LibTorch's c10d, shaped like torch.distributed (init_process_group, all_reduce,
// broadcast, all_gather, barrier): Gloo for CPU tensors, NCCL for CUDA tensors. Rendezvous follows
// the launcher conventions MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK, LOCAL_RANK.
import { native, type NativeDistBackends, type ReduceOpName } from '../native/binding.js';
import { Tensor } from './tensor.js';
import { ArgumentError, int, num, str } from './check.js';

export type { ReduceOpName };
export const REDUCE_OPS: readonly ReduceOpName[] = ['sum', 'avg', 'max', 'min', 'product'];

/** A failed rendezvous or collective: one line that says what and which rank. */
export class DistributedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DistributedError';
  }
}

/** Which process-group backends this build of the addon has. */
export function backends(): NativeDistBackends {
  return native.distBackends();
}

export interface DistEnv {
  rank: number;
  worldSize: number;
  localRank: number;
  masterAddr: string;
  masterPort: number;
}

// torch.distributed's default timeout (30 min): a long first step must not kill the run.
export const DEFAULT_TIMEOUT_MS = 30 * 60 * 1000;

function envInt(env: NodeJS.ProcessEnv, name: string, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') throw new DistributedError(`${name} is not set (a distributed run needs MASTER_ADDR, MASTER_PORT, WORLD_SIZE and RANK)`);
  const v = /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(v) || v < min || v > max) throw new DistributedError(`${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(raw)}`);
  return v;
}

/**
 * The launch environment, or null when WORLD_SIZE is unset (a single-process run). Any variable
 * that is present but malformed or inconsistent is an error naming it.
 */
export function distEnv(env: NodeJS.ProcessEnv = process.env): DistEnv | null {
  if (env.WORLD_SIZE === undefined || env.WORLD_SIZE.trim() === '') return null;
  const worldSize = envInt(env, 'WORLD_SIZE', 1, 65536);
  const rank = envInt(env, 'RANK', 0, worldSize - 1);
  const localRank = env.LOCAL_RANK === undefined || env.LOCAL_RANK.trim() === '' ? rank : envInt(env, 'LOCAL_RANK', 0, worldSize - 1);
  const masterAddr = (env.MASTER_ADDR ?? '').trim();
  if (!masterAddr) throw new DistributedError('MASTER_ADDR is not set (the address of the machine that runs rank 0)');
  const masterPort = envInt(env, 'MASTER_PORT', 1, 65535);
  return { rank, worldSize, localRank, masterAddr, masterPort };
}

export interface InitOptions extends DistEnv {
  /** How long rendezvous and every collective may wait for the other ranks (ms). */
  timeoutMs: number;
}

/** A process group over all ranks: the torch.distributed default group. */
export class ProcessGroup {
  private id: number;
  readonly rank: number;
  readonly worldSize: number;
  readonly localRank: number;
  readonly timeoutMs: number;

  private constructor(id: number, o: InitOptions) {
    this.id = id;
    this.rank = o.rank;
    this.worldSize = o.worldSize;
    this.localRank = o.localRank;
    this.timeoutMs = o.timeoutMs;
  }

  /**
   * Joins the group (torch.distributed.init_process_group): rank 0 serves the TCPStore at
   * masterAddr:masterPort, every rank checks in with its RANK and WORLD_SIZE, then Gloo (and NCCL
   * where available) connect. Rejects with one line naming what is wrong within timeoutMs.
   */
  static async init(opts: Partial<InitOptions> = {}): Promise<ProcessGroup> {
    const op = 'initProcessGroup';
    if (typeof opts !== 'object' || opts === null) throw new ArgumentError(op, 'opts', 'must be an object');
    const fromEnv = opts.worldSize === undefined ? distEnv() : null;
    const o = { ...fromEnv, ...opts };
    if (o.worldSize === undefined) throw new DistributedError('no distributed launch: set WORLD_SIZE, RANK, MASTER_ADDR and MASTER_PORT (or pass them)');
    const worldSize = int(op, 'worldSize', o.worldSize, { min: 1, max: 65536 });
    const rank = int(op, 'rank', o.rank, { min: 0, max: worldSize - 1 });
    const localRank = int(op, 'localRank', o.localRank ?? rank, { min: 0, max: worldSize - 1 });
    if (typeof o.masterAddr !== 'string' || !/^[A-Za-z0-9.:_-]{1,253}$/.test(o.masterAddr)) {
      throw new ArgumentError(op, 'masterAddr', `must be a host name or address, got ${JSON.stringify(o.masterAddr)}`);
    }
    const masterPort = int(op, 'masterPort', o.masterPort, { min: 1, max: 65535 });
    const timeoutMs = num(op, 'timeoutMs', o.timeoutMs ?? DEFAULT_TIMEOUT_MS, { finite: true, min: 100, max: 7 * 24 * 3600 * 1000 });
    const b = backends();
    if (!b.store || !native.distInit) throw new DistributedError('this LibTorch build has no torch.distributed (c10d) headers: rebuild the addon against one that has');
    if (!b.gloo && !b.ncclUsable) throw new DistributedError('no process-group backend in this build: install libgloo-dev (Gloo) and rebuild the addon (npm run build:native)');
    const full: InitOptions = { rank, worldSize, localRank, masterAddr: o.masterAddr, masterPort, timeoutMs: Math.round(timeoutMs) };
    let id: number;
    try {
      id = await native.distInit({ rank, size: worldSize, addr: full.masterAddr, port: masterPort, timeoutMs: full.timeoutMs, nccl: true });
    } catch (e) {
      throw new DistributedError(`rank ${rank}: ${(e as Error).message.replace(/^distributed\.init: /, '')}`);
    }
    return new ProcessGroup(id, full);
  }

  private live(op: string): number {
    if (!this.id) throw new DistributedError(`${op}: the process group was destroyed`);
    return this.id;
  }

  private handles(op: string, tensors: Tensor | Tensor[]): number[] {
    const list = Array.isArray(tensors) ? tensors : [tensors];
    if (list.length === 0) throw new ArgumentError(op, 'tensors', 'must hold at least one tensor');
    let device: string | undefined;
    return list.map((t, i) => {
      const what = Array.isArray(tensors) ? `tensors[${i}]` : 'tensor';
      if (!(t instanceof Tensor)) throw new ArgumentError(op, what, 'must be a Tensor');
      if (t.isDisposed) throw new ArgumentError(op, what, 'was disposed');
      if (!t.isContiguous()) throw new ArgumentError(op, what, 'must be contiguous (call .contiguous() first)');
      const kind = t.device.startsWith('cuda') ? 'cuda' : t.device;
      if (device !== undefined && kind !== device) throw new ArgumentError(op, what, `is on ${t.device}, the others on ${device}`);
      device = kind;
      return t.handle;
    });
  }

  // Native errors, thrown at once (enqueue) or later (wait), become one DistributedError line.
  private async settle<T>(start: () => Promise<T>): Promise<T> {
    try {
      return await start();
    } catch (e) {
      throw new DistributedError(`rank ${this.rank}: ${(e as Error).message}`);
    }
  }

  /**
   * In place on every rank: the elementwise sum (or avg/max/min/product) over all ranks. Each
   * tensor of a list is reduced on its own (unlike c10d's per-device lists).
   */
  allReduce(tensors: Tensor | Tensor[], op: ReduceOpName = 'sum'): Promise<void> {
    const name = 'allReduce';
    const reduce = str(name, 'op', op, REDUCE_OPS);
    const hs = this.handles(name, tensors);
    const id = this.live(name);
    return this.settle(() => native.distAllReduce!(id, hs, reduce));
  }

  /** In place: every rank's tensors become src's. */
  broadcast(tensors: Tensor | Tensor[], src = 0): Promise<void> {
    const name = 'broadcast';
    const root = int(name, 'src', src, { min: 0, max: this.worldSize - 1 });
    const hs = this.handles(name, tensors);
    const id = this.live(name);
    return this.settle(() => native.distBroadcast!(id, hs, root));
  }

  /** Every rank's tensor, in rank order (new tensors the caller owns). */
  async allGather(tensor: Tensor): Promise<Tensor[]> {
    const name = 'allGather';
    if (Array.isArray(tensor)) throw new ArgumentError(name, 'tensor', 'must be one Tensor');
    const [h] = this.handles(name, tensor);
    const id = this.live(name);
    const out = await this.settle(() => native.distAllGather!(id, h!));
    return out.map((x) => Tensor.fromHandle(x));
  }

  /** Resolves once every rank has reached it. */
  barrier(): Promise<void> {
    const id = this.live('barrier');
    return this.settle(() => native.distBarrier!(id));
  }

  /** Leaves the group; further calls are errors. */
  async destroy(): Promise<void> {
    if (!this.id) return;
    const id = this.id;
    this.id = 0;
    await native.distDestroy!(id);
  }
}

/** torch.distributed.init_process_group(): from the launch environment unless given. */
export function initProcessGroup(opts: Partial<InitOptions> = {}): Promise<ProcessGroup> {
  return ProcessGroup.init(opts);
}
