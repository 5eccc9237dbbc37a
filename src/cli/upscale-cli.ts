// vpdsr upscale: the full command of issue 8 (Real-ESRGAN's inference_realesrgan.py flags) with
// the model flags of issue 4. Inputs are files, folders and globs; outputs go to -o DIR as
// NAME[_SUFFIX].EXT, written atomically; a bad input is reported and the batch goes on; Ctrl-C
// stops before the next write, leaves no partial file, and exits 130.
import type { Command } from 'commander';
import { loadModel, type Model } from '../api/model.js';
import { expandInputs } from '../api/inputs.js';
import { parseExt, parseSuffix } from '../api/naming.js';
import { parseColorFix, COLOR_FIXES } from '../api/colorfix.js';
import { parseMemory } from '../api/memory.js';
import { checkSizeOptions } from '../api/scale.js';
import { Progress } from '../api/progress.js';
import { runBatch, removeTempFiles, makeOutDir, type BatchSummary, type JobOptions } from '../api/runner.js';
import { OptionError } from '../api/errors.js';
import { PIPELINE_DTYPES, type PipelineDType } from '../models/pipeline.js';
import { SAMPLER_KINDS, type SamplerKind } from '../models/presets.js';
import { TILE_MERGES, type TileMerge } from '../models/tiling.js';
import { UsageError } from './errors.js';

export interface UpscaleFlags {
  input: string[]; output: string;
  model?: string; preset?: string; unet?: string; vq?: string; sampler?: string; steps?: string;
  seed?: string; tile?: string; tileOverlap?: string; tileMerge?: string; device: string; threads?: string; dtype?: string;
  suffix?: string; ext?: string; quality?: string; outscale?: string; width?: string; height?: string;
  stripMetadata?: boolean; maxMemory?: string; colorFix?: string; overwrite?: boolean; quiet?: boolean;
}

function int(flag: string, v: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\s*\d+\s*$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`${flag} must be an integer ${max < Number.MAX_SAFE_INTEGER ? `from ${min} to ${max}` : `>= ${min}`}, got ${JSON.stringify(v)}`);
  return n;
}

