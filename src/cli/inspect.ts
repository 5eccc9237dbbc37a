// vpdsr inspect FILE [--json]: what a checkpoint holds — format, every tensor's name, dtype and
// shape, the parameter count, and its non-tensor values — read without executing anything and
// without reading tensor bytes (so it is quick on multi-GB files).
import type { Command } from 'commander';
import { type Checkpoint, readCheckpoint } from '../io/checkpoint/index.js';
import { type PyValue, PyDict, PyFloat, PyObject, PyTuple, PySet, describe } from '../io/checkpoint/pickle.js';
import { numelOf } from '../io/checkpoint/raw.js';
import { TorchTensor } from '../io/checkpoint/storage.js';
import { floatRepr, keyString, walk } from '../io/checkpoint/tree.js';
import { withFile } from '../io/checkpoint/errors.js';
import { printable } from '../io/printable.js';

export interface InspectReport {
  file: string;
  format: Checkpoint['format'];
  tensors: { name: string; dtype: string; shape: number[]; numel: number; parameter: boolean }[];
  /** Elements over distinct tensors (a tensor reachable under two keys counts once). */
  totalParameters: number;
  /** Non-tensor values by flattened key (safetensors: its __metadata__), as Python would print them. */
  metadata: Record<string, string>;
}

/** TorchScript module bookkeeping that every module carries; not worth printing. */
const SCRIPT_NOISE = new Set(['training', '_is_full_backward_hook']);

export function inspectCheckpoint(file: string): InspectReport {
  // Everything below walks what the file holds, so any error names the file.
  return withFile(file, () => inspectRead(file));
}

function inspectRead(file: string): InspectReport {
  const ckpt = readCheckpoint(file, { loadData: false });
  const tensors: InspectReport['tensors'] = [];
  const distinct = new Map<object, number>();
  for (const [name, t] of ckpt.tensors) {
    const numel = numelOf(t.shape);
    tensors.push({ name, dtype: t.dtype, shape: [...t.shape], numel, parameter: t.parameter });
    distinct.set(t, numel);
  }
  let totalParameters = 0;
  for (const n of distinct.values()) totalParameters += n;
  return { file, format: ckpt.format, tensors, totalParameters, metadata: metadataOf(ckpt) };
}

function metadataOf(ckpt: Checkpoint): Record<string, string> {
  const out: Record<string, string> = {};
  if (ckpt.format === 'safetensors') return { ...ckpt.metadata };
  if (ckpt.format === 'torchscript') {
    scriptAttributes(ckpt.root, out);
    return out;
  }
  walk(ckpt.root, { leaf: (key, v) => { if (!(v instanceof TorchTensor)) out[key] = repr(v); } });
  return out;
}

/**
 * Non-tensor attributes of a module tree (its values that are not parameters or submodules),
 * walked with an explicit stack: a file can chain records deeper than the call stack goes.
 */
function scriptAttributes(root: PyValue, out: Record<string, string>): void {
  if (!(root instanceof PyObject)) return;
  out['(module)'] = root.className;
  const seen = new Set<PyObject>([root]);
  // Depth first in attribute order, as a recursion would go: each frame is a module's attribute iterator.
  const stack: { it: Iterator<[PyValue, PyValue]>; prefix: string }[] = [{ it: (root.dict?.map ?? new Map<PyValue, PyValue>()).entries(), prefix: '' }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const next = top.it.next();
    if (next.done) { stack.pop(); continue; }
    const [k, v] = next.value;
    const key = `${top.prefix}${keyString(k)}`;
    if (v instanceof PyObject) {
      if (!seen.has(v)) {
        seen.add(v);
        stack.push({ it: (v.dict?.map ?? new Map<PyValue, PyValue>()).entries(), prefix: `${key}.` });
      }
    } else if (!(v instanceof TorchTensor) && !SCRIPT_NOISE.has(String(k))) {
      out[key] = repr(v);
    }
  }
}

