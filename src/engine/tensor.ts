// Tensor: a handle to an at::Tensor in the addon's table, with PyTorch's method names.
import { native, type Handle } from '../native/binding.js';
import { type DType, type AnyTypedArray, type TypedArrayFor, dtypeFromCode, viewAs, parseDType, ITEM_SIZE } from './dtype.js';
import { track, untrack, type Disposable } from './scope.js';
import * as o from './ops/index.js';
import type { TensorOrScalar } from './ops/math.js';

const leakDebug = process.env.VPDSR_DEBUG_LEAKS === '1';
// Safety net only: the finaliser runs when the event loop turns, which a synchronous loop never
// lets happen. Deterministic disposal (scope/dispose) is the mechanism.
const registry = new FinalizationRegistry<Handle>((h) => {
  if (leakDebug) process.emitWarning(`vpdsr: a tensor was garbage-collected without dispose() (handle ${h})`);
  native.dispose(h);
});

export type MemoryFormat = 'contiguous' | 'channels_last' | 'preserve';
export type Device = string; // 'cpu' | 'cuda' | 'cuda:N'

interface Meta {
  dtype: DType;
  shape: number[];
  device: string;
}

export class Tensor implements Disposable {
  private _h: Handle;
  private _meta: Meta | undefined;

  private constructor(h: Handle) {
    this._h = h;
    track(this);
    registry.register(this, h, this);
  }

  /** Wraps a fresh handle from the addon (engine-internal). */
  static fromHandle(h: Handle): Tensor {
    return new Tensor(h);
  }

  /** The addon handle; throws if the tensor was disposed. */
  get handle(): Handle {
    // !_h also catches objects made with Object.create(Tensor.prototype), which never had a handle.
    if (!this._h) throw new Error('Tensor was disposed (use keep() or return it from the scope to keep it)');
    return this._h;
  }

  get isDisposed(): boolean {
    return !this._h;
  }

  dispose(): void {
    if (!this._h) return;
    registry.unregister(this);
    untrack(this);
    native.dispose(this._h);
    this._h = 0;
  }

  private meta(): Meta {
    if (!this._meta) {
      const [code, shape, device] = native.info(this.handle);
      this._meta = { dtype: dtypeFromCode(code), shape, device };
    }
    return this._meta;
  }

  get dtype(): DType { return this.meta().dtype; }
  get shape(): number[] { return this.meta().shape.slice(); }
  get device(): string { return this.meta().device; }
  get ndim(): number { return this.meta().shape.length; }
  get numel(): number { return this.meta().shape.reduce((a, b) => a * b, 1); }
  /** size(d) as in PyTorch; negative d counts from the end. */
  size(d: number): number {
    const s = this.meta().shape;
    if (typeof d !== 'number') throw new TypeError(`size(): dimension must be an integer, got ${typeof d}`);
    const i = d < 0 ? d + s.length : d;
    if (!Number.isInteger(i) || i < 0 || i >= s.length) throw new RangeError(`size(): dimension ${d} out of range for a ${s.length}-d tensor`);
    return s[i]!;
  }
  stride(): number[] { return native.strides(this.handle); }
  isContiguous(memoryFormat: 'contiguous' | 'channels_last' = 'contiguous'): boolean {
    return native.isContiguous(this.handle, memoryFormat === 'channels_last');
  }
  /** True when both tensors view the same storage. */
  sharesStorageWith(other: Tensor): boolean {
    if (!(other instanceof Tensor)) throw new TypeError('sharesStorageWith(): other must be a Tensor');
    return native.sameStorage(this.handle, other.handle);
  }

