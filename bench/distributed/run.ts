// Distributed bench: the all-reduce bandwidth vpdsr's Gloo process group reaches over loopback,
// beside torch.distributed with Gloo doing the same all-reduce (bench/distributed/torch_allreduce.py,
// Debian's python3-torch) in the same run; and the time of a data-parallel training step with
// 1 process × 2 threads, 1 process × 1 thread and 2 processes × 1 thread at the same global batch;
// and the step time of `vpdsr distill` with 1 process × 2 threads and `--nproc 2` × 1 thread.
// Prints JSON lines; compare figures only within one run.
//
//   npm run bench:dist
//   node dist/bench/distributed/run.js --sizes 262144,4194304,33554432 --seconds 1.5 --steps 12
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { writeImage } from '../../src/io/image/index.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as torch from '../../src/engine/index.js';
import { freePort, launchLocal } from '../../src/cli/launch.js';

const self = fileURLToPath(import.meta.url);
const args = process.argv.slice(2);
const opt = (n: string, d: string): string => { const i = args.indexOf(`--${n}`); return i >= 0 && args[i + 1] ? args[i + 1]! : d; };
const SIZES = opt('sizes', '262144,4194304,33554432').split(',').map(Number);
const SECONDS = Number(opt('seconds', '1.5'));
const STEPS = Number(opt('steps', '12'));
const GLOBAL_BATCH = 8;

function out(o: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(o) + '\n');
}

// ---- workers ---------------------------------------------------------------------------------------

async function allReduceWorker(): Promise<void> {
  const pg = await torch.distributed.initProcessGroup({ timeoutMs: 120000 });
  for (const bytes of SIZES) {
    const t = torch.ones([bytes / 4]);
    for (let i = 0; i < 3; i++) await pg.allReduce(t);
    // Every rank runs the same number of iterations: rank 0 decides and broadcasts it.
    const n = torch.tensor([0], { dtype: 'int64' });
    const t0one = performance.now();
    await pg.allReduce(t);
    const one = (performance.now() - t0one) / 1000;
    if (pg.rank === 0) {
      n.copy_(torch.tensor([Math.max(3, Math.min(200, Math.floor(SECONDS / Math.max(one, 1e-6))))], { dtype: 'int64' }));
    }
    await pg.broadcast(n, 0);
    await pg.barrier();
    const iters = Number(n.item());
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) await pg.allReduce(t);
    const s = (performance.now() - t0) / 1000 / iters;
    if (pg.rank === 0) {
      const algbw = bytes / s / 1e9;
      out({ bench: 'allreduce', impl: 'vpdsr-gloo', world: pg.worldSize, bytes, iters, ms: s * 1000, algbw_GBps: algbw, busbw_GBps: (algbw * 2 * (pg.worldSize - 1)) / pg.worldSize });
    }
    t.dispose(); n.dispose();
  }
  await pg.destroy();
}

/** A small conv net's training step (forward, backward, gradient all-reduce, AdamW) at a fixed global batch. */
async function stepWorker(): Promise<void> {
  const pg = process.env.WORLD_SIZE ? await torch.distributed.initProcessGroup({ timeoutMs: 120000 }) : null;
  const ws = pg?.worldSize ?? 1;
  torch.manualSeed(1);
  const { Conv2d, SiLU, Sequential, DataParallel } = torch.nn;
  const net = new Sequential(new Conv2d(3, 64, 3, { padding: 1 }), new SiLU(), new Conv2d(64, 64, 3, { padding: 1 }), new SiLU(),
    new Conv2d(64, 64, 3, { padding: 1 }), new SiLU(), new Conv2d(64, 3, 3, { padding: 1 }));
  const dp = pg ? new DataParallel(pg, net) : null;
  await dp?.syncParameters();
  const opt = new torch.optim.AdamW(net.parameters(), { lr: 1e-4 });
  const local = GLOBAL_BATCH / ws;
  const x = torch.randn([local, 3, 64, 64]), y = torch.randn([local, 3, 64, 64]);
  const times: number[] = [];
  let reduceMs = 0;
  for (let s = 0; s < STEPS + 2; s++) {
    const t0 = performance.now();
    torch.scope(() => {
      opt.zeroGrad();
      torch.mseLoss(net.forward(x), y).backward();
    });
    const t1 = performance.now();
    await dp?.reduceGradients();
    if (s >= 2) reduceMs += performance.now() - t1;
    torch.scope(() => opt.step());
    if (s >= 2) times.push(performance.now() - t0);
  }
  if ((pg?.rank ?? 0) === 0) {
    times.sort((a, b) => a - b);
    out({ bench: 'train_step', model: 'conv 3-64-64-64-3 @64x64', globalBatch: GLOBAL_BATCH, procs: ws, threadsPerProc: torch.getNumThreads(),
      params: net.parameters().reduce((a, p) => a + p.numel, 0), steps: STEPS, median_ms: times[times.length >> 1], allreduce_ms_per_step: reduceMs / STEPS });
  }
  await pg?.destroy();
}

// ---- the distillation command -------------------------------------------------------------------

const vpdsrBin = path.join(path.dirname(self), '../../../bin/vpdsr.js');

