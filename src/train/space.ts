// Where diffusion happens during training: ResShift's VQ-f4 latent space or its non-latent (pixel)
// mode (VPDSR_METHOD §8.3). One object answers what the steps need of either.
import * as torch from '../engine/index.js';
import { Tensor } from '../engine/index.js';
import { createGaussianDiffusion, type GaussianDiffusion } from '../models/diffusion/index.js';
import type { ScheduleSpec } from '../models/presets.js';
import type { VQModelTorch } from '../models/vq/index.js';

/**
 * 'pixel': the UNet works on the bicubic-×4 image at HR size; 'unshuffle': on its 4×4
 * pixel-unshuffle (48 channels at LR size, condition = the LR itself), a parameter-free stand-in for
 * the f4 autoencoder that runs at 1/16 of the pixel-space cost; 'latent': ResShift's VQ-f4 latents.
 */
export type SpaceKind = 'pixel' | 'unshuffle' | 'latent';

/** Channels of the unshuffled space (3 × 4 × 4). */
export const UNSHUFFLE_CHANNELS = 48;

export interface TrainSpace {
  readonly kind: SpaceKind;
  readonly diffusion: GaussianDiffusion;
  /** Upstream clamps x̂_0 only without an autoencoder. */
  readonly clipDenoised: boolean;
  /** The shape of z_0 for an HR batch. */
  zShape(hr: Tensor): number[];
  /** z_y from the LR in [−1, 1] (no gradient): bicubic ×4, then VQ encode in latent space. */
  zY(lq: Tensor): Tensor;
  /** z_0 from the HR in [−1, 1] (no gradient). */
  z0(hr: Tensor): Tensor;
  /** The UNet's condition: the LR itself (latent) or its bicubic ×4 (pixel, = z_y). */
  cond(lq: Tensor, zY: Tensor): Tensor;
  /** Pixels in [−1, 1] from a latent, differentiable (straight-through quantiser in latent space). */
  decode(z: Tensor): Tensor;
}

/**
 * Channels-last, the layout LibTorch's CPU convolutions are fastest in (the recipe's UNet forward: 0.59 s
 * vs 0.71 s NCHW at batch 16); the networks' activations, and so their gradients, follow the input's.
 */
export function channelsLast(x: Tensor): Tensor {
  return x.to({ memoryFormat: 'channels_last' });
}

export function up4(x: Tensor): Tensor {
  return torch.interpolate(x, { scaleFactor: 4, mode: 'bicubic', alignCorners: false });
}

export function diffusionFor(s: ScheduleSpec, kind: SpaceKind): GaussianDiffusion {
  return createGaussianDiffusion({
    steps: s.steps, kappa: s.kappa, minNoiseLevel: s.minNoiseLevel, etasEnd: s.etasEnd, power: s.power, etasStart: s.etasStart,
    latentFlag: kind === 'latent',
  });
}

export function pixelSpace(schedule: ScheduleSpec): TrainSpace {
  return {
    kind: 'pixel',
    diffusion: diffusionFor(schedule, 'pixel'),
    clipDenoised: true,
    zShape: (hr) => hr.shape,
    zY: (lq) => torch.noGrad(() => torch.scope(() => channelsLast(up4(lq)))),
    z0: (hr) => channelsLast(hr.detach()).clone(),
    cond: (_lq, zY) => zY,
    decode: (z) => torch.alias(z),
  };
}

export function unshuffleSpace(schedule: ScheduleSpec): TrainSpace {
  return {
    kind: 'unshuffle',
    // Pixels rearranged: ResShift's non-latent input scaling and x̂_0 clamp still apply.
    diffusion: diffusionFor(schedule, 'unshuffle'),
    clipDenoised: true,
    zShape: (hr) => [hr.size(0), UNSHUFFLE_CHANNELS, Math.floor(hr.size(2) / 4), Math.floor(hr.size(3) / 4)],
    zY: (lq) => torch.noGrad(() => torch.scope(() => channelsLast(torch.pixelUnshuffle(up4(lq), 4)))),
    z0: (hr) => torch.noGrad(() => torch.scope(() => channelsLast(torch.pixelUnshuffle(hr, 4)))),
    cond: (lq) => channelsLast(lq),
    decode: (z) => torch.pixelShuffle(z, 4),
  };
}

/** The space of a model folder's kind. */
export function spaceFor(kind: 'diffusion-sr' | 'pixel-diffusion-sr' | 'unshuffle-diffusion-sr', schedule: ScheduleSpec, vq: VQModelTorch | null): TrainSpace {
  if (kind === 'diffusion-sr') {
    if (!vq) throw new Error('a diffusion-sr model needs its VQ autoencoder');
    return latentSpace(schedule, vq);
  }
  return kind === 'unshuffle-diffusion-sr' ? unshuffleSpace(schedule) : pixelSpace(schedule);
}

export function latentSpace(schedule: ScheduleSpec, vq: VQModelTorch): TrainSpace {
  return {
    kind: 'latent',
    diffusion: diffusionFor(schedule, 'latent'),
    clipDenoised: false,
    zShape: (hr) => [hr.size(0), vq.quantize.e_dim, Math.floor(Math.floor(hr.size(2) / 2) / 2), Math.floor(Math.floor(hr.size(3) / 2) / 2)],
    // A bf16 VQ computes in bf16; the diffusion and the losses stay f32.
    zY: (lq) => torch.noGrad(() => torch.scope(() => vq.encode(up4(lq)).float())),
    z0: (hr) => torch.noGrad(() => torch.scope(() => vq.encode(hr).float())),
    cond: (lq) => lq,
    decode: (z) => torch.scope(() => vq.decode(z, { straightThrough: true }).float()),
  };
}