  // ---- data out ----
  /** Raw little-endian bytes of a contiguous row-major copy. */
  toBytes(): Uint8Array { return new Uint8Array(this.copyOut()); }
  /** The values in a typed array of this dtype (float16/bfloat16 as raw Uint16 bits). */
  toArray(): TypedArrayFor<DType> { return viewAs(this.copyOut(), this.dtype); }
  /** Float32 values whatever the dtype (converted in LibTorch). */
  toFloat32Array(): Float32Array {
    if (this.dtype === 'float32') return new Float32Array(this.copyOut());
    const f = o.to(this, { dtype: 'float32' });
    try { return new Float32Array(f.copyOut()); } finally { f.dispose(); }
  }
  /**
   * A contiguous copy in a new ArrayBuffer. The buffer is allocated here, where a failure is a
   * RangeError: the addon allocating it would abort the process when V8 cannot.
   */
  private copyOut(): ArrayBuffer {
    const bytes = this.numel * ITEM_SIZE[this.dtype];
    let buf: ArrayBuffer;
    try {
      buf = new ArrayBuffer(bytes);
    } catch {
      throw new RangeError(`cannot allocate ${bytes} bytes for a copy of tensor ${this.dtype}[${this.shape.join(', ')}]`);
    }
    if (bytes > 0) native.copyInto(this.handle, new Uint8Array(buf));
    return buf;
  }
  /** Forgets the cached dtype/shape/device (after an op that may resize this tensor in place). */
  _refresh(): void { this._meta = undefined; }
  /** Copies into a caller's typed array of the right byte length (no allocation). */
  copyInto(dst: AnyTypedArray): void {
    if (!ArrayBuffer.isView(dst)) throw new TypeError('copyInto(): dst must be a typed array');
    if (dst.byteLength !== this.numel * ITEM_SIZE[this.dtype]) throw new RangeError(`copyInto(): buffer has ${dst.byteLength} bytes, tensor needs ${this.numel * ITEM_SIZE[this.dtype]}`);
    native.copyInto(this.handle, dst);
  }
  item(): number {
    const v = native.item(this.handle);
    return typeof v === 'boolean' ? (v ? 1 : 0) : v;
  }
  toString(): string { return `Tensor(${this.isDisposed ? 'disposed' : `${this.dtype}[${this.shape.join(', ')}], ${this.device}`})`; }

  // ---- autograd ----
  get requiresGrad(): boolean { return native.info(this.handle)[3]; }
  set requiresGrad(v: boolean) { native.setRequiresGrad(this.handle, checkBool('requiresGrad', v)); }
  requiresGrad_(v = true): this { native.setRequiresGrad(this.handle, checkBool('requiresGrad_', v)); return this; }
  get isLeaf(): boolean { return native.isLeaf(this.handle); }
  /** The accumulated gradient (a new handle to it, owned by the current scope), or null. */
  get grad(): Tensor | null {
    const g = native.grad(this.handle);
    return g === null ? null : Tensor.fromHandle(g);
  }
  set grad(g: Tensor | null) {
    // Anything but a Tensor or null would reach the addon as "no gradient" and clear it silently.
    if (g !== null && !(g instanceof Tensor)) throw new TypeError(`Tensor.grad: must be a Tensor or null, got ${g === undefined ? 'undefined' : typeof g}`);
    native.setGrad(this.handle, g === null ? null : g.handle);
  }
  retainGrad(): this { native.retainGrad(this.handle); return this; }
  backward(gradient?: Tensor | null, opts: { retainGraph?: boolean; createGraph?: boolean } = {}): void {
    // A non-Tensor gradient would reach the addon as "none" and be replaced by ones silently.
    if (gradient !== undefined && gradient !== null && !(gradient instanceof Tensor)) throw new TypeError('backward(): gradient must be a Tensor or null');
    if (opts === null || typeof opts !== 'object') throw new TypeError('backward(): options must be an object');
    native.backward(this.handle, gradient ? gradient.handle : null, opts.retainGraph ?? opts.createGraph ?? false, opts.createGraph ?? false);
  }
  detach(): Tensor { return o.detach(this); }

  // ---- conversion ----
  to(arg: DType | Device | { dtype?: DType; device?: Device; memoryFormat?: MemoryFormat; copy?: boolean; nonBlocking?: boolean }): Tensor {
    if (typeof arg === 'string') {
      try { return o.to(this, { dtype: parseDType(arg) }); } catch (e) {
        if (/^(cpu|cuda(:\d+)?|meta)$/.test(arg)) return o.to(this, { device: arg });
        throw e;
      }
    }
    return o.to(this, arg);
  }
  float(): Tensor { return o.to(this, { dtype: 'float32' }); }
  double(): Tensor { return o.to(this, { dtype: 'float64' }); }
  half(): Tensor { return o.to(this, { dtype: 'float16' }); }
  bfloat16(): Tensor { return o.to(this, { dtype: 'bfloat16' }); }
  long(): Tensor { return o.to(this, { dtype: 'int64' }); }
  int(): Tensor { return o.to(this, { dtype: 'int32' }); }
  bool(): Tensor { return o.to(this, { dtype: 'bool' }); }
  cpu(): Tensor { return o.to(this, { device: 'cpu' }); }
  cuda(index = 0): Tensor {
    if (!Number.isInteger(index) || index < 0) throw new TypeError(`cuda(): index must be a non-negative integer, got ${String(index)}`);
    return o.to(this, { device: `cuda:${index}` });
  }
  contiguous(memoryFormat: 'contiguous' | 'channels_last' = 'contiguous'): Tensor { return o.contiguous(this, memoryFormat); }
  clone(memoryFormat: MemoryFormat = 'preserve'): Tensor { return o.clone(this, memoryFormat); }

