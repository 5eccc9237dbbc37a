// bench/models/profile: where the one-step pipeline spends its time, per part and per ATen op.
//
//   node dist/bench/models/profile.js [--size 64] [--dtype fp32|bf16] [--layout channels_last|contiguous]
//                                     [--threads 2] [--repeat 1] [--ops 1] [--top 25]
//
// Full-size architecture, random weights (seeded), one untiled one-step run at S²→(4S)² after a
// warm-up. With --ops 1 every boxed dispatcher call is timed and counted per operator name, and
// 4-D outputs that come back in NCHW (not channels-last) in a channels-last run are counted per
// operator: those are silent layout flips. The instrumentation wraps the addon object's callId
// in this process only (a dev tool; nothing in src/ is touched) and costs ~1 µs per call.
// Each op's FLOP (convolutions and matrix products, from the call's shapes: flops.ts) give its
// achieved GFLOP/s, and each part's its GFLOP and GFLOP/s. Each op's CPU seconds (all threads)
// are given too, and GFLOP per CPU-second: with other jobs on the machine, wall time mostly
// measures them; CPU time much less so (2 threads at full speed: GFLOP/s = 2 × GFLOP per cpu-s).
// Timings are wall clock of synchronous CPU ops; compare variants only within one run.
import * as fs from 'node:fs';
import { native } from '../../src/native/binding.js';
import { callFlops } from './flops.js';
import * as torch from '../../src/engine/index.js';
import { UNetModelSwin, RELEASED_UNET } from '../../src/models/unet/index.js';
import { VQModelTorch, VQ_F4 } from '../../src/models/vq/index.js';
import { getPreset } from '../../src/models/presets.js';
import { presetModelJson } from '../../src/models/convert.js';
import { partsFromModel, fixedNoise, runTileStages, type DiffusionParts, type PipelineDType } from '../../src/models/index.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}

const size = Number(arg('size', '64'));
const dtype = arg('dtype', 'fp32') as PipelineDType;
const layout = arg('layout', 'channels_last') as 'channels_last' | 'contiguous';
const threads = Number(arg('threads', '2'));
const repeat = Number(arg('repeat', '1'));
const withOps = arg('ops', '1') === '1';
const top = Number(arg('top', '25'));
// --detail OP: that operator's rows are split by the first argument's shape and layout.
const detail = arg('detail', '');

type Part = 'encode' | 'unet' | 'decode' | 'other';
let part: Part = 'other';
interface OpStat { calls: number; ms: number; cpuMs: number; nchwOut: number; flop: number }
const stats = new Map<string, OpStat>(); // key: part/op
const names = new Map<number, string>();
let recording = false;

if (withOps) {
  const n = native as unknown as { opId: (a: string, b: string) => number; callId: (id: number, args: unknown[], discard?: boolean) => unknown };
  const opId = n.opId.bind(native), callId = n.callId.bind(native);
  n.opId = (a, b) => { const id = opId(a, b); names.set(id, `${a.replace('aten::', '')}.${b}`); return id; };
  n.callId = (id, args, discard) => {
    if (!recording) return callId(id, args, discard);
    const t0 = performance.now(), c0 = process.cpuUsage();
    const r = callId(id, args, discard);
    const dt = performance.now() - t0, cu = process.cpuUsage(c0);
    let op = names.get(id) ?? String(id);
    if (op === detail && typeof args[0] === 'number') {
      const [, sh] = native.info(args[0]);
      op += ` [${sh.join('x')}]${native.isContiguous(args[0], false) ? ' nchw' : native.isContiguous(args[0], true) ? ' cl' : ' strided'}`;
    }
    const key = `${part}\t${op}`;
    let s = stats.get(key);
    if (!s) stats.set(key, s = { calls: 0, ms: 0, cpuMs: 0, nchwOut: 0, flop: 0 });
    s.calls++; s.ms += dt; s.cpuMs += (cu.user + cu.system) / 1000;
    s.flop += callFlops(names.get(id) ?? '', args, r);
    if (layout === 'channels_last' && typeof r === 'number') {
      const [, shape] = native.info(r);
      if (shape.length === 4 && shape[1]! > 1 && shape[2]! * shape[3]! > 1 && !native.isContiguous(r, true)) s.nchwOut++;
    }
    return r;
  };
}

torch.setNumThreads(threads);
torch.manualSeed(1234);
const unet = new UNetModelSwin(RELEASED_UNET);
const vq = new VQModelTorch(VQ_F4);
const json = presetModelJson(getPreset('sinsr-v1'), [], 'profile');
const parts = partsFromModel({ json, unet: unet.eval(), vq: vq.eval() }, { device: 'cpu', dtype, layout });

