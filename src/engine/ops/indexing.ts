// Indexing: gather, index_select, advanced indexing, scatter, index_put_.
import { Tensor } from '../tensor.js';
import { callT, callInplace } from '../dispatch.js';
import * as c from '../check.js';
import { T } from './util.js';

/** Index values must lie in [0, n) — or [−n, n) where the op wraps negatives (advanced indexing). */
function checkIndexRange(op: string, index: Tensor, n: number, allowNegative = false): void {
  if (index.dtype !== 'int64' && index.dtype !== 'int32') throw new c.ArgumentError(op, 'index', `must be an int64 or int32 tensor, got ${index.dtype}`);
  if (index.numel === 0) return;
  const mn = callT('min', '', [index]), mx = callT('max', '', [index]);
  const lo = mn.item(), hi = mx.item();
  mn.dispose(); mx.dispose();
  const min = allowNegative ? -n : 0;
  if (lo < min || hi >= n) throw new c.ArgumentError(op, 'index', `values must lie in [${min}, ${n}), got [${lo}, ${hi}]`);
}

export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  T('gather', 'input', x); T('gather', 'index', index);
  const d = c.dim('gather', 'dim', dim, x.ndim);
  if (index.dtype !== 'int64') throw new c.ArgumentError('gather', 'index', `must be int64, got ${index.dtype}`);
  if (index.ndim !== x.ndim && !(x.ndim === 0 && index.ndim <= 1)) throw new c.ArgumentError('gather', 'index', `must have ${x.ndim} dimensions like the input`);
  checkIndexRange('gather', index, x.ndim === 0 ? 1 : x.size(d));
  return callT('gather', '', [x, d, index, false]);
}

export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  T('indexSelect', 'input', x); T('indexSelect', 'index', index);
  const d = c.dim('indexSelect', 'dim', dim, x.ndim);
  if (index.ndim > 1) throw new c.ArgumentError('indexSelect', 'index', 'must be 0-D or 1-D');
  checkIndexRange('indexSelect', index, x.ndim === 0 ? 1 : x.size(d));
  return callT('index_select', '', [x, d, index]);
}

/** x[i0, i1, …] with index tensors (null = full slice of that dimension), as Tensor.__getitem__. */
export function index(x: Tensor, indices: (Tensor | null)[]): Tensor {
  T('index', 'input', x);
  if (!Array.isArray(indices) || indices.length > x.ndim) throw new c.ArgumentError('index', 'indices', `must be an array of at most ${x.ndim} tensors or nulls`);
  indices.forEach((t, i) => {
    if (t === null) return;
    T('index', `indices[${i}]`, t);
    if (t.dtype === 'bool' || t.dtype === 'uint8') {
      const sh = x.shape.slice(i, i + t.ndim);
      if (t.shape.join() !== sh.join()) throw new c.ArgumentError('index', `indices[${i}]`, `mask shape [${t.shape.join(', ')}] does not match [${sh.join(', ')}]`);
    } else checkIndexRange('index', t, x.size(i), true);
  });
  return callT('index', 'Tensor', [x, indices]);
}

export function indexPut_(x: Tensor, indices: (Tensor | null)[], values: Tensor, accumulate = false): void {
  T('indexPut_', 'input', x); T('indexPut_', 'values', values);
  if (!Array.isArray(indices) || indices.length > x.ndim) throw new c.ArgumentError('indexPut_', 'indices', `must be an array of at most ${x.ndim} tensors or nulls`);
  indices.forEach((t, i) => {
    if (t === null) return;
    T('indexPut_', `indices[${i}]`, t);
    if (t.dtype === 'bool' || t.dtype === 'uint8') {
      const sh = x.shape.slice(i, i + t.ndim);
      if (t.shape.join() !== sh.join()) throw new c.ArgumentError('indexPut_', `indices[${i}]`, 'mask shape does not match');
    } else checkIndexRange('indexPut_', t, x.size(i), true);
  });
  callInplace('index_put_', '', [x, indices, values, c.bool('indexPut_', 'accumulate', accumulate)]);
}

export function scatter(x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  T('scatter', 'input', x); T('scatter', 'index', index); T('scatter', 'src', src);
  const d = c.dim('scatter', 'dim', dim, x.ndim);
  if (index.dtype !== 'int64') throw new c.ArgumentError('scatter', 'index', 'must be int64');
  if (index.ndim !== x.ndim || src.ndim !== x.ndim) throw new c.ArgumentError('scatter', 'index', 'index and src must have as many dimensions as the input');
  for (let i = 0; i < x.ndim; i++) {
    if (index.size(i) > src.size(i) || (i !== d && index.size(i) > x.size(i))) throw new c.ArgumentError('scatter', 'index', 'is larger than src or the input');
  }
  checkIndexRange('scatter', index, x.size(d));
  return callT('scatter', 'src', [x, d, index, src]);
}

export function scatterAdd(x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  T('scatterAdd', 'input', x); T('scatterAdd', 'index', index); T('scatterAdd', 'src', src);
  const d = c.dim('scatterAdd', 'dim', dim, x.ndim);
  if (index.dtype !== 'int64') throw new c.ArgumentError('scatterAdd', 'index', 'must be int64');
  if (index.ndim !== x.ndim || src.ndim !== x.ndim) throw new c.ArgumentError('scatterAdd', 'index', 'index and src must have as many dimensions as the input');
  for (let i = 0; i < x.ndim; i++) {
    if (index.size(i) > src.size(i) || (i !== d && index.size(i) > x.size(i))) throw new c.ArgumentError('scatterAdd', 'index', 'is larger than src or the input');
  }
  checkIndexRange('scatterAdd', index, x.size(d));
  return callT('scatter_add', '', [x, d, index, src]);
}

export function nonzero(x: Tensor): Tensor { return callT('nonzero', '', [T('nonzero', 'input', x)]); }
