// The models layer's public surface: presets, the model folder format, conversion of public
// checkpoints, and loadUpscaler — the one way to get an Upscaler (pipeline.ts documents it).
import * as torch from '../engine/index.js';
import { BicubicUpscaler } from './bicubic.js';
import { DiffusionUpscaler, type PipelineDType, type Upscaler } from './pipeline.js';
import { SAMPLER_KINDS, type SamplerKind } from './presets.js';
import { latentSampler, ENGINE_DTYPE, type DiffusionParts } from './pipeline.js';
import { chooseSampler } from './presets.js';
import { createGaussianDiffusion } from './diffusion/index.js';
import { loadModelFolder, loadPublicModel, type LoadedModel } from './convert.js';
import { AUTO_PLAN, defaultDType, castKeepingFp32, type PrecisionPlan } from './precision.js';

export * from './presets.js';
export * from './pipeline.js';
export * from './tiling.js';
export { BUNDLED_MODEL, bundledModelDir, defaultModel, resolveBundled } from './bundled.js';
export { BicubicUpscaler } from './bicubic.js';
export { AUTO_PLAN, BF16_CPU_FLAGS, defaultDType, castKeepingFp32, castFor, moduleDType, type PrecisionPlan } from './precision.js';
export { convertPublic, loadPublicModel, loadModelFolder, checkPublicFile, type LoadedModel } from './convert.js';
export { MODEL_FORMAT, readModelJson, checkModelJson, type ModelJson, ModelFormatError } from './format.js';

interface CommonSpec {
  /** 'cpu' (default), 'cuda', 'cuda:N'. */
  device?: string;
  dtype?: PipelineDType;
  /** Default: the model's (one-step for SinSR and distilled models). */
  sampler?: SamplerKind;
  /** Network calls of a multi-step sampler (must be the schedule's T). */
  steps?: number;
  /** Receives the warnings a run should show (one-step on a teacher, a buffer mismatch …). */
  onWarning?: (message: string) => void;
}

export type UpscalerSpec =
  | { model: 'bicubic'; device?: string; onWarning?: (message: string) => void }
  /** A vpdsr model folder (strict). */
  | (CommonSpec & { model: string })
  /** Public files: a preset and its UNet and autoencoder .pth (lenient, §6.3). */
  | (CommonSpec & { preset: string; unet: string; vq: string });

function checkDevice(device: string): string {
  if (device === 'cuda') device = 'cuda:0';
  if (!/^(cpu|cuda:\d+)$/.test(device)) throw new Error(`device must be cpu, cuda or cuda:N, got ${JSON.stringify(device)}`);
  if (!torch.devices().includes(device)) {
    throw new Error(`device ${device} is not available: this LibTorch has ${torch.devices().join(', ')} (a CUDA LibTorch is picked up with LIBTORCH=/path)`);
  }
  return device;
}

/** Loads an Upscaler; every problem is one clear Error line (file names, flags, URLs). */
export function loadUpscaler(spec: UpscalerSpec): Upscaler {
  if (spec === null || typeof spec !== 'object') throw new TypeError('loadUpscaler(spec): spec must be an object');
  const device = checkDevice(spec.device ?? 'cpu');
  if ('model' in spec && spec.model === 'bicubic') return new BicubicUpscaler(device);
  const s = spec as CommonSpec & { model?: string; preset?: string; unet?: string; vq?: string };
  // dtype is checked once where it enters (modelFields, src/api/schema.ts); here it is typed.
  const dtype = s.dtype ?? defaultDType(device);
  if (s.sampler !== undefined && !SAMPLER_KINDS.includes(s.sampler)) throw new Error(`sampler must be one of ${SAMPLER_KINDS.join(', ')}, got ${JSON.stringify(s.sampler)}`);
  if (s.steps !== undefined && (!Number.isSafeInteger(s.steps) || s.steps < 1)) throw new Error(`steps must be a positive integer, got ${s.steps}`);
  const source = typeof s.model === 'string'
    ? { folder: s.model }
    : typeof s.preset === 'string' && typeof s.unet === 'string' && typeof s.vq === 'string'
      ? { preset: s.preset, unet: s.unet, vq: s.vq }
      : undefined;
  if (!source) throw new TypeError('loadUpscaler(spec): give { model: "bicubic" }, { model: DIR } or { preset, unet, vq }');
  const parts = loadDiffusionParts(source, { device, dtype, sampler: s.sampler, steps: s.steps, onWarning: s.onWarning });
  return new DiffusionUpscaler(parts);
}

interface PartsOptions {
  device: string; dtype: PipelineDType; sampler?: SamplerKind; steps?: number; onWarning?: (message: string) => void;
  /** 'contiguous' reproduces upstream's NCHW layout (the bench baseline). */
  layout?: 'channels_last' | 'contiguous';
  /** The fp32 modules of dtype 'auto' (default AUTO_PLAN; bench/models/precision.ts tries others). */
  plan?: PrecisionPlan;
}

/** Module.to for both module bases in the tree (engine/nn's to(), models/nn's toDType/toDevice). */
export function moveModule(m: object, device: string, dtype: 'float32' | 'bfloat16', layout: 'channels_last' | 'contiguous' = 'channels_last'): void {
  const mm = m as { to?: (o: { dtype?: string; device?: string; memoryFormat?: string }) => unknown; toDType?: (d: string) => unknown; toDevice?: (d: string) => unknown };
  if (typeof mm.to === 'function') {
    // Channels-last weights for oneDNN's convolutions (activations are channels-last too).
    mm.to({ dtype, device, memoryFormat: layout });
  } else {
    mm.toDType?.(dtype);
    mm.toDevice?.(device);
  }
}