const times: Record<Part, number> = { encode: 0, unet: 0, decode: 0, other: 0 };
// CPU time (user + system, all threads) per part: on a machine shared with other jobs it moves far
// less than wall time, so variants compare better by it (OpenMP threads sleep while waiting).
const cpu: Record<Part, number> = { encode: 0, unet: 0, decode: 0, other: 0 };
const cpuMs = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const timed = <A extends unknown[]>(k: Part, f: (...a: A) => torch.Tensor) => (...a: A): torch.Tensor => {
  const prev = part; part = k;
  const t0 = performance.now(), c0 = cpuMs();
  try { return f(...a); } finally { times[k] += performance.now() - t0; cpu[k] += cpuMs() - c0; part = prev; }
};
const p: DiffusionParts = {
  ...parts,
  codec: { encode: timed('encode', (x: torch.Tensor) => parts.codec.encode(x)), decode: timed('decode', (z: torch.Tensor) => parts.codec.decode(z)) },
  denoise: timed('unet', (x: torch.Tensor, t: torch.Tensor, lq: torch.Tensor) => parts.denoise(x, t, lq)),
};
const lr = torch.keep(torch.scope(() => torch.rand([1, 3, size, size], { generator: new torch.Generator(3) }).sub(0.5).div(0.5)));
let cpuTotal = 0;
const run = (): number => torch.scope(() => {
  const noise = torch.randn([1, 3, size, size], { generator: new torch.Generator(7) });
  const t0 = performance.now(), c0 = cpuMs();
  runTileStages(p, lr, fixedNoise([noise], 'cpu', 1));
  cpuTotal = cpuMs() - c0;
  return performance.now() - t0;
});
run(); // warm-up: oneDNN primitive caches, allocator, first-touch pages
const rows: Record<string, number>[] = [];
for (let i = 0; i < repeat; i++) {
  times.encode = times.unet = times.decode = times.other = 0;
  cpu.encode = cpu.unet = cpu.decode = cpu.other = 0;
  stats.clear();
  recording = withOps;
  const a0 = torch.allocatorStats();
  const total = run();
  const a1 = torch.allocatorStats();
  recording = false;
  // Misses of the caching allocator in a warm run: fresh memory the OS faults in page by page.
  rows.push({ total, ...times, cpu_encode: cpu.encode, cpu_unet: cpu.unet, cpu_decode: cpu.decode, cpu_total: cpuTotal, alloc_misses: a1.misses - a0.misses, alloc_hits: a1.hits - a0.hits });
}
const best = rows.reduce((a, b) => (b.total! < a.total! ? b : a));
const s3 = (ms: number): number => Math.round(ms) / 1000;
process.stdout.write(JSON.stringify({
  profile: 'one-step', lr: size, sr: 4 * size, dtype, layout, threads, ops: withOps,
  encode_s: s3(best.encode!), unet_s: s3(best.unet!), decode_s: s3(best.decode!), total_s: s3(best.total!),
  cpu_encode_s: s3(best.cpu_encode!), cpu_unet_s: s3(best.cpu_unet!), cpu_decode_s: s3(best.cpu_decode!), cpu_total_s: s3(best.cpu_total!),
  all_totals_s: rows.map((r) => s3(r.total!)), alloc_hits: best.alloc_hits, alloc_misses: best.alloc_misses, peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  load: fs.readFileSync('/proc/loadavg', 'utf8').trim(),
}) + '\n');
if (withOps) {
  for (const pt of ['encode', 'unet', 'decode', 'other'] as Part[]) {
    const rowsP = [...stats.entries()].filter(([k]) => k.startsWith(pt + '\t')).map(([k, s]) => ({ op: k.split('\t')[1]!, ...s }));
    rowsP.sort((a, b) => b.ms - a.ms);
    const sum = rowsP.reduce((a, r) => a + r.ms, 0);
    const flop = rowsP.reduce((a, r) => a + r.flop, 0);
    const partMs = best[pt]!;
    process.stdout.write(`\n[${pt}] ${rowsP.length} ops, ${s3(sum)} s in calls, ${(flop / 1e9).toFixed(1)} GFLOP, ${partMs > 0 ? (flop / 1e6 / partMs).toFixed(0) : '-'} GFLOP/s over the part\n`);
    for (const r of rowsP.slice(0, top)) {
      process.stdout.write(`  ${r.op.padEnd(34)} ${String(r.calls).padStart(6)} calls ${(r.ms / 1000).toFixed(3).padStart(8)} s ${((100 * r.ms) / Math.max(sum, 1e-9)).toFixed(1).padStart(5)}% cpu ${(r.cpuMs / 1000).toFixed(3).padStart(8)} s${r.flop > 0 ? `${(r.flop / 1e9).toFixed(1).padStart(8)} GFLOP ${(r.flop / 1e6 / r.ms).toFixed(0).padStart(4)} GFLOP/s ${(r.flop / 1e6 / r.cpuMs).toFixed(0).padStart(4)} per cpu-s` : ''}${r.nchwOut ? `  NCHW-out ${r.nchwOut}` : ''}\n`);
    }
  }
}
lr.dispose();
parts.dispose();
