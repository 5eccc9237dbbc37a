// dtypes by PyTorch name, their c10::ScalarType codes, and the typed arrays that hold them.

export type DType = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool' | 'complex64' | 'complex128';

/** c10::ScalarType enum values (c10/core/ScalarType.h). */
export const SCALAR_TYPE: Record<DType, number> = {
  uint8: 0, int8: 1, int16: 2, int32: 3, int64: 4, float16: 5, float32: 6, float64: 7, complex64: 9, complex128: 10, bool: 11, bfloat16: 15,
};

const BY_CODE = new Map<number, DType>(Object.entries(SCALAR_TYPE).map(([k, v]) => [v, k as DType]));

export const ITEM_SIZE: Record<DType, number> = {
  uint8: 1, int8: 1, int16: 2, int32: 4, int64: 8, float16: 2, float32: 4, float64: 8, bool: 1, bfloat16: 2, complex64: 8, complex128: 16,
};

/** Aliases accepted wherever a dtype is (PyTorch spellings and safetensors names). */
const ALIASES: Record<string, DType> = {
  float: 'float32', double: 'float64', half: 'float16', long: 'int64', int: 'int32', short: 'int16',
  fp32: 'float32', fp64: 'float64', fp16: 'float16', bf16: 'bfloat16',
  F32: 'float32', F64: 'float64', F16: 'float16', BF16: 'bfloat16', I64: 'int64', I32: 'int32', I16: 'int16',
  I8: 'int8', U8: 'uint8', BOOL: 'bool',
};

export function dtypeFromCode(code: number): DType {
  const d = BY_CODE.get(code);
  if (!d) throw new Error(`unsupported ScalarType ${code}`);
  return d;
}

export function isDType(x: unknown): x is DType {
  return typeof x === 'string' && Object.prototype.hasOwnProperty.call(SCALAR_TYPE, x);
}

export function parseDType(x: unknown, what = 'dtype'): DType {
  if (isDType(x)) return x;
  if (typeof x === 'string' && Object.prototype.hasOwnProperty.call(ALIASES, x)) return ALIASES[x]!;
  throw new TypeError(`${String(what)}: expected one of ${Object.keys(SCALAR_TYPE).join(', ')}, got ${JSON.stringify(x)}`);
}

export function isFloating(d: DType): boolean {
  return d === 'float32' || d === 'float64' || d === 'float16' || d === 'bfloat16';
}

/** bf16 or f16: the reduced-precision floats whose norms and statistics the models keep in f32. */
export function isLowPrecision(d: DType): boolean {
  return d === 'bfloat16' || d === 'float16';
}

export type TypedArrayFor<D extends DType> = D extends 'float32' | 'complex64' ? Float32Array
  : D extends 'float64' | 'complex128' ? Float64Array
  : D extends 'int64' ? BigInt64Array
  : D extends 'int32' ? Int32Array
  : D extends 'int16' ? Int16Array
  : D extends 'int8' ? Int8Array
  : D extends 'uint8' | 'bool' ? Uint8Array
  : Uint16Array; // float16, bfloat16: raw bits

export type AnyTypedArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Int16Array | Int8Array |
  Uint8Array | Uint8ClampedArray | Uint16Array;

/** The dtype a typed array holds by default (Uint16Array is ambiguous: pass a dtype). */
export function dtypeOfArray(a: AnyTypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof BigInt64Array) return 'int64';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Int16Array) return 'int16';
  if (a instanceof Int8Array) return 'int8';
  if (a instanceof Uint8Array || a instanceof Uint8ClampedArray) return 'uint8';
  if (a instanceof Uint16Array) return 'float16';
  throw new TypeError('unsupported typed array');
}

export function viewAs<D extends DType>(buf: ArrayBuffer, d: D): TypedArrayFor<D> {
  switch (d) {
    case 'float32': case 'complex64': return new Float32Array(buf) as TypedArrayFor<D>;
    case 'float64': case 'complex128': return new Float64Array(buf) as TypedArrayFor<D>;
    case 'int64': return new BigInt64Array(buf) as TypedArrayFor<D>;
    case 'int32': return new Int32Array(buf) as TypedArrayFor<D>;
    case 'int16': return new Int16Array(buf) as TypedArrayFor<D>;
    case 'int8': return new Int8Array(buf) as TypedArrayFor<D>;
    case 'uint8': case 'bool': return new Uint8Array(buf) as TypedArrayFor<D>;
    default: return new Uint16Array(buf) as TypedArrayFor<D>;
  }
}