function num(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a positive number, got ${JSON.stringify(v)}`);
  return n;
}

function pick<T extends string>(flag: string, v: string | undefined, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

/** Re-labels an OptionError from the api layer as a usage error naming the flag. */
function flag<T>(name: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof OptionError) throw new UsageError(`${name}: ${e.message}`);
    throw e;
  }
}

export interface ParsedFlags {
  model: { model?: string; preset?: string; unet?: string; vq?: string; sampler?: SamplerKind; steps?: number; device: string; dtype?: PipelineDType; threads?: number };
  job: JobOptions;
  quiet: boolean;
}

/** Checks every flag before anything is loaded; throws UsageError naming the flag. */
export function parseFlags(o: UpscaleFlags): ParsedFlags {
  const sampler = pick<SamplerKind>('--sampler', o.sampler, SAMPLER_KINDS);
  const dtype = pick<PipelineDType>('--dtype', o.dtype, PIPELINE_DTYPES);
  const tileMerge = pick<TileMerge>('--tile-merge', o.tileMerge, TILE_MERGES);
  if (!/^(cpu|cuda(:\d+)?)$/.test(o.device)) throw new UsageError(`--device must be cpu, cuda or cuda:N, got ${JSON.stringify(o.device)}`);
  if (o.model !== undefined && (o.preset || o.unet || o.vq)) throw new UsageError('--model cannot be combined with --preset/--unet/--vq');
  if (o.preset !== undefined && (!o.unet || !o.vq)) throw new UsageError(`--preset ${o.preset} needs --unet FILE and --vq FILE (the public .pth files; see vpdsr convert)`);
  if (o.model === 'bicubic' && (sampler || o.steps !== undefined)) throw new UsageError('--sampler and --steps do not apply to --model bicubic');
  const size = { outscale: num('--outscale', o.outscale), width: int('--width', o.width, 1, 65535), height: int('--height', o.height, 1, 65535) };
  if (size.outscale !== undefined && (size.width !== undefined || size.height !== undefined)) throw new UsageError('--outscale cannot be combined with --width/--height');
  flag('--outscale', () => checkSizeOptions(size));
  const job: JobOptions = {
    outDir: o.output,
    suffix: flag('--suffix', () => parseSuffix(o.suffix)),
    ext: flag('--ext', () => parseExt(o.ext)),
    quality: int('--quality', o.quality, 1, 100),
    overwrite: o.overwrite === true,
    colorFix: flag('--color-fix', () => parseColorFix(o.colorFix)),
    size,
    tile: int('--tile', o.tile, 0),
    tileOverlap: int('--tile-overlap', o.tileOverlap, 0),
    tileMerge,
    maxMemory: o.maxMemory === undefined ? undefined : flag('--max-memory', () => parseMemory(o.maxMemory)),
    seed: int('--seed', o.seed, 0),
    stripMetadata: o.stripMetadata === true,
  };
  if (job.tile !== undefined && job.tile > 0 && job.tile < 16) throw new UsageError(`--tile must be 0 (no tiling) or at least 16 LR pixels, got ${job.tile}`);
  if (job.tile !== undefined && job.tileOverlap !== undefined && job.tile > 0 && job.tileOverlap > job.tile / 2) throw new UsageError(`--tile-overlap ${job.tileOverlap} is more than half of --tile ${job.tile}`);
  const model = { model: o.model, preset: o.preset, unet: o.unet, vq: o.vq, sampler, steps: int('--steps', o.steps, 1), device: o.device, dtype, threads: int('--threads', o.threads, 1, 1024) };
  return { model, job, quiet: o.quiet === true };
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export function registerUpscale(program: Command): void {
  program
    .command('upscale')
    .description('×4 super-resolution of images: files, folders or globs → -o DIR (NAME[_SUFFIX].EXT)')
    .requiredOption('-i, --input <path>', 'image file, folder or glob (repeatable)', collect)
    .requiredOption('-o, --output <dir>', 'output folder (created if missing)')
    .option('--model <dir|name>', 'a vpdsr model folder, "vpdsr-x4" (the bundled model, the default) or "bicubic" (the baseline)')
    .option('--preset <name>', 'resshift-v1|resshift-v2|resshift-v3|sinsr: public checkpoints, with --unet and --vq')
    .option('--unet <file>', 'public UNet weights (.pth) for --preset')
    .option('--vq <file>', 'public autoencoder weights (autoencoder_vq_f4.pth) for --preset')
    .option('--sampler <kind>', `${SAMPLER_KINDS.join('|')} (default: the model's)`)
    .option('--steps <n>', "network calls of a multi-step sampler (default the schedule's T; fewer = a respaced schedule)")
    .option('--seed <n>', 'noise seed (default 12345)')
    .option('--tile <n>', 'tile size in LR pixels, 0 = none (default: from --max-memory, at most 128 on cpu)')
    .option('--tile-overlap <n>', 'LR pixels shared by neighbouring tiles (default 16)')
    .option('--tile-merge <mode>', `${TILE_MERGES.join('|')}: smooth weights (default) or upstream's plain average`)
    .option('--max-memory <size>', 'memory budget for choosing the tile, e.g. 4G (default: ¾ of free RAM)')
    .option('--device <dev>', 'cpu | cuda | cuda:N', 'cpu')
    .option('--threads <n>', 'CPU threads (default: all cores)')
    .option('--dtype <t>', `${PIPELINE_DTYPES.join('|')} (default fp32)`)
    .option('--suffix <text>', 'output name NAME_SUFFIX.EXT (default: none, NAME.EXT)')
    .option('--ext <ext>', 'png|jpg|webp|tiff|auto: output format (default auto = the input\'s, PNG for GIF/AVIF/HEIF)')
    .option('--quality <q>', 'JPEG/WebP quality 1-100 (default 95)')
    .option('--outscale <f>', 'final scale, e.g. 2 or 3.5 (resized after the ×4 model; default 4)')
    .option('--width <px>', 'exact output width (with --height, or alone keeping the aspect ratio)')
    .option('--height <px>', 'exact output height')
    .option('--color-fix <fix>', `${COLOR_FIXES.join('|')}: match colours to the input (default none, as the reference)`)
    .option('--strip-metadata', 'drop EXIF and ICC (default: kept)')
    .option('--overwrite', 'replace existing outputs (default: skip them)')
    .option('-q, --quiet', 'no progress bars or per-image lines (failures are still reported)')
    .addHelpText('after', '\nExample:\n  vpdsr upscale -i samples/chelsea-lr.png -o out\n  vpdsr upscale -i "photos/*.jpg" -o out --model models/sinsr --outscale 2 --ext webp --quality 90')
    .action(async (o: UpscaleFlags) => {
      process.exitCode = await runUpscale(o);
    });
}

/** The command's body; returns the exit code (0, 1 if anything failed, 130 on Ctrl-C, 143 on SIGTERM). */
export async function runUpscale(o: UpscaleFlags): Promise<number> {
  const { model: spec, job, quiet } = parseFlags(o);
  const { files, missing } = expandInputs(o.input);
  if (files.length === 0) {
    throw new UsageError(missing.map((m) => `-i ${m.input}: ${m.reason}`).join('; ') || 'no input images');
  }
  try {
    makeOutDir(job.outDir);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const progress = new Progress({ quiet });
  const warn = (w: string): void => progress.line(`vpdsr: warning: ${w}`);
  const t0 = performance.now();
  let model: Model;
  try {
    model = await loadModel({ ...spec, onWarning: warn });
  } catch (e) {
    progress.stop();
    throw e;
  }
  progress.info(`vpdsr: ${model.name} on ${model.device} (${model.dtype}), loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${files.length} image${files.length === 1 ? '' : 's'} → ${job.outDir}`);

  // Ctrl-C: the first stops before the next write (the current image is dropped); a second one
  // exits at once, removing the temporary file of a write in progress.
  const ac = new AbortController();
  let interrupts = 0;
  let exitCode = 130;
  const onSignal = (sig: NodeJS.Signals): void => {
    interrupts++;
    // 128 + the signal number, as a shell reports a process the signal killed.
    exitCode = sig === 'SIGTERM' ? 143 : 130;
    if (interrupts === 1) {
      ac.abort();
      progress.line('vpdsr: interrupted; stopping (Ctrl-C again to quit at once)');
    } else {
      removeTempFiles();
      progress.stop();
      process.exit(exitCode);
    }
  };
  const onSigint = (): void => onSignal('SIGINT');
  const onSigterm = (): void => onSignal('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  let summary: BatchSummary;
  try {
    for (const m of missing) progress.line(`vpdsr: failed: -i ${m.input}: ${m.reason}`);
    progress.start(files.length);
    summary = await runBatch(files, model, job, {
      signal: ac.signal,
      onImage: (i, f) => progress.image(i, f),
      onTile: (d, t) => progress.tile(d, t),
      onResult: (r, i) => progress.result(r, i),
      onWarning: warn,
    });
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
    model.dispose();
    progress.stop();
  }
  for (const m of missing) summary.results.push({ input: m.input, status: 'failed', reason: `-i ${m.input}: ${m.reason}` });
  summary.failed += missing.length;
  progress.finish(summary);
  if (summary.aborted) return exitCode;
  return summary.failed > 0 ? 1 : 0;
}
