// vpdsr degrade -i HR_DIR -o OUT_DIR: synthetic (GT, LQ) pairs with the §7 degradation.
// Writes OUT/hr/NAME.png (exactly the GT that was degraded), OUT/lr/NAME.png (GT size / scale),
// OUT/params.jsonl (what was sampled for each pair, sorted by name) and OUT/degrade.json (the run's
// settings). Each file has its own random streams (derived from --seed and its relative path), so
// a rerun with the same seed and worker count writes byte-identical files.
import type { Command } from 'commander';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomicAsync } from '../io/atomic.js';
import { UsageError, oneLine } from './errors.js';
import { writeImage } from '../io/image/index.js';
import { listImages, itemSeed } from '../data/dataset.js';
import { WorkerPool, runOrdered, fromWire, type LoaderTask } from '../data/loader.js';
import { loadPreset, type DegradationPreset } from '../data/degradation/params.js';
import { minGtSide } from '../data/degradation/pipeline.js';

export interface DegradeOptions {
  input: string;
  output: string;
  scale: number;
  seed: number;
  preset: string;
  gtSize?: number;
  workers: number;
  quiet?: boolean;
}

export interface DegradeSummary { total: number; written: number; failed: { name: string; error: string }[] }

function intOption(name: string, v: string, min: number, max: number): number {
  if (!/^\d+$/.test(v.trim())) throw new UsageError(`${name} must be an integer, got ${JSON.stringify(v)}`);
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`${name} must be an integer in [${min}, ${max}], got ${v}`);
  return n;
}


const stemOf = (name: string): string => name.slice(0, name.length - path.extname(name).length);

