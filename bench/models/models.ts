// bench/models: the one-step SR pipeline with the full-size architecture (random weights), JSON lines.
//
//   node bench/models/run.js [--sizes 64,128] [--repeat 2] [--resshift DIR] [--psnr-images 3] [--psnr-size 128]
//                            [--memory-untiled 128] [--memory-tiled 512] [--max-memory 3G] [--only fp32,bf16,auto,baseline] [--out FILE]
//   (--only: any of fp32, bf16, auto, baseline, or none; --memory-untiled/--memory-tiled 0 skips that case;
//    sizes below 33 LR px fail on the PyTorch side, whose reflect padding needs pad < size)
//
// Per size: the time of the VQ encode, the UNet call and the VQ decode of an untiled one-step run
// at S²→(4S)², each configuration after one warm-up run at the same size:
//   vpdsr     fp32, channels-last, 2 threads (the default pipeline)
//   pytorch   upstream ResShift's modules under python3-torch (bench/models/torch_models.py), fp32,
//             NCHW and channels-last, 2 threads, on the weights and input vpdsr wrote: a checkout
//             of zsyOAOA/ResShift from --resshift DIR or $VPDSR_RESSHIFT (else reported as skipped)
//   vpdsr     bf16, channels-last, 2 threads
//   vpdsr     auto (bf16 with precision.ts's fp32 modules), channels-last, 2 threads
//   baseline  vpdsr fp32, contiguous NCHW, 1 thread
// vpdsr fp32 and the two PyTorch rows are long-lived processes that each load and warm up once;
// their --repeat timed runs are interleaved (vpdsr, NCHW, channels-last, vpdsr, …) so that load
// on the machine falls on every side, and a summary row gives vpdsr's best time over the faster
// PyTorch row's best (per stage too). Then the PSNR of bf16 and auto against fp32 output (8-bit) on crops of
// ../shared/samples, and the peak RSS of an untiled S²→(4S)² run and of a tiled run whose tile is
// chosen from --max-memory (each in its own process, so each peak RSS is its own).
// Every vpdsr timing row also gives each stage's GFLOP (convolutions and matrix products, counted
// from the shapes of the ATen calls of the warm-up run: flops.ts) and achieved GFLOP/s, and the
// floor: a channels-last fp32 3×3 conv 1×128×512²→128 (a decoder shape) timed in the same process
// just before the run, its GFLOP/s, the time the run's FLOP would take at that rate
// (floor_s) and the run's time over it (floor_ratio; 1 = every FLOP at the conv's rate), and the
// same in CPU seconds (floor_cpu_ratio), the figure to read while other jobs load the machine.
// Each vpdsr row also gives its floor at the CPU's measured arithmetic peak (bench/cpu/peak.c, run
// once at the start: fp32 FMA and bf16 dot products on 2 threads): peak_floor_s, the run's fp32
// FLOP at the FMA peak plus its bf16 FLOP at the bf16 peak, and peak_ratio, the run over it. The
// bf16/auto ratio rows give bound_at_peak: that floor over the fp32 run's time, the lowest ratio
// the mode could reach on this CPU, and peak_floor_ratio: that floor over fp32's own, the ratio
// when both run at the same fraction of their peaks.
// A ratio within one run is the result: these machines are shared and absolute times move.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import * as torch from '../../src/engine/index.js';
import { Tensor } from '../../src/engine/index.js';
import { saveSafetensors } from '../../src/io/checkpoint/tensors.js';
import { UNetModelSwin, RELEASED_UNET } from '../../src/models/unet/index.js';
import { VQModelTorch, VQ_F4 } from '../../src/models/vq/index.js';
import { getPreset } from '../../src/models/presets.js';
import { presetModelJson } from '../../src/models/convert.js';
import { partsFromModel, DiffusionUpscaler, fixedNoise, runTileStages, type DiffusionParts, type PipelineDType } from '../../src/models/index.js';
import { chooseTile, parseMemory } from '../../src/api/memory.js';
import { NO_CHECKOUT, resshiftCheckout, TORCH_PYTHON } from '../resshift.js';
import { FlopCounter } from './flops.js';
import { measurePeak, type Peak } from '../cpu/peak.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..', '..');
const shared = process.env.VPDSR_SHARED ?? path.resolve(repo, '..', 'shared');
const PRESET = 'sinsr-v1';

