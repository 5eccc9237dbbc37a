// Tensor creation (torch.zeros, ones, full, arange, linspace, eye, from data).
import { native } from '../../native/binding.js';
import { Tensor } from '../tensor.js';
import { callT } from '../dispatch.js';
import * as c from '../check.js';
import { type DType, type AnyTypedArray, SCALAR_TYPE, parseDType, dtypeOfArray, ITEM_SIZE, isFloating } from '../dtype.js';
import { T, dtypeCode, device as deviceArg, MEMORY_FORMAT } from './util.js';

export interface CreateOptions {
  dtype?: DType;
  device?: string;
  requiresGrad?: boolean;
}

function finish(t: Tensor, opts: CreateOptions): Tensor {
  if (opts.requiresGrad) t.requiresGrad_(true);
  return t;
}

function dev(op: string, opts: CreateOptions): string | null {
  return opts.device === undefined ? null : deviceArg(op, opts.device);
}

function dt(op: string, opts: CreateOptions, fallback: DType = 'float32'): number {
  return dtypeCode(op, opts.dtype ?? fallback);
}

/** torch.empty */
export function empty(size: number[], opts: CreateOptions = {}): Tensor {
  opts = c.options('empty', opts);
  const s = c.shape('empty', 'size', size);
  return finish(callT('empty', 'memory_format', [s, dt('empty', opts), null, dev('empty', opts), null, null]), opts);
}

/** torch.zeros */
export function zeros(size: number[], opts: CreateOptions = {}): Tensor {
  opts = c.options('zeros', opts);
  const s = c.shape('zeros', 'size', size);
  return finish(callT('zeros', '', [s, dt('zeros', opts), null, dev('zeros', opts), null]), opts);
}

/** torch.ones */
export function ones(size: number[], opts: CreateOptions = {}): Tensor {
  opts = c.options('ones', opts);
  const s = c.shape('ones', 'size', size);
  return finish(callT('ones', '', [s, dt('ones', opts), null, dev('ones', opts), null]), opts);
}

/** torch.full */
export function full(size: number[], value: number | boolean, opts: CreateOptions = {}): Tensor {
  opts = c.options('full', opts);
  const s = c.shape('full', 'size', size);
  if (typeof value !== 'boolean') c.num('full', 'fill_value', value);
  const fallback: DType = typeof value === 'boolean' ? 'bool' : 'float32';
  if (typeof value === 'number') c.fitsDType('full', 'fill_value', value, opts.dtype ? parseDType(opts.dtype) : fallback);
  const v = typeof value === 'number' && isFloating(opts.dtype ?? fallback) ? { float: value } : value;
  return finish(callT('full', '', [s, v, dt('full', opts, fallback), null, dev('full', opts), null]), opts);
}

/** torch.zeros_like / ones_like / full_like / empty_like */
export function zerosLike(x: Tensor, opts: CreateOptions = {}): Tensor {
  opts = c.options('zerosLike', opts);
  T('zerosLike', 'input', x);
  return finish(callT('zeros_like', '', [x, opts.dtype ? dt('zerosLike', opts) : null, null, opts.device ? dev('zerosLike', opts) : null, null, MEMORY_FORMAT.preserve]), opts);
}
export function onesLike(x: Tensor, opts: CreateOptions = {}): Tensor {
  opts = c.options('onesLike', opts);
  T('onesLike', 'input', x);
  return finish(callT('ones_like', '', [x, opts.dtype ? dt('onesLike', opts) : null, null, opts.device ? dev('onesLike', opts) : null, null, MEMORY_FORMAT.preserve]), opts);
}
export function fullLike(x: Tensor, value: number, opts: CreateOptions = {}): Tensor {
  opts = c.options('fullLike', opts);
  T('fullLike', 'input', x);
  c.num('fullLike', 'fill_value', value);
  c.fitsDType('fullLike', 'fill_value', value, opts.dtype ? parseDType(opts.dtype) : x.dtype);
  return finish(callT('full_like', '', [x, { float: value }, opts.dtype ? dt('fullLike', opts) : null, null, opts.device ? dev('fullLike', opts) : null, null, MEMORY_FORMAT.preserve]), opts);
}
export function emptyLike(x: Tensor, opts: CreateOptions = {}): Tensor {
  opts = c.options('emptyLike', opts);
  T('emptyLike', 'input', x);
  return finish(callT('empty_like', '', [x, opts.dtype ? dt('emptyLike', opts) : null, null, opts.device ? dev('emptyLike', opts) : null, null, MEMORY_FORMAT.preserve]), opts);
}

/** torch.arange(end) / arange(start, end, step); integer arguments give int64 unless dtype says otherwise. */
export function arange(start: number, end?: number, step = 1, opts: CreateOptions = {}): Tensor {
  opts = c.options('arange', opts);
  if (end === undefined) { end = start; start = 0; }
  c.num('arange', 'start', start, { finite: true });
  c.num('arange', 'end', end, { finite: true });
  c.num('arange', 'step', step, { finite: true });
  if (step === 0) throw new c.ArgumentError('arange', 'step', 'must be nonzero');
  const n = Math.ceil((end - start) / step);
  if (n > c.MAX_NUMEL) throw new c.ArgumentError('arange', 'end', `gives ${n} elements, more than the limit`);
  const allInt = Number.isInteger(start) && Number.isInteger(end) && Number.isInteger(step);
  const d = opts.dtype ? parseDType(opts.dtype) : allInt ? 'int64' : 'float32';
  const f = (v: number) => (isFloating(d) || !allInt ? { float: v } : v);
  return finish(callT('arange', 'start_step', [f(start), f(end), f(step), SCALAR_TYPE[d], null, dev('arange', opts), null]), opts);
}

