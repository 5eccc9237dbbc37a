// Shape and layout ops (reshape, view, permute, slice, cat, pad, …), named as in PyTorch.
import { Tensor } from '../tensor.js';
import { callT, callTs } from '../dispatch.js';
import * as c from '../check.js';
import { T, Ts, MEMORY_FORMAT, dtypeCode, device as deviceArg } from './util.js';
import type { DType } from '../dtype.js';
import type { MemoryFormat } from '../tensor.js';

export function reshape(x: Tensor, shape: number[]): Tensor {
  T('reshape', 'input', x);
  return callT('reshape', '', [x, c.shape('reshape', 'shape', shape, true)]);
}

export function view(x: Tensor, shape: number[]): Tensor {
  T('view', 'input', x);
  return callT('view', '', [x, c.shape('view', 'size', shape, true)]);
}

export function permute(x: Tensor, dims: number[]): Tensor {
  T('permute', 'input', x);
  const d = c.dims('permute', 'dims', dims, x.ndim);
  if (d.length !== x.ndim) throw new c.ArgumentError('permute', 'dims', `must list all ${x.ndim} dimensions`);
  return callT('permute', '', [x, d]);
}

export function transpose(x: Tensor, d0: number, d1: number): Tensor {
  T('transpose', 'input', x);
  return callT('transpose', 'int', [x, c.dim('transpose', 'dim0', d0, x.ndim), c.dim('transpose', 'dim1', d1, x.ndim)]);
}

/** x[..., start:end:step, ...] along dim (PyTorch slicing; negative and out-of-range bounds clamp). */
export function slice(x: Tensor, dim: number, start?: number | null, end?: number | null, step = 1): Tensor {
  T('slice', 'input', x);
  const d = c.dim('slice', 'dim', dim, x.ndim);
  const big = 2 ** 52;
  const s = start === undefined || start === null ? null : c.int('slice', 'start', start, { min: -big, max: big });
  const e = end === undefined || end === null ? null : c.int('slice', 'end', end, { min: -big, max: big });
  c.int('slice', 'step', step, { min: 1, max: big });
  return callT('slice', 'Tensor', [x, d, s, e, step]);
}

export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  T('narrow', 'input', x);
  const d = c.dim('narrow', 'dim', dim, x.ndim);
  const n = x.size(d);
  const s = c.int('narrow', 'start', start, { min: -n, max: n });
  c.int('narrow', 'length', length, { min: 0, max: n - (s < 0 ? s + n : s) });
  return callT('narrow', '', [x, d, s, length]);
}

export function select(x: Tensor, dim: number, index: number): Tensor {
  T('select', 'input', x);
  const d = c.dim('select', 'dim', dim, x.ndim);
  const n = x.size(d);
  return callT('select', 'int', [x, d, c.int('select', 'index', index, { min: -n, max: n - 1 })]);
}

export function squeeze(x: Tensor, dim?: number): Tensor {
  T('squeeze', 'input', x);
  if (dim === undefined) return callT('squeeze', '', [x]);
  return callT('squeeze', 'dim', [x, c.dim('squeeze', 'dim', dim, x.ndim)]);
}

export function unsqueeze(x: Tensor, dim: number): Tensor {
  T('unsqueeze', 'input', x);
  return callT('unsqueeze', '', [x, c.dim('unsqueeze', 'dim', dim, x.ndim, 1)]);
}

export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  T('flatten', 'input', x);
  const s = c.dim('flatten', 'start_dim', startDim, x.ndim), e = c.dim('flatten', 'end_dim', endDim, x.ndim);
  if (s > e && x.ndim > 0) throw new c.ArgumentError('flatten', 'start_dim', 'must not come after end_dim');
  return callT('flatten', 'using_ints', [x, s, e]);
}

export function unflatten(x: Tensor, dim: number, sizes: number[]): Tensor {
  T('unflatten', 'input', x);
  const d = c.dim('unflatten', 'dim', dim, x.ndim);
  const s = x.shape;
  return reshape(x, [...s.slice(0, d), ...c.shape('unflatten', 'sizes', sizes, true), ...s.slice(d + 1)]);
}

export function expand(x: Tensor, shape: number[]): Tensor {
  T('expand', 'input', x);
  return callT('expand', '', [x, c.shape('expand', 'size', shape, true)]);
}

export function repeat(x: Tensor, repeats: number[]): Tensor {
  T('repeat', 'input', x);
  const r = c.intList('repeat', 'repeats', repeats, { min: 0, max: c.MAX_NUMEL });
  if (r.length < x.ndim) throw new c.ArgumentError('repeat', 'repeats', `must have at least ${x.ndim} entries`);
  const out = r.reduce((a, b) => a * b, 1) * x.numel;
  if (out > c.MAX_NUMEL) throw new c.ArgumentError('repeat', 'repeats', 'gives too many elements');
  return callT('repeat', '', [x, r]);
}

