// npm run bench:train: seconds per training iteration and peak RSS, vpdsr beside PyTorch (upstream
// ResShift UNet, bench/train/torch_step.py) in the same run. Each case runs in its own process so
// that its peak RSS is its own. JSON lines on stdout.
//   node dist/bench/train/run.js [--iters N] [--cases a,b,memory] [--memory-steps N] [--resshift DIR]
// --resshift: a checkout of zsyOAOA/ResShift (default $VPDSR_RESSHIFT); without it the PyTorch
// rows are reported as skipped.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as torch from '../../src/engine/index.js';
import { Tensor } from '../../src/engine/index.js';
import { AdamW } from '../../src/engine/optim/index.js';
import { unetEma } from '../../src/train/teacher.js';
import { UNetModelSwin, RELEASED_UNET, type UNetConfig } from '../../src/models/unet/index.js';
import { DiscriminatorHeads } from '../../src/models/discriminator/index.js';
import { StandInEncoder } from '../../src/train/encoder.js';
import { pixelSpace } from '../../src/train/space.js';
import { drawDistill, generatorLoss, discriminatorLoss, teacherLoss, type LossWeights } from '../../src/train/steps.js';
import { NO_CHECKOUT, resshiftCheckout, TORCH_PYTHON } from '../resshift.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../../..');

export const RECIPE_UNET: Partial<UNetConfig> = {
  image_size: 64, lq_size: 64, in_channels: 3, out_channels: 3, model_channels: 24, channel_mult: [1, 2, 2], num_res_blocks: [1, 1, 1],
  attention_resolutions: [], middle_attention: false, norm_groups: 8, use_scale_shift_norm: true,
};
const SCHEDULE = { steps: 4, kappa: 2.0, power: 0.3, minNoiseLevel: 0.2, etasEnd: 0.99, etasStart: 'journal' as const };
const A: LossWeights = { distill: 1, ess: 0, hfp: 0, adv: 0, inverse: 0, gt: 0 };
const B: LossWeights = { distill: 1, ess: 1, hfp: 1, adv: 0.02, inverse: 0, gt: 0 };

interface Case { name: string; batch: number; hr: number; dtype: 'fp32' | 'bf16'; torch: boolean; iters?: number }
const CASES: Case[] = [
  { name: 'teacher-recipe', batch: 16, hr: 64, dtype: 'fp32', torch: true },
  { name: 'distill-recipe-A', batch: 16, hr: 64, dtype: 'fp32', torch: true },
  { name: 'distill-recipe-B', batch: 16, hr: 64, dtype: 'fp32', torch: true },
  { name: 'distill-recipe-B', batch: 16, hr: 64, dtype: 'bf16', torch: false },
  { name: 'teacher-fullwidth', batch: 1, hr: 256, dtype: 'fp32', torch: true, iters: 1 },
  { name: 'distill-fullwidth-B', batch: 1, hr: 256, dtype: 'fp32', torch: true, iters: 1 },
  { name: 'distill-fullwidth-B', batch: 1, hr: 256, dtype: 'bf16', torch: false, iters: 1 },
];