  // ---- shape ----
  reshape(...s: number[] | [number[]]): Tensor { return o.reshape(this, flat(s)); }
  view(...s: number[] | [number[]]): Tensor { return o.view(this, flat(s)); }
  permute(...d: number[] | [number[]]): Tensor { return o.permute(this, flat(d)); }
  transpose(d0: number, d1: number): Tensor { return o.transpose(this, d0, d1); }
  t(): Tensor { return o.transpose(this, 0, 1); }
  slice(dim: number, start?: number | null, end?: number | null, step = 1): Tensor { return o.slice(this, dim, start, end, step); }
  narrow(dim: number, start: number, length: number): Tensor { return o.narrow(this, dim, start, length); }
  select(dim: number, index: number): Tensor { return o.select(this, dim, index); }
  squeeze(dim?: number): Tensor { return o.squeeze(this, dim); }
  unsqueeze(dim: number): Tensor { return o.unsqueeze(this, dim); }
  flatten(startDim = 0, endDim = -1): Tensor { return o.flatten(this, startDim, endDim); }
  expand(...s: number[] | [number[]]): Tensor { return o.expand(this, flat(s)); }
  expandAs(other: Tensor): Tensor {
    if (!(other instanceof Tensor)) throw new TypeError('expandAs(): other must be a Tensor');
    return o.expand(this, other.shape);
  }
  repeat(...s: number[] | [number[]]): Tensor { return o.repeat(this, flat(s)); }
  flip(dims: number | number[]): Tensor { return o.flip(this, dims); }
  roll(shifts: number | number[], dims: number | number[]): Tensor { return o.roll(this, shifts, dims); }
  chunk(chunks: number, dim = 0): Tensor[] { return o.chunk(this, chunks, dim); }
  split(sizes: number | number[], dim = 0): Tensor[] { return o.split(this, sizes, dim); }
  unbind(dim = 0): Tensor[] { return o.unbind(this, dim); }
  indexSelect(dim: number, index: Tensor): Tensor { return o.indexSelect(this, dim, index); }
  gather(dim: number, index: Tensor): Tensor { return o.gather(this, dim, index); }
  maskedFill(mask: Tensor, value: number): Tensor { return o.maskedFill(this, mask, value); }

  // ---- elementwise ----
  add(other: TensorOrScalar, alpha?: number): Tensor { return o.add(this, other, alpha); }
  sub(other: TensorOrScalar, alpha?: number): Tensor { return o.sub(this, other, alpha); }
  mul(other: TensorOrScalar): Tensor { return o.mul(this, other); }
  div(other: TensorOrScalar, roundingMode?: 'trunc' | 'floor'): Tensor { return o.div(this, other, roundingMode); }
  pow(exponent: TensorOrScalar): Tensor { return o.pow(this, exponent); }
  neg(): Tensor { return o.neg(this); }
  abs(): Tensor { return o.abs(this); }
  exp(): Tensor { return o.exp(this); }
  log(): Tensor { return o.log(this); }
  sqrt(): Tensor { return o.sqrt(this); }
  rsqrt(): Tensor { return o.rsqrt(this); }
  square(): Tensor { return o.square(this); }
  reciprocal(): Tensor { return o.reciprocal(this); }
  sin(): Tensor { return o.sin(this); }
  cos(): Tensor { return o.cos(this); }
  tanh(): Tensor { return o.tanh(this); }
  sigmoid(): Tensor { return o.sigmoid(this); }
  relu(): Tensor { return o.relu(this); }
  floor(): Tensor { return o.floor(this); }
  ceil(): Tensor { return o.ceil(this); }
  round(decimals = 0): Tensor { return o.round(this, decimals); }
  sign(): Tensor { return o.sign(this); }
  clamp(min?: number | null, max?: number | null): Tensor { return o.clamp(this, min, max); }
  eq(other: TensorOrScalar): Tensor { return o.eq(this, other); }
  ne(other: TensorOrScalar): Tensor { return o.ne(this, other); }
  lt(other: TensorOrScalar): Tensor { return o.lt(this, other); }
  le(other: TensorOrScalar): Tensor { return o.le(this, other); }
  gt(other: TensorOrScalar): Tensor { return o.gt(this, other); }
  ge(other: TensorOrScalar): Tensor { return o.ge(this, other); }
  logicalNot(): Tensor { return o.logicalNot(this); }
  isnan(): Tensor { return o.isnan(this); }
  isfinite(): Tensor { return o.isfinite(this); }
  lerp(end: Tensor, weight: TensorOrScalar): Tensor { return o.lerp(this, end, weight); }
  matmul(other: Tensor): Tensor { return o.matmul(this, other); }
  mm(other: Tensor): Tensor { return o.mm(this, other); }
  bmm(other: Tensor): Tensor { return o.bmm(this, other); }
  softmax(dim: number): Tensor { return o.softmax(this, dim); }
  logSoftmax(dim: number): Tensor { return o.logSoftmax(this, dim); }

