// Data-parallel training over a process group, after torch.nn.parallel.DistributedDataParallel
// (torch/nn/parallel/distributed.py, torch/csrc/distributed/c10d/reducer.cpp): parameters and
// buffers start as rank 0's; gradients are averaged across ranks in buckets of ~25 MB.
//
// The engine has no gradient hooks that could run JS during backward, so the reduction runs after
// backward. It still overlaps: every bucket's all-reduce is queued as soon as the bucket is
// packed, so Gloo's threads reduce bucket i while this thread packs bucket i+1.
import { Tensor } from '../tensor.js';
import { noGrad } from '../autograd.js';
import { ITEM_SIZE } from '../dtype.js';
import { scope, keep } from '../scope.js';
import { cat } from '../ops/shape.js';
import { ArgumentError, num } from '../check.js';
import type { ProcessGroup } from '../distributed.js';
import { Module } from './module.js';

export interface DataParallelOptions {
  /** Bucket size in MiB (torch's bucket_cap_mb, default 25). */
  bucketCapMB?: number;
}

interface Bucket { params: Tensor[]; numel: number[] }

function bucketKey(t: Tensor): string {
  return `${t.dtype}@${t.device}`;
}

/** Groups tensors (in reverse order, as DDP: the last layers' gradients are ready first) into buckets. */
function makeBuckets(params: Tensor[], capBytes: number): Bucket[] {
  const open = new Map<string, { b: Bucket; bytes: number }>();
  const out: Bucket[] = [];
  for (let i = params.length - 1; i >= 0; i--) {
    const p = params[i]!;
    const k = bucketKey(p);
    let cur = open.get(k);
    if (!cur) {
      cur = { b: { params: [], numel: [] }, bytes: 0 };
      open.set(k, cur);
      out.push(cur.b);
    }
    cur.b.params.push(p);
    cur.b.numel.push(p.numel);
    cur.bytes += p.numel * ITEM_SIZE[p.dtype];
    if (cur.bytes >= capBytes) open.delete(k);
  }
  return out;
}

/** DistributedDataParallel's synchronisation for a module or a list of parameters. */
export class DataParallel {
  readonly params: Tensor[];
  readonly buffers: Tensor[];
  private readonly buckets: Bucket[];

  constructor(readonly pg: ProcessGroup, target: Module | Tensor[], opts: DataParallelOptions = {}) {
    const op = 'DataParallel';
    if (typeof opts !== 'object' || opts === null) throw new ArgumentError(op, 'opts', 'must be an object');
    const capMB = num(op, 'bucketCapMB', opts.bucketCapMB ?? 25, { finite: true, min: 1e-6, max: 1 << 16 });
    if (target instanceof Module) {
      this.params = target.parameters().filter((p) => p.requiresGrad);
      this.buffers = target.buffers();
    } else if (Array.isArray(target) && target.every((t) => t instanceof Tensor)) {
      this.params = [...target];
      this.buffers = [];
    } else {
      throw new ArgumentError(op, 'target', 'must be a Module or an array of Tensors');
    }
    if (this.params.length === 0) throw new ArgumentError(op, 'target', 'has no parameters that require grad');
    this.buckets = makeBuckets(this.params, capMB * 1024 * 1024);
  }

  get bucketCount(): number { return this.buckets.length; }

  /** Every rank's parameters and buffers become rank 0's (DDP's _sync_params_and_buffers). */
  async syncParameters(): Promise<void> {
    // Broadcast writes the storage in place, outside autograd (as DDP's _broadcast_coalesced).
    await this.pg.broadcast([...this.params, ...this.buffers], 0);
  }

  /**
   * Averages every parameter's gradient over the ranks, in place. Every parameter must have a
   * gradient on every rank (as DDP without find_unused_parameters).
   */
  async reduceGradients(): Promise<void> {
    const flats: Tensor[] = [];
    const pending: Promise<void>[] = [];
    try {
      for (const b of this.buckets) {
        const flat = scope(() => keep(cat(b.params.map((p, i) => {
          const g = p.grad;
          if (!g) throw new Error(`DataParallel: a parameter of shape [${p.shape.join(', ')}] has no gradient on rank ${this.pg.rank} (every parameter must take part in each step's loss)`);
          return g.reshape([b.numel[i]!]);
        }))));
        flats.push(flat);
        pending.push(this.pg.allReduce(flat, 'avg'));
      }
      await Promise.all(pending);
      noGrad(() => {
        for (let k = 0; k < this.buckets.length; k++) {
          const b = this.buckets[k]!;
          scope(() => {
            let off = 0;
            b.params.forEach((p, i) => {
              const n = b.numel[i]!;
              const g = p.grad!;
              g.copy_(flats[k]!.narrow(0, off, n).view(g.shape));
              off += n;
            });
          });
        }
      });
    } finally {
      // A failed bucket leaves the others in flight: wait for them before freeing their memory.
      await Promise.allSettled(pending);
      for (const f of flats) f.dispose();
    }
  }
}