interface ChildConfig {
  mode: 'time' | 'psnr' | 'worker' | 'memory';
  role: 'vpdsr' | 'baseline';
  size: number;
  dtype: PipelineDType;
  layout: 'channels_last' | 'contiguous';
  threads: number;
  repeat: number;
  images?: string[];
  /** worker: write the weights, the input and the first output here for the PyTorch side. */
  exportDir?: string;
  /** memory: tile chosen from this budget (bytes); undefined = untiled. */
  maxMemory?: number;
}

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}

const loadavg = (): string => fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const r3 = (x: number): number => Math.round(x * 1000) / 1000;

/** upstream UNetModelSwin's keyword arguments for a vpdsr UNet config (its vpdsr-only keys must be at upstream's behaviour). */
function upstreamUnetKwargs(): Record<string, unknown> {
  const { swin_mask, norm_groups, middle_attention, ...rest } = RELEASED_UNET;
  if (swin_mask !== 'upstream' || norm_groups !== 32 || middle_attention !== true) throw new Error('the released UNet config is not upstream\'s');
  return { ...rest, dims: 2, use_fp16: false };
}

/** The weights (state-dict keys are upstream's), the inputs and the configs the PyTorch side loads. */
function exportForTorch(dir: string, unet: UNetModelSwin, vq: VQModelTorch, lr: Tensor, noise: Tensor): void {
  saveSafetensors(path.join(dir, 'unet.safetensors'), unet.stateDict());
  saveSafetensors(path.join(dir, 'vq.safetensors'), vq.stateDict());
  saveSafetensors(path.join(dir, 'inputs.safetensors'), { lr, noise });
  const json = presetModelJson(getPreset(PRESET), [], 'bench');
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ unet: upstreamUnetKwargs(), vq: VQ_F4, schedule: getPreset(PRESET).schedule, padding: json.padding }));
}

/** A full-size model with random weights (seeded), as the pipeline will use it. */
function randomParts(c: ChildConfig, beforeMove?: (unet: UNetModelSwin, vq: VQModelTorch) => void): DiffusionParts {
  torch.manualSeed(1234);
  const unet = new UNetModelSwin(RELEASED_UNET);
  const vq = new VQModelTorch(VQ_F4);
  beforeMove?.(unet, vq);
  const json = presetModelJson(getPreset(PRESET), [], 'bench');
  return partsFromModel({ json, unet: unet.eval(), vq: vq.eval() }, { device: 'cpu', dtype: c.dtype, layout: c.layout });
}

/** An S×S RGB crop of a sample photo as [1, 3, S, S] in [0, 1]. */
async function crop(file: string, size: number): Promise<Tensor> {
  const img = sharp(file);
  const m = await img.metadata();
  const left = Math.max(0, Math.floor(((m.width ?? size) - size) / 2)), top = Math.max(0, Math.floor(((m.height ?? size) - size) / 2));
  const { data } = await img.removeAlpha().extract({ left, top, width: size, height: size }).raw().toBuffer({ resolveWithObject: true });
  return torch.scope(() => torch.fromBytes(new Uint8Array(data), 'uint8', [size, size, 3]).permute(2, 0, 1).unsqueeze(0).float().div(255).contiguous());
}

/** bf16 and auto against fp32 output, 8-bit PSNR, per image, on the same weights and noise. */
async function psnrChild(c: ChildConfig): Promise<void> {
  const upF = new DiffusionUpscaler(randomParts(c));
  for (const dtype of ['bf16', 'auto'] as const) {
    const upB = new DiffusionUpscaler(randomParts({ ...c, dtype }));
    for (const file of c.images ?? []) {
      const lr = await crop(file, c.size);
      const res = torch.scope(() => {
        const noise = torch.randn([1, 3, Math.ceil(c.size / 64) * 64, Math.ceil(c.size / 64) * 64], { generator: new torch.Generator(7) });
        const a = upF.upscale(lr, { noise, tile: 0 }), b = upB.upscale(lr, { noise, tile: 0 });
        const q = (x: Tensor): Tensor => x.mul(255).round();
        const mse = q(a).sub(q(b)).square().mean().item();
        const unit = a.sub(b).abs().max().item();
        return { psnr: mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse), maxAbs: unit };
      });
      lr.dispose();
      process.stdout.write(JSON.stringify({ bench: 'models', case: `${dtype}-psnr`, dtype, image: path.basename(file), lr: c.size, sr: 4 * c.size, psnr_db: Number(res.psnr.toFixed(2)), max_abs_unit: Number(res.maxAbs.toFixed(4)), threads: c.threads }) + '\n');
    }
    upB.dispose();
  }
  upF.dispose();
}