/** torch.linspace */
export function linspace(start: number, end: number, steps: number, opts: CreateOptions = {}): Tensor {
  opts = c.options('linspace', opts);
  c.num('linspace', 'start', start, { finite: true });
  c.num('linspace', 'end', end, { finite: true });
  c.int('linspace', 'steps', steps, { min: 0, max: c.MAX_NUMEL });
  return finish(callT('linspace', '', [{ float: start }, { float: end }, steps, dt('linspace', opts), null, dev('linspace', opts), null]), opts);
}

/** torch.eye */
export function eye(n: number, m?: number, opts: CreateOptions = {}): Tensor {
  opts = c.options('eye', opts);
  c.int('eye', 'n', n, { min: 0, max: 2 ** 22 });
  if (m === undefined) return finish(callT('eye', '', [n, dt('eye', opts), null, dev('eye', opts), null]), opts);
  c.int('eye', 'm', m, { min: 0, max: 2 ** 22 });
  return finish(callT('eye', 'm', [n, m, dt('eye', opts), null, dev('eye', opts), null]), opts);
}

/** Creates a CPU tensor from raw little-endian bytes (a copy). */
export function fromBytes(data: Uint8Array, dtype: DType, shape: number[]): Tensor {
  if (!(data instanceof Uint8Array)) throw new c.ArgumentError('fromBytes', 'data', 'must be a Uint8Array');
  const d = parseDType(dtype, 'fromBytes(): dtype');
  const s = c.shape('fromBytes', 'shape', shape);
  const need = s.reduce((a, b) => a * b, 1) * ITEM_SIZE[d];
  if (data.byteLength !== need) throw new c.ArgumentError('fromBytes', 'data', `has ${data.byteLength} bytes, dtype ${d} and shape [${s.join(', ')}] need ${need}`);
  return Tensor.fromHandle(native.fromBytes(data, SCALAR_TYPE[d], s));
}

/** Creates a CPU tensor from a typed array (a copy); shape defaults to 1-D. */
export function fromTypedArray(data: AnyTypedArray, shape?: number[], dtype?: DType): Tensor {
  if (!ArrayBuffer.isView(data)) throw new c.ArgumentError('fromTypedArray', 'data', 'must be a typed array');
  const d = dtype ? parseDType(dtype, 'fromTypedArray(): dtype') : dtypeOfArray(data);
  const s = shape ? c.shape('fromTypedArray', 'shape', shape) : [data.byteLength / ITEM_SIZE[d]];
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return fromBytes(bytes, d, s);
}

type Nested = number | boolean | Nested[];

/** torch.tensor(data): nested JS arrays of numbers (float32 by default) or booleans. */
export function tensor(data: Nested | AnyTypedArray, opts: CreateOptions = {}): Tensor {
  opts = c.options('tensor', opts);
  if (ArrayBuffer.isView(data)) {
    const t = fromTypedArray(data as AnyTypedArray);
    if (opts.dtype && opts.dtype !== t.dtype) { const u = t.to({ dtype: opts.dtype }); t.dispose(); return finish(u, opts); }
    return finish(t, opts);
  }
  const shape: number[] = [];
  let probe: Nested = data;
  while (Array.isArray(probe)) { shape.push(probe.length); probe = probe[0] as Nested; if (shape.length > 32) break; }
  const flatVals: (number | boolean)[] = [];
  const walk = (x: Nested, depth: number): void => {
    if (depth === shape.length) {
      if (typeof x !== 'number' && typeof x !== 'boolean') throw new c.ArgumentError('tensor', 'data', 'must be numbers or booleans in a rectangular nested array');
      flatVals.push(x);
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[depth]) throw new c.ArgumentError('tensor', 'data', 'must be a rectangular nested array');
    for (const e of x) walk(e, depth + 1);
  };
  walk(data, 0);
  const isBool = flatVals.length > 0 && typeof flatVals[0] === 'boolean';
  const d = opts.dtype ? parseDType(opts.dtype) : isBool ? 'bool' : 'float32';
  // Typed arrays wrap out-of-range values silently (2^63 would become INT64_MIN): refuse them.
  for (const v of flatVals) if (typeof v === 'number') c.fitsDType('tensor', 'data', v, d);
  let t: Tensor;
  if (d === 'bool' || d === 'uint8') t = fromTypedArray(Uint8Array.from(flatVals, Number), shape, d);
  else if (d === 'int64') t = fromTypedArray(BigInt64Array.from(flatVals, (v) => BigInt(Math.trunc(Number(v)))), shape);
  else if (d === 'int32') t = fromTypedArray(Int32Array.from(flatVals, Number), shape);
  else if (d === 'float64') t = fromTypedArray(Float64Array.from(flatVals, Number), shape);
  else {
    const f = fromTypedArray(Float32Array.from(flatVals, Number), shape);
    if (d === 'float32') t = f; else { t = f.to({ dtype: d }); f.dispose(); }
  }
  return finish(t, opts);
}

/** A 0-d tensor. */
export function scalarTensor(v: number, dtype: DType = 'float32'): Tensor {
  return full([], v, { dtype });
}
