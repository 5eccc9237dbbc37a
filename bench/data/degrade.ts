// Degradation throughput: (GT, LQ) training pairs per second at 256² GT (64² LQ), ResShift's
// training preset with real JPEG: decode + §7.2 GT preparation + kernels + the two-stage
// degradation, through the prefetching loader with 1 and 2 worker threads; plus the pipeline
// alone on the main thread (GT already in memory) to show what decoding and preparation cost.
import path from 'node:path';
import * as torch from '../../src/engine/index.js';
import { DataLoader } from '../../src/data/loader.js';
import { prepareItem, degradeItems, disposeItem, listImages } from '../../src/data/dataset.js';
import { TRAIN_PRESET } from '../../src/data/degradation/params.js';
import { Rng } from '../../src/data/rng.js';

export interface DegradationBenchOptions {
  /** HR folder (default ../shared/data/train/bsds500/train). */
  root?: string;
  /** Pairs per measurement (default 48, after one warm-up batch). */
  pairs?: number;
  batchSize?: number;
}

export async function benchDegradation(opts: DegradationBenchOptions = {}): Promise<string[]> {
  const root = opts.root ?? path.resolve(process.env.VPDSR_SHARED ?? path.resolve('..', 'shared'), 'data', 'train', 'bsds500', 'train');
  const pairs = opts.pairs ?? Number(process.env.VPDSR_BENCH_PAIRS ?? 48);
  const bs = opts.batchSize ?? 4;
  const lines: string[] = [];
  for (const workers of [1, 2]) {
    const loader = await DataLoader.hrFolder(root, TRAIN_PRESET, { batchSize: bs, seed: 1, workers, prefetch: 2 });
    try {
      let n = 0, t0 = 0;
      for await (const b of loader.epoch(0)) {
        b.gt.dispose(); b.lq.dispose();
        if (t0 === 0) { t0 = performance.now(); continue; } // the first batch pays for worker start-up
        n += bs;
        if (n >= pairs) break;
      }
      const s = (performance.now() - t0) / 1000;
      lines.push(JSON.stringify({ bench: 'data.degrade', what: 'decode+gt+kernels+degrade (loader)', gt: 256, lq: 64, batch: bs, workers, pairs: n, seconds: +s.toFixed(3), pairs_per_s: +(n / s).toFixed(2) }));
    } finally { await loader.close(); }
  }
  // The pipeline alone, main thread, GT prepared once.
  const names = (await listImages(root)).slice(0, bs);
  const items = [];
  for (const [i, name] of names.entries()) items.push(await prepareItem(root, name, new Rng(i), TRAIN_PRESET, { gtPrep: true }));
  const threads0 = torch.getNumThreads();
  try {
    // LibTorch's default thread count, then one thread (what each worker uses): many small ops
    // make the pipeline sensitive to intra-op threading on a busy machine.
    for (const threads of [...new Set([threads0, 1])]) {
      torch.setNumThreads(threads);
      let n = 0, seed = 0;
      const t0 = performance.now();
      while (n < pairs) {
        const b = await degradeItems(items, seed++, TRAIN_PRESET);
        b.gt.dispose(); b.lq.dispose();
        n += bs;
      }
      const s = (performance.now() - t0) / 1000;
      lines.push(JSON.stringify({ bench: 'data.degrade', what: 'pipeline only (main thread)', gt: 256, lq: 64, batch: bs, workers: 0, threads, pairs: n, seconds: +s.toFixed(3), pairs_per_s: +(n / s).toFixed(2) }));
    }
  } finally {
    torch.setNumThreads(threads0);
    for (const it of items) disposeItem(it);
  }
  return lines;
}
