// bench/clip: image embeddings/s of the CLIP image towers ViT-B/16 and RN50 at 224² on CPU, forward
// and forward+backward (gradient to the input, weights frozen: the ESS case), fp32 and bf16, beside
// upstream's towers in PyTorch (bench/clip/torch_ref.py running openai/CLIP clip/model.py from a
// checkout), interleaved configuration by configuration in one run. Random weights. JSON lines.
//
//   npm run bench:clip -- --clip-model /path/to/CLIP/clip/model.py [--batch 2] [--iters 2]
//        [--threads 2] [--towers ViT-B/16,RN50] [--dtypes fp32,bf16] [--passes fwd,fwd+bwd] [--out FILE]
//
// Without --clip-model (or VPDSR_CLIP_MODEL_PY) or without a Python with torch, only vpdsr rows run.
// A ratio within one run is the result: the machines are shared and absolute times move.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as torch from '../../src/engine/index.js';
import { CLIP, type CLIPConfig, toBFloat16 } from '../../src/models/clip/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..', '..');

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}

const CONFIGS: Record<string, CLIPConfig> = {
  'ViT-B/16': { embed_dim: 512, image_resolution: 224, vision_layers: 12, vision_width: 768, vision_patch_size: 16, vision_heads: 12 },
  RN50: { embed_dim: 1024, image_resolution: 224, vision_layers: [3, 4, 6, 3], vision_width: 64, vision_heads: 32 },
};

function tower(name: string, dtype: string): CLIP {
  const m = new CLIP(CONFIGS[name]!);
  const g = new torch.Generator(0);
  torch.noGrad(() => { for (const p of m.parameters()) p.normal_(0, 0.02, g); });
  m.requiresGrad_(false);
  return dtype === 'bf16' ? toBFloat16(m) : m;
}

interface Timed { times: number[]; cpu: number[] }

/** Wall and process CPU seconds of each timed run (the first run warms up and is not kept). */
function timeVpdsr(m: CLIP, pass: string, batch: number, iters: number): Timed {
  const x = torch.keep(torch.randn([batch, 3, 224, 224], { generator: new torch.Generator(1) }).to({ dtype: m.dtype }));
  const times: number[] = [], cpu: number[] = [];
  try {
    for (let i = 0; i <= iters; i++) {
      const t0 = performance.now(), c0 = process.cpuUsage();
      torch.scope(() => {
        if (pass === 'fwd') torch.noGrad(() => m.visualForward(x).embedding);
        else {
          const xi = x.clone().requiresGrad_();
          m.visualForward(xi).embedding.float().sum().backward();
        }
      });
      const c = process.cpuUsage(c0);
      if (i > 0) { times.push((performance.now() - t0) / 1000); cpu.push((c.user + c.system) / 1e6); }
    }
  } finally {
    x.dispose();
  }
  return { times, cpu };
}

class TorchRef {
  private readonly proc;
  private readonly lines: AsyncIterableIterator<string>;
  constructor(python: string, modelPy: string, threads: number) {
    this.proc = spawn(python, [path.join(repo, 'bench', 'clip', 'torch_ref.py'), modelPy, String(threads)], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, OMP_NUM_THREADS: String(threads) } });
    this.lines = createInterface({ input: this.proc.stdout! })[Symbol.asyncIterator]();
  }
  async run(cmd: object): Promise<Timed> {
    this.proc.stdin!.write(JSON.stringify(cmd) + '\n');
    const r = await this.lines.next();
    if (r.done) throw new Error('torch_ref.py ended early');
    const o = JSON.parse(r.value) as { times_s: number[]; cpu_s: number[] };
    return { times: o.times_s, cpu: o.cpu_s };
  }
  close(): void { this.proc.stdin!.end(); }
}

const median = (a: number[]): number => { const s = [...a].sort((x, y) => x - y); return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2; };
const load = (): string => os.loadavg().map((v) => v.toFixed(2)).join(' ');