/** The networks of a model (folder or public files) on a device, with the chosen sampler. */
export function loadDiffusionParts(source: { folder: string } | { preset: string; unet: string; vq: string }, o: PartsOptions): DiffusionParts {
  const warn = o.onWarning ?? ((m: string) => process.emitWarning(m));
  const m: LoadedModel = 'folder' in source
    ? loadModelFolder(source.folder, { onWarning: warn })
    : loadPublicModel(source.preset, source.unet, source.vq, { onWarning: warn });
  return partsFromModel(m, o);
}

/** ch · ch_mult[0] of a VQ autoencoder's config, when it has one. */
function decoderChannels(vq: object): number | undefined {
  const d = (vq as { config?: { ddconfig?: { ch?: unknown; ch_mult?: unknown } } }).config?.ddconfig;
  const m = Array.isArray(d?.ch_mult) ? d.ch_mult[0] : undefined;
  return typeof d?.ch === 'number' && typeof m === 'number' ? d.ch * m : undefined;
}

/** Pipeline parts from loaded networks (takes ownership: disposing the parts frees them). */
export function partsFromModel(m: LoadedModel, o: PartsOptions): DiffusionParts {
  const warn = o.onWarning ?? ((msg: string) => process.emitWarning(msg));
  try {
    const choice = chooseSampler({ name: m.json.name, sampler: m.json.sampler, oneStep: m.json.oneStep, schedule: m.json.schedule }, o.sampler, o.steps);
    if (choice.warning) warn(choice.warning);
    const sc = m.json.schedule;
    const pixel = m.vq === null;
    const unshuffle = m.json.kind === 'unshuffle-diffusion-sr';
    const diffusion = createGaussianDiffusion({
      steps: sc.steps, kappa: sc.kappa, minNoiseLevel: sc.minNoiseLevel, etasEnd: sc.etasEnd, power: sc.power, etasStart: sc.etasStart,
      // ResShift's non-latent mode scales the input by 1/(3κ√η_t + 1).
      latentFlag: !pixel,
      // One-step uses the full schedule's T − 1; multi-step samplers may run a respaced chain.
      timestepRespacing: choice.sampler === 'one-step' ? null : choice.steps,
    });
    // 'auto': the networks in bf16, then the plan's modules back in fp32 (same parameter names).
    const dt = o.dtype === 'auto' ? 'bfloat16' : ENGINE_DTYPE[o.dtype];
    const plan = o.dtype === 'auto' ? o.plan ?? AUTO_PLAN : undefined;
    for (const [net, keep] of m.vq ? [[m.unet, plan?.unet], [m.vq, plan?.vq]] as const : [[m.unet, plan?.unet]] as const) {
      net.requiresGrad_(false);
      castKeepingFp32(net, keep ?? [], () => moveModule(net, o.device, dt, o.layout));
    }
    const { unet, vq } = m;
    const colorFix = m.json.colorFix ?? null;
    const layout = o.layout ?? 'channels_last';
    // moveModule can only cast a module base that has to({ memoryFormat }).
    const unetLayout = typeof (unet as { to?: unknown }).to === 'function' ? layout : 'contiguous';
    if (!vq && unshuffle) {
      // Unshuffled pixels: the "latent" is the 4×4 pixel-unshuffle of the bicubic-×4 image (48
      // channels at LR size) and the condition the LR itself; x̂_0 is clamped as in pixel space.
      return {
        name: m.json.name, colorFix,
        codec: { encode: (x) => torch.pixelUnshuffle(x, 4), decode: (z) => torch.pixelShuffle(z, 4) },
        denoise: (x, t, lq) => unet.forward(x.contiguous(unetLayout), t, lq.contiguous(unetLayout)),
        sample: latentSampler(diffusion, choice.sampler, { clipDenoised: true }),
        device: o.device, dtype: o.dtype, padding: m.json.padding, layout: o.layout,
        dispose: () => { unet.dispose(); },
      };
    }
    if (!vq) {
      // Pixel space: the "latent" is the bicubic-×4 image itself, which the UNet also takes as its
      // condition (lq_size = image_size); x̂_0 is clamped as upstream does without an autoencoder.
      return {
        name: m.json.name, colorFix,
        codec: { encode: (x) => x.clone(), decode: (z) => z.clone() },
        denoise: (x, t, lq) => torch.scope(() => unet.forward(x.contiguous(unetLayout), t, torch.interpolate(lq, { scaleFactor: 4, mode: 'bicubic', alignCorners: false }).contiguous(unetLayout))),
        sample: latentSampler(diffusion, choice.sampler, { clipDenoised: true }),
        device: o.device, dtype: o.dtype, padding: m.json.padding, layout: o.layout,
        dispose: () => { unet.dispose(); },
      };
    }
    return {
      name: m.json.name,
      colorFix,
      // Each network gets its inputs in the layout of its weights (moveModule above): a mixed-layout
      // conv is oneDNN's slow path (UNet forward 1.1–1.3× slower with NCHW weights and channels-last
      // inputs, measured). The latents and lq have 3 channels: these conversions cost next to nothing.
      codec: { encode: (x) => vq.encode(x), decode: (z) => vq.decode(z.contiguous(layout)) },
      denoise: (x, t, lq) => unet.forward(x.contiguous(unetLayout), t, lq.contiguous(unetLayout)),
      sample: latentSampler(diffusion, choice.sampler),
      device: o.device,
      dtype: o.dtype,
      padding: m.json.padding,
      layout: o.layout,
      decoderChannels: decoderChannels(vq),
      dispose: () => { unet.dispose(); vq.dispose(); },
    };
  } catch (e) {
    m.unet.dispose();
    m.vq?.dispose();
    throw e;
  }
}
