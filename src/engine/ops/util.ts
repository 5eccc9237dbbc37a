// Helpers shared by the op files: tensor argument checks and enum codes.
import { Tensor } from '../tensor.js';
import { ArgumentError } from '../check.js';
import { SCALAR_TYPE, parseDType, type DType } from '../dtype.js';

export function T(op: string, arg: string, x: unknown): Tensor {
  if (!(x instanceof Tensor)) throw new ArgumentError(op, arg, `must be a Tensor, got ${x === null ? 'null' : typeof x === 'object' ? (x as object).constructor?.name : typeof x}`);
  if (x.isDisposed) throw new ArgumentError(op, arg, 'is a disposed tensor');
  return x;
}

export function Ts(op: string, arg: string, xs: unknown, minLen = 1): Tensor[] {
  if (!Array.isArray(xs)) throw new ArgumentError(op, arg, 'must be an array of Tensors');
  if (xs.length < minLen) throw new ArgumentError(op, arg, `must hold at least ${minLen} tensor(s)`);
  // Array.from, not map: map skips the holes of a sparse array and would let them through.
  return Array.from(xs, (x, i) => T(op, `${arg}[${i}]`, x));
}

export function dtypeCode(op: string, d: unknown): number {
  try {
    return SCALAR_TYPE[parseDType(d)];
  } catch (e) {
    throw new ArgumentError(op, 'dtype', (e as Error).message.replace(/^dtype: /, ''));
  }
}

export function optDtypeCode(op: string, d: DType | undefined | null): number | null {
  return d === undefined || d === null ? null : dtypeCode(op, d);
}

export const MEMORY_FORMAT = { contiguous: 0, preserve: 1, channels_last: 2 } as const;

const DEVICE_RE = /^(cpu|cuda(:\d{1,2})?|meta)$/;
export function device(op: string, d: unknown): string {
  if (typeof d !== 'string' || !DEVICE_RE.test(d)) throw new ArgumentError(op, 'device', `must be "cpu", "cuda" or "cuda:N", got ${JSON.stringify(d)}`);
  return d;
}

/** A JS number as an ATen Scalar: forced to float when the tensor side is floating point. */
export function scalar(op: string, arg: string, x: unknown): number | boolean {
  if (typeof x === 'boolean') return x;
  if (typeof x !== 'number') throw new ArgumentError(op, arg, `must be a number or a Tensor, got ${typeof x}`);
  return x;
}

/** Same shape check used by ops where ATen's own checks are known to be weak. */
export function sameShape(op: string, a: Tensor, b: Tensor, an = 'input', bn = 'other'): void {
  const sa = a.shape, sb = b.shape;
  if (sa.length !== sb.length || sa.some((v, i) => v !== sb[i])) {
    throw new ArgumentError(op, bn, `must have the shape of '${an}' [${sa.join(', ')}], got [${sb.join(', ')}]`);
  }
}
