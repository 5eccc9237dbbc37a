// Training batches from the data layer's loaders (an HR folder degraded on the fly, or LR/HR pairs),
// as an endless stream whose position (epoch, batch) is part of a checkpoint; and the validation set.
import path from 'node:path';
import * as torch from '../engine/index.js';
import { Tensor } from '../engine/index.js';
import { DataLoader, type Batch } from '../data/loader.js';
import { listImages, listPairs, readRgb8 } from '../data/dataset.js';
import { PRESETS, validatePreset, type DegradationPreset } from '../data/degradation/params.js';
import type { DataConfig, ValConfig } from './config.js';
import { ConfigError } from './config.js';
import { localBatch, type TrainDist } from './parallel.js';

export interface DataPosition { epoch: number; batch: number }

/** The degradation of data.degradation: a base preset, the overrides, and the crop as the GT size. */
export function degradationPreset(d: DataConfig): DegradationPreset {
  const { base, ...over } = d.degradation as { base: 'train' | 'test' } & Record<string, unknown>;
  try {
    return validatePreset({ ...PRESETS[base], ...over, gt_size: d.crop, crop_pad_size: d.crop, rescale_gt: false }, 'data.degradation');
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
}

export class BatchStream {
  private it: AsyncGenerator<Batch> | null = null;

  private constructor(private readonly loader: DataLoader, private pos: DataPosition) {}

  /** With a process group, this rank's shard: data.batch / WORLD_SIZE images of each global batch. */
  static async open(d: DataConfig, seed: number, from: DataPosition = { epoch: 0, batch: 0 }, dist: TrainDist | null = null): Promise<BatchStream> {
    const shard = dist && dist.worldSize > 1 ? { rank: dist.rank, worldSize: dist.worldSize } : undefined;
    const opts = { batchSize: localBatch(d.batch, dist), seed, workers: d.workers, shuffle: true, dropLast: true, ...(shard ? { shard } : {}) };
    const loader = d.hr !== undefined
      ? await DataLoader.hrFolder(d.hr, degradationPreset(d), opts)
      : await DataLoader.paired(d.pairs!.hr, d.pairs!.lr, { scale: 4, gtSize: d.crop, useHflip: true }, opts);
    if (loader.batches < 1) throw new ConfigError(`data: ${loader.length} images make no full batch of ${d.batch}`);
    return new BatchStream(loader, { ...from });
  }

  /** Where the next batch comes from. */
  get position(): DataPosition { return { ...this.pos }; }

  /** The next batch, HR and LR in [−1, 1] (the caller owns them). */
  async next(): Promise<{ hr: Tensor; lq: Tensor }> {
    for (;;) {
      if (!this.it) this.it = this.loader.epoch(this.pos.epoch, this.pos.batch);
      const r = await this.it.next();
      if (r.done) {
        this.it = null;
        this.pos = { epoch: this.pos.epoch + 1, batch: 0 };
        continue;
      }
      this.pos = { epoch: this.pos.epoch, batch: this.pos.batch + 1 };
      const b = r.value;
      try {
        return torch.scope(() => ({ hr: torch.keep(b.gt.mul(2).sub(1)), lq: torch.keep(b.lq.mul(2).sub(1)) }));
      } finally {
        b.gt.dispose(); b.lq.dispose();
      }
    }
  }

  async close(): Promise<void> {
    await this.it?.return(undefined);
    this.it = null;
    await this.loader.close();
  }
}

export interface ValItem { name: string; hr: Tensor; lq: Tensor }

/** The first `max` validation pairs in name order, each [1, 3, H, W] in [0, 1]. */
export async function loadValSet(v: { hr: string; lr: string; max: number }): Promise<ValItem[]> {
  const names = (await listPairs(v.hr, v.lr)).sort().slice(0, v.max);
  const lrNames = new Map<string, string>();
  for (const n of await listImages(v.lr)) lrNames.set(n.slice(0, n.length - path.extname(n).length), n);
  const out: ValItem[] = [];
  for (const name of names) {
    const stem = name.slice(0, name.length - path.extname(name).length);
    const hr = await readRgb8(path.join(v.hr, name));
    const lq = await readRgb8(path.join(v.lr, lrNames.get(stem)!));
    if (hr.size(1) !== 4 * lq.size(1) || hr.size(2) !== 4 * lq.size(2)) {
      hr.dispose(); lq.dispose();
      for (const it of out) { it.hr.dispose(); it.lq.dispose(); }
      throw new Error(`${path.join(v.hr, name)}: HR ${hr.size(1)}×${hr.size(2)} is not 4× its LR`);
    }
    out.push({ name, hr: torch.keep(torch.scope(() => hr.unsqueeze(0))), lq: torch.keep(torch.scope(() => lq.unsqueeze(0))) });
    hr.dispose(); lq.dispose();
  }
  if (out.length === 0) throw new Error(`${v.hr}: no validation pairs`);
  return out;
}

export type { ValConfig };
