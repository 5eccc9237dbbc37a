// bench/cpu/peak: this CPU's measured arithmetic peak, the ceiling every GFLOP/s in the benches is
// read against: fp32 FMA (AVX-512, or AVX2) and bf16 dot products (AVX512_BF16), on 1 and N threads.
//
//   node dist/bench/cpu/peak.js [--threads 2] [--out FILE]      (npm run bench:peak)
//
// peak.c is compiled with the system C compiler into a temporary folder and run; a dev tool (the
// native addon's build already needs the compiler), never part of vpdsr at run time.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..', '..');

/** GFLOP/s at the peak (best of 5), or why there is none. */
export interface Peak {
  threads: number;
  isa?: 'avx512' | 'avx2';
  fp32_fma_gflops_1t?: number;
  fp32_fma_gflops?: number;
  bf16_dot_gflops_1t?: number;
  bf16_dot_gflops?: number;
  error?: string;
}

/** Builds and runs peak.c on `threads` threads (about 3 s). */
export function measurePeak(threads: number): Peak {
  if (os.arch() !== 'x64') return { threads, error: `no peak kernel for ${os.arch()}` };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vpdsr-peak-'));
  try {
    const exe = path.join(dir, 'peak');
    const cc = spawnSync(process.env.CC ?? 'cc', ['-O2', '-pthread', '-o', exe, path.join(repo, 'bench', 'cpu', 'peak.c')], { encoding: 'utf8' });
    if (cc.error || cc.status !== 0) return { threads, error: `cc failed: ${(cc.error?.message ?? cc.stderr).trim().split('\n')[0]}` };
    const r = spawnSync(exe, [String(threads)], { encoding: 'utf8' });
    if (r.status !== 0) return { threads, error: `peak failed: ${r.stderr.trim()}` };
    return { threads, ...(JSON.parse(r.stdout) as Partial<Peak>) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const threads = Number(arg('threads', String(Math.min(os.cpus().length, 64))));
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) throw new Error(`--threads: expected an integer in [1, 64], got ${arg('threads', '')}`);
  const line = JSON.stringify({ bench: 'cpu-peak', ...measurePeak(threads), load: fs.readFileSync('/proc/loadavg', 'utf8').trim() });
  process.stdout.write(line + '\n');
  const out = arg('out', '');
  if (out) fs.appendFileSync(out, line + '\n');
}
