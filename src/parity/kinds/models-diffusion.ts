// Golden set `models` (../shared/golden/models/README.md), diffusion kinds: schedule, q_sample,
// prior_sample, scale_input, p_sample, ddim_sample (network-free), and the samplers and the SinSR
// distillation loss (tiny UNet + small VQ).
import * as torch from '../../engine/index.js';
import { Tensor } from '../../engine/index.js';
import { registerKind } from '../registry.js';
import type { CaseContext } from '../context.js';
import {
  createGaussianDiffusion, sampleImage, tensorNoise, trainingLossesDistill,
  type GaussianDiffusion, type Denoiser, type NoiseSource, type SamplerKind,
} from '../../models/diffusion/index.js';
import { UNetModelSwin, fromSinSRConfig, type UNetConfig } from '../../models/unet/index.js';
import type { VQModelTorch, VQConfig } from '../../models/vq/index.js';
import { vqFromCase } from './models-vq.js';

/** params.create_gaussian_diffusion as the manifest writes it. */
interface CreateParams {
  normalize_input: boolean; schedule_name: string; sf: number; min_noise_level: number; steps: number;
  kappa: number; etas_end: number; schedule_kwargs: { power?: number; ponential?: number };
  timestep_respacing: number | null; scale_factor: number; latent_flag: boolean; predict_type: string;
  weighted_mse: boolean;
}

/** The diffusion object of a case: create_gaussian_diffusion with the start variant of `formula`. */
export function caseDiffusion(ctx: CaseContext): GaussianDiffusion {
  const p = ctx.params.create_gaussian_diffusion as CreateParams | undefined;
  if (!p) throw new Error('case has no params.create_gaussian_diffusion');
  const formula = ctx.params.formula;
  if (formula !== 'resshift' && formula !== 'sinsr') throw new Error(`unknown formula ${JSON.stringify(formula)}`);
  if (p.predict_type !== 'xstart' || p.weighted_mse) throw new Error('only predict_type xstart without weighted_mse is supported');
  if (p.schedule_name !== 'exponential') throw new Error(`unsupported schedule ${p.schedule_name}`);
  return createGaussianDiffusion({
    steps: p.steps, kappa: p.kappa, minNoiseLevel: p.min_noise_level, etasEnd: p.etas_end,
    power: p.schedule_kwargs.power, scheduleName: 'exponential', etasStart: formula === 'resshift' ? 'journal' : 'legacy',
    timestepRespacing: p.timestep_respacing, normalizeInput: p.normalize_input, latentFlag: p.latent_flag,
    scaleFactor: p.scale_factor, sf: p.sf,
  });
}

/** A f64 array as a tensor for comparison. */
const f64 = (a: Float64Array): Tensor => torch.fromTypedArray(a);

registerKind('schedule', (ctx) => {
  torch.scope(() => {
    const d = caseDiffusion(ctx);
    const arrays: Record<string, Float64Array> = {
      sqrt_etas: d.sqrtEtas, etas: d.etas, etas_prev: d.etasPrev, alpha: d.alpha,
      posterior_variance: d.posteriorVariance, posterior_variance_clipped: d.posteriorVarianceClipped,
      posterior_log_variance_clipped: d.posteriorLogVarianceClipped,
      posterior_mean_coef1: d.posteriorMeanCoef1, posterior_mean_coef2: d.posteriorMeanCoef2,
      weight_loss_mse: d.weightLossMse,
    };
    if (ctx.params.formula === 'sinsr') Object.assign(arrays, { etas_prev_clipped: d.etasPrevClipped, ddim_coef1: d.ddimCoef1, ddim_coef2: d.ddimCoef2 });
    for (const [name, a] of Object.entries(arrays)) ctx.compare(name, f64(a));
    const start = ctx.params.etas_start;
    if (typeof start === 'number' && d.sqrtEtas[0] !== start) ctx.fail(`sqrt_etas[0] = ${d.sqrtEtas[0]}, params.etas_start = ${start}`);
    const tm = ctx.params.timestep_map;
    if (Array.isArray(tm) && tm.join() !== d.timestepMap.join()) ctx.fail(`timestep_map [${d.timestepMap.join(', ')}], expected [${tm.join(', ')}]`);
  });
});

registerKind('q_sample', (ctx) => {
  torch.scope(() => {
    const d = caseDiffusion(ctx);
    ctx.compare('x_t', d.qSample(ctx.input('x_start'), ctx.input('y'), ctx.input('t'), ctx.input('noise')));
  });
});

