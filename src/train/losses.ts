// The student's loss terms besides HFP (VPDSR_METHOD §3.2, §3.4, §3.5): ESS on any frozen image
// encoder, the hinge GAN losses, and the regression losses.
import * as torch from '../engine/index.js';
import { Tensor } from '../engine/index.js';
import { LossInputError } from './haar.js';

/**
 * A frozen image encoder for ESS: maps images in [0, 1] ([B, 3, H, W]) to embeddings [B, D],
 * differentiably. The recipe's stand-in encoder implements it; a CLIP image tower plugs in the same way.
 */
export interface ImageEncoder {
  embed(x01: Tensor): Tensor;
  /** The patch term's weight β_patch (absent or 0: global embedding only). */
  readonly patchWeight?: number;
  /** Embedding [B, D] and patch tokens [B, N, D] of one forward (needed when patchWeight > 0). */
  embedTokens?(x01: Tensor): { embedding: Tensor; tokens: Tensor };
}

/**
 * L_ESS = mean_batch (1 − cos(g(x̂), g(x))) [+ β_patch · mean_tokens (1 − cos(p_i(x̂), p_i(x)))]:
 * x̂, x in [−1, 1]; the target's side carries no gradient. In [0, 2(1 + β)]; 0 for identical images.
 */
export function essLoss(encoder: ImageEncoder, pred: Tensor, target: Tensor): Tensor {
  for (const [n, t] of [['prediction', pred], ['target', target]] as const) {
    if (!(t instanceof Tensor) || t.isDisposed || t.ndim !== 4 || t.size(1) !== 3) throw new LossInputError(`essLoss: ${n} must be a live [B, 3, H, W] tensor`);
  }
  if (pred.size(0) !== target.size(0)) throw new LossInputError(`essLoss: batch sizes differ (${pred.size(0)} and ${target.size(0)})`);
  const beta = encoder.patchWeight ?? 0;
  if (beta > 0 && encoder.embedTokens) {
    const et = encoder.embedTokens.bind(encoder);
    return torch.scope(() => {
      const p = et(pred.mul(0.5).add(0.5));
      const t = torch.noGrad(() => et(target.mul(0.5).add(0.5)));
      const patch = torch.rsub(torch.cosineSimilarity(p.tokens, t.tokens, 2, 1e-8), 1).mean();
      return essFromEmbeddings(p.embedding, t.embedding).add(patch.mul(beta));
    });
  }
  return torch.scope(() => {
    const gp = encoder.embed(pred.mul(0.5).add(0.5));
    const gt = torch.noGrad(() => encoder.embed(target.mul(0.5).add(0.5)));
    return essFromEmbeddings(gp, gt);
  });
}

/** 1 − cos on given embeddings [B, D], batch mean. */
export function essFromEmbeddings(a: Tensor, b: Tensor): Tensor {
  if (a.ndim !== 2 || a.shape.join() !== b.shape.join()) throw new LossInputError(`ess: embeddings must be [B, D] of one shape, got [${a.shape.join(', ')}] and [${b.shape.join(', ')}]`);
  return torch.scope(() => torch.rsub(torch.cosineSimilarity(a, b, 1, 1e-8), 1).mean());
}

/** Discriminator hinge loss: mean relu(1 − D(real)) + mean relu(1 + D(fake)). */
export function hingeD(realLogits: Tensor, fakeLogits: Tensor): Tensor {
  return torch.scope(() => torch.rsub(realLogits, 1).relu().mean().add(fakeLogits.add(1).relu().mean()));
}

/** Generator hinge term: −mean D(fake). */
export function hingeG(fakeLogits: Tensor): Tensor {
  return torch.scope(() => fakeLogits.mean().neg());
}

/** Mean squared error over every element. */
export function mse(a: Tensor, b: Tensor): Tensor {
  if (a.shape.join() !== b.shape.join()) throw new LossInputError(`mse: shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}] differ`);
  return torch.scope(() => a.sub(b).square().mean());
}
