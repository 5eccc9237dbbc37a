// Sampling a trained network on [0, 1] images (validation, previews, evaluation): the teacher's
// deterministic T-step sampler or the student's one step, from seeded prior noise.
import * as torch from '../engine/index.js';
import { Tensor } from '../engine/index.js';
import { ddimSampleLoop, tensorNoise } from '../models/diffusion/index.js';
import type { UNetModelSwin } from '../models/unet/index.js';
import type { TrainSpace } from './space.js';

export type SampleMode = 'multi-step' | 'one-step';

/** lq01 [B, 3, h, w] in [0, 1] → SR [B, 3, 4h, 4w] in [0, 1]; the noise is drawn from Generator(seed). */
export function sampleSR(space: TrainSpace, unet: UNetModelSwin, lq01: Tensor, mode: SampleMode, seed: number): Tensor {
  return torch.noGrad(() => torch.scope(() => {
    const d = space.diffusion;
    const dt = unet.dtype;
    const lq = lq01.mul(2).sub(1);
    const zY = space.zY(lq);
    const cond = space.cond(lq, zY);
    const B = zY.size(0);
    const noise = torch.randn(zY.shape, { generator: new torch.Generator(seed) });
    const xT = d.priorSample(zY, noise);
    const denoise = (x: Tensor, t: Tensor, c: Tensor): Tensor => {
      const y = unet.forward(x.to({ dtype: dt }), t, c.to({ dtype: dt }));
      return y.dtype === 'float32' ? y : y.float();
    };
    let z: Tensor;
    if (mode === 'multi-step') {
      z = ddimSampleLoop(d, zY, cond, denoise, { noise: tensorNoise([]), zT: xT, clipDenoised: space.clipDenoised });
    } else {
      const tl = new Array<number>(B).fill(d.numTimesteps - 1);
      z = denoise(d.scaleInput(xT, tl), d.modelTimesteps(tl, xT.device, B), cond);
    }
    return space.decode(z).clamp(-1, 1).mul(0.5).add(0.5);
  }));
}

/** A PNG grid: one row per image, columns as given ([1, 3, H, W] in [0, 1]; LR columns are upscaled nearest ×4). */
export function previewGrid(rows: Tensor[][]): Tensor {
  return torch.scope(() => {
    const H = Math.max(...rows.flat().map((t) => t.size(2)));
    const line = rows.map((cols) => torch.cat(cols.map((t) => (t.size(2) < H ? torch.interpolate(t, { scaleFactor: H / t.size(2), mode: 'nearest' }) : t)), 3));
    return torch.cat(line, 2).clamp(0, 1);
  });
}
