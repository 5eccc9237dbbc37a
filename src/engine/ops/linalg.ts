// Matrix products (matmul, mm, bmm, linear, baddbmm, einsum).
import { Tensor } from '../tensor.js';
import { callT, callTs, callInplace } from '../dispatch.js';
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

function floatMatrix(op: string, a: Tensor): void {
  T(op, 'input', a);
  if (a.ndim < 2) throw new c.ArgumentError(op, 'input', `must be a matrix or a batch of matrices, got [${a.shape.join(', ')}]`);
  if (a.dtype !== 'float32' && a.dtype !== 'float64') throw new c.ArgumentError(op, 'input', `must be float32 or float64, got ${a.dtype}`);
  if (a.numel === 0) throw new c.ArgumentError(op, 'input', 'is empty');
}

function square(op: string, a: Tensor): void {
  floatMatrix(op, a);
  if (a.size(-1) !== a.size(-2)) throw new c.ArgumentError(op, 'input', `must be square, got [${a.shape.join(', ')}]`);
}

/** torch.linalg.pinv(A, hermitian=False) (default tolerances) */
export function pinv(a: Tensor, hermitian = false): Tensor {
  floatMatrix('pinv', a);
  return callT('linalg_pinv', 'atol_rtol_float', [a, null, null, c.bool('pinv', 'hermitian', hermitian)]);
}

/** torch.linalg.eigh(A): eigenvalues (ascending) and eigenvectors of a symmetric matrix (lower triangle read). */
export function eigh(a: Tensor): [Tensor, Tensor] {
  square('eigh', a);
  const r = callTs('linalg_eigh', '', [a, 'L']);
  return [r[0]!, r[1]!];
}

/** torch.linalg.eigvalsh(A) */
export function eigvalsh(a: Tensor): Tensor {
  square('eigvalsh', a);
  return callT('linalg_eigvalsh', '', [a, 'L']);
}

/** torch.cov(x, correction): rows are variables, columns observations. */
export function cov(x: Tensor, correction = 1): Tensor {
  T('cov', 'input', x);
  c.rank('cov', 'input', x.ndim, [1, 2]);
  if (!Number.isInteger(correction) || correction < 0) throw new c.ArgumentError('cov', 'correction', `must be a non-negative integer, got ${correction}`);
  return callT('cov', '', [x, correction, null, null]);
}
