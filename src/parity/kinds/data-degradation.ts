// Golden set `data` (../shared/golden/data/README.md): the degradation pipeline and its parts —
// blur kernels and their sampling, GT preparation, filter2D, noise, USM, DiffJPEG, the pipeline.
// Where upstream drew random numbers, the recorded draws are replayed through ScriptedSource
// (which also checks that vpdsr makes the same calls in the same order) and drawn tensors are
// injected in place of the generator.
import * as torch from '../../engine/index.js';
import { Tensor } from '../../engine/index.js';
import {
  bivariateGaussian, bivariateGeneralizedGaussian, bivariatePlateau, circularLowpassKernel, kernelTensor,
  mixedKernelFromSample, sampleMixedKernel, sampleResShiftKernels, resShiftKernelTensors,
  type Kernel, type MixedKernelConfig, type KernelSamplingConfig, type KernelSample,
} from '../../data/degradation/kernels.js';
import { filter2D } from '../../data/degradation/filter2d.js';
import { addGaussianNoisePt, generateGaussianNoisePt, generatePoissonNoisePt, type GaussianDraw, type PoissonDraw } from '../../data/degradation/noise.js';
import { USMSharp } from '../../data/degradation/usm.js';
import { diffJpegDetailed } from '../../data/degradation/jpeg.js';
import { samplePipelineChoices, stage1, stage2, finalStage, type PipelineChoices, type TensorDraws, type PipelineOptions } from '../../data/degradation/pipeline.js';
import type { DegradationConfig, JpegBackend } from '../../data/degradation/params.js';
import { ScriptedSource, type RecordedDraw } from '../../data/rng.js';
import { sampleGtPrep, applyGtPrep } from '../../data/gt.js';
import { registerKind } from '../registry.js';
import { compareTensors, type CaseContext } from '../context.js';

function p<T>(ctx: CaseContext, key: string): T {
  const v = ctx.params[key];
  if (v === undefined) throw new Error(`params.${key} is missing`);
  return v as T;
}

function kernel64(k: Kernel): Tensor { return kernelTensor(k, 'float64'); }

// ---- kernels

registerKind('kernel.bivariate_gaussian', (ctx) => torch.scope(() => {
  const k = bivariateGaussian(p(ctx, 'kernel_size'), p(ctx, 'sigma_x'), p(ctx, 'sigma_y'), p(ctx, 'theta'), p(ctx, 'isotropic'));
  ctx.compare('kernel', kernel64(k));
}));

registerKind('kernel.generalized_gaussian', (ctx) => torch.scope(() => {
  const k = bivariateGeneralizedGaussian(p(ctx, 'kernel_size'), p(ctx, 'sigma_x'), p(ctx, 'sigma_y'), p(ctx, 'theta'), p(ctx, 'beta'), p(ctx, 'isotropic'));
  ctx.compare('kernel', kernel64(k));
}));

registerKind('kernel.plateau', (ctx) => torch.scope(() => {
  const k = bivariatePlateau(p(ctx, 'kernel_size'), p(ctx, 'sigma_x'), p(ctx, 'sigma_y'), p(ctx, 'theta'), p(ctx, 'beta'), p(ctx, 'isotropic'));
  ctx.compare('kernel', kernel64(k));
}));

registerKind('kernel.circular_lowpass', (ctx) => torch.scope(() => {
  const k = circularLowpassKernel(p(ctx, 'cutoff'), p(ctx, 'kernel_size'), p(ctx, 'pad_to'));
  ctx.compare('kernel', kernel64(k));
}));

/** Deep equality of sampled values (numbers exactly: they are replayed, not recomputed). */
function checkSampled(ctx: CaseContext, what: string, got: unknown, want: unknown): void {
  const norm = (x: unknown): string => JSON.stringify(x, (_k, v) => (v === undefined ? null : v));
  if (norm(got) !== norm(want)) ctx.fail(`${what}: replayed draws give ${norm(got)}, the case says ${norm(want)}`);
}

