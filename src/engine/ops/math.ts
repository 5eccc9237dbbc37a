// Elementwise math and comparisons, with PyTorch's broadcasting and type promotion.
import { Tensor } from '../tensor.js';
import { callT, callInplace, callRaw } from '../dispatch.js';
import { dtypeFromCode } from '../dtype.js';
import * as c from '../check.js';
import { T, scalar } from './util.js';

export type TensorOrScalar = Tensor | number;

function binary(op: string, a: Tensor, b: TensorOrScalar, extra: (number | boolean | string | null)[] = []): Tensor {
  T(op, 'input', a);
  if (b instanceof Tensor) return callT(op, 'Tensor', [a, T(op, 'other', b), ...extra]);
  return callT(op, 'Scalar', [a, scalar(op, 'other', b), ...extra]);
}

function binaryInplace(op: string, a: Tensor, b: TensorOrScalar, extra: (number | boolean | string | null)[] = []): void {
  T(op, 'input', a);
  if (b instanceof Tensor) callInplace(op, 'Tensor', [a, T(op, 'other', b), ...extra]);
  else callInplace(op, 'Scalar', [a, scalar(op, 'other', b), ...extra]);
}

function alphaArg(op: string, alpha: number | undefined): number[] {
  return alpha === undefined ? [] : [c.num(op, 'alpha', alpha)];
}

export function add(a: Tensor, b: TensorOrScalar, alpha?: number): Tensor { return binary('add', a, b, alphaArg('add', alpha)); }
export function sub(a: Tensor, b: TensorOrScalar, alpha?: number): Tensor { return binary('sub', a, b, alphaArg('sub', alpha)); }
export function mul(a: Tensor, b: TensorOrScalar): Tensor { return binary('mul', a, b); }
/**
 * Integer division of INT_MIN by -1 traps on x86 (SIGFPE kills the process) and ATen 1.13 does not
 * check for it: refuse it here. The operands are compared after the cast to the result type,
 * which is what the kernel divides.
 */
function checkIntDivOverflow(a: Tensor, b: TensorOrScalar): void {
  const code = callRaw('result_type', b instanceof Tensor ? 'Tensor' : 'Scalar', [a, b]);
  const rd = dtypeFromCode(code as number);
  if (rd !== 'int32' && rd !== 'int64') return;
  if (!(b instanceof Tensor) && b !== -1) return;
  const made: Tensor[] = [];
  const t = (x: Tensor) => { made.push(x); return x; };
  try {
    const min = t(callT('full', '', [[], rd === 'int64' ? -(2 ** 63) : -(2 ** 31), code as number, null, null, null]));
    let hit = t(callT('eq', 'Tensor', [t(callT('to', 'dtype', [a, code as number, false, false, null])), min]));
    if (b instanceof Tensor) hit = t(callT('logical_and', '', [hit, t(callT('eq', 'Scalar', [t(callT('to', 'dtype', [b, code as number, false, false, null])), -1]))]));
    if (t(callT('any', '', [hit])).item()) throw new c.ArgumentError('div', 'other', `is -1 where the input is the smallest ${rd}: the integer division overflows`);
  } finally {
    for (const x of made) x.dispose();
  }
}

