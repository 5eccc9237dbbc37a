// The image metrics training reports, from the metric registry (src/metrics): the same code and
// conventions as `vpdsr eval` (pyiqa's psnr / ssim on Y of YCbCr, niqe).
import type { Tensor } from '../engine/index.js';
import { findMetric, type MetricDef, type MetricInstance } from '../metrics/index.js';

export class ImageMetrics {
  private readonly defs: MetricDef[];
  private readonly insts = new Map<string, MetricInstance>();

  /** ids: registered per-image metrics that need no weight files (psnr, ssim, niqe). */
  constructor(ids: readonly string[]) {
    this.defs = ids.map((id) => {
      const d = findMetric(id);
      if (!d || d.kind !== 'image' || d.weights.length) throw new RangeError(`training metrics: ${id} is not a per-image metric without weight files`);
      return d;
    });
  }

  /**
   * Per-image scores of sr [B, 3, H, W] in [0, 1] against hr, batch mean; null when the image is
   * smaller than the metric accepts (NIQE's 96-px blocks).
   */
  score(id: string, sr: Tensor, hr: Tensor): number | null {
    const d = this.defs.find((x) => x.id === id);
    if (!d) throw new RangeError(`training metrics: ${id} was not opened`);
    if (d.minSize && Math.min(sr.size(2), sr.size(3)) < d.minSize) return null;
    let inst = this.insts.get(id);
    if (!inst) { inst = d.create({ weights: new Map(), device: 'cpu' }); this.insts.set(id, inst); }
    const v = inst.score!(sr.float().clamp(0, 1), d.needsReference ? hr.float().clamp(0, 1) : undefined);
    return v.reduce((a, b) => a + b, 0) / v.length;
  }

  dispose(): void {
    for (const i of this.insts.values()) i.dispose();
    this.insts.clear();
  }
}