function runCase(c: Case, iters: number): Record<string, unknown> {
  torch.manualSeed(0);
  const g = new torch.Generator(0);
  const space = pixelSpace(SCHEDULE);
  const times: number[] = [];
  const timed = (fn: () => void): void => {
    for (let i = 0; i <= iters; i++) {
      const t0 = performance.now();
      torch.scope(fn);
      if (i > 0) times.push((performance.now() - t0) / 1000); // the first iteration is warm-up
    }
  };
  if (c.name.startsWith('teacher')) {
    const full = c.name === 'teacher-fullwidth';
    const unet = new UNetModelSwin(full ? RELEASED_UNET : RECIPE_UNET);
    const opt = new AdamW(unet.parameters(), { lr: 1e-4, weightDecay: 0 });
    const ema = unetEma(unet, 0.999);
    const side = full ? c.hr / 4 : c.hr; // full width: the UNet step on a 64² latent (VQ excluded on both sides)
    timed(() => {
      opt.zeroGrad();
      if (full) {
        const d = space.diffusion;
        const z0 = torch.randn([c.batch, 3, side, side], { generator: g }), zy = torch.randn([c.batch, 3, side, side], { generator: g });
        const t = [3];
        const xt = d.qSample(z0, zy, t, torch.randn(z0.shape, { generator: g }));
        const pred = unet.forward(d.scaleInput(xt, t), d.modelTimesteps(t, 'cpu', 1), torch.randn([c.batch, 3, side, side], { generator: g }));
        pred.sub(z0).square().mean().backward();
      } else {
        const hr = torch.rand([c.batch, 3, side, side], { generator: g }).mul(2).sub(1);
        const lq = torch.rand([c.batch, 3, side / 4, side / 4], { generator: g }).mul(2).sub(1);
        teacherLoss(space, unet, hr, lq, g).backward();
      }
      opt.step();
      ema.update(unet);
    });
    opt.dispose(); ema.dispose(); unet.dispose();
  } else {
    // Full width: the released UNet on a 64² image standing in for the VQ-f4 latent of a 256² crop (the
    // VQ is excluded on both sides, as in teacher-fullwidth; ESS and HFP then see that 64² image).
    const full = c.name.includes('fullwidth');
    const side = full ? c.hr / 4 : c.hr;
    const unetConfig = full ? RELEASED_UNET : RECIPE_UNET;
    const teacher = new UNetModelSwin(unetConfig), student = new UNetModelSwin(unetConfig);
    student.loadStateDict(teacher.stateDict());
    teacher.requiresGrad_(false).eval();
    const encoder = new StandInEncoder({ widths: [32, 64, 128, 128], embed_dim: 64, num_classes: 200 });
    encoder.requiresGrad_(false).eval();
    const weights = c.name.endsWith('-A') ? A : B;
    const heads = weights.adv > 0 ? new DiscriminatorHeads(teacher, { width: 32, groups: 8 }) : undefined;
    if (c.dtype === 'bf16') { teacher.to({ dtype: 'bfloat16' }); encoder.to({ dtype: 'bfloat16' }); }
    const enc = { embed: (x: Tensor) => torch.scope(() => encoder.embed(c.dtype === 'bf16' ? x.to({ dtype: 'bfloat16' }) : x).float()) };
    const nets = { space, student, teacher, encoder: enc, heads };
    const opt = new AdamW(student.parameters(), { lr: 1e-4, weightDecay: 0 });
    const dopt = heads ? new AdamW(heads.parameters(), { lr: 1e-4, weightDecay: 0 }) : null;
    const ema = unetEma(student, 0.999);
    timed(() => {
      const hr = torch.rand([c.batch, 3, side, side], { generator: g }).mul(2).sub(1);
      const lq = torch.rand([c.batch, 3, side / 4, side / 4], { generator: g }).mul(2).sub(1);
      const draws = drawDistill(space, hr.shape, g);
      opt.zeroGrad();
      const r = generatorLoss(nets, { weights, hfp: { levels: 1, distance: 'l1', target: 'hr' } }, hr, lq, draws);
      r.total.backward();
      opt.step();
      ema.update(student);
      if (dopt) { dopt.zeroGrad(); discriminatorLoss(nets, r, lq, draws).backward(); dopt.step(); }
    });
    opt.dispose(); dopt?.dispose(); ema.dispose(); teacher.dispose(); student.dispose(); encoder.dispose(); heads?.dispose();
  }
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  return { impl: 'vpdsr', case: c.name, dtype: c.dtype, batch: c.batch, hr: c.hr, iters: times.length, s_per_it: +mean.toFixed(4), it_per_s: +(1 / mean).toFixed(3), peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024), threads: torch.getNumThreads() };
}