/** Peak RSS of one upscale over the loaded model: untiled, or with the tile the budget allows (src/api/memory.ts). */
function memoryChild(c: ChildConfig): void {
  const up = new DiffusionUpscaler(randomParts(c));
  const lr = torch.rand([1, 3, c.size, c.size], { generator: new torch.Generator(3) });
  const choice = c.maxMemory === undefined ? undefined : chooseTile(up, { width: c.size, height: c.size, maxMemory: c.maxMemory });
  const loaded = Math.max(process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);
  const t0 = performance.now();
  const y = up.upscale(lr, choice ? { tile: choice.tile, tileOverlap: choice.tileOverlap } : { tile: 0 });
  const seconds = (performance.now() - t0) / 1000;
  const peak = process.resourceUsage().maxRSS * 1024;
  y.dispose(); lr.dispose(); up.dispose();
  const mib = (b: number): number => Math.round(b / 2 ** 20);
  process.stdout.write(JSON.stringify({
    bench: 'models', case: 'peak-memory', impl: 'vpdsr', lr: c.size, sr: 4 * c.size, dtype: c.dtype, layout: c.layout, threads: c.threads,
    tiled: choice !== undefined && choice.tile > 0, tile: choice?.tile ?? 0, tile_overlap: choice?.tileOverlap ?? 0,
    budget_mb: c.maxMemory === undefined ? null : mib(c.maxMemory), estimate_mb: choice ? mib(choice.estimate) : mib(up.tileBytes(c.size)),
    loaded_rss_mb: mib(loaded), peak_rss_mb: mib(peak), growth_mb: mib(peak - loaded),
    within_budget: c.maxMemory === undefined ? null : peak - loaded <= c.maxMemory, seconds: r3(seconds), load: loadavg(),
  }) + '\n');
}

/**
 * Timed runs of the untiled pipeline: `time` runs a warm-up and c.repeat runs and prints the best;
 * `worker` warms up, prints {ready}, then runs once per "run" line on stdin and prints that run.
 */
