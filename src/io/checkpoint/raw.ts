// Tensors as bytes: the common currency of every checkpoint reader and writer here.
//
// The readers never need the engine: a tensor is a dtype, a shape and its little-endian bytes in
// row-major order. Only tensors.ts turns these into engine tensors, so the parsers can be tested
// (and used by tools) without the native addon.

import type { DType } from '../../engine/dtype.js';

/** Element types by their safetensors names (the names the golden data uses too). */
export type SafeDType = 'F16' | 'BF16' | 'F32' | 'F64' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export interface RawTensor {
  dtype: SafeDType;
  shape: number[];
  /** Contiguous row-major little-endian bytes: numel(shape) × itemSize(dtype) of them. */
  data: Uint8Array;
}

export const SAFE_ITEM_SIZE: Readonly<Record<SafeDType, number>> = {
  F16: 2, BF16: 2, F32: 4, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

const TO_DTYPE: Readonly<Record<SafeDType, DType>> = {
  F16: 'float16', BF16: 'bfloat16', F32: 'float32', F64: 'float64', I64: 'int64', I32: 'int32',
  I16: 'int16', I8: 'int8', U8: 'uint8', BOOL: 'bool',
};

const FROM_DTYPE: Readonly<Record<DType, SafeDType>> = Object.fromEntries(
  Object.entries(TO_DTYPE).map(([safe, d]) => [d, safe]),
) as Record<DType, SafeDType>;

export function isSafeDType(x: unknown): x is SafeDType {
  return typeof x === 'string' && Object.prototype.hasOwnProperty.call(SAFE_ITEM_SIZE, x);
}

export function safeToDType(d: SafeDType): DType {
  return TO_DTYPE[d];
}

export function dtypeToSafe(d: DType): SafeDType {
  const s = FROM_DTYPE[d];
  if (s === undefined) throw new TypeError(`dtype ${String(d)} has no safetensors name`);
  return s;
}

/**
 * Elements in a tensor of this shape. Throws when a dimension is not a non-negative safe integer
 * or the count does not fit in a double exactly, which only hostile headers produce.
 */
export function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`invalid dimension ${String(d)} in shape [${shape.join(', ')}]`);
    n *= d;
  }
  // A zero dimension makes any product exact; otherwise the running product must stay exact.
  if (!Number.isSafeInteger(n)) throw new RangeError(`shape [${shape.join(', ')}] has too many elements`);
  return n;
}

/** Bytes a contiguous tensor of this dtype and shape occupies. */
export function byteLengthOf(dtype: SafeDType, shape: readonly number[]): number {
  const b = numelOf(shape) * SAFE_ITEM_SIZE[dtype];
  if (!Number.isSafeInteger(b)) throw new RangeError(`shape [${shape.join(', ')}] of ${dtype} is too large`);
  return b;
}

/** Checks that a RawTensor is self-consistent (used before writing one). */
export function checkRaw(name: string, t: RawTensor): void {
  if (!isSafeDType(t.dtype)) throw new TypeError(`tensor ${name}: unknown dtype ${JSON.stringify(t.dtype)}`);
  if (!Array.isArray(t.shape)) throw new TypeError(`tensor ${name}: shape must be an array`);
  const want = byteLengthOf(t.dtype, t.shape);
  if (!(t.data instanceof Uint8Array)) throw new TypeError(`tensor ${name}: data must be a Uint8Array`);
  if (t.data.byteLength !== want) {
    throw new RangeError(`tensor ${name}: ${t.dtype} [${t.shape.join(', ')}] needs ${want} bytes, data has ${t.data.byteLength}`);
  }
}
