// What a kind runner sees of its case: lazily loaded tensors (in.*, out.*, w.*) and comparison
// helpers that implement the golden README's pass rule.
import path from 'node:path';
import * as torch from '../engine/index.js';
import { Tensor } from '../engine/index.js';
import { loadSafetensors } from '../io/checkpoint/tensors.js';
import { SafetensorsFile } from '../io/checkpoint/safetensors.js';
import type { GoldenCase } from './registry.js';

export interface Tolerance { atol: number; rtol: number }

export class CaseContext {
  readonly case: GoldenCase;
  /** The folder of the manifest (case paths are relative to it). */
  readonly dir: string;
  maxDiff = 0;
  readonly failures: string[] = [];
  readonly comparedOutputs = new Set<string>();
  readonly comparedExpect = new Set<string>();
  private tensors: Map<string, Tensor> | undefined;

  constructor(c: GoldenCase, dir: string) {
    this.case = c;
    this.dir = dir;
  }

  get params(): Record<string, unknown> { return this.case.params ?? {}; }
  get tol(): Tolerance { return this.case.tol ?? { atol: 0, rtol: 0 }; }

  /** Absolute path of a file named relative to the manifest. */
  resolve(rel: string): string { return path.resolve(this.dir, rel); }

  /** Every tensor of the case file, loaded once. */
  all(): Map<string, Tensor> {
    if (!this.tensors) {
      if (!this.case.file) throw new Error(`case ${this.case.name} has no file`);
      this.tensors = torch.scope(() => {
        const m = loadSafetensors(this.resolve(this.case.file!));
        for (const t of m.values()) torch.keep(t);
        return m;
      });
    }
    return this.tensors;
  }

  /** Names in the case file (without loading tensors). */
  names(): string[] {
    if (this.tensors) return [...this.tensors.keys()];
    if (!this.case.file) return [];
    const f = SafetensorsFile.open(this.resolve(this.case.file));
    try { return f.names(); } finally { f.close(); }
  }

  has(name: string): boolean { return this.all().has(name); }

  private get(name: string): Tensor {
    const t = this.all().get(name);
    if (!t) throw new Error(`case ${this.case.name}: tensor ${name} missing from ${this.case.file}`);
    return t;
  }

  input(name: string): Tensor { return this.get(`in.${name}`); }
  expected(name: string): Tensor { return this.get(`out.${name}`); }
  hasInput(name: string): boolean { return this.all().has(`in.${name}`); }

  /** The module weights of the case (w.<key> → key). */
  weights(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [k, t] of this.all()) if (k.startsWith('w.')) out.set(k.slice(2), t);
    return out;
  }

  outputNames(): string[] { return this.names().filter((n) => n.startsWith('out.')).map((n) => n.slice(4)); }
  inputNames(): string[] { return this.names().filter((n) => n.startsWith('in.')).map((n) => n.slice(3)); }

  /** Compares got with out.<name>: same shape and dtype, |got − exp| ≤ atol + rtol·|exp| (exact for ints/bools). */
  compare(name: string, got: Tensor, tol: Tolerance = this.tol): void {
    this.comparedOutputs.add(name);
    const exp = this.expected(name);
    const r = compareTensors(got, exp, tol);
    this.maxDiff = Math.max(this.maxDiff, r.maxDiff);
    if (!r.pass) this.failures.push(`${name}: ${r.detail}`);
  }

  /** Exact equality of a JSON-like value with expect[key] (or a given expected value). */
  compareValue(key: string, got: unknown, expected: unknown = this.case.expect?.[key]): void {
    this.comparedExpect.add(key);
    const a = JSON.stringify(normalize(got)), b = JSON.stringify(normalize(expected));
    if (a !== b) this.failures.push(`${key}: got ${clip(a)}, expected ${clip(b)}`);
  }

  /** Records an out.* tensor as checked by other means (e.g. bit-for-bit). */
  markCompared(name: string): void { this.comparedOutputs.add(name); }

  fail(detail: string): void { this.failures.push(detail); }
  noteDiff(d: number): void { this.maxDiff = Math.max(this.maxDiff, d); }

  dispose(): void {
    if (this.tensors) for (const t of this.tensors.values()) t.dispose();
    this.tensors = undefined;
  }
}

function clip(s: string): string { return s.length > 200 ? s.slice(0, 200) + '…' : s; }

function normalize(x: unknown): unknown {
  if (x instanceof Map) return Object.fromEntries([...x].map(([k, v]) => [String(k), normalize(v)]));
  if (Array.isArray(x)) return x.map(normalize);
  if (typeof x === 'bigint') return x.toString();
  if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, normalize(v)]));
  return x;
}

export function compareTensors(got: Tensor, exp: Tensor, tol: Tolerance): { pass: boolean; maxDiff: number; detail?: string } {
  if (got.shape.join() !== exp.shape.join()) return { pass: false, maxDiff: Infinity, detail: `shape [${got.shape.join(', ')}], expected [${exp.shape.join(', ')}]` };
  if (got.dtype !== exp.dtype) return { pass: false, maxDiff: Infinity, detail: `dtype ${got.dtype}, expected ${exp.dtype}` };
  if (exp.numel === 0) return { pass: true, maxDiff: 0 };
  return torch.scope(() => {
    const floating = torch.isFloating(exp.dtype);
    if (!floating) {
      const eq = got.eq(exp).all().item();
      const d = got.to({ dtype: 'float64', device: 'cpu' }).sub(exp.to({ dtype: 'float64', device: 'cpu' })).abs().max().item();
      return eq ? { pass: true, maxDiff: 0 } : { pass: false, maxDiff: d, detail: `values differ (max |diff| ${d}); integers must be equal` };
    }
    const g = got.to({ dtype: 'float64', device: 'cpu' }), e = exp.to({ dtype: 'float64', device: 'cpu' });
    const bothNan = torch.logicalAnd(g.isnan(), e.isnan());
    const sameInf = torch.logicalAnd(g.eq(e), torch.isinf(e));
    const diff = torch.where(torch.logicalOr(bothNan, sameInf), 0, g.sub(e).abs());
    const diffNoNan = torch.where(diff.isnan(), Infinity, diff);
    const bound = e.abs().mul(tol.rtol).add(tol.atol);
    const bad = diffNoNan.gt(torch.where(torch.isinf(e), 0, bound));
    const maxDiff = diffNoNan.max().item();
    const nBad = bad.sum().item();
    if (nBad > 0) {
      const worst = diffNoNan.sub(bound).argmax().item();
      return { pass: false, maxDiff, detail: `${nBad} of ${exp.numel} elements outside atol ${tol.atol} + rtol ${tol.rtol}·|expected| (max |diff| ${maxDiff.toExponential(3)}, worst at flat index ${worst})` };
    }
    return { pass: true, maxDiff };
  });
}