registerKind('kernel.mixed', (ctx) => torch.scope(() => {
  const cfg: MixedKernelConfig = {
    kernel_list: p(ctx, 'kernel_list'), kernel_prob: p(ctx, 'kernel_prob'), sigma_x_range: p(ctx, 'sigma_x_range'),
    sigma_y_range: p(ctx, 'sigma_y_range'), rotation_range: p(ctx, 'rotation_range'), betag_range: p(ctx, 'betag_range'), betap_range: p(ctx, 'betap_range'),
  };
  if (ctx.params.noise_range !== null) throw new Error('params.noise_range must be null (multiplicative kernel noise is not used)');
  const src = new ScriptedSource(p<RecordedDraw[]>(ctx, 'draws'));
  const sampled = sampleMixedKernel(src, cfg);
  if (src.remaining !== 0) ctx.fail(`${src.remaining} recorded draws left unused`);
  checkSampled(ctx, 'sampled', sampled, p(ctx, 'sampled'));
  ctx.compare('kernel', kernel64(mixedKernelFromSample(p(ctx, 'kernel_size'), sampled)));
}));

// The ResShift __getitem__ draws after the GT steps (which come first in `draws`).
function kernelDraws(draws: RecordedDraw[]): RecordedDraw[] {
  const i = draws.findIndex((d) => d.fn === 'random.choice');
  return i < 0 ? [] : draws.slice(i);
}

registerKind('kernel.sample_resshift', (ctx) => torch.scope(() => {
  const cfg = p<KernelSamplingConfig>(ctx, 'config');
  const src = new ScriptedSource(kernelDraws(p<RecordedDraw[]>(ctx, 'draws')));
  const s = sampleResShiftKernels(src, cfg);
  if (src.remaining !== 0) ctx.fail(`${src.remaining} recorded draws left unused`);
  checkSampled(ctx, 'kernel1', s.kernel1, p(ctx, 'kernel1'));
  checkSampled(ctx, 'kernel2', s.kernel2, p(ctx, 'kernel2'));
  checkSampled(ctx, 'final_sinc', s.final_sinc, p(ctx, 'final_sinc'));
  const t = resShiftKernelTensors(s);
  ctx.compare('kernel1', t.kernel1);
  ctx.compare('kernel2', t.kernel2);
  ctx.compare('sinc_kernel', t.sincKernel);
}));

// ---- GT preparation

registerKind('gt.prepare_resshift', (ctx) => torch.scope(() => {
  const u8 = ctx.input('img_rgb_u8');
  const img = u8.permute(2, 0, 1).float().div(255);
  const [h, w] = [img.size(1), img.size(2)];
  const src = new ScriptedSource(p<RecordedDraw[]>(ctx, 'draws'));
  const s = sampleGtPrep(src, h, w, { gt_size: p(ctx, 'gt_size'), crop_pad_size: p(ctx, 'crop_pad_size_config'), use_hflip: p(ctx, 'use_hflip'), rescale_gt: p(ctx, 'rescale_gt') });
  if (src.remaining !== 0) ctx.fail(`${src.remaining} recorded draws left unused`);
  if (p(ctx, 'use_rot') !== false) throw new Error('params.use_rot must be false');
  checkSampled(ctx, 'sample', s, { hflip: p(ctx, 'hflip'), crop_pad_size: p(ctx, 'crop_pad_size'), padded_hw: p(ctx, 'padded_hw'), top: p(ctx, 'top'), left: p(ctx, 'left'), resize_to: ctx.params.resize_to ?? null });
  const gt = applyGtPrep(img, s);
  ctx.compareValue('out_shape', gt.shape);
  ctx.compare('gt', gt);
}));

// ---- filter2D, noise, USM, DiffJPEG

registerKind('filter2D', (ctx) => torch.scope(() => {
  if (p(ctx, 'padding') !== 'reflect') throw new Error('params.padding must be "reflect"');
  ctx.compare('img', filter2D(ctx.input('img'), ctx.input('kernel')));
}));

// Injected standard normals: the grey field and the colour noise the case recorded.
function injectedGaussian(ctx: CaseContext, prefix: string): GaussianDraw {
  return (shape, which) => {
    const t = ctx.input(which === 'gray' ? `${prefix}randn_gray` : `${prefix}randn`);
    if (t.shape.join() !== shape.join()) throw new Error(`injected ${prefix}randn${which === 'gray' ? '_gray' : ''} has shape [${t.shape.join(', ')}], the draw is [${shape.join(', ')}]`);
    return t;
  };
}

