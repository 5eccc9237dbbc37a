// Engine bench (issue 2, item 12): each op timed through vpdsr and as the same ops in C++ on the
// same LibTorch (bench/engine/baseline.cc, compiled here in the same run); prints JSON lines with
// both times, the ratio and GFLOP/s, for NCHW and channels-last, fp32 and bf16.
//
//   npm run bench:engine                         # everything (2 threads)
//   node dist/bench/engine/run.js --only conv128 --seconds 2
//   node dist/bench/engine/run.js --allocators   # ResBlock: caching vs default vs jemalloc
//   node dist/bench/engine/run.js --isa          # ATEN_CPU_CAPABILITY avx2 vs avx512 (elementwise, GroupNorm)
//   node dist/bench/engine/run.js --device cuda  # vpdsr only, on a CUDA LibTorch (bench/gpu)
import { spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import * as torch from '../../src/engine/index.js';
import { Tensor } from '../../src/engine/index.js';

type Layout = 'nchw' | 'cl';
type Dt = 'fp32' | 'bf16';
interface Case { name: string; gflop: number; layouts: Layout[]; setup: (layout: Layout, dt: Dt, device: string) => () => void }

const args = process.argv.slice(2);
const flag = (n: string) => args.includes(`--${n}`);
const opt = (n: string, d: string) => { const i = args.indexOf(`--${n}`); return i >= 0 && args[i + 1] ? args[i + 1]! : d; };
const THREADS = Number(opt('threads', '2'));
const SECONDS = Number(opt('seconds', '1.5'));
const DEVICE = opt('device', 'cpu');
const ONLY = opt('only', '');

const repoRoot = (() => {
  let d = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(d, 'binding.gyp'))) d = path.dirname(d);
  return d;
})();

function now(): number { return Number(process.hrtime.bigint()) / 1e6; }

// CUDA kernels run asynchronously: reading a value back to the host waits for the stream.
let probe: Tensor | null = null;
function sync(): void {
  if (DEVICE === 'cpu') return;
  probe ??= torch.keep(torch.zeros([1], { device: DEVICE }));
  torch.scope(() => probe!.add(1).item());
}

/**
 * Fastest and median ms of fn over ≥ 3 runs and ≥ SECONDS, after one warm-up run (as baseline.cc's
 * timeIt). The fastest is compared: on a shared, loaded machine it is the least disturbed figure.
 */
function timeIt(fn: () => void, inner = 1): { ms: number; median: number; reps: number } {
  torch.scope(fn);
  sync();
  const ms: number[] = [];
  const start = now();
  while (ms.length < 3 || (now() - start < SECONDS * 1000 && ms.length < 200)) {
    const t0 = now();
    for (let i = 0; i < inner; i++) torch.scope(fn);
    sync();
    ms.push((now() - t0) / inner);
  }
  ms.sort((a, b) => a - b);
  return { ms: ms[0]!, median: ms[ms.length >> 1]!, reps: ms.length };
}

function make(shape: number[], layout: Layout, dt: Dt, device: string, grad = false): Tensor {
  return torch.keep(torch.scope(() => {
    let t = torch.randn(shape).to({ dtype: dt === 'bf16' ? 'bfloat16' : 'float32', device });
    if (t.ndim === 4 && layout === 'cl') t = t.contiguous('channels_last');
    return grad ? t.requiresGrad_() : t;
  }));
}

const convFlop = (c: number, hw: number) => (2 * c * c * 9 * hw * hw) / 1e9;

const CASES: Case[] = [
  ...[[64, 64], [128, 256]].map(([c, hw]) => ({
    name: `conv${c}`, gflop: convFlop(c!, hw!), layouts: ['nchw', 'cl'] as Layout[],
    setup: (layout: Layout, dt: Dt, device: string) => {
      const x = make([1, c!, hw!, hw!], layout, dt, device), w = make([c!, c!, 3, 3], layout, dt, device), b = make([c!], layout, dt, device);
      return () => torch.noGrad(() => { torch.conv2d(x, w, b, { padding: 1 }); });
    },
  })),
  {
    name: 'matmul1024', gflop: (2 * 1024 ** 3) / 1e9, layouts: ['nchw'],
    setup: (layout, dt, device) => {
      const a = make([1024, 1024], layout, dt, device), b = make([1024, 1024], layout, dt, device);
      return () => torch.noGrad(() => { torch.matmul(a, b); });
    },
  },
  {
    // GroupNorm(32) → SiLU → conv3×3 → GroupNorm(32) → SiLU → conv3×3, plus the skip; forward and
    // backward. GFLOP counts the convolutions only (forward, grad input, grad weight).
    name: 'resblock', gflop: 3 * 2 * convFlop(128, 64), layouts: ['nchw', 'cl'],
    setup: (layout, dt, device) => {
      const x = make([1, 128, 64, 64], layout, dt, device, true);
      const p = [[128], [128], [128, 128, 3, 3], [128], [128], [128], [128, 128, 3, 3], [128]].map((s) => make(s, layout, dt, device, true));
      return () => {
        let h = torch.silu(torch.groupNorm(x, 32, p[0], p[1]));
        h = torch.conv2d(h, p[2]!, p[3], { padding: 1 });
        h = torch.silu(torch.groupNorm(h, 32, p[4], p[5]));
        h = torch.conv2d(h, p[6]!, p[7], { padding: 1 });
        x.add(h).sum().backward();
        x.grad = null;
        for (const t of p) t.grad = null;
      };
    },
  },
];

