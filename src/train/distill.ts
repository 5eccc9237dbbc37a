// `vpdsr distill`: the VPD-SR student (VPDSR_METHOD §3.6): initialised from the teacher, t fixed at
// T; L_distill against the teacher's deterministic sample, ESS, HFP, the adversarial term with its
// own discriminator update, and SinSR's optional terms — each with its weight (0 = off).
import path from 'node:path';
import * as torch from '../engine/index.js';
import { Tensor } from '../engine/index.js';
import { clipGradNorm_ } from '../engine/optim/index.js';
import { UNetModelSwin } from '../models/unet/index.js';
import { loadModelFolder } from '../models/convert.js';
import { DiscriminatorHeads } from '../models/discriminator/index.js';
import { ConfigError, type DistillConfig } from './config.js';
import type { DataPosition } from './data.js';
import { section, putSection } from './checkpoint.js';
import { makeOptimizer, saveOptimizer, loadOptimizer, runPhase, type Phase, type TrainOptions, type TrainResult } from './run.js';
import { PhaseData, Validator, setupRun } from './common.js';
import { spaceFor } from './space.js';
import { drawDistill, generatorLoss, discriminatorLoss, type DistillDraws, type DistillNets, type DistillOptions, type GeneratorResult } from './steps.js';
import { joinGroup } from './parallel.js';
import { DataParallel } from '../engine/nn/parallel.js';
import { unetEma } from './teacher.js';
import { loadEncoder } from './encoder-train.js';
import { writeTrainedModel } from './model-out.js';
import type { StandInEncoder } from './encoder.js';
import { ClipImageEncoder, loadClipEncoder } from './clip-encoder.js';