/** True division, or rounding_mode 'trunc' / 'floor'. */
export function div(a: Tensor, b: TensorOrScalar, roundingMode?: 'trunc' | 'floor'): Tensor {
  if (roundingMode === undefined) return binary('div', a, b);
  c.str('div', 'rounding_mode', roundingMode, ['trunc', 'floor'] as const);
  T('div', 'input', a);
  if (b instanceof Tensor) T('div', 'other', b); else scalar('div', 'other', b);
  checkIntDivOverflow(a, b);
  if (b instanceof Tensor) return callT('div', 'Tensor_mode', [a, T('div', 'other', b), roundingMode]);
  return callT('div', 'Scalar_mode', [a, scalar('div', 'other', b), roundingMode]);
}
/** a - b with a scalar on the left: rsub(b, a). */
export function rsub(a: Tensor, b: number): Tensor { T('rsub', 'input', a); return callT('rsub', 'Scalar', [a, scalar('rsub', 'other', b)]); }
export function pow(a: Tensor | number, b: TensorOrScalar): Tensor {
  if (typeof a === 'number') return callT('pow', 'Scalar', [scalar('pow', 'self', a), T('pow', 'exponent', b)]);
  T('pow', 'input', a);
  if (b instanceof Tensor) return callT('pow', 'Tensor_Tensor', [a, T('pow', 'exponent', b)]);
  return callT('pow', 'Tensor_Scalar', [a, scalar('pow', 'exponent', b)]);
}
export function maximum(a: Tensor, b: Tensor): Tensor { return callT('maximum', '', [T('maximum', 'input', a), T('maximum', 'other', b)]); }
export function minimum(a: Tensor, b: Tensor): Tensor { return callT('minimum', '', [T('minimum', 'input', a), T('minimum', 'other', b)]); }
export function atan2(a: Tensor, b: Tensor): Tensor { return callT('atan2', '', [T('atan2', 'input', a), T('atan2', 'other', b)]); }

/** out= variants: the result is written into `out` (no allocation when its shape already fits). */
function checkOut(op: string, out: Tensor, inputs: Tensor[]): void {
  T(op, 'out', out);
  if (out.requiresGrad) throw new c.ArgumentError(op, 'out', 'must not require grad (out= does not support autograd)');
  for (const x of inputs) if (x.sharesStorageWith(out) && x.stride().join() !== out.stride().join()) throw new c.ArgumentError(op, 'out', 'overlaps an input with a different layout');
}
/** torch.add(a, b, alpha=alpha, out=out) */
export function addOut(out: Tensor, a: Tensor, b: Tensor, alpha?: number): void {
  T('addOut', 'input', a); T('addOut', 'other', b); checkOut('addOut', out, [a, b]);
  callInplace('add', 'out', [a, b, alpha === undefined ? 1 : c.num('addOut', 'alpha', alpha), out]);
}
/** torch.mul(a, b, out=out) */
export function mulOut(out: Tensor, a: Tensor, b: Tensor): void {
  T('mulOut', 'input', a); T('mulOut', 'other', b); checkOut('mulOut', out, [a, b]);
  callInplace('mul', 'out', [a, b, out]);
}

export function add_(a: Tensor, b: TensorOrScalar, alpha?: number): void { binaryInplace('add_', a, b, alphaArg('add_', alpha)); }
export function sub_(a: Tensor, b: TensorOrScalar, alpha?: number): void { binaryInplace('sub_', a, b, alphaArg('sub_', alpha)); }
export function mul_(a: Tensor, b: TensorOrScalar): void { binaryInplace('mul_', a, b); }
export function div_(a: Tensor, b: TensorOrScalar): void { binaryInplace('div_', a, b); }

