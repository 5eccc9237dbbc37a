// The api layer has no import loops (a module that imports itself through others sees half-made
// bindings at load time and keeps responsibilities tangled). Reads the sources' import lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../helpers.js';

/** Relative imports (static, type-only and dynamic) of every .ts file under `dir`, as repo paths. */
function graph(dir: string): Map<string, string[]> {
  const g = new Map<string, string[]>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts')) {
        const text = readFileSync(p, 'utf8');
        const deps = [...text.matchAll(/(?:from\s+|import\()\s*'(\.[^']+)\.js'/g)].map((m) => path.resolve(path.dirname(p), `${m[1]}.ts`));
        g.set(p, deps);
      }
    }
  };
  walk(dir);
  return g;
}

/** One cycle through `start`'s strongly connected part, if any (depth-first). */
function findCycle(g: Map<string, string[]>, keep: (f: string) => boolean): string[] | undefined {
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    state.set(n, 1);
    stack.push(n);
    for (const m of g.get(n) ?? []) {
      if (!keep(m)) continue;
      if (state.get(m) === 1) return [...stack.slice(stack.indexOf(m)), m];
      if (!state.has(m)) { const c = visit(m); if (c) return c; }
    }
    stack.pop();
    state.set(n, 2);
    return undefined;
  };
  for (const n of g.keys()) if (keep(n) && !state.has(n)) { const c = visit(n); if (c) return c; }
  return undefined;
}

test('src/api and src/cli have no import loops', () => {
  const src = path.join(repoRoot, 'src');
  const g = graph(src);
  const inApi = (f: string): boolean => f.startsWith(path.join(src, 'api')) || f === path.join(src, 'api.ts') || f.startsWith(path.join(src, 'cli'));
  const cycle = findCycle(g, inApi);
  assert.equal(cycle, undefined, `import loop: ${cycle?.map((f) => path.relative(src, f)).join(' → ')}`);
});
