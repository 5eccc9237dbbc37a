// torch.utils.data.distributed.DistributedSampler (PyTorch 1.13, torch/utils/data/distributed.py):
// each rank reads its own shard of a seeded, epoch-dependent permutation; the same seed and epoch
// give the same indices as PyTorch's (randperm on a generator seeded with seed + epoch).
import * as torch from '../engine/index.js';

export interface DistributedSamplerOptions {
  rank: number;
  worldSize: number;
  shuffle?: boolean;
  seed?: number;
  /** Drop the tail that does not divide evenly, instead of padding with the first indices. */
  dropLast?: boolean;
}

function checkInt(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new RangeError(`DistributedSampler: ${name} must be an integer in [${min}, ${max}], got ${String(v)}`);
  }
  return v;
}

export class DistributedSampler {
  readonly length: number;
  readonly rank: number;
  readonly worldSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  /** Indices per rank and epoch (torch's num_samples). */
  readonly numSamples: number;
  readonly totalSize: number;
  epoch = 0;
  private gen: torch.Generator | null = null;

  constructor(length: number, o: DistributedSamplerOptions) {
    if (typeof o !== 'object' || o === null) throw new TypeError('DistributedSampler: options must be an object');
    this.length = checkInt('length', length, 0, 2 ** 40);
    this.worldSize = checkInt('worldSize', o.worldSize, 1, 65536);
    this.rank = checkInt('rank', o.rank, 0, this.worldSize - 1);
    this.shuffle = o.shuffle ?? true;
    this.seed = checkInt('seed', o.seed ?? 0, 0, Number.MAX_SAFE_INTEGER);
    this.dropLast = o.dropLast ?? false;
    this.numSamples = this.dropLast && length % this.worldSize !== 0
      ? Math.ceil((length - this.worldSize) / this.worldSize)
      : Math.ceil(length / this.worldSize);
    this.totalSize = this.numSamples * this.worldSize;
  }

  /** set_epoch: a new permutation per epoch, the same on every rank. */
  setEpoch(epoch: number): void {
    this.epoch = checkInt('epoch', epoch, 0, Number.MAX_SAFE_INTEGER);
  }

  /** This rank's indices for the current epoch (torch's __iter__). */
  indices(): number[] {
    let idx: number[];
    if (this.shuffle) {
      this.gen ??= new torch.Generator(0);
      this.gen.manualSeed(this.seed + this.epoch);
      idx = torch.scope(() => Array.from(torch.randperm(this.length, { generator: this.gen! }).toArray() as BigInt64Array, Number));
    } else {
      idx = Array.from({ length: this.length }, (_, i) => i);
    }
    if (!this.dropLast) {
      const pad = this.totalSize - idx.length;
      if (pad > 0 && idx.length > 0) {
        const base = idx.slice();
        while (idx.length < this.totalSize) idx.push(...base.slice(0, Math.min(base.length, this.totalSize - idx.length)));
      }
    } else {
      idx = idx.slice(0, this.totalSize);
    }
    const out: number[] = [];
    for (let i = this.rank; i < this.totalSize; i += this.worldSize) out.push(idx[i]!);
    return out;
  }
}