// Injected Poisson samples; the rate vpdsr computed is compared separately (out.rate).
function injectedPoisson(ctx: CaseContext, prefix: string, rates?: Map<string, Tensor>): PoissonDraw {
  return (rate, which) => {
    const t = ctx.input(which === 'gray' ? `${prefix}poisson_gray` : `${prefix}poisson`);
    if (t.shape.join() !== rate.shape.join()) throw new Error(`injected ${prefix}poisson${which === 'gray' ? '_gray' : ''} has shape [${t.shape.join(', ')}], the rate is [${rate.shape.join(', ')}]`);
    if (rates) rates.set(which, rate);
    return t;
  };
}

registerKind('noise.gaussian', (ctx) => torch.scope(() => {
  const img = ctx.input('img'), sigma = ctx.input('sigma'), gray = ctx.input('gray');
  const draw = injectedGaussian(ctx, '');
  ctx.compare('noise', generateGaussianNoisePt(img, sigma, gray, draw));
  ctx.compare('img', addGaussianNoisePt(img, sigma, gray, draw, p<boolean>(ctx, 'clip'), p<boolean>(ctx, 'rounds')));
}));

registerKind('noise.poisson', (ctx) => torch.scope(() => {
  if (p(ctx, 'clip') !== true || p(ctx, 'rounds') !== false) throw new Error('only clip=true, rounds=false cases are known');
  const img = ctx.input('img');
  const r = generatePoissonNoisePt(img, ctx.input('scale'), ctx.input('gray'), injectedPoisson(ctx, ''));
  ctx.compare('rate', r.rate);
  if (r.rateGray) ctx.compare('rate_gray', r.rateGray);
  ctx.compare('noise', r.noise);
  ctx.compare('img', img.add(r.noise).clamp(0, 1));
  ctx.compareValue('unique', r.unique);
  ctx.compareValue('vals', r.vals);
  if (ctx.case.expect && 'unique_gray' in ctx.case.expect) {
    ctx.compareValue('unique_gray', r.uniqueGray);
    ctx.compareValue('vals_gray', r.valsGray);
  }
}));

registerKind('usm_sharp', (ctx) => torch.scope(() => {
  const usm = new USMSharp(p(ctx, 'radius'), p(ctx, 'sigma'));
  try {
    if (usm.radius !== p(ctx, 'kernel_size')) ctx.fail(`kernel size ${usm.radius}, expected ${String(ctx.params.kernel_size)}`);
    ctx.compare('kernel', usm.kernel);
    ctx.compare('img', usm.forward(ctx.input('img'), p(ctx, 'weight'), p(ctx, 'threshold')));
  } finally { usm.dispose(); }
}));

registerKind('jpeg.diffjpeg', (ctx) => torch.scope(() => {
  if (p(ctx, 'differentiable') !== false) throw new Error('only differentiable=false is known');
  const r = diffJpegDetailed(ctx.input('img'), ctx.input('quality'));
  ctx.compare('factor', r.factor);
  ctx.compare('y_q', r.yQ);
  ctx.compare('cb_q', r.cbQ);
  ctx.compare('cr_q', r.crQ);
  ctx.compare('img', r.img);
}));

// ---- the pipeline

/** The recorded per-sample draws of a pipeline case, served in the order the stages ask for them. */
function injectedDraws(ctx: CaseContext): TensorDraws {
  return {
    noiseLevels: (stage, kind) => ({ level: ctx.input(`${stage}_${kind === 'gaussian' ? 'sigma' : 'scale'}`), gray: ctx.input(`${stage}_gray`) }),
    gaussian: (stage) => injectedGaussian(ctx, `${stage}_`),
    poisson: (stage) => injectedPoisson(ctx, `${stage}_`),
    jpegQuality: (stage) => ctx.input(`${stage}_jpeg_quality`),
  };
}

