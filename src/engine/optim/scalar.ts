// Python float arithmetic that JavaScript does not reproduce bit for bit.
import { full } from '../ops/creation.js';
import { pow } from '../ops/math.js';

/**
 * Python's `base ** exp` for floats. V8's Math.pow differs from the C library's pow in the last
 * bit for about one exponent in six (e.g. 0.9 ** 4), which would make AdamW's bias corrections,
 * and so the parameters, differ from PyTorch's. LibTorch's pow on 0-d float64 tensors calls the
 * same C pow as CPython.
 */
export function pythonPow(base: number, exp: number): number {
  const b = full([], base, { dtype: 'float64' });
  const e = full([], exp, { dtype: 'float64' });
  try {
    const r = pow(b, e);
    try { return r.item(); } finally { r.dispose(); }
  } finally { b.dispose(); e.dispose(); }
}
