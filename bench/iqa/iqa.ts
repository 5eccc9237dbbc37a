// bench/iqa: images/s and peak RSS of the no-reference metric networks at 512² on the CPU, fp32,
// vpdsr beside the same pyiqa networks in PyTorch, JSON lines.
//
//   node bench/iqa/run.js [--metrics musiq,maniqa] [--size 512] [--threads 2] [--repeat 1]
//                         [--warmup W] [--upstream /tmp/iqa-ref] [--python /usr/bin/python3] [--out FILE]
//
// Every (metric, engine) runs in its own child process, so peak RSS is its own. Weights are random
// (seeded; the cost does not depend on them), built in memory. The PyTorch side is
// bench/iqa/torch_bench.py on Debian's python3-torch with pyiqa's arch files from an upstream
// checkout (--upstream, see scripts/ref/pyiqa_shim.py); without it those lines say "skipped".
// Variants of a family share their network: musiq-spaq and musiq-paq2piq cost what musiq costs,
// maniqa-kadid and maniqa-pipal what maniqa costs (only a head width or a residual scale differs).
// Compare figures within one run only: the machine is shared.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as torch from '../../src/engine/index.js';
import { MUSIQ, MUSIQ_DEFAULT, MANIQA, MANIQA_DEFAULT, MANIQA_SCALE, iqaMetric, type ManiqaVariant } from '../../src/models/iqa/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..', '..');

interface Child { metric: string; size: number; threads: number; repeat: number; warmup: number }

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}

/** One configuration, in this (child) process: a JSON line. */
function runChild(c: Child): string {
  torch.setNumThreads(c.threads);
  torch.manualSeed(1234);
  const info = iqaMetric(c.metric);
  const img = torch.rand([1, 3, c.size, c.size], { generator: new torch.Generator(7) });
  let run: () => number;
  let dispose: () => void;
  if (info.family === 'musiq') {
    const m = new MUSIQ({ ...MUSIQ_DEFAULT, num_class: info.variant === 'ava' ? 10 : 1 }).eval();
    run = () => torch.noGrad(() => torch.scope(() => m.forward(img).score.item()));
    dispose = () => m.dispose();
  } else if (info.family === 'maniqa') {
    const m = new MANIQA({ ...MANIQA_DEFAULT, scale: MANIQA_SCALE[info.variant as ManiqaVariant] }).eval();
    run = () => torch.noGrad(() => torch.scope(() => m.forward(img).item()));
    dispose = () => m.dispose();
  } else {
    throw new Error(`${c.metric}: not benchmarked here`);
  }
  for (let i = 0; i < c.warmup; i++) run();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < c.repeat; i++) run();
  const sec = Number(process.hrtime.bigint() - t0) / 1e9;
  dispose();
  return JSON.stringify({
    bench: 'iqa', engine: 'vpdsr', metric: c.metric, size: c.size, dtype: 'float32', threads: c.threads, images: c.repeat, warmup: c.warmup,
    seconds: +sec.toFixed(3), images_per_s: +(c.repeat / sec).toFixed(4), peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  });
}

export function benchIqa(): string[] {
  const childArg = arg('child', '');
  if (childArg) return [runChild(JSON.parse(childArg) as Child)];
  const metrics = arg('metrics', 'musiq,maniqa').split(',').filter(Boolean);
  const size = Number(arg('size', '512')), threads = Number(arg('threads', '2')), repeat = Number(arg('repeat', '1'));
  const upstream = arg('upstream', '/tmp/iqa-ref'), python = arg('python', '/usr/bin/python3');
  const lines: string[] = [JSON.stringify({ bench: 'iqa', host: os.hostname(), cpus: os.cpus().length, loadavg: os.loadavg().map((x) => +x.toFixed(2)), date: new Date().toISOString() })];
  for (const metric of metrics) {
    const fam = iqaMetric(metric).family;
    const warmup = Number(arg('warmup', fam === 'maniqa' ? '0' : '1'));
    const c: Child = { metric, size, threads, repeat, warmup };
    const r = spawnSync(process.execPath, [path.join(repo, 'bench', 'iqa', 'run.js'), '--child', JSON.stringify(c)], { encoding: 'utf8', maxBuffer: 1 << 24 });
    lines.push(r.status === 0 ? r.stdout.trim().split('\n').pop()! : JSON.stringify({ bench: 'iqa', engine: 'vpdsr', metric, error: (r.stderr || r.stdout).trim().split('\n').pop() }));
    console.error(lines[lines.length - 1]);
    if (!fs.existsSync(path.join(upstream, 'pyiqa')) || !fs.existsSync(path.join(upstream, 'timm'))) {
      lines.push(JSON.stringify({ bench: 'iqa', engine: 'pytorch', metric, skipped: `no upstream trees at ${upstream} (see scripts/ref/pyiqa_shim.py)` }));
      continue;
    }
    const py = spawnSync(python, [path.join(repo, 'bench', 'iqa', 'torch_bench.py'), '--upstream', upstream, '--metric', metric, '--size', String(size),
      '--threads', String(threads), '--repeat', String(repeat), '--warmup', String(warmup)], { encoding: 'utf8', maxBuffer: 1 << 24 });
    lines.push(py.status === 0 ? py.stdout.trim().split('\n').pop()! : JSON.stringify({ bench: 'iqa', engine: 'pytorch', metric, error: (py.stderr || py.stdout).trim().split('\n').pop() }));
    console.error(lines[lines.length - 1]);
  }
  lines.push(JSON.stringify({ bench: 'iqa', loadavg_end: os.loadavg().map((x) => +x.toFixed(2)) }));
  const out = arg('out', '');
  if (out) {
    const tmp = `${out}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, lines.join('\n') + '\n');
    fs.renameSync(tmp, out);
  }
  return lines;
}