async function timeChild(c: ChildConfig): Promise<void> {
  const lr = await crop(path.join(shared, 'samples', 'astronaut.png'), c.size);
  const side = Math.ceil(c.size / 64) * 64; // the prior noise is drawn at the padded latent size
  const noise = torch.keep(torch.scope(() => torch.randn([1, 3, side, side], { generator: new torch.Generator(7) })));
  const parts = randomParts(c, c.exportDir ? (unet, vq) => exportForTorch(c.exportDir!, unet, vq, lr, noise) : undefined);
  const times = { encode: 0, unet: 0, decode: 0 };
  const flops = new FlopCounter();
  const timed = <A extends unknown[]>(k: keyof typeof times, f: (...a: A) => Tensor) => (...a: A): Tensor => {
    flops.part = k;
    const t0 = performance.now();
    const y = f(...a); // CPU ops are synchronous: the time is the op's
    times[k] += (performance.now() - t0) / 1000;
    flops.part = 'other';
    return y;
  };
  const p: DiffusionParts = {
    ...parts,
    codec: { encode: timed('encode', (x: Tensor) => parts.codec.encode(x)), decode: timed('decode', (z: Tensor) => parts.codec.decode(z)) },
    denoise: timed('unet', (x: Tensor, t: Tensor, lq: Tensor) => parts.denoise(x, t, lq)),
  };
  const run = (save?: string): { total: number; cpu: number; encode: number; unet: number; decode: number } => torch.scope(() => {
    times.encode = times.unet = times.decode = 0;
    const t0 = performance.now(), c0 = process.cpuUsage();
    const out = runTileStages(p, lr.sub(0.5).div(0.5), fixedNoise([noise], 'cpu', 1)).out;
    const total = (performance.now() - t0) / 1000;
    const cu = process.cpuUsage(c0), cpu = (cu.user + cu.system) / 1e6;
    if (save) saveSafetensors(save, { out: out.mul(0.5).add(0.5).contiguous() });
    return { total, cpu, ...times };
  });
  const row = (r: ReturnType<typeof run>, floor?: Floor): Record<string, unknown> => ({
    bench: 'models', case: 'one-step', impl: 'vpdsr', role: c.role, lr: c.size, sr: 4 * c.size, dtype: c.dtype, layout: c.layout, threads: c.threads,
    vq_encode_s: r3(r.encode), unet_s: r3(r.unet), vq_decode_s: r3(r.decode), total_s: r3(r.total), other_s: r3(r.total - r.encode - r.unet - r.decode),
    // CPU seconds of the run (all threads): on a shared machine it moves less than wall time.
    cpu_s: r3(r.cpu),
    ...flopFields(gflop, { encode: r.encode, unet: r.unet, decode: r.decode, total: r.total }, floor, r.cpu),
    // The FLOP per precision they ran in (auto: both), for the floor at the CPU's measured peak (main).
    fp32_gflop: Math.round((flops.byDtype.get('float32') ?? 0) / 1e8) / 10,
    bf16_gflop: Math.round((flops.byDtype.get('bfloat16') ?? 0) / 1e8) / 10,
  });
  const t0 = performance.now();
  const uninstall = flops.install(); // the warm-up run's calls are counted (the shapes, hence the FLOP, are every run's)
  try {
    run(c.exportDir ? path.join(c.exportDir, 'out-vpdsr.safetensors') : undefined); // warm-up: first-touch pages, oneDNN primitive caches, allocator
  } finally { uninstall(); }
  const warm = (performance.now() - t0) / 1000;
  const gflop = { encode: flops.gflop('encode'), unet: flops.gflop('unet'), decode: flops.gflop('decode'), total: flops.total / 1e9 };
  const peak = (): number => Math.round(process.resourceUsage().maxRSS / 1024);
  if (c.mode === 'worker') {
    process.stdout.write(JSON.stringify({ impl: 'vpdsr', ready: true, warmup_s: r3(warm) }) + '\n');
    for await (const line of readline.createInterface({ input: process.stdin })) {
      if (line.trim() === 'run') { const floor = floorConv(); process.stdout.write(JSON.stringify({ ...row(run(), floor), load: loadavg() }) + '\n'); }
      else if (line.trim() === 'quit') break;
    }
    process.stdout.write(JSON.stringify({ impl: 'vpdsr', peak_rss_mb: peak() }) + '\n');
  } else {
    let floor: Floor | undefined;
    const rows = Array.from({ length: c.repeat }, () => {
      const f = floorConv();
      if (!floor || f.gflops > floor.gflops) floor = f;
      return run();
    });
    const best = rows.reduce((a, b) => (b.total < a.total ? b : a));
    process.stdout.write(JSON.stringify({ ...row(best, floor), all_totals_s: rows.map((r) => r3(r.total)), load: loadavg(), repeats: c.repeat, peak_rss_mb: peak() }) + '\n');
  }
  lr.dispose(); noise.dispose();
  parts.dispose();
}

/** The floor's shape: a decoder 3×3 conv at full resolution (VQ-f4 up.0, 128 channels at 512²). */
export const FLOOR_CONV = { channels: 128, size: 512, kernel: 3 } as const;

/**
 * GFLOP/s of a channels-last fp32 3×3 conv 1×128×512²→128 (padding 1, bias), best of 3 after
 * a warm-up call, on the process's threads: the rate the pipeline's FLOP could run at.
 */
function floorConv(): Floor {
  const { channels: ch, size: s, kernel: k } = FLOOR_CONV;
  return torch.scope(() => {
    const g = new torch.Generator(11);
    const x = torch.randn([1, ch, s, s], { generator: g }).contiguous('channels_last');
    const w = torch.randn([ch, ch, k, k], { generator: g }).mul(0.03), b = torch.zeros([ch]);
    const conv = (): void => { torch.conv2d(x, w, b, { padding: 1 }).dispose(); };
    conv();
    let best = Infinity, bestCpu = Infinity;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now(), c0 = process.cpuUsage();
      conv();
      const cu = process.cpuUsage(c0);
      best = Math.min(best, performance.now() - t0);
      bestCpu = Math.min(bestCpu, (cu.user + cu.system) / 1000);
    }
    const gflop = (2 * ch * ch * k * k * s * s) / 1e9;
    return { gflops: gflop / (best / 1000), perCpuSecond: gflop / (bestCpu / 1000) };
  });
}

/** The floor conv's rates: GFLOP/s of wall time, and GFLOP per CPU-second (all threads). */
interface Floor { gflops: number; perCpuSecond: number }