/** The command's work, callable from tests and the API. */
export async function runDegrade(o: DegradeOptions, log: (line: string) => void = (l) => process.stderr.write(l + '\n')): Promise<DegradeSummary> {
  let preset: DegradationPreset;
  try { preset = loadPreset(o.preset); } catch (e) { throw new UsageError(oneLine(e)); }
  preset = { ...preset, sf: o.scale };
  if (o.gtSize !== undefined) preset.gt_size = o.gtSize;
  if (o.gtSize !== undefined && o.gtSize % o.scale !== 0) throw new UsageError(`--gt-size ${o.gtSize} must be a multiple of --scale ${o.scale}`);
  if (o.gtSize !== undefined && o.gtSize < minGtSide(preset)) throw new UsageError(`--gt-size ${o.gtSize} is smaller than the ${minGtSide(preset)} pixels this preset needs at scale ${o.scale}`);
  const inDir = path.resolve(o.input), outDir = path.resolve(o.output);
  if (inDir === outDir) throw new UsageError('-o must differ from -i');
  let names: string[];
  try { names = await listImages(inDir); } catch (e) { throw new UsageError(`-i ${o.input}: ${oneLine(e).replace(/^.*?: /, '')}`); }
  if (names.length === 0) throw new UsageError(`-i ${o.input}: no images found (looked for ${['png', 'jpg', 'webp', 'tif', 'gif', 'avif', 'bmp'].join(', ')})`);
  await mkdir(path.join(outDir, 'hr'), { recursive: true });
  await mkdir(path.join(outDir, 'lr'), { recursive: true });

  const failed: DegradeSummary['failed'] = [];
  const byStem = new Map<string, string>();
  const todo: string[] = [];
  for (const n of names) {
    const s = stemOf(n);
    const other = byStem.get(s);
    if (other) { failed.push({ name: n, error: `has the same output name ${s}.png as ${other}` }); log(`vpdsr degrade: ${n}: skipped, same output name as ${other}`); continue; }
    byStem.set(s, n);
    todo.push(n);
  }

  const gtPrep = o.gtSize !== undefined;
  const tasks: LoaderTask[] = todo.map((name) => ({ kind: 'degradeFile', root: inDir, name, seed: o.seed, preset, gtPrep }));
  const pool = o.workers > 0 ? new WorkerPool(o.workers) : null;
  const lines = new Map<string, string>();
  let written = 0;
  try {
    for await (const { task, result } of runOrdered(tasks, pool, 2 * Math.max(1, o.workers))) {
      const name = (task as { name: string }).name;
      try {
        const b = fromWire(await result);
        try {
          const stem = stemOf(name);
          const hrFile = path.join(outDir, 'hr', `${stem}.png`), lrFile = path.join(outDir, 'lr', `${stem}.png`);
          await mkdir(path.dirname(hrFile), { recursive: true });
          await mkdir(path.dirname(lrFile), { recursive: true });
          await writeImage(hrFile, b.gt, { format: 'png', overwrite: true });
          await writeImage(lrFile, b.lq, { format: 'png', overwrite: true });
          const item = (b.meta.items as Record<string, unknown>[])[0]!;
          lines.set(name, JSON.stringify({
            name: stem, source: name, seed: itemSeed(o.seed, name),
            hr_hw: [b.gt.size(2), b.gt.size(3)], lr_hw: [b.lq.size(2), b.lq.size(3)],
            source_hw: item.source_hw, gt_prep: item.gt_prep, kernels: item.kernels,
            choices: b.meta.choices, jpeg_quality: b.meta.jpeg_quality,
          }));
          written++;
        } finally {
          b.gt.dispose(); b.lq.dispose();
        }
      } catch (e) {
        const msg = oneLine(e);
        failed.push({ name, error: msg });
        log(`vpdsr degrade: ${msg.includes(name) ? msg : `${name}: ${msg}`}`);
      }
    }
  } finally {
    if (pool) await pool.close();
  }
  const sorted = [...lines.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((k) => lines.get(k)!);
  await writeFileAtomicAsync(path.join(outDir, 'params.jsonl'), sorted.length ? sorted.join('\n') + '\n' : '', { overwrite: true });
  await writeFileAtomicAsync(path.join(outDir, 'degrade.json'), JSON.stringify({ input: inDir, seed: o.seed, scale: o.scale, gt_size: o.gtSize ?? null, preset_source: o.preset, preset }, null, 2) + '\n', { overwrite: true });
  return { total: names.length, written, failed };
}

export function registerDegrade(program: Command): void {
  program
    .command('degrade')
    .description('make (HR, LR) training pairs with the Real-ESRGAN / ResShift second-order degradation')
    .requiredOption('-i, --input <dir>', 'folder of HR images (searched recursively)')
    .requiredOption('-o, --output <dir>', 'output folder (hr/, lr/, params.jsonl)')
    .option('--scale <n>', 'downscaling factor', '4')
    .option('--seed <n>', 'random seed (same seed → same files)', '0')
    .option('--preset <name>', 'train | test | a JSON file of settings', 'train')
    .option('--gt-size <n>', 'apply the training GT preparation (flip, square crop, area resize) to this size; default: whole image, mod-cropped')
    .option('--workers <n>', 'worker threads (0 = main thread)', '1')
    .action(async (opts: { input: string; output: string; scale: string; seed: string; preset: string; gtSize?: string; workers: string }) => {
      const t0 = performance.now();
      const summary = await runDegrade({
        input: opts.input,
        output: opts.output,
        scale: intOption('--scale', opts.scale, 1, 16),
        seed: intOption('--seed', opts.seed, 0, 2 ** 31 - 1),
        preset: opts.preset,
        gtSize: opts.gtSize === undefined ? undefined : intOption('--gt-size', opts.gtSize, 16, 8192),
        workers: intOption('--workers', opts.workers, 0, 64),
      });
      const secs = (performance.now() - t0) / 1000;
      process.stdout.write(`degraded ${summary.written} of ${summary.total} images into ${opts.output} in ${secs.toFixed(1)} s${summary.failed.length ? `; ${summary.failed.length} failed` : ''}\n`);
      if (summary.failed.length) process.exitCode = 1;
    });
}
