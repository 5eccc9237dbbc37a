// Small helpers shared by the nn layers.
import { Tensor } from '../tensor.js';
import { ArgumentError } from '../check.js';
import { alias as aliasOp } from '../ops/shape.js';

/** A new handle on x (what a pass-through forward returns, so the caller may dispose it). */
export function alias(op: string, x: Tensor): Tensor {
  if (!(x instanceof Tensor) || x.isDisposed) throw new ArgumentError(op, 'input', 'must be a live Tensor');
  return aliasOp(x);
}
