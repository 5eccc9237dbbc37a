// Tiny training networks for the tests: a pixel-space UNet without attention, a stand-in encoder,
// discriminator heads.
import * as torch from '../../src/engine/index.js';
import { UNetModelSwin, type UNetConfig } from '../../src/models/unet/index.js';
import { DiscriminatorHeads } from '../../src/models/discriminator/index.js';
import { StandInEncoder } from '../../src/train/encoder.js';
import { pixelSpace } from '../../src/train/space.js';
import type { DistillNets } from '../../src/train/steps.js';

export const TINY_UNET: Partial<UNetConfig> = {
  image_size: 16, in_channels: 3, model_channels: 8, out_channels: 3, num_res_blocks: [1, 1], attention_resolutions: [],
  channel_mult: [1, 2], lq_size: 16, norm_groups: 4, middle_attention: false, use_scale_shift_norm: true,
};

export const TINY_SCHEDULE = { steps: 4, kappa: 2.0, power: 0.3, minNoiseLevel: 0.2, etasEnd: 0.99, etasStart: 'journal' as const };

export function tinyNets(seed = 0, withAll = true, schedule = TINY_SCHEDULE): DistillNets & { dispose(): void } {
  torch.manualSeed(seed);
  const teacher = new UNetModelSwin(TINY_UNET);
  const student = new UNetModelSwin(TINY_UNET);
  student.loadStateDict(teacher.stateDict());
  teacher.requiresGrad_(false).eval();
  const encoder = withAll ? new StandInEncoder({ widths: [8, 16], embed_dim: 8, num_classes: 4 }) : undefined;
  encoder?.requiresGrad_(false).eval();
  const heads = withAll ? new DiscriminatorHeads(teacher, { width: 8, groups: 4 }) : undefined;
  return {
    space: pixelSpace(schedule), student, teacher, encoder, heads,
    dispose: () => { teacher.dispose(); student.dispose(); encoder?.dispose(); heads?.dispose(); },
  };
}
