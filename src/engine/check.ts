// Argument checks for the typed op surface. Every public op validates its arguments here before
// anything reaches ATen, so that no call through the API can crash the process.

/** Largest element count any op may create or view (2^44 elements; far beyond RAM, far below overflow). */
export const MAX_NUMEL = 2 ** 44;

export class ArgumentError extends TypeError {
  constructor(op: string, arg: string, message: string) {
    super(`${op}(): argument '${arg}' ${message}`);
    this.name = 'ArgumentError';
  }
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return `array(${x.length})`;
  if (typeof x === 'object') return (x as object).constructor?.name ?? 'object';
  if (typeof x === 'string') return JSON.stringify(x.length > 40 ? x.slice(0, 40) + '…' : x);
  return `${typeof x} ${String(x)}`;
}

export function int(op: string, arg: string, x: unknown, opts: { min?: number; max?: number } = {}): number {
  if (typeof x !== 'number' || !Number.isSafeInteger(x)) throw new ArgumentError(op, arg, `must be an integer, got ${describe(x)}`);
  if (opts.min !== undefined && x < opts.min) throw new ArgumentError(op, arg, `must be >= ${opts.min}, got ${x}`);
  if (opts.max !== undefined && x > opts.max) throw new ArgumentError(op, arg, `must be <= ${opts.max}, got ${x}`);
  return x;
}

export function num(op: string, arg: string, x: unknown, opts: { finite?: boolean; min?: number; max?: number } = {}): number {
  if (typeof x !== 'number') throw new ArgumentError(op, arg, `must be a number, got ${describe(x)}`);
  if (opts.finite && !Number.isFinite(x)) throw new ArgumentError(op, arg, `must be finite, got ${x}`);
  if (opts.min !== undefined && !(x >= opts.min)) throw new ArgumentError(op, arg, `must be >= ${opts.min}, got ${x}`);
  if (opts.max !== undefined && !(x <= opts.max)) throw new ArgumentError(op, arg, `must be <= ${opts.max}, got ${x}`);
  return x;
}

/** The values each integer dtype holds; a double past them would wrap or become INT64_MIN. */
const INT_RANGE: Readonly<Record<string, readonly [number, number]>> = {
  // 2^63 is exact as a double, and the first value int64 cannot hold.
  int64: [-(2 ** 63), 2 ** 63], int32: [-(2 ** 31), 2 ** 31], int16: [-(2 ** 15), 2 ** 15],
  int8: [-(2 ** 7), 2 ** 7], uint8: [0, 2 ** 8],
};

/**
 * A value stored into a tensor of `dtype`: for integer dtypes it must be finite and, once truncated
 * toward zero as the cast does, within the dtype's range. Other dtypes pass unchanged.
 */
export function fitsDType(op: string, arg: string, x: number, dtype: string): number {
  const r = INT_RANGE[dtype];
  if (!r) return x;
  const t = Math.trunc(x);
  if (!Number.isFinite(x) || t < r[0] || t >= r[1]) throw new ArgumentError(op, arg, `value ${x} is out of range for ${dtype}`);
  return x;
}

export function bool(op: string, arg: string, x: unknown): boolean {
  if (typeof x !== 'boolean') throw new ArgumentError(op, arg, `must be a boolean, got ${describe(x)}`);
  return x;
}

export function str<T extends string>(op: string, arg: string, x: unknown, allowed: readonly T[]): T {
  if (typeof x !== 'string' || !(allowed as readonly string[]).includes(x)) {
    throw new ArgumentError(op, arg, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${describe(x)}`);
  }
  return x as T;
}

export function intList(op: string, arg: string, x: unknown, opts: { len?: number; min?: number; max?: number; minLen?: number; maxLen?: number } = {}): number[] {
  const list = typeof x === 'number' && opts.len !== undefined ? new Array<unknown>(opts.len).fill(x) : x;
  if (!Array.isArray(list)) throw new ArgumentError(op, arg, `must be an array of integers, got ${describe(x)}`);
  if (opts.len !== undefined && list.length !== opts.len) throw new ArgumentError(op, arg, `must have ${opts.len} elements, got ${list.length}`);
  if (opts.minLen !== undefined && list.length < opts.minLen) throw new ArgumentError(op, arg, `must have at least ${opts.minLen} elements`);
  const maxLen = opts.maxLen ?? 64;
  if (list.length > maxLen) throw new ArgumentError(op, arg, `must have at most ${maxLen} elements, got ${list.length}`);
  return list.map((v, i) => int(op, `${arg}[${i}]`, v, opts));
}

/** A shape: non-negative sizes whose product stays below MAX_NUMEL. */
export function shape(op: string, arg: string, x: unknown, allowInfer = false): number[] {
  const s = intList(op, arg, x, { min: allowInfer ? -1 : 0, max: MAX_NUMEL });
  let n = 1;
  let inferred = 0;
  for (const v of s) {
    if (v === -1) inferred++;
    else n *= v;
  }
  if (inferred > 1) throw new ArgumentError(op, arg, 'can only infer one dimension (-1)');
  if (n > MAX_NUMEL) throw new ArgumentError(op, arg, `has ${n} elements, more than the limit ${MAX_NUMEL}`);
  return s;
}

/** Normalises a (possibly negative) dimension index for a tensor of rank ndim. */
export function dim(op: string, arg: string, d: unknown, ndim: number, extra = 0): number {
  const r = Math.max(ndim + extra, 1);
  const v = int(op, arg, d, { min: -r, max: r - 1 });
  return v < 0 ? v + r : v;
}

export function dims(op: string, arg: string, d: unknown, ndim: number): number[] {
  const list = typeof d === 'number' ? [d] : d;
  if (!Array.isArray(list)) throw new ArgumentError(op, arg, `must be an integer or an array of integers, got ${describe(d)}`);
  const out = list.map((v, i) => dim(op, `${arg}[${i}]`, v, ndim));
  if (new Set(out).size !== out.length) throw new ArgumentError(op, arg, 'has repeated dimensions');
  return out;
}

export function rank(op: string, arg: string, ndim: number, allowed: number[]): void {
  if (!allowed.includes(ndim)) throw new ArgumentError(op, arg, `must have ${allowed.join(' or ')} dimensions, got ${ndim}`);
}

/** An options argument: undefined gives {}; null, numbers, strings and arrays are refused. */
export function options<T extends object>(op: string, x: T | undefined | null): T {
  if (x === undefined) return {} as T;
  if (x === null || typeof x !== 'object' || Array.isArray(x)) throw new ArgumentError(op, 'options', `must be an object, got ${describe(x)}`);
  return x;
}

export function optional<T>(x: T | undefined | null, f: (v: T) => T): T | undefined {
  return x === undefined || x === null ? undefined : f(x);
}
