// bench/models: the one-step SR pipeline with the full-size architecture (random weights), JSON lines.
//
//   node bench/models/run.js [--sizes 64,128] [--repeat 1] [--psnr-images 3] [--psnr-size 96] [--out FILE]
//
// Each configuration runs in its own child process (so peak RSS is its own). Per configuration:
// the time of the VQ encode, the UNet call and the VQ decode of an untiled one-step run at
// S²→(4S)², after one warm-up run at the same size. Configurations, all in the same run:
//   vpdsr     fp32, channels-last, 2 threads (the default pipeline)
//   vpdsr     bf16, channels-last, 2 threads
//   vpdsr     auto (bf16 with precision.ts's fp32 modules), channels-last, 2 threads
//   baseline  fp32, contiguous NCHW, 1 thread — the reference's settings (upstream runs these
//             same LibTorch kernels from PyTorch in NCHW; OpenMP gives one thread here)
// then the PSNR of bf16 and auto against fp32 output (8-bit) on crops of ../shared/samples.
// A ratio within one run is the result: these machines are shared and absolute times move.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import * as torch from '../../src/engine/index.js';
import { Tensor } from '../../src/engine/index.js';
import { UNetModelSwin, RELEASED_UNET } from '../../src/models/unet/index.js';
import { VQModelTorch, VQ_F4 } from '../../src/models/vq/index.js';
import { getPreset } from '../../src/models/presets.js';
import { presetModelJson } from '../../src/models/convert.js';
import { partsFromModel, DiffusionUpscaler, fixedNoise, runTileStages, type DiffusionParts, type PipelineDType } from '../../src/models/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..', '..');
const shared = process.env.VPDSR_SHARED ?? path.resolve(repo, '..', 'shared');

interface ChildConfig {
  mode: 'time' | 'psnr';
  role: 'vpdsr' | 'baseline';
  size: number;
  dtype: PipelineDType;
  layout: 'channels_last' | 'contiguous';
  threads: number;
  repeat: number;
  images?: string[];
}

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}

