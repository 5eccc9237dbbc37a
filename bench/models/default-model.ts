// The bundled model's speed and memory (JSON lines), each case in a process of its own so that
// peak RSS (VmHWM) is the case's:
//
//   npm run bench:default [-- --sizes 128,512 --dtypes fp32,bf16,auto --threads 2 --repeat 3 --ujs /tmp/ujs]
//
// Per case: model load, then `repeat` upscales of a sample-photo crop of LR size s (→ 4s) with the
// pipeline's default tiling (none at 128², tiles at 512²), median seconds. --ujs DIR also times
// UpscalerJS's esrgan-slim/medium on the tfjs wasm backend in the same run (scripts/dev/upscalerjs.mjs).
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import * as torch from '../../src/engine/index.js';
import { loadUpscaler, bundledModelDir, DEFAULT_TILE, type PipelineDType } from '../../src/models/index.js';
import { colorFixFromInput } from '../../src/models/colorfix.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..', '..');

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}
const load = (): string => fs.readFileSync('/proc/loadavg', 'utf8').trim();
const hwmMiB = (): number => Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;

async function child(c: { size: number; dtype: PipelineDType; threads: number; repeat: number; model: string }): Promise<void> {
  torch.setNumThreads(c.threads);
  const { data } = await sharp(path.join(root, 'samples', 'coffee.png')).resize(c.size, c.size, { fit: 'cover' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const lr = torch.fromBytes(new Uint8Array(data), 'uint8', [c.size, c.size, 3]).permute(2, 0, 1).unsqueeze(0).float().div(255).contiguous();
  const t0 = performance.now();
  const up = loadUpscaler({ model: c.model, dtype: c.dtype });
  const loadS = (performance.now() - t0) / 1000;
  // The CLI's default tile on CPU: whole image up to the tile size, tiles above.
  const tile = c.size > DEFAULT_TILE.cpu ? DEFAULT_TILE.cpu : 0;
  const times: number[] = [];
  for (let i = 0; i < c.repeat; i++) {
    const t1 = performance.now();
    // The model folder's colour fix (what `vpdsr upscale` runs by default) is part of the time.
    torch.scope(() => {
      const y = up.upscale(lr, { seed: 1, tile, tileOverlap: DEFAULT_TILE.overlap });
      if (up.colorFix) colorFixFromInput(up.colorFix, y, lr);
    });
    times.push((performance.now() - t1) / 1000);
  }
  times.sort((a, b) => a - b);
  process.stdout.write(JSON.stringify({ bench: 'default-model', model: path.basename(c.model), lr: c.size, sr: 4 * c.size, dtype: c.dtype, threads: c.threads, tile, color_fix: up.colorFix ?? null, load_s: Number(loadS.toFixed(2)), seconds_median: Number(times[times.length >> 1]!.toFixed(3)), seconds: times.map((t) => Number(t.toFixed(3))), peak_rss_mib: Math.round(hwmMiB()), load: load() }) + '\n');
}

async function main(): Promise<void> {
  const ci = process.argv.indexOf('--child');
  if (ci >= 0) { await child(JSON.parse(process.argv[ci + 1]!)); return; }
  const model = arg('model', bundledModelDir() ?? '');
  if (!model) throw new Error('no bundled model (models/vpdsr-x4) and no --model DIR');
  const threads = Number(arg('threads', '2')), repeat = Number(arg('repeat', '3'));
  process.stdout.write(JSON.stringify({ bench: 'default-model', start: new Date().toISOString(), cores: torch.availableCores(), load: load() }) + '\n');
  for (const size of arg('sizes', '128,512').split(',').map(Number)) {
    for (const dtype of arg('dtypes', 'fp32,bf16,auto').split(',')) {
      const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', JSON.stringify({ size, dtype, threads, repeat: size >= 512 ? Math.min(repeat, 2) : repeat, model })], { encoding: 'utf8' });
      process.stdout.write(r.status === 0 ? r.stdout : JSON.stringify({ bench: 'default-model', lr: size, dtype, error: r.stderr.trim().split('\n').pop() }) + '\n');
    }
  }
  const ujs = arg('ujs', '');
  if (ujs) {
    const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'dev', 'upscalerjs.mjs'), '--dir', ujs, '--bench', '128', '--repeat', String(repeat), '--models', arg('ujs-models', 'slim,medium'), '--threads', String(threads)], { encoding: 'utf8' });
    for (const l of r.stdout.trim().split('\n').filter(Boolean)) process.stdout.write(JSON.stringify({ bench: 'default-model', ...JSON.parse(l), load: load() }) + '\n');
    if (r.status !== 0) process.stdout.write(JSON.stringify({ bench: 'default-model', upscalerjs_error: r.stderr.trim().split('\n').pop() }) + '\n');
  }
  process.stdout.write(JSON.stringify({ bench: 'default-model', end: new Date().toISOString(), load: load() }) + '\n');
}

await main();
