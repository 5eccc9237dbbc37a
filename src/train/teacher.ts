// `vpdsr train-teacher`: a ResShift teacher (MODEL_SPEC §8) in latent or pixel space: x_0-prediction
// MSE, AdamW with warm-up and schedule, EMA, batches from the data layer.
import path from 'node:path';
import * as torch from '../engine/index.js';
import { Tensor } from '../engine/index.js';
import { EMA, clipGradNorm_ } from '../engine/optim/index.js';
import { DataParallel } from '../engine/nn/parallel.js';
import { UNetModelSwin, type UNetConfig } from '../models/unet/index.js';
import { loadModelFolder } from '../models/convert.js';
import type { VQModelTorch } from '../models/vq/index.js';
import { ConfigError, type TeacherConfig } from './config.js';
import type { DataPosition } from './data.js';
import { section, putSection } from './checkpoint.js';
import { makeOptimizer, saveOptimizer, loadOptimizer, runPhase, type Phase, type TrainOptions, type TrainResult } from './run.js';
import { PhaseData, Validator, setupRun } from './common.js';
import { latentSpace, pixelSpace, unshuffleSpace, UNSHUFFLE_CHANNELS, type SpaceKind, type TrainSpace } from './space.js';
import { teacherLoss } from './steps.js';
import { writeTrainedModel } from './model-out.js';
import { joinGroup } from './parallel.js';

/** EMA of a UNet: integer buffers are copied, as ResShift@3ce1d81 does. */
export function unetEma(unet: UNetModelSwin, rate: number): EMA {
  return new EMA(unet, { rate, copy: (k) => k.endsWith('relative_position_index') });
}

export function buildUNet(config: Record<string, unknown>, space: SpaceKind, crop: number): UNetModelSwin {
  let unet: UNetModelSwin;
  try {
    unet = new UNetModelSwin(config as Partial<UNetConfig>);
  } catch (e) {
    throw new ConfigError(`unet: ${(e as Error).message}`);
  }
  const c = unet.config;
  const side = space === 'pixel' ? crop : crop / 4;
  const channels = space === 'unshuffle' ? UNSHUFFLE_CHANNELS : 3;
  const problem = space === 'pixel' && c.lq_size !== c.image_size
    ? 'a pixel-space UNet takes the bicubic-upsampled LR: lq_size must equal image_size'
    : space === 'unshuffle' && c.lq_size !== c.image_size
      ? 'an unshuffle-space UNet takes the LR at its own size: lq_size must equal image_size'
      : c.in_channels !== channels ? `in_channels must be ${channels}`
        : space === 'unshuffle' && c.out_channels !== channels ? `out_channels must be ${channels}`
          : side % unet.sizeMultiple !== 0 ? `the ${space === 'pixel' ? 'crop' : space} side ${side} must be a multiple of ${unet.sizeMultiple}` : null;
  if (problem) { unet.dispose(); throw new ConfigError(`unet: ${problem}`); }
  return unet;
}

export async function trainTeacher(cfg: TeacherConfig, o: TrainOptions = {}): Promise<TrainResult> {
  setupRun(cfg);
  let vq: VQModelTorch | null = null;
  if (cfg.space === 'latent') {
    const m = loadModelFolder(cfg.vq!);
    m.unet.dispose();
    if (!m.vq) throw new ConfigError(`vq: ${cfg.vq} holds no VQ autoencoder`);
    vq = m.vq;
    vq.requiresGrad_(false).eval();
    if (cfg.dtype === 'bf16') vq.to({ dtype: 'bfloat16' });
  }
  const space: TrainSpace = vq ? latentSpace(cfg.schedule, vq) : cfg.space === 'unshuffle' ? unshuffleSpace(cfg.schedule) : pixelSpace(cfg.schedule);
  const unet = buildUNet(cfg.unet, cfg.space, cfg.data.crop);
  const evalNet = new UNetModelSwin(unet.config);
  evalNet.requiresGrad_(false).eval();
  const ema = unetEma(unet, cfg.ema);
  const opt = makeOptimizer(unet.parameters(), cfg.optim, cfg.iterations);
  const g = new torch.Generator(cfg.seed);
  const dist = await joinGroup();
  const dp = dist ? new DataParallel(dist.pg, unet) : null;
  const data = new PhaseData(cfg.data, cfg.seed, dist, [dp]);
  let validator: Validator | null = null;
  const phase: Phase = {
    async step() {
      const { hr, lq } = await data.next();
      try {
        const mseV = torch.scope(() => {
          opt.opt.zeroGrad();
          const loss = teacherLoss(space, unet, hr, lq, g, dist);
          loss.backward();
          return loss.item();
        });
        // The gradients of the global batch: each rank's averaged over the ranks.
        await dp?.reduceGradients();
        return torch.scope(() => {
          if (cfg.optim.gradClip > 0) clipGradNorm_(unet.parameters(), cfg.optim.gradClip);
          opt.opt.step();
          opt.sched.step();
          ema.update(unet);
          return { mse: mseV, lr: opt.opt.paramGroups[0]!.lr };
        });
      } finally {
        hr.dispose(); lq.dispose();
      }
    },
    saveState() {
      const tensors = new Map<string, Tensor>();
      putSection(tensors, 'model', unet.stateDict());
      putSection(tensors, 'ema', ema.stateDict());
      tensors.set('rng', g.getState());
      const json: Record<string, unknown> = { data: data.position };
      saveOptimizer(tensors, json, 'optim', opt);
      return { tensors, json };
    },
    loadState(tensors, json) {
      unet.loadStateDict(section(tensors, 'model'));
      ema.loadStateDict(section(tensors, 'ema'));
      g.setState(tensors.get('rng')!);
      loadOptimizer(tensors, json, 'optim', opt);
      data.resumeAt(json.data as DataPosition);
    },
    async validate(_step, previewFile) {
      if (!validator) return {};
      ema.copyTo(evalNet);
      return validator.run(space, evalNet, 'multi-step', previewFile);
    },
    async finish() {
      const dir = path.join(cfg.out, 'model');
      writeTrainedModel(dir, { name: path.basename(cfg.out), schedule: cfg.schedule, unet, weights: ema.stateDict(), vq, oneStep: false, space: space.kind, note: `ResShift teacher trained by vpdsr train-teacher for ${cfg.iterations} iterations (EMA ${cfg.ema})` });
      return dir;
    },
    dist,
    async dispose() {
      await data.close();
      validator?.dispose();
      opt.opt.dispose();
      ema.dispose();
      unet.dispose(); evalNet.dispose(); vq?.dispose();
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