/** RSS over a long run of tiny distillation steps (every term, both optimisers): at warm-up and at the end. */
function memoryCase(steps: number): Record<string, unknown> {
  torch.manualSeed(0);
  const g = new torch.Generator(0);
  const tiny: Partial<UNetConfig> = { ...RECIPE_UNET, image_size: 16, lq_size: 16, model_channels: 8, channel_mult: [1, 2], num_res_blocks: [1, 1], norm_groups: 4 };
  const teacher = new UNetModelSwin(tiny), student = new UNetModelSwin(tiny);
  student.loadStateDict(teacher.stateDict());
  teacher.requiresGrad_(false);
  const encoder = new StandInEncoder({ widths: [8, 16], embed_dim: 8, num_classes: 4 }).requiresGrad_(false);
  const heads = new DiscriminatorHeads(teacher, { width: 8, groups: 4 });
  const nets = { space: pixelSpace(SCHEDULE), student, teacher, encoder, heads };
  const opt = new AdamW(student.parameters(), { lr: 1e-4, weightDecay: 0 }), dopt = new AdamW(heads.parameters(), { lr: 1e-4, weightDecay: 0 });
  const warm = Math.min(1000, Math.floor(steps / 10));
  let rssWarm = 0;
  const t0 = performance.now();
  for (let i = 1; i <= steps; i++) {
    torch.scope(() => {
      const hr = torch.rand([1, 3, 16, 16], { generator: g }).mul(2).sub(1), lq = torch.rand([1, 3, 4, 4], { generator: g }).mul(2).sub(1);
      const draws = drawDistill(nets.space, hr.shape, g);
      opt.zeroGrad();
      const r = generatorLoss(nets, { weights: B, hfp: { levels: 1, distance: 'l1', target: 'hr' } }, hr, lq, draws);
      r.total.backward(); opt.step();
      dopt.zeroGrad(); discriminatorLoss(nets, r, lq, draws).backward(); dopt.step();
    });
    if (i === warm) rssWarm = process.memoryUsage().rss;
  }
  const rssEnd = process.memoryUsage().rss;
  return { impl: 'vpdsr', case: 'memory', steps, warmup: warm, rss_warm_mb: +(rssWarm / 2 ** 20).toFixed(1), rss_end_mb: +(rssEnd / 2 ** 20).toFixed(1), growth_mb: +((rssEnd - rssWarm) / 2 ** 20).toFixed(1), s_per_it: +((performance.now() - t0) / 1000 / steps).toFixed(4), threads: torch.getNumThreads() };
}

function main(): void {
  const { values } = parseArgs({ options: { iters: { type: 'string', default: '3' }, cases: { type: 'string' }, resshift: { type: 'string' }, case: { type: 'string' }, dtype: { type: 'string' }, 'memory-steps': { type: 'string', default: '10000' } } });
  const iters = Number(values.iters);
  if (values.case === 'memory') {
    process.stdout.write(JSON.stringify(memoryCase(Number(values['memory-steps']))) + '\n');
    return;
  }
  if (values.case) {
    const c = CASES.find((x) => x.name === values.case && x.dtype === (values.dtype ?? 'fp32'))!;
    process.stdout.write(JSON.stringify(runCase(c, c.iters ?? iters)) + '\n');
    return;
  }
  const resshift = resshiftCheckout(values.resshift);
  const wanted = values.cases ? new Set(values.cases.split(',')) : null;
  process.stdout.write(JSON.stringify({ bench: 'train', time: new Date().toISOString(), cpus: os.cpus().length, load: os.loadavg().map((v) => +v.toFixed(2)), torchRef: resshift ?? null }) + '\n');
  if (!wanted || wanted.has('memory')) {
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--case', 'memory', '--memory-steps', values['memory-steps']!], { encoding: 'utf8' });
    process.stdout.write(r.status === 0 ? r.stdout : JSON.stringify({ impl: 'vpdsr', case: 'memory', error: r.stderr.trim().split('\n').pop() }) + '\n');
  }
  for (const c of CASES) {
    if (wanted && !wanted.has(c.name)) continue;
    const n = String(c.iters ?? iters);
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--case', c.name, '--dtype', c.dtype, '--iters', n], { encoding: 'utf8' });
    process.stdout.write(r.status === 0 ? r.stdout : JSON.stringify({ impl: 'vpdsr', case: c.name, dtype: c.dtype, error: r.stderr.trim().split('\n').pop() }) + '\n');
    if (!c.torch) continue;
    if (!resshift) { process.stdout.write(JSON.stringify({ impl: 'pytorch', case: c.name, skipped: NO_CHECKOUT }) + '\n'); continue; }
    const p = spawnSync(TORCH_PYTHON, [path.join(ROOT, 'bench/train/torch_step.py'), '--resshift', resshift, '--case', c.name, '--iters', n, '--batch', String(c.batch), '--hr', String(c.hr), '--threads', String(torch.getNumThreads())], { encoding: 'utf8' });
    process.stdout.write(p.status === 0 ? p.stdout : JSON.stringify({ impl: 'pytorch', case: c.name, error: (p.stderr || String(p.error)).trim().split('\n').pop() }) + '\n');
  }
}

main();
