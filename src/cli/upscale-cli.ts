// vpdsr upscale: the full command of issue 8 (Real-ESRGAN's inference_realesrgan.py flags) with
// the model flags of issue 4. Inputs are files, folders and globs; outputs go to -o DIR as
// NAME[_SUFFIX].EXT, written atomically; a bad input is reported and the batch goes on; Ctrl-C
// stops before the next write, leaves no partial file, and exits 130.
// vpdsr upscale: Real-ESRGAN's inference_realesrgan.py flags (and its short aliases -n, -s, -t,
// --tile_pad, --fp32) with vpdsr's model flags. Inputs are files, folders and globs; outputs go to
// -o DIR as NAME[_SUFFIX].EXT, written atomically; a bad input is reported and the batch goes on;
// Ctrl-C stops before the next write, leaves no partial file, and exits 130. The flags are checked
// by the library's own schemas (src/api/schema.ts), so the CLI and upscale() agree.
import { Option, type Command } from 'commander';
import { loadModel, type Model } from '../api/model.js';
import { expandInputs } from '../api/inputs.js';
import { COLOR_FIXES } from '../models/colorfix.js';
import { Progress } from '../api/progress.js';
import { runParsedBatch, removeTempFiles, makeOutDir, type BatchSummary, type ItemResult, type JobOptions } from '../api/runner.js';
import { shown, z } from '../api/options.js';
import { checkModel, checkRender, DEFAULTS, DEFAULT_MODEL, modelFields, renderFields, renderJob, type ParsedModelSpec } from '../api/schema.js';
import { PIPELINE_DTYPES } from '../models/pipeline.js';
import { defaultDType } from '../models/precision.js';
import { SAMPLER_KINDS } from '../models/presets.js';
import { TILE_MERGES } from '../models/tiling.js';
import { EXIT, flagName, numeric, parseFlags as parseWith, UsageError } from './errors.js';

/** The flags as commander hands them over (numbers already parsed where the text is one). */
export interface UpscaleFlags {
  input: string[]; output: string;
  model?: string; preset?: string; unet?: string; vq?: string; sampler?: string; steps?: number | string;
  seed?: number | string; tile?: number | string; tileOverlap?: number | string; tile_pad?: number | string; tileMerge?: string; device?: string; threads?: number | string; dtype?: string; fp32?: boolean;
  suffix?: string; ext?: string; quality?: number | string; outscale?: number | string; width?: number | string; height?: number | string;
  stripMetadata?: boolean; maxMemory?: string; maxPixels?: number | string; colorFix?: string; overwrite?: boolean; quiet?: boolean; json?: boolean; eval?: string;
}

const FLAG_NAMES: Record<string, string> = { input: '-i', output: '-o', model: '-n/--model', outscale: '-s/--outscale', tile: '-t/--tile', tileOverlap: '--tile-overlap' };
const label = (k: string): string => FLAG_NAMES[k] ?? flagName(k);

const suffix = z.custom<string>((v) => typeof v === 'string' && !/[/\\\0]/.test(v), { error: (iss) => `must be text without path separators, got ${shown(iss.input)}` });

/** vpdsr upscale's flags: the library's model and render options, plus the batch's own. */
export const upscaleFlagsSchema = z.strictObject({
  ...modelFields,
  ...renderFields,
  input: z.array(z.string().min(1, 'must not be empty')).min(1, 'needs at least one file, folder or glob'),
  output: z.string().min(1, 'must name a folder'),
  suffix: suffix.default(DEFAULTS.suffix),
  quiet: z.boolean().default(false),
  json: z.boolean().default(false),
  eval: z.string().min(1, 'must name the ground-truth folder').optional(),
}).superRefine((o, ctx) => { checkModel(o, ctx, label); checkRender(o, ctx, label); });

export interface ParsedFlags {
  model: Omit<ParsedModelSpec, 'onWarning'>;
  job: JobOptions;
  quiet: boolean;
  json: boolean;
  /** --eval: the ground-truth folder to score the batch's outputs against. */
  evalHr?: string;
}

