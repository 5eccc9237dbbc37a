// Paths shared by the tests: the repository root and ../shared (VPDSR_SHARED overrides).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';

function findRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(path.join(dir, 'binding.gyp'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error('repository root not found');
}

export const repoRoot = findRoot();
export const sharedDir = process.env.VPDSR_SHARED ?? path.resolve(repoRoot, '..', 'shared');
export const goldenDir = (set: string): string => path.join(sharedDir, 'golden', set);
export const cliPath = path.join(repoRoot, 'bin', 'vpdsr.js');