function vpdsr(cmd: string[]): void {
  const r = spawnSync(process.execPath, [vpdsrBin, ...cmd, '-q'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`vpdsr ${cmd.join(' ')} failed`);
}

/** Median seconds between consecutive train records of a run's log, the first two steps left out. */
function stepSeconds(out: string): number {
  const t = readFileSync(path.join(out, 'train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; time: number })
    .filter((r) => r.type === 'train').map((r) => r.time);
  const d = t.slice(3).map((x, i) => x - t[i + 2]!).sort((a, b) => a - b);
  return d[d.length >> 1]!;
}

/**
 * `vpdsr distill` (distil + adversarial terms, discriminator heads) on a small pixel-space UNet at
 * a global batch of 4: 1 process × 2 threads against `--nproc 2` with 1 thread each.
 */
async function distillBench(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'vpdsr-bench-dist-'));
  try {
    const hr = path.join(dir, 'hr'), lr = path.join(dir, 'lr');
    mkdirSync(hr); mkdirSync(lr);
    for (let i = 0; i < 8; i++) {
      const [h, l] = torch.scope(() => {
        const h = torch.rand([1, 3, 32, 32], { generator: new torch.Generator(i) });
        return [torch.keep(h.squeeze(0)), torch.keep(torch.avgPool2d(h, 4, { stride: 4 }).squeeze(0))];
      });
      await writeImage(path.join(hr, `p${i}.png`), h!); await writeImage(path.join(lr, `p${i}.png`), l!);
      h!.dispose(); l!.dispose();
    }
    const unet = { image_size: 32, in_channels: 3, model_channels: 32, out_channels: 3, num_res_blocks: [1, 1, 1], attention_resolutions: [],
      channel_mult: [1, 2, 2], lq_size: 32, norm_groups: 8, middle_attention: false, use_scale_shift_norm: true };
    const schedule = { steps: 4, kappa: 2.0, power: 0.3, minNoiseLevel: 0.2, etasEnd: 0.99, etasStart: 'journal' };
    const common = { seed: 1, log: { every: 1 }, data: { pairs: { hr, lr }, crop: 32, batch: 4, workers: 0 }, optim: { lr: 1e-4, warmup: 1 } };
    const write = (name: string, o: Record<string, unknown>): string => {
      const f = path.join(dir, `${name}.json`);
      writeFileSync(f, JSON.stringify({ ...common, out: path.join(dir, name), ...o }));
      return f;
    };
    vpdsr(['train-teacher', '--config', write('teacher', { kind: 'teacher', iterations: 1, threads: 2, space: 'pixel', schedule, unet })]);
    const distillCfg = (name: string, threads: number): string => write(name, {
      kind: 'distill', iterations: STEPS + 3, threads, teacher: path.join(dir, 'teacher', 'model'), losses: { distill: 1, adv: 0.02 }, heads: { width: 16, groups: 8 },
    });
    const runs: [string, number, string[]][] = [['p1t2', 2, []], ['p2t1', 1, ['--nproc', '2']]];
    for (const [name, threads, extra] of runs) {
      vpdsr(['distill', '--config', distillCfg(name, threads), ...extra]);
      out({ bench: 'distill_step', model: 'pixel UNet 32-64-64 @32x32, T=4, distill+adv', globalBatch: 4, procs: extra.length ? 2 : 1, threadsPerProc: threads,
        steps: STEPS, median_ms: stepSeconds(path.join(dir, name)) * 1000, loadavg: loadavg() });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- driver ----------------------------------------------------------------------------------------

function runPython(port: number): Promise<void> {
  const py = '/usr/bin/python3';
  const script = path.join(path.dirname(self), '../../../bench/distributed/torch_allreduce.py');
  if (!existsSync(py) || spawnSync(py, ['-c', 'import torch.distributed as d; assert d.is_available()']).status !== 0) {
    out({ bench: 'allreduce', impl: 'torch.distributed-gloo', skipped: 'no /usr/bin/python3 with torch.distributed (python3-torch)' });
    return Promise.resolve();
  }
  const kids = [0, 1].map((rank) => spawn(py, [script, SIZES.join(','), String(SECONDS)], {
    env: { ...process.env, MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), WORLD_SIZE: '2', RANK: String(rank), OMP_NUM_THREADS: '1' },
    stdio: ['ignore', rank === 0 ? 'inherit' : 'ignore', 'inherit'],
  }));
  return Promise.all(kids.map((k) => new Promise<void>((resolve) => k.on('exit', () => resolve())))).then(() => undefined);
}

async function main(): Promise<void> {
  const mode = process.env.VPDSR_BENCH_DIST;
  if (mode === 'allreduce') return allReduceWorker();
  if (mode === 'step') return stepWorker();
  out({ bench: 'env', loadavg: loadavg(), node: process.version, libtorch: torch.buildConfig().version, cores: torch.availableCores() });
  await launchLocal({ nproc: 2, argv: [process.execPath, self, ...args], threadsPerProc: 1, env: { VPDSR_BENCH_DIST: 'allreduce' } });
  await runPython(await freePort());
  for (const threads of [2, 1]) {
    const r = spawnSync(process.execPath, [self, ...args], { env: { ...process.env, VPDSR_BENCH_DIST: 'step', VPDSR_THREADS: String(threads), WORLD_SIZE: '' }, stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) throw new Error(`step bench with ${threads} threads failed`);
  }
  await launchLocal({ nproc: 2, argv: [process.execPath, self, ...args], threadsPerProc: 1, env: { VPDSR_BENCH_DIST: 'step' } });
  await distillBench();
  out({ bench: 'env', loadavg_end: loadavg() });
}

main().then(() => process.exit(0), (e: Error) => { process.stderr.write(`bench: ${e.message}\n`); process.exit(1); });