/** A full-size model with random weights (seeded), as the pipeline will use it. */
function randomParts(c: ChildConfig): DiffusionParts {
  torch.manualSeed(1234);
  const unet = new UNetModelSwin(RELEASED_UNET);
  const vq = new VQModelTorch(VQ_F4);
  const json = presetModelJson(getPreset('sinsr-v1'), [], 'bench');
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

async function child(c: ChildConfig): Promise<void> {
  torch.setNumThreads(c.threads);
  const parts = randomParts(c);
  if (c.mode === 'psnr') {
    const fp = parts;
    const upF = new DiffusionUpscaler(fp);
    // The reduced-precision modes against fp32, on the same weights and noise.
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
    return;
  }
  const times = { encode: 0, unet: 0, decode: 0 };
  const timed = <A extends unknown[]>(k: keyof typeof times, f: (...a: A) => Tensor) => (...a: A): Tensor => {
    const t0 = performance.now();
    const y = f(...a); // CPU ops are synchronous: the time is the op's
    times[k] += (performance.now() - t0) / 1000;
    return y;
  };
  const p: DiffusionParts = {
    ...parts,
    codec: { encode: timed('encode', (x: Tensor) => parts.codec.encode(x)), decode: timed('decode', (z: Tensor) => parts.codec.decode(z)) },
    denoise: timed('unet', (x: Tensor, t: Tensor, lq: Tensor) => parts.denoise(x, t, lq)),
  };
  const lr = await crop(path.join(shared, 'samples', 'astronaut.png'), c.size);
  const run = (): number => torch.scope(() => {
    const noise = torch.randn([1, 3, c.size, c.size], { generator: new torch.Generator(7) });
    const t0 = performance.now();
    runTileStages(p, lr.sub(0.5).div(0.5), fixedNoise([noise], 'cpu', 1));
    return (performance.now() - t0) / 1000;
  });
  run(); // warm-up: first-touch pages, oneDNN primitive caches, allocator
  const rows: { total: number; encode: number; unet: number; decode: number }[] = [];
  for (let i = 0; i < c.repeat; i++) {
    times.encode = times.unet = times.decode = 0;
    const total = run();
    rows.push({ total, ...times });
  }
  const best = rows.reduce((a, b) => (b.total < a.total ? b : a));
  const rssMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(JSON.stringify({
    bench: 'models', case: 'one-step', role: c.role, lr: c.size, sr: 4 * c.size, dtype: c.dtype, layout: c.layout, threads: c.threads,
    vq_encode_s: r3(best.encode), unet_s: r3(best.unet), vq_decode_s: r3(best.decode), total_s: r3(best.total),
    all_totals_s: rows.map((r) => r3(r.total)), load: fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    other_s: r3(best.total - best.encode - best.unet - best.decode), repeats: c.repeat, peak_rss_mb: Math.round(rssMb),
  }) + '\n');
  lr.dispose();
  parts.dispose();
}

const r3 = (x: number): number => Math.round(x * 1000) / 1000;

function runChild(c: ChildConfig): Record<string, unknown>[] {
  // OMP_WAIT_POLICY=PASSIVE (--omp-wait passive, the default here): on these shared 2-core machines
  // a spinning OpenMP team with one thread descheduled made 2-thread runs 2–6× slower than 1 thread.
  const wait = arg('omp-wait', 'passive');
  const env: NodeJS.ProcessEnv = { ...process.env, OMP_NUM_THREADS: String(c.threads) };
  if (wait === 'passive') env.OMP_WAIT_POLICY = 'PASSIVE';
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', JSON.stringify(c)], { encoding: 'utf8', maxBuffer: 1 << 24, env });
  if (r.status !== 0) {
    const err = (r.stderr || '').split('\n').find((l) => /Error|error:/.test(l)) ?? (r.stderr || '').trim().split('\n').slice(-1)[0];
    const line = { bench: 'models', error: `child ${JSON.stringify(c)} failed (status ${r.status}, signal ${r.signal}): ${err}` };
    return [line];
  }
  return r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function main(): Promise<void> {
  const ci = process.argv.indexOf('--child');
  if (ci >= 0) { await child(JSON.parse(process.argv[ci + 1]!) as ChildConfig); return; }
  const sizes = arg('sizes', '64,128').split(',').map(Number);
  const repeat = Number(arg('repeat', '1'));
  const psnrImages = Number(arg('psnr-images', '3'));
  const psnrSize = Number(arg('psnr-size', '128'));
  const out = arg('out', '');
  const only = arg('only', 'fp32,bf16,auto,baseline').split(',');
  const lines: Record<string, unknown>[] = [];
  const emit = (l: Record<string, unknown>): void => {
    lines.push(l);
    process.stdout.write(JSON.stringify(l) + '\n');
    if (out) fs.appendFileSync(out, JSON.stringify(l) + '\n');
  };
  emit({ bench: 'models', start: new Date().toISOString(), cpu: torch.cpuFeatures(), blas: torch.blasLibrary(), cores: torch.availableCores(), omp_wait: arg('omp-wait', 'passive'), load: fs.readFileSync('/proc/loadavg', 'utf8').trim() });
  for (const size of sizes) {
    const results: Record<string, Record<string, unknown>> = {};
    for (const [key, cfg] of [
      ['fp32', { role: 'vpdsr', dtype: 'fp32', layout: 'channels_last', threads: 2 }],
      ['bf16', { role: 'vpdsr', dtype: 'bf16', layout: 'channels_last', threads: 2 }],
      ['auto', { role: 'vpdsr', dtype: 'auto', layout: 'channels_last', threads: 2 }],
      ['baseline', { role: 'baseline', dtype: 'fp32', layout: 'contiguous', threads: 1 }],
    ] as const) {
      if (!only.includes(key)) continue;
      const [r] = runChild({ mode: 'time', size, repeat, ...cfg });
      emit(r!);
      results[key] = r!;
    }
    // The mixed-precision mode against vpdsr's own fp32 (target ≤ 0.5×).
    const f32 = results.fp32?.total_s as number | undefined;
    for (const k of ['bf16', 'auto']) {
      const v = results[k]?.total_s as number | undefined;
      if (f32 && v) emit({ bench: 'models', case: 'ratio', lr: size, config: k, vs: 'fp32', ratio: r3(v / f32), target: k === 'auto' ? 0.5 : undefined });
    }
    const base = results.baseline?.total_s as number | undefined;
    if (base) {
      for (const k of ['fp32', 'bf16']) {
        const v = results[k]?.total_s as number | undefined;
        if (v) emit({ bench: 'models', case: 'ratio', lr: size, config: k, vs: 'baseline', ratio: r3(v / base), target: k === 'fp32' ? 0.25 : undefined });
      }
    }
  }
  if (psnrImages > 0) {
    const imgs = fs.readdirSync(path.join(shared, 'samples')).filter((f) => /\.(png|jpg)$/.test(f)).sort().slice(0, psnrImages).map((f) => path.join(shared, 'samples', f));
    for (const l of runChild({ mode: 'psnr', role: 'vpdsr', size: psnrSize, dtype: 'fp32', layout: 'channels_last', threads: 2, repeat: 1, images: imgs })) emit(l);
  }
  emit({ bench: 'models', end: new Date().toISOString(), load: fs.readFileSync('/proc/loadavg', 'utf8').trim() });
}

await main();