  // ---- in place (return this) ----
  add_(other: TensorOrScalar, alpha?: number): this { o.add_(this, other, alpha); return this; }
  sub_(other: TensorOrScalar, alpha?: number): this { o.sub_(this, other, alpha); return this; }
  mul_(other: TensorOrScalar): this { o.mul_(this, other); return this; }
  div_(other: TensorOrScalar): this { o.div_(this, other); return this; }
  clamp_(min?: number | null, max?: number | null): this { o.clamp_(this, min, max); return this; }
  copy_(src: Tensor): this { o.copy_(this, src); return this; }
  zero_(): this { o.zero_(this); return this; }
  fill_(value: number): this { o.fill_(this, value); return this; }
  addcmul_(t1: Tensor, t2: Tensor, value = 1): this { o.addcmul_(this, t1, t2, value); return this; }
  addcdiv_(t1: Tensor, t2: Tensor, value = 1): this { o.addcdiv_(this, t1, t2, value); return this; }
  lerp_(end: Tensor, weight: number): this { o.lerp_(this, end, weight); return this; }
  sqrt_(): this { o.sqrt_(this); return this; }
  round_(): this { o.round_(this); return this; }
  normal_(mean = 0, std = 1, generator?: o.Generator): this { o.normal_(this, mean, std, generator); return this; }
  uniform_(from = 0, to = 1, generator?: o.Generator): this { o.uniform_(this, from, to, generator); return this; }

  // ---- reductions ----
  sum(dim?: number | number[] | null, keepdim = false): Tensor { return o.sum(this, dim, keepdim); }
  mean(dim?: number | number[] | null, keepdim = false): Tensor { return o.mean(this, dim, keepdim); }
  amax(dim?: number | number[] | null, keepdim = false): Tensor { return o.amax(this, dim, keepdim); }
  amin(dim?: number | number[] | null, keepdim = false): Tensor { return o.amin(this, dim, keepdim); }
  max(): Tensor { return o.amax(this); }
  min(): Tensor { return o.amin(this); }
  argmax(dim?: number, keepdim = false): Tensor { return o.argmax(this, dim, keepdim); }
  argmin(dim?: number, keepdim = false): Tensor { return o.argmin(this, dim, keepdim); }
  std(dim?: number | number[] | null, correction = 1, keepdim = false): Tensor { return o.std(this, dim, correction, keepdim); }
  var(dim?: number | number[] | null, correction = 1, keepdim = false): Tensor { return o.variance(this, dim, correction, keepdim); }
  norm(p: number = 2, dim?: number | number[] | null, keepdim = false): Tensor { return o.norm(this, p, dim, keepdim); }
  all(): Tensor { return o.all(this); }
  any(): Tensor { return o.any(this); }
}

function checkBool(what: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new TypeError(`Tensor.${what}: must be a boolean, got ${typeof v}`);
  return v;
}

function flat(s: number[] | [number[]]): number[] {
  return s.length === 1 && Array.isArray(s[0]) ? s[0] : (s as number[]);
}