export async function distill(cfg: DistillConfig, o: TrainOptions = {}): Promise<TrainResult> {
  setupRun(cfg);
  let m;
  try {
    m = loadModelFolder(cfg.teacher);
  } catch (e) {
    throw new ConfigError(`teacher: ${(e as Error).message}`);
  }
  const teacher = m.unet;
  const vq = m.vq;
  if (m.json.oneStep) { teacher.dispose(); vq?.dispose(); throw new ConfigError(`teacher: ${cfg.teacher} is a one-step model, not a multi-step teacher`); }
  const schedule = m.json.schedule;
  const space = spaceFor(m.json.kind, schedule, vq);
  const side = space.kind === 'pixel' ? cfg.data.crop : cfg.data.crop / 4;
  if (side % teacher.sizeMultiple !== 0) { teacher.dispose(); vq?.dispose(); throw new ConfigError(`data.crop: ${cfg.data.crop} does not suit the teacher (its ${space.kind} side must be a multiple of ${teacher.sizeMultiple})`); }
  // The student starts as the teacher (SinSR).
  const student = new UNetModelSwin(teacher.config);
  student.loadStateDict(teacher.stateDict());
  student.train();
  teacher.requiresGrad_(false).eval();
  vq?.requiresGrad_(false).eval();
  let encoder: StandInEncoder | undefined;
  let clip: ClipImageEncoder | undefined;
  try {
    if (cfg.losses.ess > 0 && cfg.clip) clip = loadClipEncoder(cfg.clip.file, { bf16: cfg.dtype === 'bf16', patchWeight: cfg.clip.patch, ...(cfg.clip.heads ? { visionHeads: cfg.clip.heads } : {}) });
    else if (cfg.losses.ess > 0) encoder = loadEncoder(cfg.encoder!);
  } catch (e) {
    teacher.dispose(); vq?.dispose(); student.dispose();
    throw new ConfigError((e as Error).message);
  }
  // bf16: the frozen networks compute in bf16; the student, its gradients and the heads stay f32.
  if (cfg.dtype === 'bf16') {
    teacher.to({ dtype: 'bfloat16' });
    vq?.to({ dtype: 'bfloat16' });
    encoder?.to({ dtype: 'bfloat16' });
  }
  const encoderNet = clip ?? (encoder ? { embed: (x: Tensor) => torch.scope(() => { const e = encoder!.embed(cfg.dtype === 'bf16' ? x.to({ dtype: 'bfloat16' }) : x); return e.float(); }) } : undefined);
  const heads = cfg.losses.adv > 0 ? new DiscriminatorHeads(teacher, cfg.heads) : undefined;
  const nets: DistillNets = { space, student, teacher, encoder: encoderNet, heads };
  const opts: DistillOptions = { weights: cfg.losses, hfp: cfg.hfp };
  const evalNet = new UNetModelSwin(teacher.config);
  evalNet.requiresGrad_(false).eval();
  const ema = unetEma(student, cfg.ema);
  const opt = makeOptimizer(student.parameters(), cfg.optim, cfg.iterations);
  const dopt = heads ? makeOptimizer(heads.parameters(), cfg.discOptim ?? cfg.optim, cfg.iterations) : null;
  const g = new torch.Generator(cfg.seed);
  const dist = await joinGroup();
  const dp = dist ? new DataParallel(dist.pg, student) : null;
  const ddp = dist && heads ? new DataParallel(dist.pg, heads.parameters()) : null;
  const data = new PhaseData(cfg.data, cfg.seed, dist, [dp, ddp]);
  let validator: Validator | null = null;
  const phase: Phase = {
    async step() {
      const { hr, lq } = await data.next();
      let draws: DistillDraws | null = null;
      let r: GeneratorResult | null = null;
      try {
        const terms: Record<string, number> = {};
        draws = drawDistill(space, space.zShape(hr), g, dist);
        r = torch.scope(() => {
          opt.opt.zeroGrad();
          const res = generatorLoss(nets, opts, hr, lq, draws!);
          res.total.backward();
          terms.loss = res.total.item();
          for (const [k, v] of Object.entries(res.terms)) terms[k] = v.item();
          return { ...res, total: res.total.detach(), terms: {} };
        });
        // The gradients of the global batch: each rank's averaged over the ranks.
        await dp?.reduceGradients();
        torch.scope(() => {
          if (cfg.optim.gradClip > 0) clipGradNorm_(student.parameters(), cfg.optim.gradClip);
          opt.opt.step();
          opt.sched.step();
          ema.update(student);
        });
        if (dopt) {
          // One discriminator update on the same batch and draws, the fake detached (§3.5).
          torch.scope(() => {
            dopt.opt.zeroGrad();
            const ld = discriminatorLoss(nets, r!, lq, draws!);
            ld.backward();
            terms.d = ld.item();
          });
          await ddp?.reduceGradients();
          torch.scope(() => { dopt.opt.step(); dopt.sched.step(); });
        }
        return terms;
      } finally {
        hr.dispose(); lq.dispose();
        if (draws) { draws.noise.dispose(); draws.noiseD.dispose(); }
        if (r) { r.total.dispose(); r.zHat.dispose(); r.zTeacher.dispose(); r.zY.dispose(); r.z0.dispose(); }
      }
    },
    saveState() {
      const tensors = new Map<string, Tensor>();
      putSection(tensors, 'model', student.stateDict());
      putSection(tensors, 'ema', ema.stateDict());
      if (heads) putSection(tensors, 'disc', heads.stateDict());
      tensors.set('rng', g.getState());
      const json: Record<string, unknown> = { data: data.position };
      saveOptimizer(tensors, json, 'optim', opt);
      if (dopt) saveOptimizer(tensors, json, 'discOptim', dopt);
      return { tensors, json };
    },
    loadState(tensors, json) {
      student.loadStateDict(section(tensors, 'model'));
      ema.loadStateDict(section(tensors, 'ema'));
      if (heads) heads.loadStateDict(section(tensors, 'disc'));
      g.setState(tensors.get('rng')!);
      loadOptimizer(tensors, json, 'optim', opt);
      if (dopt) loadOptimizer(tensors, json, 'discOptim', dopt);
      data.resumeAt(json.data as DataPosition);
    },
    async validate(_step, previewFile) {
      if (!validator) return {};
      ema.copyTo(evalNet);
      return validator.run(space, evalNet, 'one-step', previewFile, { net: teacher, mode: 'multi-step' });
    },
    async finish() {
      const dir = path.join(cfg.out, 'model');
      const on = Object.entries(cfg.losses).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`).join(', ');
      if (vq && cfg.dtype === 'bf16') vq.to({ dtype: 'float32' });
      writeTrainedModel(dir, { name: path.basename(cfg.out), schedule, unet: student, weights: ema.stateDict(), vq, oneStep: true, space: space.kind, note: `VPD-SR student distilled by vpdsr distill from ${path.basename(cfg.teacher)} for ${cfg.iterations} iterations (${on}; EMA ${cfg.ema})` });
      return dir;
    },
    dist,
    async dispose() {
      await data.close();
      validator?.dispose();
      opt.opt.dispose(); dopt?.opt.dispose();
      ema.dispose();
      student.dispose(); evalNet.dispose(); teacher.dispose(); vq?.dispose(); encoder?.dispose(); clip?.dispose(); heads?.dispose();
    },
  };
  try {
    validator = await Validator.open(cfg.val);
  } catch (e) {
    await phase.dispose();
    throw e;
  }
  return runPhase(cfg, phase, o);
}
