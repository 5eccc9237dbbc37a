// Reductions (sum, mean, amax, argmax, std/var, norm, logsumexp, cumsum, sort/topk).
import { Tensor } from '../tensor.js';
import { callT, callTs } from '../dispatch.js';
import * as c from '../check.js';
import { T, optDtypeCode } from './util.js';
import type { DType } from '../dtype.js';

type Dims = number | number[] | null | undefined;

function dimList(op: string, x: Tensor, d: Dims): number[] | null {
  if (d === undefined || d === null) return null;
  return c.dims(op, 'dim', d, x.ndim);
}

export function sum(x: Tensor, dim?: Dims, keepdim = false, dtype?: DType): Tensor {
  T('sum', 'input', x);
  const d = dimList('sum', x, dim);
  if (d === null) return callT('sum', '', [x, optDtypeCode('sum', dtype)]);
  return callT('sum', 'dim_IntList', [x, d, c.bool('sum', 'keepdim', keepdim), optDtypeCode('sum', dtype)]);
}

export function mean(x: Tensor, dim?: Dims, keepdim = false, dtype?: DType): Tensor {
  T('mean', 'input', x);
  const d = dimList('mean', x, dim);
  if (d === null) return callT('mean', '', [x, optDtypeCode('mean', dtype)]);
  return callT('mean', 'dim', [x, d, c.bool('mean', 'keepdim', keepdim), optDtypeCode('mean', dtype)]);
}

export function prod(x: Tensor, dim?: number, keepdim = false): Tensor {
  T('prod', 'input', x);
  if (dim === undefined) return callT('prod', '', [x, null]);
  return callT('prod', 'dim_int', [x, c.dim('prod', 'dim', dim, x.ndim), keepdim, null]);
}

export function amax(x: Tensor, dim?: Dims, keepdim = false): Tensor {
  T('amax', 'input', x);
  if (x.numel === 0) throw new c.ArgumentError('amax', 'input', 'is empty');
  return callT('amax', '', [x, dimList('amax', x, dim) ?? [], keepdim]);
}

export function amin(x: Tensor, dim?: Dims, keepdim = false): Tensor {
  T('amin', 'input', x);
  if (x.numel === 0) throw new c.ArgumentError('amin', 'input', 'is empty');
  return callT('amin', '', [x, dimList('amin', x, dim) ?? [], keepdim]);
}

/** torch.max(x, dim) → [values, indices] */
export function maxDim(x: Tensor, dim: number, keepdim = false): [Tensor, Tensor] {
  T('max', 'input', x);
  const r = callTs('max', 'dim', [x, c.dim('max', 'dim', dim, x.ndim), keepdim]);
  return [r[0]!, r[1]!];
}
export function minDim(x: Tensor, dim: number, keepdim = false): [Tensor, Tensor] {
  T('min', 'input', x);
  const r = callTs('min', 'dim', [x, c.dim('min', 'dim', dim, x.ndim), keepdim]);
  return [r[0]!, r[1]!];
}

export function argmax(x: Tensor, dim?: number, keepdim = false): Tensor {
  T('argmax', 'input', x);
  if (x.numel === 0) throw new c.ArgumentError('argmax', 'input', 'is empty');
  return callT('argmax', '', [x, dim === undefined ? null : c.dim('argmax', 'dim', dim, x.ndim), keepdim]);
}
export function argmin(x: Tensor, dim?: number, keepdim = false): Tensor {
  T('argmin', 'input', x);
  if (x.numel === 0) throw new c.ArgumentError('argmin', 'input', 'is empty');
  return callT('argmin', '', [x, dim === undefined ? null : c.dim('argmin', 'dim', dim, x.ndim), keepdim]);
}

export function std(x: Tensor, dim?: Dims, correction = 1, keepdim = false): Tensor {
  T('std', 'input', x);
  return callT('std', 'correction', [x, dimList('std', x, dim), c.int('std', 'correction', correction, { min: 0, max: 2 ** 40 }), keepdim]);
}
export function variance(x: Tensor, dim?: Dims, correction = 1, keepdim = false): Tensor {
  T('var', 'input', x);
  return callT('var', 'correction', [x, dimList('var', x, dim), c.int('var', 'correction', correction, { min: 0, max: 2 ** 40 }), keepdim]);
}
/** torch.var_mean → [var, mean] */
export function varMean(x: Tensor, dim?: Dims, correction = 1, keepdim = false): [Tensor, Tensor] {
  T('varMean', 'input', x);
  const r = callTs('var_mean', 'correction', [x, dimList('varMean', x, dim), c.int('varMean', 'correction', correction, { min: 0, max: 2 ** 40 }), keepdim]);
  return [r[0]!, r[1]!];
}

/** torch.linalg.vector_norm (Tensor.norm(p) for vectors). */
export function norm(x: Tensor, p = 2, dim?: Dims, keepdim = false): Tensor {
  T('norm', 'input', x);
  c.num('norm', 'p', p);
  return callT('linalg_vector_norm', '', [x, { float: p }, dimList('norm', x, dim), keepdim, null]);
}

export function logsumexp(x: Tensor, dim: number | number[], keepdim = false): Tensor {
  T('logsumexp', 'input', x);
  return callT('logsumexp', '', [x, c.dims('logsumexp', 'dim', dim, x.ndim), keepdim]);
}

export function cumsum(x: Tensor, dim: number, dtype?: DType): Tensor {
  T('cumsum', 'input', x);
  return callT('cumsum', '', [x, c.dim('cumsum', 'dim', dim, x.ndim), optDtypeCode('cumsum', dtype)]);
}

export function all(x: Tensor): Tensor { return callT('all', '', [T('all', 'input', x)]); }
export function any(x: Tensor): Tensor { return callT('any', '', [T('any', 'input', x)]); }

/** torch.sort(stable) → [values, indices] */
export function sort(x: Tensor, dim = -1, descending = false, stable = true): [Tensor, Tensor] {
  T('sort', 'input', x);
  const r = callTs('sort', 'stable', [x, c.bool('sort', 'stable', stable), c.dim('sort', 'dim', dim, x.ndim), c.bool('sort', 'descending', descending)]);
  return [r[0]!, r[1]!];
}

export function topk(x: Tensor, k: number, dim = -1, largest = true, sorted = true): [Tensor, Tensor] {
  T('topk', 'input', x);
  const d = c.dim('topk', 'dim', dim, x.ndim);
  c.int('topk', 'k', k, { min: 0, max: x.ndim === 0 ? 1 : x.size(d) });
  const r = callTs('topk', '', [x, k, d, largest, sorted]);
  return [r[0]!, r[1]!];
}
