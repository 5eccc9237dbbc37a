// SinSR's distillation loss (MODEL_SPEC.md §5.3) with the flags of SinSR configs/SinSR.yaml
// (learn_xT, finetune_use_gt = 1.0; distill_ddpm, uncertainty, xT_cov_loss, image-space losses off)
// — SinSR@f173549:models/gaussian_diffusion.py GaussianDiffusion.training_losses_distill, as
// TrainerDistillDifIR.training_step calls it (t = T−1 for every sample).
import * as torch from '../../engine/index.js';
import { Tensor } from '../../engine/index.js';
import { GaussianDiffusion, DiffusionError, type Denoiser, type Timesteps } from './gaussian.js';
import { ddimSampleLoop, encodeFirstStage, tensorNoise, type FirstStage, type StepRecord } from './samplers.js';

export interface DistillInputs {
  /** f̂, trained: its calls carry gradient (except the x̂_T-from-GT call, as upstream). */
  student: Denoiser;
  /** f_θ, frozen: called only inside the deterministic loop, without gradient. */
  teacher: Denoiser;
  firstStage: FirstStage;
  /** gt in [−1, 1], [B, 3, H, W] (HR). */
  xStart: Tensor;
  /** lq in [−1, 1], [B, 3, H/sf, W/sf]: the condition of every call. */
  y: Tensor;
  /** Per-sample timesteps (the trainer sets T−1 for all). */
  t: Timesteps;
  /** ε [B, 3, h, w] for the prior x_T = z_y + κ√η_{T−1}·ε. */
  noise: Tensor;
  /** learn_xT: the inversion term mse_xT (true in SinSR.yaml). */
  learnXT?: boolean;
  /** finetune_use_gt: weight of the GT consistency term mse_gt (1.0 in SinSR.yaml; 0 = off). */
  finetuneUseGt?: number;
  /** Sees each teacher DDIM step (valid during the call only). */
  onTeacherStep?: (r: StepRecord) => void;
}

export interface DistillTerms {
  /** mse + mse_xT + finetune_use_gt·mse_gt, per sample [B]. */
  loss: Tensor;
  mse: Tensor;
  mse_xT?: Tensor;
  mse_gt?: Tensor;
  /** x_T (the prior sample). */
  zT: Tensor;
  /** The student's x̂_0 from x_T, detached (logging). */
  predZstart: Tensor;
  zY: Tensor;
  zStartTeacher: Tensor;
  zStartGt?: Tensor;
}

/** mean_flat: the mean over every dimension but the batch. */
function meanFlat(x: Tensor): Tensor {
  return x.mean(Array.from({ length: x.ndim - 1 }, (_, i) => i + 1));
}

function call(model: Denoiser, x: Tensor, t: Tensor, lq: Tensor): Tensor {
  const out = model(x, t, lq);
  if (!(out instanceof Tensor) || out.shape.join() !== x.shape.join()) throw new DiffusionError(`distill: the network must return [${x.shape.join(', ')}]`);
  return out;
}

/** training_losses_distill (SinSR.yaml flags): returns the loss terms per sample. */
export function trainingLossesDistill(d: GaussianDiffusion, inp: DistillInputs): DistillTerms {
  const { student, teacher, firstStage, xStart, y, noise } = inp;
  for (const [n, v] of [['xStart', xStart], ['y', y], ['noise', noise]] as const) {
    if (!(v instanceof Tensor) || v.isDisposed || v.ndim !== 4) throw new DiffusionError(`distill: ${n} must be a live 4-D tensor`);
  }
  if (typeof student !== 'function' || typeof teacher !== 'function') throw new DiffusionError('distill: student and teacher must be functions (x, t, lq) => x0');
  const B = y.size(0);
  const idx = d.indices(inp.t, B);
  const learnXT = inp.learnXT ?? true;
  const gtWeight = inp.finetuneUseGt ?? 1.0;
  if (typeof gtWeight !== 'number' || !Number.isFinite(gtWeight) || gtWeight < 0) throw new DiffusionError(`distill: finetuneUseGt must be a non-negative number, got ${String(gtWeight)}`);
  return torch.scope(() => {
    const dev = y.device;
    const tT = d.timestepTensor(idx, dev);
    const t0 = d.timestepTensor(idx.map(() => 0), dev);
    // z_y = encode_first_stage(y, up_sample=True) (no grad); z_t = prior_sample(z_y, noise)
    const zY = torch.noGrad(() => encodeFirstStage(d, firstStage, y, true));
    const zT = d.priorSample(zY, noise);
    // z_start_teacher = ddim_sample_loop(y, teacher, noise, …)["sample"]: re-encodes y and starts
    // from the same prior (one draw: the given noise)
    const zStartTeacher = torch.noGrad(() => {
      const zY2 = encodeFirstStage(d, firstStage, y, true);
      return ddimSampleLoop(d, zY2, y, teacher, { noise: tensorNoise([noise]), clipDenoised: false, onStep: inp.onTeacherStep });
    });
    // mse = mean_flat((z_start - model(scale_input(z_t, t), t))**2)
    const modelOutput = call(student, d.scaleInput(zT, idx), tT, y);
    const mse = meanFlat(zStartTeacher.sub(modelOutput).square());
    let loss = mse; // terms["loss"] = 0 + mse * 1
    const terms: Partial<DistillTerms> = { mse };
    if (learnXT) {
      // predicted_xT = model(scale_input(z_start_teacher, t), t*0)  (scaled with t, called at 0)
      const predictedXT = call(student, d.scaleInput(zStartTeacher, idx), t0, y);
      terms.mse_xT = meanFlat(zT.sub(predictedXT).square());
      loss = loss.add(terms.mse_xT);
    }
    const predZstart = modelOutput.detach();
    if (gtWeight) {
      const zStartGt = torch.noGrad(() => encodeFirstStage(d, firstStage, xStart, false));
      terms.zStartGt = zStartGt;
      const predictedXTFromGt = torch.noGrad(() => call(student, d.scaleInput(zStartGt, idx), t0, y));
      const out = call(student, d.scaleInput(predictedXTFromGt.detach(), idx), tT, y);
      terms.mse_gt = meanFlat(zStartGt.sub(out).square());
      loss = loss.add(terms.mse_gt.mul(gtWeight));
    }
    return { ...terms, loss, mse, zT, predZstart, zY, zStartTeacher } as DistillTerms;
  });
}
