// Walking a checkpoint's object tree and naming its leaves the way the golden data does: the path
// from the root joined with ".", dict keys as Python's str() prints them, list and tuple elements
// by index. The same object reached twice is visited under both paths.

import { type PyValue, PyDict, PyFloat, PyTuple } from './pickle.js';
import { TorchTensor } from './storage.js';

export type PyContainer = PyDict | PyTuple | PyValue[];

export interface TreeVisitor {
  container?(key: string, value: PyContainer): void;
  leaf(key: string, value: PyValue): void;
}

/** Deeper than any real checkpoint; a pickle nesting further is hostile or broken. */
const MAX_DEPTH = 1000;
/** Shared sub-containers could make a tiny pickle name billions of leaves. */
const MAX_VISITS = 50_000_000;

export function isContainer(v: PyValue): v is PyContainer {
  return v instanceof PyDict || v instanceof PyTuple || Array.isArray(v);
}

export function walk(root: PyValue, visitor: TreeVisitor): void {
  let visits = 0;
  const onPath = new Set<PyContainer>();
  // Children of the root are named by their key alone.
  const join = (prefix: string, k: string, depth: number): string => (depth === 0 ? k : `${prefix}.${k}`);
  const visit = (key: string, v: PyValue, depth: number): void => {
    if (++visits > MAX_VISITS) throw new Error(`the object tree has more than ${MAX_VISITS} entries`);
    if (!isContainer(v)) {
      visitor.leaf(key, v);
      return;
    }
    if (depth > MAX_DEPTH) throw new Error(`containers nest deeper than ${MAX_DEPTH} levels at ${key || '(root)'}`);
    if (onPath.has(v)) throw new Error(`container ${key || '(root)'} contains itself`);
    visitor.container?.(key, v);
    onPath.add(v);
    if (v instanceof PyDict) {
      for (const [k, child] of v.map) visit(join(key, keyString(k), depth), child, depth + 1);
    } else {
      const items = v instanceof PyTuple ? v.items : v;
      items.forEach((child, i) => visit(join(key, String(i), depth), child, depth + 1));
    }
    onPath.delete(v);
  };
  visit('', root, 0);
}

/** Every tensor leaf by flattened key, in traversal order. */
export function flattenTensors(root: PyValue): Map<string, TorchTensor> {
  const out = new Map<string, TorchTensor>();
  walk(root, {
    leaf: (key, v) => {
      if (v instanceof TorchTensor) out.set(key, v);
    },
  });
  return out;
}

/** A dict key as Python's str() would print it. */
export function keyString(k: PyValue): string {
  if (typeof k === 'string') return k;
  if (typeof k === 'number' || typeof k === 'bigint') return String(k);
  if (typeof k === 'boolean') return k ? 'True' : 'False';
  if (k === null) return 'None';
  if (k instanceof PyFloat) return floatRepr(k.value);
  if (k instanceof PyTuple) return `(${k.items.map(keyString).join(', ')}${k.length === 1 ? ',' : ''})`;
  throw new Error('dict key is not a str, int, float, bool, None or tuple');
}

/** Python's repr() of a float, for the common cases. */
export function floatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (Object.is(x, -0)) return '-0.0';
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return `${x}.0`;
  return String(x).replace(/e([+-])(\d)$/, 'e$10$2');
}
