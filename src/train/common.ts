// Pieces the teacher and distillation phases share: the run set-up, the batch stream with the
// data-parallel start, validation and previews.
import * as torch from '../engine/index.js';
import { Tensor } from '../engine/index.js';
import { writeImage } from '../io/image/index.js';
import type { UNetModelSwin } from '../models/unet/index.js';
import type { DataConfig, TrainConfig, ValConfig } from './config.js';
import { BatchStream, loadValSet, type DataPosition, type ValItem } from './data.js';
import type { DataParallel } from '../engine/nn/parallel.js';
import type { TrainDist } from './parallel.js';
import { ImageMetrics } from './val-metrics.js';
import { previewGrid, sampleSR, type SampleMode } from './sample.js';
import type { TrainSpace } from './space.js';

/** Threads and the default generator (module initialisation) from the config. */
export function setupRun(cfg: TrainConfig): void {
  if (cfg.device !== 'cpu') {
    const dev = cfg.device === 'cuda' ? 'cuda:0' : cfg.device;
    if (!torch.devices().includes(dev)) throw new Error(`device ${cfg.device} is not available: this LibTorch has ${torch.devices().join(', ')}`);
    throw new Error(`device ${cfg.device}: training runs on the CPU in this version`);
  }
  if (cfg.threads > 0) torch.setNumThreads(cfg.threads);
  torch.manualSeed(cfg.seed);
}

/**
 * A phase's training batches: the stream opens at the checkpoint's data position on the first
 * batch (a phase's loadState runs before its first step), and before that batch every rank takes
 * rank 0's weights for each data-parallel wrapper (DDP's initial broadcast).
 */
export class PhaseData {
  private stream: BatchStream | null = null;
  private synced = false;
  private start: DataPosition = { epoch: 0, batch: 0 };

  constructor(private readonly data: DataConfig, private readonly seed: number, private readonly dist: TrainDist | null,
    private readonly parallel: readonly (DataParallel | null)[]) {}

  /** The next batch, HR and LR in [−1, 1] (the caller owns them). */
  async next(): Promise<{ hr: Tensor; lq: Tensor }> {
    this.stream ??= await BatchStream.open(this.data, this.seed, this.start, this.dist);
    if (!this.synced) {
      for (const dp of this.parallel) await dp?.syncParameters();
      this.synced = true;
    }
    return this.stream.next();
  }

  /** Where the next batch comes from (the checkpoint's `data`). */
  get position(): DataPosition { return this.stream ? this.stream.position : { ...this.start }; }

  /** Resume at a checkpoint's position (before the first batch). */
  resumeAt(pos: DataPosition): void {
    if (this.stream) throw new Error('PhaseData.resumeAt: the stream is already open');
    this.start = { ...pos };
  }

  async close(): Promise<void> { await this.stream?.close(); this.stream = null; }
}

export class Validator {
  private constructor(readonly items: ValItem[], readonly cfg: ValConfig) {}

  static async open(cfg: ValConfig | undefined): Promise<Validator | null> {
    return cfg ? new Validator(await loadValSet(cfg), cfg) : null;
  }

  /**
   * PSNR/SSIM (Y of YCbCr, the registry's psnr and ssim) of `net` over the set; a preview grid of the first `preview` images
   * (LR, [reference], output, HR) when a file is given.
   */
  async run(space: TrainSpace, net: UNetModelSwin, mode: SampleMode, previewFile: string | null, reference?: { net: UNetModelSwin; mode: SampleMode }): Promise<Record<string, number>> {
    let psnr = 0, ssim = 0;
    const rows: Tensor[][] = [];
    const metrics = new ImageMetrics(['psnr', 'ssim']);
    try {
      for (const [i, it] of this.items.entries()) {
        torch.scope(() => {
          const sr = sampleSR(space, net, it.lq, mode, this.cfg.seed + i);
          psnr += metrics.score('psnr', sr, it.hr)!;
          ssim += metrics.score('ssim', sr, it.hr)!;
          if (previewFile && i < this.cfg.preview) {
            const cols = [it.lq];
            if (reference) cols.push(sampleSR(space, reference.net, it.lq, reference.mode, this.cfg.seed + i));
            cols.push(sr, it.hr);
            rows.push(cols.map((t) => torch.keep(t.clone())));
          }
        });
      }
      if (previewFile && rows.length) {
        const grid = torch.keep(torch.scope(() => previewGrid(rows)));
        try { await writeImage(previewFile, grid, { overwrite: true }); } finally { grid.dispose(); }
      }
    } finally {
      for (const t of rows.flat()) t.dispose();
      metrics.dispose();
    }
    const n = this.items.length;
    return { psnr_y: psnr / n, ssim_y: ssim / n };
  }

  dispose(): void {
    for (const it of this.items) { it.hr.dispose(); it.lq.dispose(); }
  }
}
