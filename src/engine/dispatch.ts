// The one path from the typed op surface to the addon's boxed dispatcher.
import { native, type NativeArg, type NativeResult } from '../native/binding.js';
import { Tensor } from './tensor.js';

export type Arg = Tensor | NativeArg | (Tensor | null)[];

function toNative(a: Arg): NativeArg {
  if (a instanceof Tensor) return a.handle;
  if (Array.isArray(a)) return a.map((e) => (e instanceof Tensor ? e.handle : (e as NativeArg)));
  return a as NativeArg;
}

// Operator ids from the addon, resolved on first use (the schema lookup then happens once).
const ids = new Map<string, number>();
function opId(name: string, overload: string): number {
  const key = `${name}.${overload}`;
  let id = ids.get(key);
  if (id === undefined) {
    id = native.opId(`aten::${name}`, overload);
    ids.set(key, id);
  }
  return id;
}

/** Calls aten::<name>.<overload> and returns its raw result. */
export function callRaw(name: string, overload: string, args: Arg[]): NativeResult {
  return native.callId(opId(name, overload), args.map(toNative));
}

/** Calls an operator that returns one tensor. */
export function callT(name: string, overload: string, args: Arg[]): Tensor {
  const h = native.callId(opId(name, overload), args.map(toNative));
  if (typeof h !== 'number') throw new Error(`aten::${name}: expected a tensor result`);
  return Tensor.fromHandle(h);
}

/** Calls an operator that returns a tuple or list of tensors. */
export function callTs(name: string, overload: string, args: Arg[]): Tensor[] {
  const r = native.callId(opId(name, overload), args.map(toNative));
  if (!Array.isArray(r)) throw new Error(`aten::${name}: expected a list of tensors`);
  return r.map((h) => {
    if (typeof h !== 'number') throw new Error(`aten::${name}: expected a list of tensors`);
    return Tensor.fromHandle(h);
  });
}

/**
 * Calls an in-place or out= operator; the caller keeps its own tensor. An out= op resizes its
 * output (and a few in-place ops reshape self), so the tensors' cached shapes are dropped.
 */
export function callInplace(name: string, overload: string, args: Arg[]): void {
  try {
    native.callId(opId(name, overload), args.map(toNative), true);
  } finally {
    for (const a of args) if (a instanceof Tensor) a._refresh();
  }
}
