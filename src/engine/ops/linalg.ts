// Matrix products (matmul, mm, bmm, linear, baddbmm, einsum).
import { Tensor } from '../tensor.js';
import { callT, callInplace } from '../dispatch.js';
import * as c from '../check.js';
import { T, Ts } from './util.js';

export function matmul(a: Tensor, b: Tensor): Tensor {
  T('matmul', 'input', a); T('matmul', 'other', b);
  if (a.ndim === 0 || b.ndim === 0) throw new c.ArgumentError('matmul', 'input', 'both arguments need at least 1 dimension');
  return callT('matmul', '', [a, b]);
}

/** torch.matmul(a, b, out=out) */
export function matmulOut(out: Tensor, a: Tensor, b: Tensor): void {
  T('matmulOut', 'input', a); T('matmulOut', 'other', b); T('matmulOut', 'out', out);
  if (a.ndim === 0 || b.ndim === 0) throw new c.ArgumentError('matmulOut', 'input', 'both arguments need at least 1 dimension');
  if (out.requiresGrad) throw new c.ArgumentError('matmulOut', 'out', 'must not require grad (out= does not support autograd)');
  if (out.sharesStorageWith(a) || out.sharesStorageWith(b)) throw new c.ArgumentError('matmulOut', 'out', 'must not overlap the inputs');
  callInplace('matmul', 'out', [a, b, out]);
}

export function mm(a: Tensor, b: Tensor): Tensor {
  T('mm', 'input', a); T('mm', 'mat2', b);
  c.rank('mm', 'input', a.ndim, [2]); c.rank('mm', 'mat2', b.ndim, [2]);
  return callT('mm', '', [a, b]);
}

export function bmm(a: Tensor, b: Tensor): Tensor {
  T('bmm', 'input', a); T('bmm', 'mat2', b);
  c.rank('bmm', 'input', a.ndim, [3]); c.rank('bmm', 'mat2', b.ndim, [3]);
  return callT('bmm', '', [a, b]);
}

/** F.linear: x @ weightᵀ + bias */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  T('linear', 'input', x); T('linear', 'weight', weight);
  c.rank('linear', 'weight', weight.ndim, [1, 2]);
  if (x.ndim === 0) throw new c.ArgumentError('linear', 'input', 'needs at least 1 dimension');
  if (bias) T('linear', 'bias', bias);
  return callT('linear', '', [x, weight, bias ?? null]);
}

/** beta·self + alpha·(batch1 @ batch2) */
export function baddbmm(self: Tensor, b1: Tensor, b2: Tensor, beta = 1, alpha = 1): Tensor {
  T('baddbmm', 'input', self); T('baddbmm', 'batch1', b1); T('baddbmm', 'batch2', b2);
  c.rank('baddbmm', 'batch1', b1.ndim, [3]); c.rank('baddbmm', 'batch2', b2.ndim, [3]);
  return callT('baddbmm', '', [self, b1, b2, c.num('baddbmm', 'beta', beta), c.num('baddbmm', 'alpha', alpha)]);
}

export function einsum(equation: string, ...xs: Tensor[]): Tensor {
  if (typeof equation !== 'string' || !/^[a-zA-Z.,\->\s]+$/.test(equation)) throw new c.ArgumentError('einsum', 'equation', 'must be an einsum string such as "bij,bjk->bik"');
  return callT('einsum', '', [equation, Ts('einsum', 'operands', xs), null]);
}
