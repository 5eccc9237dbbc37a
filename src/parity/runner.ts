// Runs a golden set: every case through the runner registered for its kind (golden/README.md).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CaseContext } from './context.js';
import { kindRunner, type GoldenCase, type CaseResult } from './registry.js';
import './kinds/index.js';

export interface Manifest {
  format: string;
  set: string;
  torch?: string;
  cases: GoldenCase[];
}

export interface CaseReport extends CaseResult {
  kind: string;
  name: string;
  tol?: { atol: number; rtol: number };
  seconds: number;
}

export function readManifest(dir: string): Manifest {
  const file = path.join(dir, 'manifest.json');
  let m: Manifest;
  try {
    m = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
  } catch (e) {
    throw new Error(`${file}: cannot read the golden manifest (${(e as Error).message})`);
  }
  if (m.format !== 'vpdsr-golden/1' || !Array.isArray(m.cases)) throw new Error(`${file}: not a vpdsr-golden/1 manifest`);
  return m;
}

export interface RunOptions {
  kinds?: string[];
  names?: RegExp;
  onCase?: (r: CaseReport) => void;
}

export async function runCase(c: GoldenCase, dir: string): Promise<CaseResult> {
  const run = kindRunner(c.kind);
  if (!run) return { pass: false, maxDiff: NaN, detail: `no implementation for kind ${c.kind}` };
  const ctx = new CaseContext(c, dir);
  try {
    await run(ctx);
    const missing = ctx.outputNames().filter((n) => !ctx.comparedOutputs.has(n));
    if (missing.length) ctx.fail(`outputs not checked: ${missing.join(', ')}`);
    const missingExpect = Object.keys(c.expect ?? {}).filter((k) => !ctx.comparedExpect.has(k));
    if (missingExpect.length) ctx.fail(`expect fields not checked: ${missingExpect.join(', ')}`);
    return { pass: ctx.failures.length === 0, maxDiff: ctx.maxDiff, detail: ctx.failures.length ? ctx.failures.join('; ') : undefined };
  } catch (e) {
    return { pass: false, maxDiff: NaN, detail: `error: ${(e as Error).message.split('\n')[0]}` };
  } finally {
    ctx.dispose();
  }
}

export async function runGolden(dir: string, opts: RunOptions = {}): Promise<CaseReport[]> {
  const m = readManifest(dir);
  const out: CaseReport[] = [];
  for (const c of m.cases) {
    if (opts.kinds && !opts.kinds.includes(c.kind)) continue;
    if (opts.names && !opts.names.test(c.name)) continue;
    const t0 = performance.now();
    const r = await runCase(c, dir);
    const rep: CaseReport = { kind: c.kind, name: c.name, tol: c.tol, seconds: (performance.now() - t0) / 1000, ...r };
    out.push(rep);
    opts.onCase?.(rep);
  }
  return out;
}

export function formatReport(r: CaseReport): string {
  const tol = r.tol ? `atol=${r.tol.atol} rtol=${r.tol.rtol}` : 'exact';
  const d = Number.isNaN(r.maxDiff) ? '-' : r.maxDiff.toExponential(2);
  return `${r.pass ? 'PASS' : 'FAIL'}  ${r.kind}  ${r.name}  max|diff|=${d}  ${tol}${r.detail ? `  (${r.detail})` : ''}`;
}
