// One training step of each phase, as pure functions of the networks, the batch and the draws:
// the ResShift teacher objective (MODEL_SPEC §8.2) and the VPD-SR student objective with its
// discriminator update (VPDSR_METHOD §3.6). The trainer owns backward, the optimisers and EMA.
import * as torch from '../engine/index.js';
import { Tensor } from '../engine/index.js';
import { ddimSampleLoop, tensorNoise } from '../models/diffusion/index.js';
import type { UNetModelSwin } from '../models/unet/index.js';
import { encoderFeatures, type DiscriminatorHeads } from '../models/discriminator/index.js';
import { hfpLoss, type HfpDistance } from './haar.js';
import { essLoss, hingeD, hingeG, mse, type ImageEncoder } from './losses.js';
import type { TrainSpace } from './space.js';
import { globalShape, rankSlice, rankSliceList, type TrainDist } from './parallel.js';

/** The random draws of one step, in the order they are drawn from the run's generator. */
export interface TeacherDraws { t: number[]; noise: Tensor }

/** With a process group, the draws of the global batch are made and this rank's rows kept. */
export function drawTeacher(space: TrainSpace, z0Shape: number[], g: torch.Generator, dist: TrainDist | null = null): TeacherDraws {
  const shape = globalShape(z0Shape, dist);
  const t = torch.scope(() => Array.from(torch.randint(0, space.diffusion.numTimesteps, [shape[0]!], { generator: g }).toArray() as BigInt64Array, Number));
  const noise = torch.randn(shape, { generator: g });
  if (!dist || dist.worldSize === 1) return { t, noise };
  try {
    return { t: rankSliceList(t, dist), noise: rankSlice(noise, dist) };
  } finally {
    noise.dispose();
  }
}

/**
 * ResShift's objective: x_t = q_sample(z_0, z_y, t, ε), x̂_0 = f(scale_input(x_t, t), t, cond),
 * loss = mean (x̂_0 − z_0)². Returns the loss with its graph.
 */
export function teacherLoss(space: TrainSpace, unet: UNetModelSwin, hr: Tensor, lq: Tensor, g: torch.Generator, dist: TrainDist | null = null): Tensor {
  return torch.scope(() => {
    const d = space.diffusion;
    const zY = space.zY(lq), z0 = space.z0(hr);
    const { t, noise } = drawTeacher(space, z0.shape, g, dist);
    const xt = d.qSample(z0, zY, t, noise);
    const pred = unet.forward(d.scaleInput(xt, t), d.modelTimesteps(t, xt.device, t.length), space.cond(lq, zY));
    return mse(pred, z0);
  });
}

export interface LossWeights {
  distill: number;
  ess: number;
  hfp: number;
  adv: number;
  inverse: number;
  gt: number;
}

export interface DistillOptions {
  weights: LossWeights;
  hfp: { levels: number; distance: HfpDistance; target: 'hr' | 'teacher'; shift?: boolean };
}

export interface DistillNets {
  space: TrainSpace;
  student: UNetModelSwin;
  teacher: UNetModelSwin;
  encoder?: ImageEncoder;
  heads?: DiscriminatorHeads;
}

/** The draws of one distillation step: the prior noise, then the discriminator's t_d and ε_d. */
export interface DistillDraws { noise: Tensor; tD: number[]; noiseD: Tensor }

/** With a process group, the draws of the global batch are made and this rank's rows kept. */
export function drawDistill(space: TrainSpace, zShape: number[], g: torch.Generator, dist: TrainDist | null = null): DistillDraws {
  const shape = globalShape(zShape, dist);
  const B = shape[0]!;
  const noise = torch.randn(shape, { generator: g });
  const T = space.diffusion.numTimesteps;
  // t_d ~ U{0, …, T−2}
  const tD = T > 1 ? torch.scope(() => Array.from(torch.randint(0, T - 1, [B], { generator: g }).toArray() as BigInt64Array, Number)) : new Array<number>(B).fill(0);
  const noiseD = torch.randn(shape, { generator: g });
  if (!dist || dist.worldSize === 1) return { noise, tD, noiseD };
  try {
    return { noise: rankSlice(noise, dist), tD: rankSliceList(tD, dist), noiseD: rankSlice(noiseD, dist) };
  } finally {
    noise.dispose(); noiseD.dispose();
  }
}

export interface GeneratorResult {
  /** Σ λ·term, with its graph. */
  total: Tensor;
  /** The enabled terms (detached scalars). */
  terms: Record<string, Tensor>;
  /** The student's ẑ_0, detached (for the discriminator step and previews). */
  zHat: Tensor;
  zTeacher: Tensor;
  zY: Tensor;
  z0: Tensor;
}

/** The discriminator's re-noised, scaled input: r(z) = q_sample(z, z_y, t_d, ε_d) / √(κ²η + 1) (§3.5). */
export function renoise(space: TrainSpace, z: Tensor, zY: Tensor, tD: number[], noiseD: Tensor): Tensor {
  const d = space.diffusion;
  return torch.scope(() => d.scaleInput(d.qSample(z, zY, tD, noiseD), tD));
}