export function flip(x: Tensor, dims: number | number[]): Tensor {
  T('flip', 'input', x);
  return callT('flip', '', [x, c.dims('flip', 'dims', dims, x.ndim)]);
}

export function roll(x: Tensor, shifts: number | number[], dims: number | number[]): Tensor {
  T('roll', 'input', x);
  const s = typeof shifts === 'number' ? [shifts] : c.intList('roll', 'shifts', shifts);
  s.forEach((v, i) => c.int('roll', `shifts[${i}]`, v));
  const d = c.dims('roll', 'dims', dims, x.ndim);
  if (s.length !== d.length) throw new c.ArgumentError('roll', 'shifts', 'must have as many entries as dims');
  return callT('roll', '', [x, s, d]);
}

export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  T('chunk', 'input', x);
  return callTs('chunk', '', [x, c.int('chunk', 'chunks', chunks, { min: 1, max: 2 ** 31 }), c.dim('chunk', 'dim', dim, x.ndim)]);
}

export function split(x: Tensor, sizes: number | number[], dim = 0): Tensor[] {
  T('split', 'input', x);
  const d = c.dim('split', 'dim', dim, x.ndim);
  if (typeof sizes === 'number') return callTs('split', 'Tensor', [x, c.int('split', 'split_size', sizes, { min: 1, max: c.MAX_NUMEL }), d]);
  const s = c.intList('split', 'split_sizes', sizes, { min: 0, maxLen: 1 << 20 });
  if (s.reduce((a, b) => a + b, 0) !== x.size(d)) throw new c.ArgumentError('split', 'split_sizes', `must sum to ${x.size(d)}`);
  return callTs('split_with_sizes', '', [x, s, d]);
}

export function unbind(x: Tensor, dim = 0): Tensor[] {
  T('unbind', 'input', x);
  return callTs('unbind', 'int', [x, c.dim('unbind', 'dim', dim, x.ndim)]);
}

export function cat(xs: Tensor[], dim = 0): Tensor {
  const ts = Ts('cat', 'tensors', xs);
  return callT('cat', '', [ts, c.dim('cat', 'dim', dim, ts[0]!.ndim)]);
}

export function stack(xs: Tensor[], dim = 0): Tensor {
  const ts = Ts('stack', 'tensors', xs);
  return callT('stack', '', [ts, c.dim('stack', 'dim', dim, ts[0]!.ndim, 1)]);
}

export type PadMode = 'constant' | 'reflect' | 'replicate' | 'circular';

/** F.pad: pad lists (left, right, top, bottom, …) from the last dimension backwards. */
export function pad(x: Tensor, padding: number[], mode: PadMode = 'constant', value = 0): Tensor {
  T('pad', 'input', x);
  const p = c.intList('pad', 'pad', padding, { min: -(2 ** 31), max: 2 ** 31 });
  if (p.length % 2 !== 0 || p.length / 2 > x.ndim) throw new c.ArgumentError('pad', 'pad', `must have an even length of at most ${2 * x.ndim}`);
  c.str('pad', 'mode', mode, ['constant', 'reflect', 'replicate', 'circular'] as const);
  if (mode === 'constant') {
    c.num('pad', 'value', value);
    let grow = x.numel;
    for (let i = 0; i < p.length / 2; i++) {
      const dd = x.ndim - 1 - i;
      const n = x.size(dd);
      const after = n + p[2 * i]! + p[2 * i + 1]!;
      if (after < 0) throw new c.ArgumentError('pad', 'pad', 'would make a dimension negative');
      grow = n === 0 ? 0 : (grow / n) * after;
    }
    if (grow > c.MAX_NUMEL) throw new c.ArgumentError('pad', 'pad', 'gives too many elements');
    return callT('constant_pad_nd', '', [x, p, { float: value }]);
  }
  for (let i = 0; i < p.length / 2; i++) {
    const n = x.size(x.ndim - 1 - i);
    for (const v of [p[2 * i]!, p[2 * i + 1]!]) {
      if (v < 0 && -v > n) throw new c.ArgumentError('pad', 'pad', 'removes more than the dimension holds');
      if (mode === 'reflect' && v >= n) throw new c.ArgumentError('pad', 'pad', `reflect padding must be smaller than the dimension (${n}), got ${v}`);
      if (mode === 'circular' && v > n) throw new c.ArgumentError('pad', 'pad', `circular padding must not exceed the dimension (${n}), got ${v}`);
      if (mode === 'replicate' && v > 2 ** 24) throw new c.ArgumentError('pad', 'pad', 'is too large');
    }
  }
  const nd = p.length / 2;
  if (x.ndim < nd + 1) throw new c.ArgumentError('pad', 'input', `needs at least ${nd + 1} dimensions for ${mode} padding of ${nd}`);
  return callT('pad', '', [x, p, mode, null]);
}