type Stages = { encode: number; unet: number; decode: number; total: number };

/**
 * Per stage GFLOP and achieved GFLOP/s; with a floor: the floor's time for the run's FLOP and the
 * run over it (floor_ratio), and the same in CPU seconds (floor_cpu_ratio: the run's CPU seconds
 * over its FLOP at the conv's GFLOP per CPU-second), which load from other jobs moves far less.
 */
function flopFields(gflop: Stages, seconds: Stages, floor?: Floor, cpuSeconds?: number): Record<string, unknown> {
  const r1 = (x: number): number => Math.round(x * 10) / 10;
  const keys = [['encode', 'vq_encode'], ['unet', 'unet'], ['decode', 'vq_decode'], ['total', 'total']] as const;
  const f: Record<string, unknown> = {};
  for (const [k, name] of keys) f[`${name}_gflop`] = r1(gflop[k]);
  for (const [k, name] of keys) f[`${name}_gflops`] = seconds[k] > 0 ? r1(gflop[k] / seconds[k]) : null;
  if (floor !== undefined && floor.gflops > 0) {
    f.floor_conv_gflops = r1(floor.gflops);
    f.floor_s = r3(gflop.total / floor.gflops);
    f.floor_ratio = r3(seconds.total / (gflop.total / floor.gflops));
    if (cpuSeconds !== undefined && floor.perCpuSecond > 0) {
      f.floor_conv_gflop_per_cpu_s = r1(floor.perCpuSecond);
      f.floor_cpu_ratio = r3(cpuSeconds / (gflop.total / floor.perCpuSecond));
    }
  }
  return f;
}

async function child(c: ChildConfig): Promise<void> {
  torch.setNumThreads(c.threads);
  if (c.mode === 'psnr') await psnrChild(c);
  else if (c.mode === 'memory') memoryChild(c);
  else await timeChild(c);
}

/** The environment of every child: OMP_NUM_THREADS, and OMP_WAIT_POLICY=PASSIVE unless --omp-wait is not passive. */
function childEnv(threads: number): NodeJS.ProcessEnv {
  // On these shared 2-core machines a spinning OpenMP team with one thread descheduled made
  // 2-thread runs 2–6× slower than 1 thread; the same setting is given to PyTorch.
  const env: NodeJS.ProcessEnv = { ...process.env, OMP_NUM_THREADS: String(threads) };
  if (arg('omp-wait', 'passive') === 'passive') env.OMP_WAIT_POLICY = 'PASSIVE';
  return env;
}