/** D(r(z)): frozen teacher taps, trainable heads → logits [B, N]. */
export function discriminate(nets: DistillNets, rz: Tensor, tD: number[], cond: Tensor, tapsGrad: boolean): Tensor {
  const heads = nets.heads!;
  return torch.scope(() => {
    const tt = nets.space.diffusion.modelTimesteps(tD, rz.device, tD.length);
    const f = tapsGrad ? encoderFeatures(nets.teacher, rz, tt, cond) : torch.noGrad(() => encoderFeatures(nets.teacher, rz, tt, cond));
    return heads.forwardFeatures(f);
  });
}

/**
 * The student (generator) objective of §3.6 for one batch (hr, lq in [−1, 1]):
 * L_G = λ_d·L_distill + λ_ESS·L_ESS + λ_HFP·L_HFP + λ_adv·L_adv + λ_inv·L_inverse + λ_gt·L_gt.
 */
export function generatorLoss(nets: DistillNets, o: DistillOptions, hr: Tensor, lq: Tensor, draws: DistillDraws): GeneratorResult {
  const { space, student, teacher } = nets;
  const d = space.diffusion;
  const w = o.weights;
  const T = d.numTimesteps;
  return torch.scope(() => {
    const zY = space.zY(lq);
    const z0 = space.z0(hr);
    const cond = space.cond(lq, zY);
    const B = zY.size(0);
    const tLast = new Array<number>(B).fill(T - 1);
    const tZero = new Array<number>(B).fill(0);
    const mt = (t: number[]): Tensor => d.modelTimesteps(t, zY.device, B);
    const xT = d.priorSample(zY, draws.noise);
    // The teacher's deterministic T-step sample from the same x_T, without gradient (SinSR).
    const zTeacher = torch.noGrad(() => ddimSampleLoop(d, zY, cond, (x, t, c) => teacher.forward(x, t, c), {
      noise: tensorNoise([]), zT: xT, clipDenoised: space.clipDenoised,
    }));
    const zHat = student.forward(d.scaleInput(xT, tLast), mt(tLast), cond);
    const terms: Record<string, Tensor> = {};
    let total: Tensor | null = null;
    const add = (name: string, weight: number, v: Tensor): void => {
      terms[name] = v.detach();
      const wv = weight === 1 ? v : v.mul(weight);
      total = total ? total.add(wv) : wv;
    };
    if (w.distill > 0) add('distill', w.distill, mse(zHat, zTeacher));
    if (w.ess > 0 || w.hfp > 0) {
      const xHat = space.decode(zHat);
      if (w.ess > 0) {
        if (!nets.encoder) throw new Error('distill: the ESS term needs an image encoder');
        add('ess', w.ess, essLoss(nets.encoder, xHat, hr));
      }
      if (w.hfp > 0) {
        const target = o.hfp.target === 'hr' ? hr : torch.noGrad(() => space.decode(zTeacher));
        add('hfp', w.hfp, hfpLoss(xHat, target, { levels: o.hfp.levels, distance: o.hfp.distance, shift: o.hfp.shift }));
      }
    }
    if (w.adv > 0) {
      if (!nets.heads) throw new Error('distill: the adversarial term needs discriminator heads');
      add('adv', w.adv, hingeG(discriminate(nets, renoise(space, zHat, zY, draws.tD, draws.noiseD), draws.tD, cond, true)));
    }
    if (w.inverse > 0) {
      // SinSR's learned inversion: f̂(scale_input(z_tea, T−1), 0, y) ≈ x_T.
      add('inverse', w.inverse, mse(student.forward(d.scaleInput(zTeacher, tLast), mt(tZero), cond), xT));
    }
    if (w.gt > 0) {
      // SinSR's consistency term: f̂(scale_input(sg f̂(scale_input(z_0, T−1), 0, y), T−1), T−1, y) ≈ z_0.
      const xTFromGt = torch.noGrad(() => student.forward(d.scaleInput(z0, tLast), mt(tZero), cond));
      add('gt', w.gt, mse(student.forward(d.scaleInput(xTFromGt, tLast), mt(tLast), cond), z0));
    }
    if (!total) throw new Error('distill: every loss weight is 0');
    return { total: total as Tensor, terms, zHat: zHat.detach(), zTeacher, zY, z0 };
  });
}

/** L_D = mean relu(1 − D(r(z_0))) + mean relu(1 + D(r(sg ẑ_0))), with the generator step's draws. */
export function discriminatorLoss(nets: DistillNets, g: GeneratorResult, lq: Tensor, draws: DistillDraws): Tensor {
  return torch.scope(() => {
    const cond = nets.space.cond(lq, g.zY);
    const real = discriminate(nets, renoise(nets.space, g.z0, g.zY, draws.tD, draws.noiseD), draws.tD, cond, false);
    const fake = discriminate(nets, renoise(nets.space, g.zHat, g.zY, draws.tD, draws.noiseD), draws.tD, cond, false);
    return hingeD(real, fake);
  });
}
