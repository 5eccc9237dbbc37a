// The batch behind `vpdsr upscale`: every input in order, each one read, upscaled and written
// atomically (src/io/image writeImage: a temporary name in the output folder, renamed). A bad
// input is recorded by name with a one-line reason and the batch goes on; an abort (AbortSignal,
// Ctrl-C) stops before the next write, so no partial file is ever left behind.
import { existsSync, mkdirSync, readdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { AbortError, OptionError, oneLine } from './errors.js';
import type { RenderOptions } from './job.js';
import { isModel, type Model } from './registry.js';
import { outputFormat, outputPath, type ExtChoice } from './naming.js';
import { fn, nonEmpty, parseOptions, shown, z } from './options.js';
import { checkRender, DEFAULTS, renderFields } from './schema.js';

export interface JobOptions extends Omit<RenderOptions, 'onTile' | 'signal'> {
  outDir: string;
  suffix: string;
  ext: ExtChoice;
  quality?: number;
  overwrite: boolean;
  maxPixels?: number;
}

export interface ItemResult {
  input: string;
  status: 'done' | 'skipped' | 'failed';
  output?: string;
  /** Why it was skipped or failed: one line naming the file. */
  reason?: string;
  width?: number;
  height?: number;
  seconds?: number;
}

export interface BatchSummary {
  done: number;
  skipped: number;
  failed: number;
  /** The run was stopped by its signal; the image in progress was not written. */
  aborted: boolean;
  results: ItemResult[];
}

export interface BatchHooks {
  onImage?: (index: number, input: string) => void;
  onTile?: (done: number, total: number) => void;
  onResult?: (r: ItemResult, index: number) => void;
  onWarning?: (message: string) => void;
  signal?: AbortSignal;
}

/** The output file being written right now (for a forced exit's clean-up), if any. */
let writing: string | undefined;

/** Removes writeImage's temporary files for `file` left by this process (a forced exit mid-write). */
export function removeTempFiles(file: string | undefined = writing): void {
  if (!file) return;
  const dir = path.dirname(file), prefix = `.${path.basename(file)}.${process.pid}.`;
  try {
    for (const f of readdirSync(dir)) if (f.startsWith(prefix) && f.endsWith('.tmp')) rmSync(path.join(dir, f), { force: true });
  } catch { /* the folder is gone: nothing to remove */ }
}

function real(p: string): string {
  try { return realpathSync(p); } catch { return path.resolve(p); }
}

export function makeOutDir(dir: string): void {
  if (typeof dir !== 'string' || dir.length === 0) throw new OptionError('an output folder (-o DIR) is required');
  const st = statSync(dir, { throwIfNoEntry: false });
  if (st && !st.isDirectory()) throw new OptionError(`-o ${dir}: exists and is not a folder`);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new OptionError(`-o ${dir}: cannot create the folder (${(e as NodeJS.ErrnoException).code ?? oneLine(e)})`);
  }
}

const suffix = z.custom<string>((v) => typeof v === 'string' && !/[/\\\0]/.test(v), { error: (iss) => `must be text without path separators, got ${shown(iss.input)}` });
const { outscale, width, height, ...perImage } = renderFields;

/** runBatch's options: the render options of upscale() with the size grouped, plus the batch's own. */
const jobOptionsSchema = z.strictObject({
  ...perImage,
  outDir: nonEmpty,
  suffix: suffix.default(DEFAULTS.suffix),
  size: z.strictObject({ outscale, width, height }).default({}),
}).superRefine((o, ctx) => checkRender({ ...o.size, tile: o.tile, tileOverlap: o.tileOverlap }, ctx));

const hooksSchema = z.strictObject({
  onImage: fn<NonNullable<BatchHooks['onImage']>>().optional(),
  onTile: fn<NonNullable<BatchHooks['onTile']>>().optional(),
  onResult: fn<NonNullable<BatchHooks['onResult']>>().optional(),
  onWarning: fn<NonNullable<BatchHooks['onWarning']>>().optional(),
  signal: z.custom<AbortSignal>((v) => v instanceof AbortSignal, { error: (iss) => `must be an AbortSignal, got ${shown(iss.input)}` }).optional(),
});