/**
 * A one-line Python-like rendering of a value, cut at `budget` characters. Rendering stops as soon
 * as the budget is spent, so values that share sub-containers (a few bytes of pickle can describe
 * an exponentially large tree) cost no more than the budget.
 */
export function repr(v: PyValue, budget = 200): string {
  const out: string[] = [];
  let len = 0;
  const emit = (s: string): boolean => {
    out.push(s);
    len += s.length;
    return len <= budget;
  };
  const seq = (open: string, xs: Iterable<PyValue>, close: string, depth: number): boolean => {
    if (!emit(open)) return false;
    let first = true;
    for (const x of xs) {
      if (!first && !emit(', ')) return false;
      first = false;
      if (!go(x, depth + 1)) return false;
    }
    return emit(close);
  };
  const go = (x: PyValue, depth: number): boolean => {
    if (depth > 20) return emit('…');
    if (x instanceof PyTuple) return seq('(', x.items, x.length === 1 ? ',)' : ')', depth);
    if (Array.isArray(x)) return seq('[', x, ']', depth);
    if (x instanceof PySet) return seq(`${x.frozen ? 'frozenset' : 'set'}({`, x.items, '})', depth);
    if (x instanceof PyDict) {
      if (!emit('{')) return false;
      let first = true;
      for (const [k, val] of x.map) {
        if (!first && !emit(', ')) return false;
        first = false;
        if (!go(k, depth + 1) || !emit(': ') || !go(val, depth + 1)) return false;
      }
      return emit('}');
    }
    return emit(scalarRepr(x));
  };
  go(v, 0);
  const s = out.join('');
  return s.length > budget ? `${s.slice(0, budget)}…` : s;
}

function scalarRepr(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof PyFloat) return floatRepr(v.value);
  if (v instanceof Uint8Array) return `b<${v.byteLength} bytes>`;
  if (v instanceof TorchTensor) return `tensor(${v.dtype} [${v.shape.join(', ')}])`;
  return `<${describe(v)}>`;
}

/** The report as text; names and values from the file are shown with control characters escaped. */
export function formatInspect(r: InspectReport): string {
  const lines = [`file: ${printable(r.file)}`, `format: ${r.format}`, `tensors: ${r.tensors.length}`];
  const names = r.tensors.map((t) => printable(t.name));
  // A loop, not Math.max(...names): spreading 100 000+ arguments overflows the call stack.
  let width = 0;
  for (const n of names) if (n.length > width) width = n.length;
  width = Math.min(60, width);
  r.tensors.forEach((t, i) => lines.push(`  ${names[i]!.padEnd(width)}  ${t.dtype.padEnd(4)}  [${t.shape.join(', ')}]`));
  lines.push(`total parameters: ${r.totalParameters.toLocaleString('en-US')}`);
  const meta = Object.entries(r.metadata);
  if (meta.length > 0) {
    lines.push('metadata:');
    for (const [k, v] of meta) lines.push(`  ${printable(k)}: ${printable(v)}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The report as JSON. JSON.stringify escapes C0 controls but leaves DEL, the C1 controls (CSI is
 * one) and bidi marks raw; they can only occur inside strings, where \uXXXX is equivalent.
 */
export function inspectJson(r: InspectReport): string {
  return JSON.stringify(r, null, 2).replace(/[\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('list a checkpoint\'s tensors (name, dtype, shape), parameter count and metadata; reads safetensors, torch.save (.pth/.pt) and TorchScript files without running code from them')
    .argument('<file>', 'checkpoint file')
    .option('--json', 'print one JSON object')
    .action((file: string, opts: { json?: boolean }) => {
      // A refused or corrupt file throws a one-line CheckpointError; main prints it and exits 1.
      const report = inspectCheckpoint(file);
      process.stdout.write(opts.json ? `${inspectJson(report)}\n` : formatInspect(report));
    });
}
