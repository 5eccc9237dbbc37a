// torch.nn.utils.clip_grad_norm_ of PyTorch 1.13 (torch/nn/utils/clip_grad.py).
import { Tensor } from '../tensor.js';
import { noGrad } from '../autograd.js';
import { scope } from '../scope.js';
import * as c from '../check.js';
import { ArgumentError } from '../check.js';
import { stack } from '../ops/shape.js';
import { norm, amax } from '../ops/reduce.js';

/**
 * Scales the gradients in place so that their joint norm is at most maxNorm; returns the total
 * norm before clipping (PyTorch returns it as a tensor). Same ops as PyTorch: per-gradient norms,
 * the norm of their stack, coefficient maxNorm·(total + 1e-6)⁻¹ clamped to 1.
 */
export function clipGradNorm_(parameters: Tensor | Iterable<Tensor>, maxNorm: number, normType = 2, errorIfNonfinite = false): number {
  const op = 'clipGradNorm_';
  const params = parameters instanceof Tensor ? [parameters] : [...parameters];
  params.forEach((p, i) => { if (!(p instanceof Tensor) || p.isDisposed) throw new ArgumentError(op, `parameters[${i}]`, 'must be a live Tensor'); });
  c.num(op, 'max_norm', maxNorm, { min: 0 });
  c.num(op, 'norm_type', normType, { min: 0 });
  c.bool(op, 'error_if_nonfinite', errorIfNonfinite);
  return noGrad(() => scope(() => {
    const grads = params.map((p) => p.grad).filter((g): g is Tensor => g !== null);
    if (grads.length === 0) return 0;
    let total: Tensor;
    if (normType === Infinity) {
      const norms = grads.map((g) => amax(g.abs()));
      total = norms.length === 1 ? norms[0]! : amax(stack(norms));
    } else {
      total = norm(stack(grads.map((g) => norm(g, normType))), normType);
    }
    const totalNorm = total.item();
    if (errorIfNonfinite && !Number.isFinite(totalNorm)) {
      throw new Error(`${op}(): the total norm of order ${normType} of the gradients is non-finite, so it cannot be clipped (pass errorIfNonfinite=false to scale by it anyway)`);
    }
    // max_norm / (total_norm + 1e-6) is Tensor.__rtruediv__: reciprocal() * max_norm
    const coef = total.add(1e-6).reciprocal().mul(maxNorm).clamp(null, 1.0);
    for (const g of grads) g.mul_(coef);
    return totalNorm;
  }));
}
