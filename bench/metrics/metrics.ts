// bench/metrics: images/s of each metric at 512² on CPU, vpdsr beside pyiqa's own PyTorch code
// (bench/metrics/pyiqa_bench.py, run in the same command on the same images and thread count).
//
//   npm run bench:metrics -- [--n 4] [--batch 4] [--metrics psnr,ssim,…] [--pyiqa /tmp/pyiqa]
//
// Backbones are random (speed does not depend on the values). The PyTorch side needs Debian's
// python3-torch and an unpacked pyiqa tree (chaofengc/IQA-PyTorch@01ae427); without one it is
// reported as skipped. JSON lines; compare figures only within one run (shared machines).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as torch from '../../src/engine/index.js';
import { Tensor } from '../../src/engine/index.js';
import { readRgb8 } from '../../src/data/dataset.js';
import { saveSafetensors } from '../../src/io/checkpoint/tensors.js';
import { findMetric } from '../../src/metrics/index.js';
import { fidFeatures } from '../../src/metrics/fid.js';
import { AlexNetSlices, Vgg16Slices, FIDInceptionV3 } from '../../src/models/iqa/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..', '..');
const shared = process.env.VPDSR_SHARED ?? path.resolve(repo, '..', 'shared');
const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
};

const n = Number(arg('n', '4'));
const batch = Number(arg('batch', '4'));
const ids = arg('metrics', 'psnr,ssim,niqe,lpips,lpips_vgg,dists,fid').split(',');
const pyiqa = arg('pyiqa', process.env.PYIQA_SRC ?? '/tmp/pyiqa');
const data = path.join(shared, 'data', 'realsr-x4');
const names = ['Canon_001', 'Canon_002', 'Canon_003', 'Canon_004', 'Nikon_001', 'Nikon_002', 'Nikon_003', 'Nikon_004'].slice(0, n).map((s) => `${s}_LR4.png`);
const srFiles = names.map((f) => path.join(data, 'osediff-sr', f)), hrFiles = names.map((f) => path.join(data, 'hr', f));

function randomWeights(dir: string): void {
  torch.scope(() => {
    const tv = (m: AlexNetSlices | Vgg16Slices) => new Map([...m.stateDict()].map(([k, t]) => [k.replace(/^slice\d+\./, 'features.'), t]));
    const alex = new AlexNetSlices(), vgg = new Vgg16Slices(), inc = new FIDInceptionV3();
    saveSafetensors(path.join(dir, 'alexnet-owt-7be5be79.pth'), tv(alex));
    saveSafetensors(path.join(dir, 'vgg16-397923af.pth'), tv(vgg));
    saveSafetensors(path.join(dir, 'pt_inception-2015-12-05-6726825d.pth'), inc.stateDict());
    alex.dispose(); vgg.dispose(); inc.dispose();
  });
}

const line = (o: Record<string, unknown>): void => console.log(JSON.stringify(o));

async function main(): Promise<void> {
  const tmp = mkdtempSync(path.join(tmpdir(), 'vpdsr-bench-metrics-'));
  const results = new Map<string, number>();
  try {
    randomWeights(tmp);
    const weights = new Map(['alexnet-owt-7be5be79.pth', 'vgg16-397923af.pth', 'pt_inception-2015-12-05-6726825d.pth'].map((f) => [f, path.join(tmp, f)]));
    const srs: Tensor[] = [], hrs: Tensor[] = [];
    for (let i = 0; i < n; i++) { srs.push(await readRgb8(srFiles[i]!)); hrs.push(await readRgb8(hrFiles[i]!)); }
    line({ bench: 'metrics', images: n, size: '512x512', batch, threads: torch.getNumThreads(), loadavg: loadavg().map((x) => +x.toFixed(2)) });
    for (const id of ids) {
      const def = findMetric(id)!;
      let run: (a: Tensor, b: Tensor) => void;
      let dispose: () => void;
      if (id === 'fid') {
        // The per-image work of fid: PIL-bicubic resize to 299² and the Inception features.
        const inc = new FIDInceptionV3();
        inc.to({ memoryFormat: 'channels_last' });
        run = (a) => { fidFeatures(inc, a).dispose(); };
        dispose = () => inc.dispose();
      } else {
        const inst = def.create({ weights, device: 'cpu' });
        run = (a, b) => { inst.score!(a, b); };
        dispose = () => inst.dispose();
      }
      try {
        // Warm-up on a full batch (oneDNN builds its kernels per shape; the allocator fills its cache).
        torch.scope(() => run(torch.stack(srs.slice(0, batch)), torch.stack(hrs.slice(0, batch))));
        const t0 = performance.now();
        for (let i = 0; i < n; i += batch) {
          torch.scope(() => run(torch.stack(srs.slice(i, i + batch)), torch.stack(hrs.slice(i, i + batch))));
        }
        const s = (performance.now() - t0) / 1000;
        results.set(id, n / s);
        line({ side: 'vpdsr', metric: id, images: n, batch, seconds: +s.toFixed(3), images_per_s: +(n / s).toFixed(3) });
      } finally { dispose(); }
    }
    for (const t of [...srs, ...hrs]) t.dispose();
  } finally { rmSync(tmp, { recursive: true, force: true }); }

  if (!existsSync(path.join(pyiqa, 'pyiqa', 'archs', 'lpips_arch.py'))) {
    line({ side: 'pytorch', skipped: `no pyiqa source tree at ${pyiqa} (pass --pyiqa DIR: chaofengc/IQA-PyTorch@01ae427 unpacked)` });
    return;
  }
  const py = spawnSync('/usr/bin/python3', [path.join(repo, 'bench', 'metrics', 'pyiqa_bench.py'), '--pyiqa', pyiqa,
    '--images', srFiles.join(','), '--hr', hrFiles.join(','), '--niqe', path.join(shared, 'weights', 'niqe', 'modelparameters.mat'),
    '--assets', path.join(repo, 'assets'), '--metrics', ids.join(','), '--threads', String(torch.getNumThreads())], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (py.status !== 0) { line({ side: 'pytorch', error: (py.stderr || String(py.error)).trim().split('\n').slice(-1)[0] }); return; }
  for (const l of py.stdout.trim().split('\n')) {
    if (!l.startsWith('{')) continue;
    console.log(l);
    const o = JSON.parse(l) as { metric: string; images_per_s: number };
    const v = results.get(o.metric);
    if (v !== undefined) line({ metric: o.metric, vpdsr_images_per_s: +v.toFixed(3), pytorch_images_per_s: o.images_per_s, ratio: +(v / o.images_per_s).toFixed(2) });
  }
  line({ loadavg_end: loadavg().map((x) => +x.toFixed(2)) });
}

await main();