/** Compiles baseline.cc against the same LibTorch as the addon (LIBTORCH honoured as in torch-config). */
function buildBaseline(): string {
  const out = path.join(repoRoot, 'build', 'bench');
  mkdirSync(out, { recursive: true });
  const bin = path.join(out, 'baseline');
  const src = path.join(repoRoot, 'bench', 'engine', 'baseline.cc');
  const cfg = (what: string) => execFileSync(process.execPath, [path.join(repoRoot, 'native', 'torch-config.cjs'), what], { encoding: 'utf8' }).trim().split(/\s+/).filter(Boolean);
  const incs = cfg('include').map((d) => `-I${d}`);
  const defs = cfg('defines').map((d) => `-D${d}`);
  const t0 = now();
  execFileSync('g++', ['-O2', '-std=c++17', ...defs, ...incs, src, '-o', `${bin}.tmp`, ...cfg('libs'), '-fopenmp'], { stdio: ['ignore', 'ignore', 'inherit'] });
  execFileSync('mv', [`${bin}.tmp`, bin]);
  emit({ what: 'baseline-build', seconds: +((now() - t0) / 1000).toFixed(1), binary: path.relative(repoRoot, bin), bytes: statSync(bin).size });
  return bin;
}

function baseline(bin: string, name: string, layout: Layout, dt: Dt): { ms?: number; median_ms?: number; us?: number; reps?: number; error?: string } {
  const r = spawnSync(bin, [name, layout, dt, String(THREADS), String(SECONDS)], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: String(THREADS) } });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try { return JSON.parse(line); } catch { return { error: `baseline failed: ${r.stderr.trim().split('\n').pop() ?? r.status}` }; }
}

function emit(o: object): void { process.stdout.write(JSON.stringify(o) + '\n'); }

function runCase(c: Case, layout: Layout, dt: Dt, bin: string | null): void {
  const line: Record<string, unknown> = { case: c.name, layout, dtype: dt, threads: THREADS, device: DEVICE, allocator: torch.buildConfig().allocator };
  try {
    const fn = torch.scope(() => c.setup(layout, dt, DEVICE));
    const r = timeIt(fn);
    line.vpdsr_ms = +r.ms.toFixed(3);
    line.vpdsr_median_ms = +r.median.toFixed(3);
    line.vpdsr_gflops = +(c.gflop / (r.ms / 1000)).toFixed(1);
    if (flag('rss')) line.rss_mb = +(process.memoryUsage().rss / 1048576).toFixed(1);
  } catch (e) {
    line.vpdsr_error = (e as Error).message.split('\n')[0];
  }
  if (bin) {
    const b = baseline(bin, c.name, layout, dt);
    if (b.ms !== undefined) {
      line.cpp_ms = +b.ms.toFixed(3);
      line.cpp_median_ms = b.median_ms;
      line.cpp_gflops = +(c.gflop / (b.ms / 1000)).toFixed(1);
      if (typeof line.vpdsr_ms === 'number') line.ratio = +((line.vpdsr_ms as number) / b.ms).toFixed(3);
    } else line.cpp_error = b.error;
  }
  emit(line);
}

function tinyOp(bin: string | null): void {
  const a = torch.keep(torch.ones([1])), b = torch.keep(torch.ones([1]));
  // 1000 adds per scope: the cost per op includes the handle, the Tensor object and its disposal.
  const r = timeIt(() => { for (let i = 0; i < 1000; i++) a.add(b); }, 10);
  const line: Record<string, unknown> = { case: 'tiny-add', what: 'add of two 1-element tensors', vpdsr_us: +(r.ms).toFixed(3) };
  if (bin) {
    const c = baseline(bin, 'tiny', 'nchw', 'fp32');
    if (c.us !== undefined) { line.cpp_us = c.us; line.ratio = +((r.ms) / c.us).toFixed(2); } else line.cpp_error = c.error;
  }
  emit(line);
}

/** Re-runs this bench in child processes with other environments (allocator, ISA). */
function child(env: Record<string, string>, extra: string[]): string[] {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', '--no-baseline', '--threads', String(THREADS), '--seconds', String(SECONDS), ...extra], { encoding: 'utf8', env: { ...process.env, ...env } });
  if (r.status !== 0) {
    const lines = r.stderr.trim().split('\n');
    return [JSON.stringify({ error: lines.find((l) => /Error|error:/.test(l)) ?? lines.pop() ?? `exit ${r.status ?? r.signal}` })];
  }
  return r.stdout.trim().split('\n');
}