registerKind('prior_sample', (ctx) => {
  torch.scope(() => {
    const d = caseDiffusion(ctx);
    ctx.compare('x_T', d.priorSample(ctx.input('y'), ctx.input('noise')));
  });
});

registerKind('scale_input', (ctx) => {
  torch.scope(() => {
    const d = caseDiffusion(ctx);
    ctx.compare('x_norm', d.scaleInput(ctx.input('x'), ctx.input('t')));
  });
});

/** A stand-in network that returns in.model_output (p_sample / ddim_sample cases). */
function standIn(ctx: CaseContext): (x: Tensor, t: Tensor) => Tensor {
  return () => ctx.input('model_output').clone();
}

registerKind('p_sample', (ctx) => {
  torch.scope(() => {
    const d = caseDiffusion(ctx);
    const xT = ctx.input('x_t'), t = ctx.input('t');
    const out = d.pMeanVariance(standIn(ctx), xT, t, ctx.input('y'), { clipDenoised: ctx.params.clip_denoised === true });
    ctx.compare('model_input', out.modelInput);
    ctx.compare('model_t', out.modelT);
    ctx.compare('pred_xstart', out.predXstart);
    ctx.compare('mean', out.mean);
    ctx.compare('log_variance', out.logVariance.expand(xT.shape));
    ctx.compare('sample', d.pSampleFromMean(out, t, ctx.input('noise')));
  });
});

registerKind('ddim_sample', (ctx) => {
  torch.scope(() => {
    const d = caseDiffusion(ctx);
    const xT = ctx.input('x_t'), t = ctx.input('t'), y = ctx.input('y');
    const out = d.pMeanVariance(standIn(ctx), xT, t, y, { clipDenoised: ctx.params.clip_denoised === true });
    const c = d.ddimCoefficients(t, xT);
    ctx.compare('model_input', out.modelInput);
    ctx.compare('model_t', out.modelT);
    ctx.compare('pred_xstart', out.predXstart);
    ctx.compare('ddim_k', c.k.expand(xT.shape));
    ctx.compare('ddim_m', c.m.expand(xT.shape));
    ctx.compare('ddim_j', c.j.expand(xT.shape));
    ctx.compare('sample', d.ddimSampleFromPred(out.predXstart, xT, y, c));
  });
});

// ---- samplers and distillation (tiny UNet + small VQ) ----

/** Clones kept outside the step scopes, stacked at the end (the step axis first). */
class Trace {
  private readonly items = new Map<string, Tensor[]>();
  add(name: string, t: Tensor): void {
    const c = torch.keep(t.detach().clone());
    const l = this.items.get(name);
    if (l) l.push(c); else this.items.set(name, [c]);
  }
  /** The recorded tensors of a name stacked on a new first axis (or the single one, unstacked). */
  get(name: string, stacked = true): Tensor {
    const l = this.items.get(name);
    if (!l || l.length === 0) throw new Error(`nothing recorded for ${name}`);
    return stacked ? torch.stack(l, 0) : l[l.length - 1]!.clone();
  }
  dispose(): void {
    for (const l of this.items.values()) for (const t of l) t.dispose();
    this.items.clear();
  }
}