function runChild(c: ChildConfig): Record<string, unknown>[] {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', JSON.stringify(c)], { encoding: 'utf8', maxBuffer: 1 << 24, env: childEnv(c.threads) });
  if (r.status !== 0) {
    const err = (r.stderr || '').split('\n').find((l) => /Error|error:/.test(l)) ?? (r.stderr || '').trim().split('\n').slice(-1)[0];
    return [{ bench: 'models', error: `child ${JSON.stringify(c)} failed (status ${r.status}, signal ${r.signal}): ${err}` }];
  }
  return r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** A long-lived child that answers one JSON line per command line (the interleaved runs). */
class Worker {
  private readonly lines: string[] = [];
  private waiting: ((l: string | undefined) => void) | undefined;
  private closed = false;
  private stderr = '';
  private readonly proc: ChildProcessWithoutNullStreams;

  constructor(readonly name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv) {
    this.proc = spawn(cmd, args, { env, stdio: 'pipe' });
    this.proc.stderr.on('data', (d: Buffer) => { this.stderr = (this.stderr + d.toString()).slice(-4000); });
    const rl = readline.createInterface({ input: this.proc.stdout });
    rl.on('line', (l) => { if (this.waiting) { const w = this.waiting; this.waiting = undefined; w(l); } else this.lines.push(l); });
    rl.on('close', () => { this.closed = true; this.waiting?.(undefined); this.waiting = undefined; });
  }

  /** The next JSON line (an error row when the child died). */
  async next(): Promise<Record<string, unknown>> {
    const l = this.lines.shift() ?? (this.closed ? undefined : await new Promise<string | undefined>((res) => { this.waiting = res; }));
    if (l === undefined) {
      const why = this.stderr.trim().split('\n').filter((x) => /Error|error|exit/.test(x)).pop() ?? this.stderr.trim().split('\n').pop();
      return { bench: 'models', worker: this.name, error: `${this.name} ended without an answer: ${why ?? 'no output'}` };
    }
    try {
      return JSON.parse(l) as Record<string, unknown>;
    } catch {
      return this.next(); // a stray line from a library: skip it
    }
  }

  get alive(): boolean { return !this.closed; }

  async ask(cmd: 'run' | 'quit'): Promise<Record<string, unknown>> {
    if (this.closed) return { bench: 'models', worker: this.name, error: `${this.name} is not running` };
    this.proc.stdin.write(cmd + '\n');
    return this.next();
  }

  /** Asks it to quit (its last line: peak RSS) and waits for the process. */
  async close(): Promise<Record<string, unknown>> {
    const last = this.alive ? await this.ask('quit') : { error: `${this.name} had ended` };
    this.proc.stdin.end();
    if (this.proc.exitCode === null) await new Promise((res) => this.proc.once('exit', res));
    return last;
  }
}

const STAGES = ['vq_encode_s', 'unet_s', 'vq_decode_s', 'total_s'] as const;

/**
 * vpdsr fp32 channels-last and upstream under PyTorch (NCHW, channels-last), each loaded and
 * warmed up once, then `repeat` rounds of one timed run each, in turn. Returns vpdsr's best row.
 */
async function interleaved(size: number, repeat: number, resshift: string | undefined, emit: (l: Record<string, unknown>) => void,
  atPeak: (r: Record<string, unknown>) => Record<string, unknown>): Promise<Record<string, unknown> | undefined> {
  const dir = resshift ? fs.mkdtempSync(path.join(os.tmpdir(), 'vpdsr-bench-models-')) : undefined;
  const workers: Worker[] = [];
  const meta = new Map<Worker, Record<string, unknown>>();
  const rows = new Map<Worker, Record<string, unknown>[]>();
  try {
    const cfg: ChildConfig = { mode: 'worker', role: 'vpdsr', size, dtype: 'fp32', layout: 'channels_last', threads: 2, repeat, exportDir: dir };
    const start = async (w: Worker): Promise<void> => {
      const ready = await w.next();
      if (ready.error) { emit({ ...ready, lr: size }); w.close().catch(() => undefined); return; }
      workers.push(w); meta.set(w, ready); rows.set(w, []);
    };
    // vpdsr first: it writes the weights, the input and its output for the PyTorch side.
    await start(new Worker('vpdsr fp32 channels_last', process.execPath, [fileURLToPath(import.meta.url), '--child', JSON.stringify(cfg)], childEnv(2)));
    if (!resshift) {
      for (const layout of ['contiguous', 'channels_last']) emit({ bench: 'models', case: 'one-step', impl: 'pytorch', lr: size, layout, skipped: NO_CHECKOUT });
    } else if (workers.length > 0) {
      for (const layout of ['nchw', 'cl'] as const) {
        await start(new Worker(`pytorch ${layout}`, TORCH_PYTHON, [path.join(repo, 'bench', 'models', 'torch_models.py'), '--resshift', resshift, '--weights', dir!, '--layout', layout, '--threads', '2'], childEnv(2)));
      }
    }
    for (let i = 0; i < repeat; i++) {
      for (const w of workers) {
        const r0 = await w.ask('run');
        const r = meta.get(w)!.impl === 'vpdsr' && !r0.error ? atPeak(r0) : r0;
        if (!r.error) rows.get(w)!.push(r);
        emit({ ...r, bench: 'models', case: 'one-step', lr: size, sr: 4 * size, run: i + 1, ...(meta.get(w)!.impl === 'pytorch' ? { max_abs_vs_vpdsr: meta.get(w)!.max_abs_vs_vpdsr } : {}) });
      }
    }
    const best = new Map<Worker, Record<string, unknown>>();
    for (const w of [...workers]) {
      const end = await w.close();
      const rs = rows.get(w)!;
      if (rs.length === 0) continue;
      const b = rs.reduce((a, x) => ((x.total_s as number) < (a.total_s as number) ? x : a));
      best.set(w, { ...b, all_totals_s: rs.map((x) => x.total_s), warmup_s: meta.get(w)!.warmup_s, peak_rss_mb: end.peak_rss_mb });
    }
    const [v, ...py] = [...best.entries()].map(([w, b]) => ({ w, b }));
    if (!v || v.b.impl !== 'vpdsr') return undefined;
    const fastest = py.reduce<typeof v | undefined>((a, x) => (!a || (x.b.total_s as number) < (a.b.total_s as number) ? x : a), undefined);
    const summary: Record<string, unknown> = {
      bench: 'models', case: 'summary', lr: size, sr: 4 * size, runs: repeat,
      vpdsr: pick(v.b), pytorch_nchw: py.find((x) => x.b.layout === 'contiguous') ? pick(py.find((x) => x.b.layout === 'contiguous')!.b) : null,
      pytorch_channels_last: py.find((x) => x.b.layout === 'channels_last') ? pick(py.find((x) => x.b.layout === 'channels_last')!.b) : null,
    };
    if (fastest) {
      summary.faster_pytorch = fastest.b.layout;
      // vpdsr's time over PyTorch's: below 1 means vpdsr is faster (0.25 = 4× faster).
      summary.ratio_vs_pytorch = Object.fromEntries(STAGES.map((k) => [k.replace(/_s$/, ''), r3((v.b[k] as number) / (fastest.b[k] as number))]));
      summary.speedup_vs_pytorch = r3((fastest.b.total_s as number) / (v.b.total_s as number));
      summary.max_abs_vs_vpdsr = meta.get(fastest.w)!.max_abs_vs_vpdsr;
    } else if (resshift) {
      summary.pytorch = 'no PyTorch row finished';
    }
    summary.load = loadavg();
    emit(summary);
    return v.b;
  } finally {
    for (const w of workers) if (w.alive) await w.close().catch(() => undefined);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A vpdsr row with its floor at the CPU's measured peak: peak_floor_s = fp32 GFLOP / FMA peak +
 * bf16 GFLOP / bf16 dot peak, and peak_ratio = total_s over it (1 = every FLOP at the peak).
 */
function withPeak(r: Record<string, unknown>, peak: Peak): Record<string, unknown> {
  const f32 = r.fp32_gflop as number | undefined, bf = r.bf16_gflop as number | undefined, total = r.total_s as number | undefined;
  if (f32 === undefined || bf === undefined || !total || !peak.fp32_fma_gflops) return r;
  if (bf > 0 && !peak.bf16_dot_gflops) return r;
  const floorS = f32 / peak.fp32_fma_gflops + (bf > 0 ? bf / peak.bf16_dot_gflops! : 0);
  return { ...r, peak_fp32_gflops: peak.fp32_fma_gflops, ...(bf > 0 ? { peak_bf16_gflops: peak.bf16_dot_gflops } : {}), peak_floor_s: r3(floorS), peak_ratio: r3(total / floorS) };
}

/** The fields of a best row the summary repeats. */
function pick(b: Record<string, unknown>): Record<string, unknown> {
  const flop = Object.fromEntries(Object.entries(b).filter(([k]) => /_gflops?$|^floor_|^peak_/.test(k)));
  return { layout: b.layout, ...Object.fromEntries(STAGES.map((k) => [k, b[k]])), ...flop, all_totals_s: b.all_totals_s, warmup_s: b.warmup_s, peak_rss_mb: b.peak_rss_mb };
}

async function main(): Promise<void> {
  const ci = process.argv.indexOf('--child');
  if (ci >= 0) { await child(JSON.parse(process.argv[ci + 1]!) as ChildConfig); return; }
  const sizes = arg('sizes', '64,128').split(',').map(Number);
  const repeat = Number(arg('repeat', '2'));
  const psnrImages = Number(arg('psnr-images', '3'));
  const psnrSize = Number(arg('psnr-size', '128'));
  const memUntiled = Number(arg('memory-untiled', '128'));
  const memTiled = Number(arg('memory-tiled', '512'));
  const budget = parseMemory(arg('max-memory', '3G'));
  const out = arg('out', '');
  const only = arg('only', 'fp32,bf16,auto,baseline').split(',');
  for (const [k, v] of [['sizes', sizes], ['repeat', [repeat]], ['memory-untiled', [memUntiled]], ['memory-tiled', [memTiled]]] as const) {
    if (v.some((x) => !Number.isSafeInteger(x) || x < 0) || (k === 'sizes' && v.some((x) => x < 16)) || (k === 'repeat' && v[0]! < 1)) throw new Error(`--${k}: expected ${k === 'sizes' ? 'sizes of at least 16 LR px' : 'a non-negative integer'}, got ${arg(k, '')}`);
  }
  const resshift = resshiftCheckout(process.argv.includes('--resshift') ? arg('resshift', '') : undefined);
  const emit = (l: Record<string, unknown>): void => {
    process.stdout.write(JSON.stringify(l) + '\n');
    if (out) fs.appendFileSync(out, JSON.stringify(l) + '\n');
  };
  emit({ bench: 'models', start: new Date().toISOString(), cpu: torch.cpuFeatures(), blas: torch.blasLibrary(), cores: torch.availableCores(), omp_wait: arg('omp-wait', 'passive'), resshift: resshift ?? null, load: fs.readFileSync('/proc/loadavg', 'utf8').trim() });
  // The CPU's arithmetic peak (bench/cpu/peak.c) at the benches' 2 threads: every row's peak_floor_s is
  // its FLOP at that peak, fp32 FLOP at the FMA peak and bf16 FLOP at the bf16 dot-product peak.
  const peak = measurePeak(2);
  emit({ bench: 'models', case: 'cpu-peak', ...peak });
  const atPeak = (r: Record<string, unknown>): Record<string, unknown> => withPeak(r, peak);
  for (const size of sizes) {
    const results: Record<string, Record<string, unknown>> = {};
    if (only.includes('fp32')) {
      const best = await interleaved(size, repeat, resshift, emit, atPeak);
      if (best) results.fp32 = best;
    }
    for (const [key, cfg] of [
      ['bf16', { role: 'vpdsr', dtype: 'bf16', layout: 'channels_last', threads: 2 }],
      ['auto', { role: 'vpdsr', dtype: 'auto', layout: 'channels_last', threads: 2 }],
      ['baseline', { role: 'baseline', dtype: 'fp32', layout: 'contiguous', threads: 1 }],
    ] as const) {
      if (!only.includes(key)) continue;
      const [r0] = runChild({ mode: 'time', size, repeat, ...cfg });
      const r = atPeak(r0!);
      emit(r);
      results[key] = r;
    }
    const base = results.baseline?.total_s as number | undefined;
    if (base) {
      for (const k of ['fp32', 'bf16']) {
        const v = results[k]?.total_s as number | undefined;
        if (v) emit({ bench: 'models', case: 'ratio', lr: size, config: k, vs: 'baseline', ratio: r3(v / base), target: k === 'fp32' ? 0.25 : undefined });
      }
    }
    // The reduced-precision modes against vpdsr's own fp32 (target for auto: ≤ 0.5×).
    const f32 = results.fp32?.total_s as number | undefined;
    for (const k of ['bf16', 'auto']) {
      const v = results[k]?.total_s as number | undefined;
      // bound_at_peak: the ratio if this mode ran every FLOP at the CPU's peak (and nothing else took time).
      // peak_floor_ratio: this mode's floor over fp32's, the ratio when both run at the same fraction of the peak.
      const floorS = results[k]?.peak_floor_s as number | undefined, f32Floor = results.fp32?.peak_floor_s as number | undefined;
      if (f32 && v) {
        emit({
          bench: 'models', case: 'ratio', lr: size, config: k, vs: 'fp32', ratio: r3(v / f32), target: k === 'auto' ? 0.5 : undefined,
          ...(floorS ? { bound_at_peak: r3(floorS / f32) } : {}), ...(floorS && f32Floor ? { peak_floor_ratio: r3(floorS / f32Floor) } : {}),
        });
      }
    }
  }
  if (psnrImages > 0) {
    const imgs = fs.readdirSync(path.join(shared, 'samples')).filter((f) => /\.(png|jpg)$/.test(f)).sort().slice(0, psnrImages).map((f) => path.join(shared, 'samples', f));
    for (const l of runChild({ mode: 'psnr', role: 'vpdsr', size: psnrSize, dtype: 'fp32', layout: 'channels_last', threads: 2, repeat: 1, images: imgs })) emit(l);
  }
  const mem = { mode: 'memory', role: 'vpdsr', dtype: 'fp32', layout: 'channels_last', threads: 2, repeat: 1 } as const;
  if (memUntiled > 0) for (const l of runChild({ ...mem, size: memUntiled })) emit(l);
  if (memTiled > 0) for (const l of runChild({ ...mem, size: memTiled, maxMemory: budget })) emit(l);
  emit({ bench: 'models', end: new Date().toISOString(), load: fs.readFileSync('/proc/loadavg', 'utf8').trim() });
}

await main();