/** Checks every flag before anything is loaded; throws UsageError naming the flag. */
export function parseFlags(o: UpscaleFlags): ParsedFlags {
  const { tile_pad, fp32, ...rest } = o;
  if (tile_pad !== undefined && o.tileOverlap !== undefined) throw new UsageError('upscale: give --tile-overlap or --tile_pad, not both');
  if (fp32 && o.dtype !== undefined && o.dtype !== 'fp32') throw new UsageError(`upscale: --fp32 contradicts --dtype ${o.dtype}`);
  const flags = Object.fromEntries(Object.entries({ ...rest, tileOverlap: o.tileOverlap ?? tile_pad, dtype: fp32 ? 'fp32' : o.dtype }).filter(([, v]) => v !== undefined));
  const p = parseFlags0(flags);
  const model = { model: p.preset === undefined ? p.model ?? DEFAULT_MODEL : undefined, preset: p.preset, unet: p.unet, vq: p.vq, sampler: p.sampler, steps: p.steps, device: p.device, dtype: p.dtype, threads: p.threads };
  const job: JobOptions = { ...renderJob(p), outDir: p.output, suffix: p.suffix };
  return { model, job, quiet: p.quiet, json: p.json, evalHr: p.eval };
}

function parseFlags0(flags: Record<string, unknown>): z.output<typeof upscaleFlagsSchema> {
  return parseWith(upscaleFlagsSchema, flags, 'upscale', label);
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export function registerUpscale(program: Command): void {
  program
    .command('upscale')
    .description('×4 super-resolution of images: files, folders or globs → -o DIR (NAME[_SUFFIX].EXT)')
    .requiredOption('-i, --input <path>', 'image file, folder or glob (repeatable)', collect)
    .requiredOption('-o, --output <dir>', 'output folder (created if missing)')
    .option('-n, --model <name|dir>', `a model name (vpdsr models: vpdsr-x4, bicubic, installed ones) or a model folder (default ${DEFAULT_MODEL})`)
    .option('--preset <name>', 'resshift-v1|resshift-v2|resshift-v3|sinsr: public checkpoints, with --unet and --vq')
    .option('--unet <file>', 'public UNet weights (.pth) for --preset')
    .option('--vq <file>', 'public autoencoder weights (autoencoder_vq_f4.pth) for --preset')
    .option('--sampler <kind>', `${SAMPLER_KINDS.join('|')} (default: the model's)`)
    .option('--steps <n>', "network calls of a multi-step sampler (default the schedule's T; fewer = a respaced schedule)", numeric)
    .option('--seed <n>', `noise seed (default ${DEFAULTS.seed})`, numeric)
    .option('-t, --tile <n>', 'tile size in LR pixels, 0 = none (default: from --max-memory, at most 128 on cpu)', numeric)
    .option('--tile-overlap <n>', `LR pixels shared by neighbouring tiles (default ${DEFAULTS.tileOverlap})`, numeric)
    .addOption(new Option('--tile_pad <n>', 'Real-ESRGAN spelling of --tile-overlap').argParser(numeric).hideHelp())
    .option('--tile-merge <mode>', `${TILE_MERGES.join('|')}: smooth weights (default) or upstream's plain average`)
    .option('--max-memory <size>', 'memory budget, e.g. 4G (default: ¾ of free RAM); an image that cannot fit is refused')
    .option('--max-pixels <n>', 'refuse inputs with more pixels (decompression bombs; default 100000000 or VPDSR_MAX_PIXELS)', numeric)
    .option('--device <dev>', 'cpu | cuda | cuda:N (default cpu)')
    .option('--threads <n>', 'CPU threads (default: all cores)', numeric)
    .option('--dtype <t>', `${PIPELINE_DTYPES.join('|')}: auto = bf16 with fp32 where bf16 loses accuracy (default: auto on CUDA and on CPUs with AVX512_BF16/AMX, else fp32; here ${defaultDType('cpu')} on cpu)`)
    .addOption(new Option('--fp32', 'Real-ESRGAN flag: same as --dtype fp32').hideHelp())
    .option('--suffix <text>', 'output name NAME_SUFFIX.EXT (default: none, NAME.EXT)')
    .option('--ext <ext>', 'png|jpg|webp|tiff|auto: output format (default auto = the input\'s, PNG for GIF/AVIF/HEIF)')
    .option('--quality <q>', `JPEG/WebP quality 1-100 (default ${DEFAULTS.quality})`, numeric)
    .option('-s, --outscale <f>', 'final scale, e.g. 2 or 3.5 (resized after the ×4 model; default 4)', numeric)
    .option('--width <px>', 'exact output width (with --height, or alone keeping the aspect ratio)', numeric)
    .option('--height <px>', 'exact output height', numeric)
    .option('--color-fix <fix>', `${COLOR_FIXES.join('|')}: match colours to the input (default auto: what the model asks for, the bundled model's wavelet fix over 2 levels; none for the released models, as the reference)`)
    .option('--strip-metadata', 'drop EXIF and ICC (default: kept)')
    .option('--overwrite', 'replace existing outputs (default: skip them)')
    .option('--json', 'one JSON line per image and a summary line on stdout')
    .option('-q, --quiet', 'no progress bars or per-image lines (failures are still reported)')
    .option('--eval <hr_dir>', 'after the batch, print the eval table of the outputs against this ground truth')
    .addHelpText('after', '\nExample:\n  vpdsr upscale -i samples/chelsea-lr.png -o out\n  vpdsr upscale -i "photos/*.jpg" -o out -n sinsr-v1 -s 2 --ext webp --quality 90\n\nExit codes: 0 ok, 1 an image failed, 2 bad flags, 130 Ctrl-C, 143 SIGTERM.')
    .action(async (o: UpscaleFlags) => {
      process.exitCode = await runUpscale(o);
    });
}

/** --json: one line per input on stdout. */
function jsonLine(r: ItemResult): void {
  process.stdout.write(`${JSON.stringify({ input: r.input, status: r.status, output: r.output, width: r.width, height: r.height, seconds: r.seconds, reason: r.reason })}\n`);
}

/** The command's body; returns the exit code (0, 1 if anything failed, 130 on Ctrl-C, 143 on SIGTERM). */
export async function runUpscale(o: UpscaleFlags): Promise<number> {
  const { model: spec, job, quiet, json, evalHr } = parseFlags(o);
  const { files, missing } = expandInputs(o.input);
  if (files.length === 0) {
    // Every input failed (exit 1), as when each image fails.
    throw new Error(missing.map((m) => `-i ${m.input}: ${m.reason}`).join('; ') || 'no input images');
  }
  try {
    makeOutDir(job.outDir);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const interval = Number(process.env.VPDSR_PROGRESS_SECONDS ?? 10);
  const progress = new Progress({ quiet, interval: Number.isFinite(interval) && interval >= 0 ? interval : 10 });
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
  let exitCode: number = EXIT.sigint;
  const onSignal = (sig: NodeJS.Signals): void => {
    interrupts++;
    // 128 + the signal number, as a shell reports a process the signal killed.
    exitCode = sig === 'SIGTERM' ? EXIT.sigterm : EXIT.sigint;
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
    summary = await runParsedBatch(files, model, job, {
      signal: ac.signal,
      onImage: (i, f) => progress.image(i, f),
      onTile: (d, t) => progress.tile(d, t),
      onResult: (r, i) => { progress.result(r, i); if (json) jsonLine(r); },
      onWarning: warn,
    });
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
    model.dispose();
    progress.stop();
  }
  for (const m of missing) {
    const r: ItemResult = { input: m.input, status: 'failed', reason: `-i ${m.input}: ${m.reason}` };
    summary.results.push(r);
    if (json) jsonLine(r);
  }
  summary.failed += missing.length;
  progress.finish(summary);
  if (json) process.stdout.write(`${JSON.stringify({ summary: { done: summary.done, skipped: summary.skipped, failed: summary.failed, aborted: summary.aborted, total: summary.results.length } })}\n`);
  if (summary.aborted) return exitCode;
  const evalCode = evalHr === undefined ? EXIT.ok : await (await import('./eval.js')).evalUpscaleOutputs(job.outDir, summary.results.flatMap((r) => (r.output ? [r.output] : [])), evalHr, quiet);
  return summary.failed > 0 || evalCode !== EXIT.ok ? EXIT.failed : EXIT.ok;
}