/** The case's UNet (ResShift or SinSR constructor form) with its w.unet.* weights, computed buffers. */
function unetFromCase(ctx: CaseContext): UNetModelSwin {
  const cfg = ctx.params.unet_config as Record<string, unknown>;
  const sinsr = String(ctx.params.unet_class ?? '').includes('SinSR');
  const model = new UNetModelSwin(sinsr ? fromSinSRConfig(cfg) : (cfg as Partial<UNetConfig> & Record<string, unknown>));
  try {
    torch.scope(() => {
      const sd = new Map<string, Tensor>();
      for (const [k, t] of ctx.weights()) if (k.startsWith('unet.')) sd.set(k.slice(5), t.float());
      model.loadStateDict(sd);
    });
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model.eval();
}

interface Nets { unet: UNetModelSwin; vq: VQModelTorch; denoise: Denoiser }

function withNets<T>(ctx: CaseContext, fn: (n: Nets) => T): T {
  const unet = unetFromCase(ctx);
  let vq: VQModelTorch | undefined;
  try {
    vq = vqFromCase(ctx.params.vq_config as VQConfig, ctx.weights(), ['encoder.', 'decoder.', 'quantize.', 'quant_conv.', 'post_quant_conv.'], 'vq.');
    const denoise: Denoiser = (x, t, lq) => unet.forward(x, t, lq);
    return fn({ unet, vq, denoise });
  } finally {
    unet.dispose();
    vq?.dispose();
  }
}

/** sampler.resshift / sampler.sinsr_ddim / sampler.one_step: sample_func end to end with injected noise. */
function samplerKind(kind: SamplerKind, padParam: string, noiseOf: (ctx: CaseContext) => NoiseSource): (ctx: CaseContext) => void {
  return (ctx) => withNets(ctx, ({ vq, denoise }) => {
    const trace = new Trace();
    try {
      torch.scope(() => {
        const d = caseDiffusion(ctx);
        const image = sampleImage(d, ctx.input('y'), {
          kind, firstStage: vq, denoise, noise: noiseOf(ctx), padTo: ctx.params[padParam] as number,
          onPrior: (x) => trace.add('x_T', x),
          onStep: (r) => {
            trace.add('model_input', r.modelInput); trace.add('model_t', r.modelT); trace.add('pred_xstart', r.predXstart);
            if (r.mean) trace.add('mean', r.mean);
            trace.add('sample', r.sample);
          },
          onStage: (name, t) => trace.add(name, t),
        });
        for (const n of ['z_y', 'x_T', 'dec_indices']) ctx.compare(n, trace.get(n, false));
        if (ctx.outputNames().includes('lq_padded')) ctx.compare('lq_padded', trace.get('lq_padded', false));
        for (const n of ['model_input', 'model_t', 'pred_xstart', 'sample']) ctx.compare(n, trace.get(n));
        if (kind === 'stochastic') ctx.compare('mean', trace.get('mean'));
        ctx.compare('image', image);
      });
    } finally {
      trace.dispose();
    }
  });
}

registerKind('sampler.resshift', samplerKind('stochastic', 'padding_offset',
  (ctx) => tensorNoise([ctx.input('noise_prior'), ...ctx.input('noise_steps').unbind(0)])));
registerKind('sampler.sinsr_ddim', samplerKind('ddim', 'desired_min_size', (ctx) => tensorNoise([ctx.input('noise_prior')])));
// p_sample's own (discarded) draw is not stored: any value will do for it.
registerKind('sampler.one_step', samplerKind('one-step', 'desired_min_size', (ctx) => tensorNoise([ctx.input('noise_prior')], { extra: 'zeros' })));

registerKind('distill.loss', (ctx) => {
  const flags = ctx.params.flags as Record<string, unknown>;
  for (const f of ['distill_ddpm', 'uncertainty_hyper', 'reformulated_reflow', 'xT_cov_loss', 'loss_in_image_space']) {
    if (flags[f]) throw new Error(`flag ${f} is not implemented (off in SinSR.yaml)`);
  }
  withNets(ctx, ({ unet: teacherNet, vq }) => {
    // The student starts as a copy of the teacher (TrainerDistillDifIR.build_model).
    const student = unetFromCase(ctx).train();
    const trace = new Trace();
    try {
      torch.scope(() => {
        const d = caseDiffusion(ctx);
        const studentFn: Denoiser = (x, t, lq) => {
          const out = student.forward(x, t, lq);
          trace.add('student_in', x); trace.add('student_t', t); trace.add('student_out', out);
          return out;
        };
        const terms = trainingLossesDistill(d, {
          student: studentFn, teacher: (x, t, lq) => teacherNet.forward(x, t, lq), firstStage: vq,
          xStart: ctx.input('x_start'), y: ctx.input('y'), t: ctx.input('t'), noise: ctx.input('noise'),
          learnXT: flags.learn_xT === true, finetuneUseGt: Number(flags.finetune_use_gt ?? 0),
          onTeacherStep: (r) => trace.add('teacher_pred_xstart', r.predXstart),
        });
        ctx.compare('loss', terms.loss); ctx.compare('mse', terms.mse);
        ctx.compare('mse_xT', terms.mse_xT!); ctx.compare('mse_gt', terms.mse_gt!);
        ctx.compare('z_t', terms.zT); ctx.compare('pred_zstart', terms.predZstart); ctx.compare('z_y', terms.zY);
        ctx.compare('z_start_gt', terms.zStartGt!); ctx.compare('z_start_teacher', terms.zStartTeacher);
        for (const n of ['teacher_pred_xstart', 'student_in', 'student_t', 'student_out']) ctx.compare(n, trace.get(n));
        terms.loss.mean().backward();
        const params = student.stateDict();
        for (const key of ctx.params.grad_params as string[]) {
          const g = params.get(key)?.grad;
          if (!g) { ctx.fail(`no gradient for student parameter ${key}`); continue; }
          ctx.compare(`grad.${key}`, g);
        }
      });
    } finally {
      trace.dispose();
      student.dispose();
    }
  });
});