function unary(op: string, x: Tensor): Tensor { return callT(op, '', [T(op, 'input', x)]); }
export const neg = (x: Tensor): Tensor => unary('neg', x);
export const abs = (x: Tensor): Tensor => unary('abs', x);
export const exp = (x: Tensor): Tensor => unary('exp', x);
export const log = (x: Tensor): Tensor => unary('log', x);
export const log2 = (x: Tensor): Tensor => unary('log2', x);
export const log10 = (x: Tensor): Tensor => unary('log10', x);
export const log1p = (x: Tensor): Tensor => unary('log1p', x);
export const expm1 = (x: Tensor): Tensor => unary('expm1', x);
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
export const rsqrt = (x: Tensor): Tensor => unary('rsqrt', x);
export const square = (x: Tensor): Tensor => unary('square', x);
export const reciprocal = (x: Tensor): Tensor => unary('reciprocal', x);
export const sin = (x: Tensor): Tensor => unary('sin', x);
export const cos = (x: Tensor): Tensor => unary('cos', x);
export const tan = (x: Tensor): Tensor => unary('tan', x);
export const atan = (x: Tensor): Tensor => unary('atan', x);
export const tanh = (x: Tensor): Tensor => unary('tanh', x);
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
export const relu = (x: Tensor): Tensor => unary('relu', x);
export const erf = (x: Tensor): Tensor => unary('erf', x);
export const lgamma = (x: Tensor): Tensor => unary('lgamma', x);
export const floor = (x: Tensor): Tensor => unary('floor', x);
export const ceil = (x: Tensor): Tensor => unary('ceil', x);
export const trunc = (x: Tensor): Tensor => unary('trunc', x);
export const frac = (x: Tensor): Tensor => unary('frac', x);
export const sign = (x: Tensor): Tensor => unary('sign', x);
export const isnan = (x: Tensor): Tensor => unary('isnan', x);
export const isfinite = (x: Tensor): Tensor => unary('isfinite', x);
export const isinf = (x: Tensor): Tensor => unary('isinf', x);
export const logicalNot = (x: Tensor): Tensor => unary('logical_not', x);
export const sqrt_ = (x: Tensor): void => callInplace('sqrt_', '', [T('sqrt_', 'input', x)]);
export const round_ = (x: Tensor): void => callInplace('round_', '', [T('round_', 'input', x)]);
export const erfinv_ = (x: Tensor): void => callInplace('erfinv_', '', [T('erfinv_', 'input', x)]);

/** torch.round (half to even), optionally to `decimals` places. */
export function round(x: Tensor, decimals = 0): Tensor {
  T('round', 'input', x);
  if (decimals === 0) return callT('round', '', [x]);
  return callT('round', 'decimals', [x, c.int('round', 'decimals', decimals, { min: -300, max: 300 })]);
}

export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  T('clamp', 'input', x);
  const lo = min === undefined || min === null ? null : c.num('clamp', 'min', min);
  const hi = max === undefined || max === null ? null : c.num('clamp', 'max', max);
  if (lo === null && hi === null) throw new c.ArgumentError('clamp', 'min', 'and max cannot both be None');
  return callT('clamp', '', [x, lo, hi]);
}
export function clamp_(x: Tensor, min?: number | null, max?: number | null): void {
  T('clamp_', 'input', x);
  const lo = min === undefined || min === null ? null : c.num('clamp_', 'min', min);
  const hi = max === undefined || max === null ? null : c.num('clamp_', 'max', max);
  if (lo === null && hi === null) throw new c.ArgumentError('clamp_', 'min', 'and max cannot both be None');
  callInplace('clamp_', '', [x, lo, hi]);
}
/** clamp with tensor bounds (broadcast). */
export function clampTensor(x: Tensor, min: Tensor | null, max: Tensor | null): Tensor {
  T('clamp', 'input', x);
  if (min === null && max === null) throw new c.ArgumentError('clamp', 'min', 'and max cannot both be None');
  return callT('clamp', 'Tensor', [x, min === null ? null : T('clamp', 'min', min), max === null ? null : T('clamp', 'max', max)]);
}

export function eq(a: Tensor, b: TensorOrScalar): Tensor { return binary('eq', a, b); }
export function ne(a: Tensor, b: TensorOrScalar): Tensor { return binary('ne', a, b); }
export function lt(a: Tensor, b: TensorOrScalar): Tensor { return binary('lt', a, b); }
export function le(a: Tensor, b: TensorOrScalar): Tensor { return binary('le', a, b); }
export function gt(a: Tensor, b: TensorOrScalar): Tensor { return binary('gt', a, b); }
export function ge(a: Tensor, b: TensorOrScalar): Tensor { return binary('ge', a, b); }
export function logicalAnd(a: Tensor, b: Tensor): Tensor { return callT('logical_and', '', [T('logicalAnd', 'input', a), T('logicalAnd', 'other', b)]); }
export function logicalOr(a: Tensor, b: Tensor): Tensor { return callT('logical_or', '', [T('logicalOr', 'input', a), T('logicalOr', 'other', b)]); }