function sameChoices(ctx: CaseContext, got: PipelineChoices): void {
  const s1 = p<Record<string, unknown>>(ctx, 'stage1'), s2 = p<Record<string, unknown>>(ctx, 'stage2'), f = p<Record<string, unknown>>(ctx, 'final');
  const { size: _s2size, ...s2want } = s2;
  const { size: _fsize, ...fwant } = f;
  checkSampled(ctx, 'stage1', got.stage1, s1);
  checkSampled(ctx, 'stage2', got.stage2, s2want);
  checkSampled(ctx, 'final', got.final, fwant);
}

registerKind('degrade.pipeline', async (ctx) => {
  const cfg = p<DegradationConfig>(ctx, 'config');
  const jpeg = p<JpegBackend>(ctx, 'jpeg');
  if (jpeg !== 'identity' && jpeg !== 'diffjpeg') throw new Error(`params.jpeg ${JSON.stringify(jpeg)} is not identity or diffjpeg`);
  const gtHW = p<[number, number]>(ctx, 'gt_hw');
  // The batch-level choices, replayed from upstream's Python random calls.
  const src = new ScriptedSource(p<RecordedDraw[]>(ctx, 'python_random_calls'));
  const choices = samplePipelineChoices(src, cfg);
  if (src.remaining !== 0) ctx.fail(`${src.remaining} recorded Python random calls left unused`);
  sameChoices(ctx, choices);
  // The per-image kernels, rebuilt from their sampled parameters.
  const kernels = p<KernelSample[]>(ctx, 'kernels');
  torch.scope(() => {
    const ts = kernels.map((k) => resShiftKernelTensors(k));
    for (const [name, got] of [['kernel1', ts.map((t) => t.kernel1)], ['kernel2', ts.map((t) => t.kernel2)], ['sinc_kernel', ts.map((t) => t.sincKernel)]] as const) {
      const r = compareTensors(torch.stack([...got]), ctx.input(name), { atol: 1e-7, rtol: 1e-6 });
      if (!r.pass) ctx.fail(`in.${name} rebuilt from params.kernels: ${r.detail}`);
    }
  });

  const draws = injectedDraws(ctx);
  const seen = new Set<string>();
  const traced = (prefix: '' | 'chain_'): PipelineOptions => ({
    jpeg,
    trace: (name, t) => {
      if (prefix === '') { ctx.compare(name, t); seen.add(name); } else if (name === 'lq') ctx.compare('lq', t);
    },
  });
  const k1 = ctx.input('kernel1'), k2 = ctx.input('kernel2'), ks = ctx.input('sinc_kernel');
  // Each stage from upstream's input of that stage.
  const s1 = await stage1(ctx.input('gt'), k1, choices.stage1, cfg, draws, traced(''));
  const s1hw = [s1.size(2), s1.size(3)];
  ctx.compareValue('s1_hw', s1hw);
  let s2: Tensor | undefined;
  if (choices.stage2.apply) {
    s2 = stage2(ctx.input('s2_input'), k2, choices.stage2, gtHW, cfg, draws, traced(''));
    ctx.compareValue('s2_hw', [s2.size(2), s2.size(3)]);
  }
  const fin = await finalStage(ctx.input('final_input'), ks, choices.final, gtHW, cfg, draws, traced(''));
  ctx.compareValue('lq_hw', [fin.lq.size(2), fin.lq.size(3)]);
  torch.scope(() => ctx.compare('lq_norm', fin.lq.sub(0.5).div(0.5)));
  // End to end from the GT, chaining vpdsr's own stage outputs: the same LQ.
  let x = s1;
  if (s2) {
    const y = stage2(s1, k2, choices.stage2, gtHW, cfg, draws, traced('chain_'));
    s2.dispose();
    x = y;
    s1.dispose();
  }
  const chained = await finalStage(x, ks, choices.final, gtHW, cfg, draws, traced('chain_'));
  for (const t of [x, fin.lq, fin.preRound, chained.lq, chained.preRound]) t.dispose();
  for (const name of ['s1_blur', 's1_resize', 's1_noisy', 's1', 'final_resize', 'final_sinc', 'pre_round', 'lq']) {
    if (!seen.has(name)) ctx.fail(`stage output ${name} was never produced`);
  }
});
