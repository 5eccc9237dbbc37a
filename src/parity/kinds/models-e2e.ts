// Golden kind `e2e.upscale` (golden/models/README.md): an 8-bit image through the whole one-step
// pipeline of src/models/pipeline.ts — SinSR@f173549:sampler.py Sampler.inference(one_step=True).
// The stages are taken from the pipeline's own per-tile function (runTileStages) and the final
// pixels from the Upscaler itself, so the case checks the code the CLI runs.
import * as torch from '../../engine/index.js';
import { Tensor } from '../../engine/index.js';
import { registerKind } from '../registry.js';
import type { CaseContext } from '../context.js';
import { UNetModelSwin, fromSinSRConfig } from '../../models/unet/index.js';
import { VQModelTorch, type VQConfig } from '../../models/vq/index.js';
import { createGaussianDiffusion } from '../../models/diffusion/index.js';
import { DiffusionUpscaler, fixedNoise, latentSampler, runTileStages, type DiffusionParts } from '../../models/pipeline.js';

interface E2EParams {
  formula: 'sinsr' | 'resshift';
  create_gaussian_diffusion: { steps: number; kappa: number; min_noise_level: number; etas_end: number; schedule_kwargs: { power: number }; timestep_respacing: number | null; normalize_input: boolean; latent_flag: boolean; scale_factor: number; sf: number };
  unet_config: Record<string, unknown>;
  vq_config: VQConfig;
  desired_min_size: number;
  one_step: boolean;
}

/** w.<prefix>.<key> → key, as float32 (the case stores weights on the float16 grid). */
function weights(ctx: CaseContext, prefix: string): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [k, t] of ctx.weights()) if (k.startsWith(prefix)) out.set(k.slice(prefix.length), t.to({ dtype: 'float32' }));
  return out;
}

registerKind('e2e.upscale', (ctx) => torch.noGrad(() => torch.scope(() => {
  const p = ctx.params as unknown as E2EParams;
  if (!p.one_step) throw new Error('only the one-step e2e case is defined');
  const unet = new UNetModelSwin(fromSinSRConfig(p.unet_config));
  const vq = new VQModelTorch(p.vq_config);
  try {
    unet.loadStateDict(weights(ctx, 'unet.'));
    vq.loadStateDict(weights(ctx, 'vq.'));
    unet.eval(); vq.eval();
    const g = p.create_gaussian_diffusion;
    const diffusion = createGaussianDiffusion({
      steps: g.steps, kappa: g.kappa, minNoiseLevel: g.min_noise_level, etasEnd: g.etas_end, power: g.schedule_kwargs.power,
      etasStart: p.formula === 'sinsr' ? 'legacy' : 'journal', timestepRespacing: g.timestep_respacing,
      normalizeInput: g.normalize_input, latentFlag: g.latent_flag, scaleFactor: g.scale_factor, sf: g.sf,
    });
    // Record what the network and the quantiser see.
    const seen: { input?: Tensor; t?: Tensor; indices?: Tensor } = {};
    const parts: DiffusionParts = {
      name: 'e2e-tiny', device: 'cpu', dtype: 'fp32', padding: p.desired_min_size,
      codec: {
        encode: (x) => vq.encode(x),
        decode: (z) => vq.decode(z, { onQuantize: (q) => { seen.indices = torch.keep(q.indices.clone()); } }),
      },
      denoise: (x, t, lq) => {
        seen.input = torch.keep(x.clone());
        seen.t = torch.keep(t.clone());
        return unet.forward(x, t, lq);
      },
      sample: latentSampler(diffusion, 'one-step'),
      dispose: () => {},
    };
    const noise = ctx.input('noise');
    // util_image.imread + img2tensor: uint8 HWC RGB → float32 / 255 → 1×3×H×W; then (x − 0.5) / 0.5.
    const lr = ctx.input('image').permute(2, 0, 1).unsqueeze(0).float().div(255).contiguous();
    const lq = lr.sub(0.5).div(0.5);
    ctx.compare('lq', lq);
    const st = runTileStages(parts, lq, fixedNoise([noise], 'cpu', 1));
    ctx.compare('lq_padded', st.lqPadded);
    ctx.compare('lq_up', st.lqUp);
    ctx.compare('z_y', st.zy);
    ctx.compare('x_T', diffusion.priorSample(st.zy, noise));
    if (!seen.input || !seen.t || !seen.indices) throw new Error('the pipeline did not call the network and the quantiser');
    ctx.compare('model_input', seen.input);
    ctx.compare('model_t', seen.t);
    ctx.compare('z0', st.z0);
    ctx.compare('decoded', st.decoded);
    ctx.compare('dec_indices', seen.indices);
    for (const t of [seen.input, seen.t, seen.indices]) t.dispose();

    // The Upscaler as the CLI runs it: [0, 1] in, [0, 1] out, then tensor2img's uint8.
    const up = new DiffusionUpscaler(parts);
    const sr = up.upscale(lr, { noise, tile: 0 });
    const hwc = sr.squeeze(0).permute(1, 2, 0).contiguous();
    ctx.compare('sr_unit', hwc);
    const png = hwc.clamp(0, 1).mul(255).round().to({ dtype: 'uint8' });
    const mask = ctx.input('sr_check_mask');
    ctx.compare('sr_masked', torch.where(mask, png, torch.zerosLike(png)));
    const unchecked = mask.logicalNot().sum().item();
    const declared = ctx.params.sr_unchecked_pixels;
    if (unchecked !== declared) ctx.fail(`sr_check_mask leaves ${unchecked} values unchecked, params say ${String(declared)}`);
  } finally {
    unet.dispose();
    vq.dispose();
  }
})));