async function main(): Promise<void> {
  const batch = Number(arg('batch', '2')), iters = Number(arg('iters', '2')), threads = Number(arg('threads', '2'));
  const towers = arg('towers', 'ViT-B/16,RN50').split(','), dtypes = arg('dtypes', 'fp32,bf16').split(','), passes = arg('passes', 'fwd,fwd+bwd').split(',');
  const out = arg('out', '');
  const modelPy = arg('clip-model', process.env.VPDSR_CLIP_MODEL_PY ?? '');
  const python = process.env.VPDSR_TORCH_PYTHON ?? '/usr/bin/python3';
  const emit = (o: object): void => { const s = JSON.stringify(o); console.log(s); if (out) fs.appendFileSync(out, s + '\n'); };
  torch.setNumThreads(threads);
  let ref: TorchRef | null = null;
  let why = '';
  if (!modelPy) why = 'no --clip-model (path to openai/CLIP clip/model.py)';
  else if (!fs.existsSync(modelPy)) why = `${modelPy} not found`;
  else if (spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status !== 0) why = `no torch in ${python}`;
  else ref = new TorchRef(python, modelPy, threads);
  emit({ bench: 'clip', start: new Date().toISOString(), cpu: os.cpus()[0]?.model, cores: os.cpus().length, threads, batch, iters, load: load(), pytorch: ref ? modelPy : `skipped: ${why}` });
  // img/s from the median wall time; img per CPU-second from the median process CPU time (steadier
  // on a loaded machine: time spent waiting for a core does not count)
  const rows: { tower: string; dtype: string; pass: string; vpdsr: number; vpdsrCpu: number; pytorch?: number; pytorchCpu?: number }[] = [];
  try {
    for (const t of towers) {
      for (const dtype of dtypes) {
        const m = tower(t, dtype);
        try {
          for (const pass of passes) {
            const tv = timeVpdsr(m, pass, batch, iters);
            const row: (typeof rows)[number] = { tower: t, dtype, pass, vpdsr: batch / median(tv.times), vpdsrCpu: batch / median(tv.cpu) };
            const r3 = (v: number): number => +v.toFixed(3);
            const rec: Record<string, unknown> = { bench: 'clip', tower: t, dtype, pass, batch, threads, vpdsr_times_s: tv.times.map(r3), vpdsr_cpu_s: tv.cpu.map(r3), vpdsr_img_s: r3(row.vpdsr), vpdsr_img_per_cpu_s: r3(row.vpdsrCpu) };
            if (ref) {
              const tt = await ref.run({ tower: t, dtype, pass, batch, iters });
              row.pytorch = batch / median(tt.times);
              row.pytorchCpu = batch / median(tt.cpu);
              Object.assign(rec, { pytorch_times_s: tt.times.map(r3), pytorch_cpu_s: tt.cpu.map(r3), pytorch_img_s: r3(row.pytorch), pytorch_img_per_cpu_s: r3(row.pytorchCpu), ratio: r3(row.vpdsr / row.pytorch), ratio_cpu: r3(row.vpdsrCpu / row.pytorchCpu) });
            }
            rec.load = load();
            rows.push(row);
            emit(rec);
          }
        } finally {
          m.dispose();
        }
      }
    }
  } finally {
    ref?.close();
  }
  console.error(`\n${threads} thread(s), batch ${batch}, median of ${iters}\n| tower | dtype | pass | vpdsr img/s | PyTorch img/s | ratio | vpdsr img/CPU-s | PyTorch img/CPU-s | ratio (CPU) |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |`);
  const f = (v: number | undefined): string => (v === undefined ? '–' : v.toFixed(2));
  for (const r of rows) console.error(`| ${r.tower} | ${r.dtype} | ${r.pass} | ${f(r.vpdsr)} | ${f(r.pytorch)} | ${r.pytorch ? f(r.vpdsr / r.pytorch) : '–'} | ${f(r.vpdsrCpu)} | ${f(r.pytorchCpu)} | ${r.pytorchCpu ? f(r.vpdsrCpu / r.pytorchCpu) : '–'} |`);
  console.error(`load ${load()}`);
}

await main();