export function contiguous(x: Tensor, memoryFormat: 'contiguous' | 'channels_last' = 'contiguous'): Tensor {
  T('contiguous', 'input', x);
  c.str('contiguous', 'memory_format', memoryFormat, ['contiguous', 'channels_last'] as const);
  if (memoryFormat === 'channels_last' && x.ndim !== 4) throw new c.ArgumentError('contiguous', 'input', 'must be 4-D for channels_last');
  return callT('contiguous', '', [x, MEMORY_FORMAT[memoryFormat]]);
}

export function clone(x: Tensor, memoryFormat: MemoryFormat = 'preserve'): Tensor {
  T('clone', 'input', x);
  c.str('clone', 'memory_format', memoryFormat, ['contiguous', 'channels_last', 'preserve'] as const);
  if (memoryFormat === 'channels_last' && x.ndim !== 4) throw new c.ArgumentError('clone', 'input', 'must be 4-D for channels_last');
  return callT('clone', '', [x, MEMORY_FORMAT[memoryFormat]]);
}

/** A new handle on the same tensor (autograd-transparent), e.g. for a pass-through forward. */
export function alias(x: Tensor): Tensor {
  return callT('alias', '', [T('alias', 'input', x)]);
}

export function detach(x: Tensor): Tensor {
  T('detach', 'input', x);
  return callT('detach', '', [x]);
}

/** Tensor.to: dtype and/or device and/or memory format. Returns a new handle even when nothing changes. */
export function to(x: Tensor, opts: { dtype?: DType; device?: string; memoryFormat?: MemoryFormat; copy?: boolean; nonBlocking?: boolean }): Tensor {
  opts = c.options('to', opts);
  T('to', 'input', x);
  const dt = opts.dtype === undefined ? null : dtypeCode('to', opts.dtype);
  const dev = opts.device === undefined ? null : deviceArg('to', opts.device);
  const mf = opts.memoryFormat === undefined ? null : MEMORY_FORMAT[c.str('to', 'memory_format', opts.memoryFormat, ['contiguous', 'channels_last', 'preserve'] as const)];
  if (opts.memoryFormat === 'channels_last' && x.ndim !== 4) throw new c.ArgumentError('to', 'input', 'must be 4-D for channels_last');
  return callT('to', 'dtype_layout', [x, dt, null, dev, null, opts.nonBlocking ?? false, opts.copy ?? false, mf]);
}

/** Tril/triu of the last two dims. */
export function tril(x: Tensor, diagonal = 0): Tensor {
  T('tril', 'input', x);
  if (x.ndim < 2) throw new c.ArgumentError('tril', 'input', 'must have at least 2 dimensions');
  return callT('tril', '', [x, c.int('tril', 'diagonal', diagonal, { min: -(2 ** 40), max: 2 ** 40 })]);
}
export function triu(x: Tensor, diagonal = 0): Tensor {
  T('triu', 'input', x);
  if (x.ndim < 2) throw new c.ArgumentError('triu', 'input', 'must have at least 2 dimensions');
  return callT('triu', '', [x, c.int('triu', 'diagonal', diagonal, { min: -(2 ** 40), max: 2 ** 40 })]);
}

/** Tensor.unfold(dimension, size, step): sliding windows as a new last dimension. */
export function unfoldDim(x: Tensor, dimension: number, size: number, step: number): Tensor {
  T('unfold', 'input', x);
  const d = c.dim('unfold', 'dimension', dimension, x.ndim);
  c.int('unfold', 'size', size, { min: 0, max: x.ndim === 0 ? 1 : x.size(d) });
  c.int('unfold', 'step', step, { min: 1, max: 2 ** 40 });
  return callT('unfold', '', [x, d, size, step]);
}

/** torch.meshgrid(..., indexing) */
export function meshgrid(xs: Tensor[], indexing: 'ij' | 'xy' = 'ij'): Tensor[] {
  const ts = Ts('meshgrid', 'tensors', xs);
  ts.forEach((t, i) => { if (t.ndim > 1) throw new c.ArgumentError('meshgrid', `tensors[${i}]`, 'must be 0-D or 1-D'); });
  return callTs('meshgrid', 'indexing', [ts, c.str('meshgrid', 'indexing', indexing, ['ij', 'xy'] as const)]);
}
