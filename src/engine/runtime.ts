// Threads, devices, allocator and build information of the LibTorch underneath.
import { native, type NativeConfig, type NativeAllocatorStats } from '../native/binding.js';
import { int } from './check.js';
import { readFileSync } from 'node:fs';

/** Intra-op threads (at::set_num_threads). The addon starts with all available cores or VPDSR_THREADS. */
export function setNumThreads(n: number): void { native.setNumThreads(int('setNumThreads', 'n', n, { min: 1, max: 1024 })); }
export function getNumThreads(): number { return native.getNumThreads(); }
export function availableCores(): number { return native.availableCores(); }

export function buildConfig(): NativeConfig { return native.config(); }

export function cudaAvailable(): boolean {
  const c = native.config();
  return c.cuda && c.cudaDevices > 0;
}

/** The devices this LibTorch can run on. */
export function devices(): string[] {
  const c = native.config();
  const out = ['cpu'];
  for (let i = 0; i < (c.cuda ? c.cudaDevices : 0); i++) out.push(`cuda:${i}`);
  return out;
}

/**
 * Installs the caching CPU allocator (freed blocks reused by size class). Done once at load unless
 * VPDSR_ALLOCATOR=default; the engine bench measures both.
 */
export function useCachingAllocator(limitBytes?: number): void { native.installCachingAllocator(limitBytes); }
export function allocatorStats(): NativeAllocatorStats { return native.allocatorStats(); }
export function emptyCache(): void { native.emptyCache(); }

/**
 * External memory as V8 sees it: `v8` is V8's running total (AdjustExternalMemory), `reported`
 * the host bytes this addon's live handles account for. Node 20's process.memoryUsage().external
 * does not include it, so this is the figure to check.
 */
export function externalMemory(): { v8: number; reported: number } { return native.externalMemory(); }

/** Live tensor handles and allocator figures (tfjs's memory()). */
export function memory(): { liveTensors: number; allocatedBytes: number; cachedBytes: number; peakBytes: number } {
  const s = native.allocatorStats();
  return { liveTensors: native.liveTensors(), allocatedBytes: s.allocated, cachedBytes: s.cached, peakBytes: s.peak };
}

/** Which BLAS the process has mapped (OpenBLAS is what makes fp32 matmul fast; reference BLAS is 50× slower). */
export function blasLibrary(): string {
  try {
    const maps = readFileSync('/proc/self/maps', 'utf8');
    const libs = new Set<string>();
    for (const line of maps.split('\n')) {
      const m = /\s(\/\S*(?:openblas|libblas|mkl_rt|libmkl|blis|atlas)\S*\.so[^\s]*)$/.exec(line);
      if (m) libs.add(m[1]!);
    }
    return libs.size ? [...libs].join(', ') : 'none mapped';
  } catch {
    return 'unknown';
  }
}

/** CPU flags relevant to LibTorch kernels, from /proc/cpuinfo. */
export function cpuFeatures(): { model: string; flags: string[] } {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const model = /model name\s*:\s*(.*)/.exec(info)?.[1] ?? 'unknown';
    const flagLine = /flags\s*:\s*(.*)/.exec(info)?.[1] ?? '';
    const want = ['avx2', 'fma', 'avx512f', 'avx512bw', 'avx512_vnni', 'avx512_bf16', 'amx_bf16', 'amx_tile', 'amx_int8'];
    const have = new Set(flagLine.split(/\s+/));
    return { model, flags: want.filter((f) => have.has(f)) };
  } catch {
    return { model: 'unknown', flags: [] };
  }
}

if (process.env.VPDSR_ALLOCATOR !== 'default') native.installCachingAllocator();