function compareAllocators(): void {
  const variants: [string, Record<string, string>][] = [
    ['caching', {}],
    ['default', { VPDSR_ALLOCATOR: 'default' }],
    ['jemalloc', { VPDSR_ALLOCATOR: 'default', LD_PRELOAD: '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2' }],
  ];
  // Interleaved rounds, fastest (and its RSS) per variant: the machine's load moves more than the allocators do.
  for (const layout of ['cl', 'nchw']) {
    const best = new Map<string, Record<string, unknown>>();
    for (let round = 0; round < Number(opt('rounds', '3')); round++) {
      for (const [name, env] of variants) {
        for (const l of child(env, ['--only', 'resblock', '--layout', layout, '--dtype', 'fp32', '--rss'])) {
          const o = JSON.parse(l) as Record<string, unknown>;
          if (o.error) { emit({ what: 'allocator', variant: name, ...o }); continue; }
          if (o.case !== 'resblock') continue;
          const prev = best.get(name);
          if (!prev || (o.vpdsr_ms as number) < (prev.vpdsr_ms as number)) best.set(name, o);
        }
      }
    }
    for (const [name, o] of best) emit({ what: 'allocator', ...o, variant: name, rounds: Number(opt('rounds', '3')) });
  }
}

/** Elementwise and GroupNorm kernels, for the ATEN_CPU_CAPABILITY comparison. */
function kernels(): void {
  const x = torch.keep(torch.randn([1, 128, 128, 128])), y = torch.keep(torch.randn([1, 128, 128, 128]));
  const xb = torch.keep(x.to('bfloat16')), yb = torch.keep(y.to('bfloat16'));
  const list: [string, () => void][] = [
    ['add fp32', () => { x.add(y); }], ['silu fp32', () => { torch.silu(x); }], ['gelu fp32', () => { torch.gelu(x); }],
    ['groupNorm fp32', () => { torch.groupNorm(x, 32); }], ['softmax fp32', () => { torch.softmax(x, -1); }],
    ['add bf16', () => { xb.add(yb); }], ['silu bf16', () => { torch.silu(xb); }], ['groupNorm bf16', () => { torch.groupNorm(xb, 32); }],
  ];
  for (const [name, fn] of list) {
    try { emit({ kernel: name, ms: +timeIt(() => torch.noGrad(fn)).ms.toFixed(3) }); } catch (e) { emit({ kernel: name, error: (e as Error).message.split('\n')[0] }); }
  }
}

function compareIsa(): void {
  // Interleaved rounds, fastest per kernel: the machine's load moves more than the kernels do.
  const rows = new Map<string, Record<string, unknown>>();
  for (let round = 0; round < Number(opt('rounds', '3')); round++) {
    for (const isa of ['default', 'avx2', 'avx512']) {
      for (const l of child(isa === 'default' ? {} : { ATEN_CPU_CAPABILITY: isa }, ['--kernels'])) {
        const o = JSON.parse(l) as { kernel?: string; ms?: number; error?: string };
        if (!o.kernel) continue;
        const row = rows.get(o.kernel) ?? { what: 'isa', kernel: o.kernel };
        const prev = row[`${isa}_ms`];
        row[`${isa}_ms`] = o.ms === undefined ? o.error : typeof prev === 'number' ? Math.min(prev, o.ms) : o.ms;
        rows.set(o.kernel, row);
      }
    }
  }
  for (const row of rows.values()) {
    if (typeof row.avx2_ms === 'number' && typeof row.avx512_ms === 'number') row.speedup_avx512 = +((row.avx2_ms as number) / (row.avx512_ms as number)).toFixed(2);
    emit(row);
  }
}

function main(): void {
  torch.setNumThreads(THREADS);
  if (flag('kernels')) return kernels();
  if (flag('allocators')) return compareAllocators();
  if (flag('isa')) return compareIsa();
  const cfg = torch.buildConfig();
  if (!flag('child')) emit({ what: 'config', libtorch: cfg.version, threads: torch.getNumThreads(), allocator: cfg.allocator, device: DEVICE, cpu: torch.cpuFeatures().model, isa: /CPU capability usage: (\S+)/.exec(cfg.showConfig)?.[1] ?? 'unknown' });
  const bin = flag('no-baseline') || DEVICE !== 'cpu' ? null : buildBaseline();
  const layouts = opt('layout', '') ? [opt('layout', '') as Layout] : null;
  const dtypes = opt('dtype', '') ? [opt('dtype', '') as Dt] : (['fp32', 'bf16'] as Dt[]);
  for (const c of CASES) {
    if (ONLY && c.name !== ONLY) continue;
    for (const layout of layouts ?? c.layouts) for (const dt of dtypes) runCase(c, layout, dt, bin);
  }
  if (!ONLY) { try { tinyOp(bin); } catch (e) { emit({ case: 'tiny-add', vpdsr_error: (e as Error).message.split('\n')[0] }); } }
  if (!ONLY && !flag('no-baseline') && DEVICE === 'cpu') { compareAllocators(); compareIsa(); }
}

main();