/** Upscales `files` into o.outDir with a loaded model; a bad input is one failed result, the batch goes on. */
export async function runBatch(files: readonly string[], model: Model, o: Partial<JobOptions> & { outDir: string }, hooks: BatchHooks = {}): Promise<BatchSummary> {
  if (!Array.isArray(files) || files.some((f) => typeof f !== 'string' || f.length === 0)) throw new OptionError('runBatch(files, model, options): files must be a list of file paths');
  if (!isModel(model)) throw new OptionError('runBatch(files, model, options): model must be a Model from loadModel()');
  if (o === null || typeof o !== 'object') throw new OptionError('runBatch(files, model, options): options must be an object');
  const parsed: JobOptions = parseOptions(jobOptionsSchema, o, { where: 'runBatch(files, model, options)' });
  return runParsedBatch(files, model, parsed, parseOptions(hooksSchema, hooks, { where: 'runBatch(files, model, options, hooks)' }));
}

/** runBatch with options already parsed (the CLI parses its flags with the same schemas). */
export async function runParsedBatch(files: readonly string[], model: Model, o: JobOptions, hooks: BatchHooks = {}): Promise<BatchSummary> {
  makeOutDir(o.outDir);
  const inputs = new Map(files.map((f) => [real(f), f]));
  const produced = new Map<string, string>();
  const results: ItemResult[] = [];
  let aborted = false;
  const signal = hooks.signal;

  // Why `out` must not be written: an input, an output of this run, or an existing file.
  const blocked = (input: string, out: string): ItemResult | undefined => {
    const key = real(out);
    const clash = inputs.get(key);
    if (clash !== undefined) return { input, status: 'failed', reason: `${input}: the output ${out} would overwrite the input ${clash}; choose another -o, --suffix or --ext` };
    const earlier = produced.get(key);
    if (earlier !== undefined) return { input, status: 'failed', reason: `${input}: the output ${out} is also the output of ${earlier}; use --suffix or separate runs` };
    if (!o.overwrite && existsSync(out)) return { input, status: 'skipped', output: out, reason: `${out} exists (use --overwrite to replace it)` };
    return undefined;
  };

  for (let i = 0; i < files.length; i++) {
    if (signal?.aborted) { aborted = true; break; }
    const input = files[i]!;
    hooks.onImage?.(i, input);
    const t0 = performance.now();
    let r: ItemResult | undefined = blocked(input, outputPath(input, o.outDir, outputFormat(input, o.ext), o.suffix));
    if (!r) {
      try {
        r = await runOne(input, model, o, hooks, blocked);
      } catch (e) {
        if (e instanceof AbortError || signal?.aborted) { aborted = true; break; }
        const msg = oneLine(e);
        r = { input, status: 'failed', reason: msg.includes(input) ? msg : `${input}: ${msg}` };
      }
    }
    if (r.status === 'done') { r.seconds = (performance.now() - t0) / 1000; produced.set(real(r.output!), input); }
    results.push(r);
    hooks.onResult?.(r, i);
  }
  const count = (s: ItemResult['status']): number => results.filter((r) => r.status === s).length;
  return { done: count('done'), skipped: count('skipped'), failed: count('failed'), aborted, results };
}

/** Whether a file has alpha, from its header (sharp metadata), to name its output before decoding. */
async function probeAlpha(file: string): Promise<boolean> {
  try {
    return (await sharp(file, { limitInputPixels: false }).metadata()).hasAlpha === true;
  } catch {
    return false; // unreadable: the decode in the job reports it properly
  }
}

async function runOne(input: string, model: Model, o: JobOptions, hooks: BatchHooks, blocked: (input: string, out: string) => ItemResult | undefined): Promise<ItemResult> {
  const alpha = o.ext === 'jpg' || (o.ext === 'auto' && outputFormat(input, 'auto') === 'jpeg') ? await probeAlpha(input) : false;
  const format = outputFormat(input, o.ext, alpha);
  const out = outputPath(input, o.outDir, format, o.suffix);
  // An alpha image asked for as JPEG becomes PNG: check the name it really gets.
  const b = blocked(input, out);
  if (b) return b;
  if (hooks.signal?.aborted) throw new AbortError();
  writing = out;
  try {
    const r = await model.execute({
      input, ext: format === 'jpeg' ? 'jpg' : format, output: out, overwrite: o.overwrite, quality: o.quality,
      colorFix: o.colorFix, size: o.size, tile: o.tile, tileOverlap: o.tileOverlap, tileMerge: o.tileMerge,
      maxMemory: o.maxMemory, seed: o.seed, stripMetadata: o.stripMetadata, maxPixels: o.maxPixels,
    }, { onTile: hooks.onTile, signal: hooks.signal, onWarning: (w) => hooks.onWarning?.(`${input}: ${w}`) });
    return { input, status: 'done', output: out, width: r.width, height: r.height };
  } finally {
    writing = undefined;
  }
}
