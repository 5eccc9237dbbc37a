// The model folder a training run ends with: the EMA weights in vpdsr's strict format, so that
// `vpdsr upscale --model DIR` runs it (one step for a distilled student).
import path from 'node:path';
import type { Tensor } from '../engine/index.js';
import { saveSafetensors } from '../io/checkpoint/tensors.js';
import { MODEL_FORMAT, UNET_FILE, AUTOENCODER_FILE, writeModelFolder, type ModelJson, type JsonObject } from '../models/format.js';
import type { ScheduleSpec } from '../models/presets.js';
import type { UNetModelSwin } from '../models/unet/index.js';
import type { VQModelTorch } from '../models/vq/index.js';
import type { SpaceKind } from './space.js';

function lcm(a: number, b: number): number {
  const g = (x: number, y: number): number => (y ? g(y, x % y) : x);
  return (a / g(a, b)) * b;
}

/** LR padding multiple: the UNet's size multiple in LR pixels, rounded up to a multiple of 8. */
export function paddingFor(unet: UNetModelSwin, latent: boolean): number {
  // Latent and unshuffled spaces are at LR size; pixel space at HR size.
  const lrMultiple = latent ? unet.sizeMultiple : Math.ceil(unet.sizeMultiple / 4);
  return lcm(8, lrMultiple);
}

export function writeTrainedModel(dir: string, o: {
  name: string; schedule: ScheduleSpec; unet: UNetModelSwin; weights: Map<string, Tensor>; vq: VQModelTorch | null; oneStep: boolean; note: string;
  space?: SpaceKind;
}): void {
  const unshuffle = o.space === 'unshuffle';
  const json: ModelJson = {
    format: MODEL_FORMAT,
    kind: o.vq ? 'diffusion-sr' : unshuffle ? 'unshuffle-diffusion-sr' : 'pixel-diffusion-sr',
    name: o.name,
    scale: 4,
    preset: null,
    schedule: { ...o.schedule },
    sampler: o.oneStep ? 'one-step' : 'ddim',
    oneStep: o.oneStep,
    padding: paddingFor(o.unet, o.vq !== null || unshuffle),
    unet: { class: 'UNetModelSwin', config: { ...o.unet.config } as unknown as JsonObject, file: UNET_FILE },
    autoencoder: o.vq ? { kind: 'vq-f4', class: 'VQModelTorch', config: { ...o.vq.config } as unknown as JsonObject, file: AUTOENCODER_FILE } : null,
    provenance: { createdBy: 'vpdsr', created: new Date().toISOString(), sources: [], note: o.note },
  };
  writeModelFolder(dir, json, (tmp) => {
    saveSafetensors(path.join(tmp, UNET_FILE), o.weights);
    if (o.vq) saveSafetensors(path.join(tmp, AUTOENCODER_FILE), o.vq.stateDict());
  }, true);
}
