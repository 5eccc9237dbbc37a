// vpdsr doctor: what LibTorch this is, what it can use, and whether conv2d forward+backward works.
import type { Command } from 'commander';
import * as torch from '../engine/index.js';
import { defaultDType } from '../models/precision.js';

export interface DoctorReport {
  vpdsr: string;
  node: string;
  libtorch: { version: string; cuda: boolean; mkldnn: boolean; openmp: boolean; mkl: boolean; lapack: boolean; cxx11abi: boolean; cpuCapability: string | null; blas: string };
  /** defaultDtype: the pipeline dtype used on the CPU when none is given (models/precision.ts). */
  cpu: { model: string; flags: string[]; bf16: boolean; amx: boolean; defaultDtype: 'fp32' | 'auto' };
  threads: number;
  availableCores: number;
  devices: string[];
  allocator: string;
  /** Process-group backends for distributed training (c10d store, Gloo for CPUs, NCCL for GPUs). */
  distributed: { store: boolean; gloo: boolean; nccl: boolean; ncclUsable: boolean };
  smoke: { ok: boolean; seconds: number; gflops?: number; error?: string };
}

function smoke(): DoctorReport['smoke'] {
  const t0 = performance.now();
  try {
    const flops = torch.scope(() => {
      const x = torch.randn([2, 32, 64, 64]).contiguous('channels_last').requiresGrad_(true);
      const w = torch.randn([32, 32, 3, 3], { requiresGrad: true });
      const y = torch.conv2d(x, w, null, { padding: 1 });
      const loss = y.square().mean();
      loss.backward();
      const gx = x.grad, gw = w.grad;
      if (!gx || !gw || !Number.isFinite(gw.norm().item())) throw new Error('no finite gradient');
      return 3 * 2 * 2 * 32 * 32 * 9 * 64 * 64;
    });
    const s = (performance.now() - t0) / 1000;
    return { ok: true, seconds: s, gflops: flops / s / 1e9 };
  } catch (e) {
    return { ok: false, seconds: (performance.now() - t0) / 1000, error: (e as Error).message };
  }
}

export function doctor(version: string): DoctorReport {
  const cfg = torch.buildConfig();
  const cpu = torch.cpuFeatures();
  const cap = /CPU capability usage:\s*(\S+)/.exec(cfg.showConfig)?.[1] ?? null;
  return {
    vpdsr: version,
    node: process.version,
    libtorch: { version: cfg.version, cuda: cfg.cuda, mkldnn: cfg.mkldnn, openmp: cfg.openmp, mkl: cfg.mkl, lapack: cfg.lapack, cxx11abi: cfg.cxx11abi, cpuCapability: cap, blas: torch.blasLibrary() },
    cpu: { ...cpu, bf16: cpu.flags.includes('avx512_bf16') || cpu.flags.includes('amx_bf16'), amx: cpu.flags.includes('amx_bf16'), defaultDtype: defaultDType('cpu', cpu.flags) },
    threads: torch.getNumThreads(),
    availableCores: torch.availableCores(),
    devices: torch.devices(),
    allocator: cfg.allocator,
    distributed: torch.distributed.backends(),
    smoke: smoke(),
  };
}

function distributedLine(d: DoctorReport['distributed']): string {
  if (!d.store) return 'none (this LibTorch has no c10d)';
  const gloo = d.gloo ? 'Gloo (CPU): yes' : 'Gloo (CPU): no (install libgloo-dev and rebuild the addon)';
  const nccl = d.nccl ? `NCCL (CUDA): ${d.ncclUsable ? 'yes' : 'built, no CUDA device'}` : 'NCCL (CUDA): no (needs a CUDA LibTorch)';
  return `${gloo}  ${nccl}`;
}

export function registerDoctor(program: Command, version: string): void {
  program
    .command('doctor')
    .description('report the LibTorch build, threads, devices and allocator, and run a conv2d smoke test')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      const r = doctor(version);
      if (opts.json) {
        process.stdout.write(JSON.stringify(r, null, 2) + '\n');
      } else {
        const l = r.libtorch;
        const lines = [
          `vpdsr ${r.vpdsr} on Node ${r.node}`,
          `LibTorch ${l.version}  CUDA: ${l.cuda ? 'yes' : 'no'}  oneDNN: ${l.mkldnn ? 'yes' : 'no'}  OpenMP: ${l.openmp ? 'yes' : 'no'}  CPU kernels: ${l.cpuCapability ?? 'unknown'}`,
          `BLAS: ${l.blas}`,
          `CPU: ${r.cpu.model}  [${r.cpu.flags.join(' ')}]  bf16: ${r.cpu.bf16 ? (r.cpu.amx ? 'AMX' : 'AVX512_BF16') : 'no'}  default dtype: ${r.cpu.defaultDtype}`,
          `threads: ${r.threads} of ${r.availableCores} cores   devices: ${r.devices.join(', ')}   allocator: ${r.allocator}`,
          `distributed: ${distributedLine(r.distributed)}`,
          r.smoke.ok ? `smoke test (conv2d forward+backward): ok in ${(r.smoke.seconds * 1000).toFixed(1)} ms (${r.smoke.gflops!.toFixed(1)} GFLOP/s)` : `smoke test FAILED: ${r.smoke.error}`,
        ];
        if (/libblas\.so\.3/.test(l.blas) && !/openblas/.test(l.blas)) lines.push('warning: the reference BLAS is loaded; install libopenblas0-pthread for 50× faster matmul');
        process.stdout.write(lines.join('\n') + '\n');
      }
      if (!r.smoke.ok) process.exitCode = 1;
    });
}
