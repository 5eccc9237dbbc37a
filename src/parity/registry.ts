// The registry of golden-case kinds: each set's kinds register a runner here (src/parity/kinds/*).
import type { CaseContext } from './context.js';

export interface GoldenCase {
  kind: string;
  name: string;
  file?: string;
  params: Record<string, unknown>;
  expect?: Record<string, unknown>;
  tol?: { atol: number; rtol: number };
}

export interface CaseResult {
  maxDiff: number;
  pass: boolean;
  detail?: string;
}

/** A kind's runner: reads inputs from ctx, computes, and reports every output through ctx.compare*. */
export type KindRunner = (ctx: CaseContext) => void | Promise<void>;

const kinds = new Map<string, KindRunner>();

export function registerKind(kind: string, run: KindRunner): void {
  if (kinds.has(kind)) throw new Error(`parity kind ${kind} registered twice`);
  kinds.set(kind, run);
}

export function kindRunner(kind: string): KindRunner | undefined {
  return kinds.get(kind);
}

export function registeredKinds(): string[] {
  return [...kinds.keys()].sort();
}
