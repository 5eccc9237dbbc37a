// Deterministic ownership of native memory: scope(fn) disposes the tensors created inside unless
// fn returns them or keep()s them (the tfjs tidy/keep model). The FinalizationRegistry in
// tensor.ts is only a safety net.

export interface Disposable {
  dispose(): void;
  readonly isDisposed: boolean;
}

interface ScopeFrame {
  items: Set<Disposable>;
}

const stack: ScopeFrame[] = [];

/** Called by every tensor constructor: the innermost scope, if any, takes ownership. */
export function track(t: Disposable): void {
  const top = stack[stack.length - 1];
  if (top) top.items.add(t);
}

/** Removes t from every scope: the caller owns it and disposes it (or a Module does). */
export function keep<T extends Disposable>(t: T): T {
  for (let i = stack.length - 1; i >= 0; i--) if (stack[i]!.items.delete(t)) break;
  return t;
}

export function untrack(t: Disposable): void {
  for (let i = stack.length - 1; i >= 0; i--) if (stack[i]!.items.delete(t)) return;
}

function collect(x: unknown, out: Set<Disposable>, depth = 0): void {
  if (x === null || typeof x !== 'object' || depth > 8) return;
  if (typeof (x as Disposable).dispose === 'function' && 'isDisposed' in (x as object)) {
    out.add(x as Disposable);
    return;
  }
  if (Array.isArray(x)) {
    for (const e of x) collect(e, out, depth + 1);
  } else if (x instanceof Map) {
    for (const e of x.values()) collect(e, out, depth + 1);
  } else if (Object.getPrototypeOf(x) === Object.prototype) {
    for (const e of Object.values(x)) collect(e, out, depth + 1);
  }
}

/**
 * Runs fn synchronously; tensors created inside and not returned (directly, or in arrays, Maps and
 * plain objects) are disposed when it returns or throws. Returned tensors move to the enclosing
 * scope. Use it around every step of a loop. fn must not be async: await would let other code's
 * tensors land in this scope.
 */
export function scope<T>(fn: () => T): T {
  if (typeof fn !== 'function') throw new TypeError(`scope(fn): fn must be a function, got ${fn === null ? 'null' : typeof fn}`);
  const frame: ScopeFrame = { items: new Set() };
  stack.push(frame);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    stack.pop();
    for (const t of frame.items) t.dispose();
    throw e;
  }
  stack.pop();
  if (result instanceof Promise) {
    for (const t of frame.items) t.dispose();
    throw new TypeError('scope(fn): fn returned a Promise; scopes are for synchronous code (use one scope per step)');
  }
  const kept = new Set<Disposable>();
  collect(result, kept);
  const parent = stack[stack.length - 1];
  for (const t of frame.items) {
    if (kept.has(t)) {
      if (parent) parent.items.add(t);
    } else {
      t.dispose();
    }
  }
  return result;
}

/** Number of open scopes (for tests and diagnostics). */
export function scopeDepth(): number {
  return stack.length;
}
