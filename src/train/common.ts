// Pieces the teacher and distillation phases share: the run set-up, validation and previews.
import * as torch from '../engine/index.js';
import { Tensor } from '../engine/index.js';
import { writeImage } from '../io/image/index.js';
import type { UNetModelSwin } from '../models/unet/index.js';
import type { TrainConfig, ValConfig } from './config.js';
import { loadValSet, type ValItem } from './data.js';
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
