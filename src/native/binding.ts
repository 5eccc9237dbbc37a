// Loads the compiled addon (build/Release/vpdsr.node) and types its surface. Only engine/ imports this.
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export interface NativeConfig {
  version: string;
  showConfig: string;
  parallelInfo: string;
  mkldnn: boolean;
  openmp: boolean;
  mkl: boolean;
  lapack: boolean;
  cuda: boolean;
  cudaDevices: number;
  cxx11abi: boolean;
  allocator: 'caching' | 'default';
}

export interface NativeAllocatorStats {
  installed: boolean;
  allocated: number;
  cached: number;
  peak: number;
  hits: number;
  misses: number;
  liveTensors: number;
}

export interface NativeDistBackends {
  /** c10d's TCPStore is compiled in (every LibTorch with torch.distributed). */
  store: boolean;
  gloo: boolean;
  /** Compiled in (a CUDA LibTorch with nccl.h at build time). */
  nccl: boolean;
  /** Compiled in and a CUDA device is present now. */
  ncclUsable: boolean;
}

export interface NativeDistInit {
  rank: number;
  size: number;
  addr: string;
  port: number;
  timeoutMs: number;
  nccl: boolean;
}

export type ReduceOpName = 'sum' | 'avg' | 'max' | 'min' | 'product';

export type Handle = number;
/** A value the boxed dispatcher accepts: handles, numbers, booleans, strings, lists, null. */
export type NativeArg = Handle | number | boolean | string | null | undefined | { float: number } | NativeArg[];
export type NativeResult = Handle | number | boolean | null | undefined | NativeResult[];

export interface Native {
  call(name: string, overload: string, args: NativeArg[], discard?: boolean): NativeResult;
  /** Resolves aten::name.overload once; callId then skips the per-call schema lookup. */
  opId(name: string, overload: string): number;
  callId(id: number, args: NativeArg[], discard?: boolean): NativeResult;
  schema(name: string, overload: string): string;
  fromBytes(data: ArrayBufferView, dtype: number, shape: number[]): Handle;
  toBytes(h: Handle): ArrayBuffer;
  copyInto(h: Handle, dst: ArrayBufferView): void;
  info(h: Handle): [number, number[], string, boolean];
  strides(h: Handle): number[];
  isContiguous(h: Handle, channelsLast: boolean): boolean;
  dispose(h: Handle): void;
  item(h: Handle): number | boolean;
  backward(h: Handle, grad: Handle | null, retainGraph: boolean, createGraph: boolean): void;
  autogradGrad(outputs: Handle[], inputs: Handle[], gradOutputs: Handle[] | null, retainGraph: boolean,
    createGraph: boolean, allowUnused: boolean): (Handle | null)[];
  grad(h: Handle): Handle | null;
  setGrad(h: Handle, g: Handle | null): void;
  setRequiresGrad(h: Handle, v: boolean): void;
  retainGrad(h: Handle): void;
  isLeaf(h: Handle): boolean;
  setGradEnabled(v: boolean): boolean;
  sameStorage(a: Handle, b: Handle): boolean;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  availableCores(): number;
  manualSeed(seed: number): void;
  generatorNew(seed: number): number;
  generatorSeed(g: number, seed: number): void;
  generatorGetState(g: number): Handle;
  generatorSetState(g: number, state: Handle): void;
  config(): NativeConfig;
  installCachingAllocator(limitBytes?: number): void;
  allocatorStats(): NativeAllocatorStats;
  emptyCache(): void;
  liveTensors(): number;
  externalMemory(): { v8: number; reported: number };
  distBackends(): NativeDistBackends;
  // Present when distBackends().store: each collective resolves off the JS thread.
  distInit?(o: NativeDistInit): Promise<number>;
  distAllReduce?(group: number, tensors: Handle[], op: ReduceOpName): Promise<void>;
  distBroadcast?(group: number, tensors: Handle[], src: number): Promise<void>;
  distAllGather?(group: number, tensor: Handle): Promise<Handle[]>;
  distBarrier?(group: number): Promise<void>;
  distDestroy?(group: number): Promise<void>;
}

function packageRoot(): string {
  // dist/src/native/binding.js or src/native/binding.ts → the package root is three or two up.
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'binding.gyp'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error('vpdsr: cannot find the package root (binding.gyp)');
}

function hasAvx512(): boolean {
  try {
    const flags = new Set((/^flags\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '').split(/\s+/));
    return ['avx512f', 'avx512bw', 'avx512vl', 'avx512dq'].every((f) => flags.has(f));
  } catch {
    return false;
  }
}

function load(): Native {
  const root = packageRoot();
  const file = process.env.VPDSR_ADDON ?? path.join(root, 'build', 'Release', 'vpdsr.node');
  if (!existsSync(file)) {
    throw new Error(`vpdsr: native addon not built (${file} is missing); run "npm run build:native"`);
  }
  // OpenMP threads that spin while waiting (libgomp's default) steal the time slices of the threads
  // doing the work on a shared, oversubscribed machine: a ResBlock step ran 3× slower and a loop of
  // small convs 30× slower here (bench/engine/README.md). Sleep instead, unless the user chose.
  // libgomp reads this once, when the addon's dlopen loads it, so it must be set before that.
  if (process.env.OMP_WAIT_POLICY === undefined && process.env.GOMP_SPINCOUNT === undefined) process.env.OMP_WAIT_POLICY = 'PASSIVE';
  // VPDSR_CPU_CAPABILITY=avx512 opts in to ATen's AVX512 kernels (SiLU and softmax 1.3–1.7× faster,
  // bench/engine/README.md). Not the default: results then differ from PyTorch on this machine by
  // an ULP here and there, and the bit-for-bit parity tests (AdamW training loop) notice. ATen reads
  // ATEN_CPU_CAPABILITY at its first kernel, not at load; it does not check the CPU itself (an
  // AVX512 kernel elsewhere is SIGILL), so only with the four extensions ATen requires.
  if (process.env.VPDSR_CPU_CAPABILITY === 'avx512' && process.env.ATEN_CPU_CAPABILITY === undefined && hasAvx512()) process.env.ATEN_CPU_CAPABILITY = 'avx512';
  const require = createRequire(import.meta.url);
  return require(file) as Native;
}

export const native: Native = load();