/** torch.where(condition, x, y) */
export function where(cond: Tensor, x: TensorOrScalar, y: TensorOrScalar): Tensor {
  T('where', 'condition', cond);
  if (cond.dtype !== 'bool') throw new c.ArgumentError('where', 'condition', `must be a bool tensor, got ${cond.dtype}`);
  if (x instanceof Tensor && y instanceof Tensor) return callT('where', 'self', [cond, T('where', 'input', x), T('where', 'other', y)]);
  if (x instanceof Tensor) return callT('where', 'ScalarOther', [cond, T('where', 'input', x), scalar('where', 'other', y)]);
  if (y instanceof Tensor) return callT('where', 'ScalarSelf', [cond, scalar('where', 'input', x), T('where', 'other', y)]);
  return callT('where', 'Scalar', [cond, scalar('where', 'input', x), scalar('where', 'other', y)]);
}

export function lerp(a: Tensor, end: Tensor, weight: TensorOrScalar): Tensor {
  T('lerp', 'input', a); T('lerp', 'end', end);
  if (weight instanceof Tensor) return callT('lerp', 'Tensor', [a, end, T('lerp', 'weight', weight)]);
  return callT('lerp', 'Scalar', [a, end, { float: c.num('lerp', 'weight', weight) }]);
}
export function lerp_(a: Tensor, end: Tensor, weight: number): void {
  callInplace('lerp_', 'Scalar', [T('lerp_', 'input', a), T('lerp_', 'end', end), { float: c.num('lerp_', 'weight', weight) }]);
}
export function addcmul_(a: Tensor, t1: Tensor, t2: Tensor, value = 1): void {
  callInplace('addcmul_', '', [T('addcmul_', 'input', a), T('addcmul_', 'tensor1', t1), T('addcmul_', 'tensor2', t2), c.num('addcmul_', 'value', value)]);
}
export function addcdiv_(a: Tensor, t1: Tensor, t2: Tensor, value = 1): void {
  callInplace('addcdiv_', '', [T('addcdiv_', 'input', a), T('addcdiv_', 'tensor1', t1), T('addcdiv_', 'tensor2', t2), c.num('addcdiv_', 'value', value)]);
}
export function copy_(dst: Tensor, src: Tensor): void {
  callInplace('copy_', '', [T('copy_', 'self', dst), T('copy_', 'src', src)]);
}
export function zero_(x: Tensor): void { callInplace('zero_', '', [T('zero_', 'input', x)]); }
export function fill_(x: Tensor, v: number): void {
  T('fill_', 'input', x);
  callInplace('fill_', 'Scalar', [x, c.fitsDType('fill_', 'value', c.num('fill_', 'value', v), x.dtype)]);
}
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  T('maskedFill', 'input', x); T('maskedFill', 'mask', mask);
  if (mask.dtype !== 'bool') throw new c.ArgumentError('maskedFill', 'mask', `must be a bool tensor, got ${mask.dtype}`);
  return callT('masked_fill', 'Scalar', [x, mask, c.num('maskedFill', 'value', value)]);
}
export function maskedFill_(x: Tensor, mask: Tensor, value: number): void {
  T('maskedFill_', 'input', x); T('maskedFill_', 'mask', mask);
  if (mask.dtype !== 'bool') throw new c.ArgumentError('maskedFill_', 'mask', `must be a bool tensor, got ${mask.dtype}`);
  callInplace('masked_fill_', 'Scalar', [x, mask, c.num('maskedFill_', 'value', value)]);
}
export function nanToNum(x: Tensor, nan = 0, posinf?: number, neginf?: number): Tensor {
  return callT('nan_to_num', '', [T('nanToNum', 'input', x), c.num('nanToNum', 'nan', nan), posinf ?? null, neginf ?? null]);
}
