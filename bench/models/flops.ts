// bench/models/flops: floating-point operations of a run, counted from the shapes of the ATen calls
// it makes (a dev tool: it wraps the addon object's callId in this process, as profile.ts does).
//
// Counted (one multiply-add = 2 FLOP, from the actual argument and result shapes):
//   conv2d / convolution           2 · numel(out) · (Cin/groups) · kh · kw   (weight [Cout, Cin/g, kh, kw])
//   conv_transpose2d               2 · numel(in) · (Cout/groups) · kh · kw   (weight [Cin, Cout/g, kh, kw])
//   mm, bmm, addmm, baddbmm,       2 · numel(out) · K                        (K: the contracted size)
//   matmul, linear
// Everything else (norms, activations, adds, softmax, copies) is memory-bound and not counted:
// the figure is the work a conv/GEMM floor applies to.
import { native } from '../../src/native/binding.js';
import { dtypeFromCode } from '../../src/engine/dtype.js';

type NativeCallId = (id: number, args: unknown[], discard?: boolean) => unknown;
interface Instrumentable { opId: (a: string, b: string) => number; callId: NativeCallId }

const shapeOf = (h: unknown): number[] | undefined => (typeof h === 'number' ? native.info(h)[1] : undefined);
const numel = (s: number[]): number => s.reduce((a, b) => a * b, 1);

/** FLOP of one call of `op` (aten name without namespace, with its overload), or 0. */
export function callFlops(op: string, args: unknown[], result: unknown): number {
  const name = op.split('.')[0]!;
  switch (name) {
    case 'conv2d': case 'convolution': case '_convolution': {
      const w = shapeOf(args[1]), out = shapeOf(result);
      if (!w || !out || w.length < 3) return 0;
      const transposed = name !== 'conv2d' && args[6] === true;
      if (transposed) { const x = shapeOf(args[0]); return x ? 2 * numel(x) * numel(w.slice(1)) : 0; }
      return 2 * numel(out) * numel(w.slice(1));
    }
    case 'conv_transpose2d': {
      const x = shapeOf(args[0]), w = shapeOf(args[1]);
      return x && w ? 2 * numel(x) * numel(w.slice(1)) : 0;
    }
    case 'mm': case 'bmm': case 'matmul': case 'linear': {
      const a = shapeOf(args[0]);
      const out = shapeOf(result) ?? (op.endsWith('.out') ? shapeOf(args[2]) : undefined);
      return a && out && a.length > 0 ? 2 * numel(out) * a[a.length - 1]! : 0;
    }
    case 'addmm': case 'baddbmm': case 'addbmm': {
      const a = shapeOf(args[1]), out = shapeOf(result);
      return a && out && a.length > 0 ? 2 * numel(out) * a[a.length - 1]! : 0;
    }
    default: return 0;
  }
}

const PRE_RESOLVED: [string, string][] = [
  ['conv2d', ''], ['convolution', ''], ['conv_transpose2d', 'input'], ['mm', ''], ['bmm', ''], ['matmul', ''], ['matmul', 'out'],
  ['linear', ''], ['addmm', ''], ['baddbmm', ''],
];

/**
 * Counts FLOP per part of a run: `part` is read at each call, so a caller sets it around the
 * stages it times. install() wraps the addon's dispatch until the returned function is called.
 */
export class FlopCounter {
  part = 'other';
  readonly byPart = new Map<string, number>();
  readonly byOp = new Map<string, number>();
  /** FLOP per result dtype ('float32', 'bfloat16', …): the precision each FLOP ran in. */
  readonly byDtype = new Map<string, number>();
  private readonly names = new Map<number, string>();

  install(): () => void {
    const n = native as unknown as Instrumentable;
    const opId = n.opId, callId = n.callId;
    const ids = this.names;
    // Operators the engine resolved before install(): their ids are stable, so name them now.
    for (const [a, b] of PRE_RESOLVED) { try { ids.set(opId.call(native, `aten::${a}`, b), `${a}.${b}`); } catch { /* not in this LibTorch */ } }
    n.opId = (a, b) => { const id = opId.call(native, a, b); ids.set(id, `${a.replace(/^[a-z_]+::/, '')}.${b}`); return id; };
    n.callId = (id, args, discard) => {
      const r = callId.call(native, id, args, discard);
      const op = ids.get(id);
      if (op !== undefined) {
        const f = callFlops(op, args, r);
        if (f > 0) {
          this.byPart.set(this.part, (this.byPart.get(this.part) ?? 0) + f);
          this.byOp.set(op, (this.byOp.get(op) ?? 0) + f);
          const dt = typeof r === 'number' ? dtypeFromCode(native.info(r)[0]) : 'unknown';
          this.byDtype.set(dt, (this.byDtype.get(dt) ?? 0) + f);
        }
      }
      return r;
    };
    return () => { n.opId = opId; n.callId = callId; };
  }

  get total(): number { let s = 0; for (const v of this.byPart.values()) s += v; return s; }
  gflop(part: string): number { return (this.byPart.get(part) ?? 0) / 1e9; }
}
