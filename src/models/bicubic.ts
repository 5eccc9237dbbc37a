// `--model bicubic`: PyTorch bicubic ×4 — the baseline every report compares with.
// F.interpolate(x, scale_factor=4, mode='bicubic', align_corners=False) (A = −0.75, border taps
// clamped), then clamped to [0, 1]; the caller rounds (×255, half to even) when it writes 8 bits.
import * as torch from '../engine/index.js';
import { Tensor } from '../engine/index.js';
import { bicubicX4, checkLr, UpscaleAbortedError, type PipelineDType, type Upscaler, type UpscaleOptions } from './pipeline.js';

export class BicubicUpscaler implements Upscaler {
  readonly scale = 4 as const;
  readonly name = 'bicubic';
  readonly device: string;
  readonly dtype: PipelineDType = 'fp32';

  constructor(device = 'cpu') {
    this.device = device;
  }

  /** Tiling options are accepted and ignored: bicubic is local, tiles would only change borders. */
  upscale(lr: Tensor, opts: UpscaleOptions = {}): Tensor {
    checkLr(lr);
    if (opts.signal?.aborted) throw new UpscaleAbortedError();
    const out = torch.scope(() => bicubicX4(lr.to({ device: this.device })).clamp(0, 1).to({ device: 'cpu' }));
    opts.onTile?.(1, 1);
    return out;
  }

  dispose(): void { /* nothing held */ }
}
