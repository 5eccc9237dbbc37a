// vpdsr eval: image-quality metrics of SR folders against ground truth (pyiqa's numbers), as a
// terminal table, JSON, CSV and an HTML report for people to look at.
import type { Command } from 'commander';
import { rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import cliProgress from 'cli-progress';
import { evaluate, parseEvaluateOptions, type EvalResult } from '../api/evaluate.js';
import { runEvaluation, EvalError } from '../metrics/run.js';
import { weightsDir } from '../metrics/weights.js';
import { OptionError } from '../api/errors.js';
import { formatCsv, formatJson, formatTable } from '../metrics/format.js';
import { listMetrics } from '../metrics/index.js';
import { UsageError } from './errors.js';

export interface EvalFlags {
  sr: string[]; hr?: string; lr?: string; metrics?: string; weights?: string;
  json?: string; csv?: string; report?: string; title?: string; name?: string[];
  device: string; batchSize?: string; quiet?: boolean;
}

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

/** Writes text to a temporary name beside the file and renames it over (never a half-written file). */
export async function writeTextAtomic(file: string, text: string): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, text, { flag: 'wx' });
    await rename(tmp, file);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw new Error(`${file}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** What the HTML report module receives (src/metrics/report/html.ts, `writeReport(file, input)`). */
export interface ReportInput {
  title?: string;
  metrics: { id: string; lowerBetter: boolean }[];
  methods: { name: string; dir: string; images: { key: string; name: string; path: string; values: Record<string, number | null> }[]; mean: Record<string, number | null> }[];
  hr?: Record<string, string>;
  lr?: Record<string, string>;
}

/** The report's input from an evaluation: image keys are the pairing keys used in hr / lr. */
export function reportInput(r: EvalResult, title?: string): ReportInput {
  const input: ReportInput = {
    metrics: r.metrics.map((m) => ({ id: m.id, lowerBetter: m.lowerBetter })),
    methods: r.methods.map((m) => ({ name: m.name, dir: m.dir, images: m.images.map((i) => ({ key: i.key, name: i.name, path: i.path, values: { ...i.values } })), mean: { ...m.mean } })),
  };
  if (title !== undefined) input.title = title;
  if (r.hr) input.hr = r.hr;
  if (r.lr) input.lr = r.lr;
  return input;
}

/** The report writer lives in its own module, loaded only when --report is given. */
async function writeHtmlReport(file: string, r: EvalResult, title?: string): Promise<void> {
  const spec = '../metrics/report/html.js';
  let mod: { writeReport?: (f: string, input: ReportInput) => Promise<void> };
  try { mod = (await import(spec)) as typeof mod; } catch (e) {
    throw new Error(`--report: the HTML report module cannot be loaded (${(e as Error).message.split('\n')[0]})`);
  }
  if (typeof mod.writeReport !== 'function') throw new Error('--report: the HTML report module has no writeReport()');
  await mod.writeReport(file, reportInput(r, title));
}

/** Writes the requested files and returns the table; shared by `eval` and `upscale --eval`. */
export async function writeOutputs(r: EvalResult, o: { json?: string; csv?: string; report?: string; title?: string }): Promise<void> {
  if (o.json) await writeTextAtomic(o.json, formatJson(r));
  if (o.csv) await writeTextAtomic(o.csv, formatCsv(r));
  if (o.report) await writeHtmlReport(o.report, r, o.title);
}

/** A progress bar on stderr for runs that take a while (TTY only). */
export function evalProgressBar(quiet: boolean | undefined): { onProgress?: (p: { method: string; done: number; total: number }) => void; stop: () => void } {
  if (quiet || !process.stderr.isTTY) return { stop: () => undefined };
  let bar: cliProgress.SingleBar | undefined;
  let method = '';
  return {
    onProgress: (p) => {
      if (p.total < 4) return;
      if (!bar || method !== p.method) {
        bar?.stop();
        method = p.method;
        bar = new cliProgress.SingleBar({ format: `${p.method} [{bar}] {value}/{total} images | {eta_formatted} left`, stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic);
        bar.start(p.total, 0);
      }
      bar.update(p.done);
      if (p.done >= p.total) { bar.stop(); bar = undefined; }
    },
    stop: () => { bar?.stop(); bar = undefined; },
  };
}

export async function runEval(o: EvalFlags, out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const opts = {
    sr: o.sr, hr: o.hr, lr: o.lr, metrics: o.metrics, weights: o.weights, device: o.device,
    names: o.name, batchSize: o.batchSize === undefined ? undefined : Number(o.batchSize),
  };
  for (const k of Object.keys(opts) as (keyof typeof opts)[]) if (opts[k] === undefined) delete opts[k];
  if (o.batchSize !== undefined && !/^\d+$/.test(o.batchSize.trim())) throw new UsageError(`--batch-size must be an integer, got ${JSON.stringify(o.batchSize)}`);
  try { parseEvaluateOptions(opts); } catch (e) { throw new UsageError((e as Error).message.replace(/^evaluate\(\): /, '').replace(/^batchSize/, '--batch-size').replace(/^names/, '--name')); }
  for (const f of [o.json, o.csv, o.report]) {
    if (f !== undefined && [o.hr, o.lr, ...o.sr].some((d) => d !== undefined && path.resolve(d) === path.resolve(f))) throw new UsageError(`${f}: an output file cannot be an input folder`);
  }
  const progress = evalProgressBar(o.quiet);
  const warn = (l: string): void => { progress.stop(); process.stderr.write(`vpdsr: warning: ${l}\n`); };
  let r: EvalResult;
  try {
    r = await evaluate({ ...opts, onWarning: warn, onProgress: progress.onProgress });
  } catch (e) {
    if (e instanceof OptionError) throw new UsageError(e.message.replace(/^evaluate\(\): /, ''));
    throw e;
  } finally { progress.stop(); }
  out(formatTable(r));
  await writeOutputs(r, o);
  return r.errors.length > 0 ? 1 : 0;
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('image-quality metrics (pyiqa ids) of SR folders against ground truth: table, JSON, CSV, HTML report')
    .requiredOption('--sr <dir>', 'folder of SR outputs, one method per folder (repeatable)', collect)
    .option('--hr <dir>', 'ground truth (paired by key: name without extension and _LR4/_HR/_SR/_out/_x4 suffixes)')
    .option('--lr <dir>', 'the low-resolution inputs (shown in the report)')
    .option('--metrics <ids>', `comma-separated metric ids (default psnr,ssim,lpips,dists,niqe; without --hr niqe). Known: ${listMetrics().map((m) => m.id).join(', ')}`)
    .option('--weights <dir>', 'folder with backbone weights under their public names (default $VPDSR_WEIGHTS)')
    .option('--name <name>', 'method name for the matching --sr (repeatable; default the folder name)', collect)
    .option('--json <file>', 'write the scores as JSON')
    .option('--csv <file>', 'write the scores as CSV')
    .option('--report <file.html>', 'write an HTML report to compare the methods image by image')
    .option('--title <text>', 'title of the HTML report')
    .option('--device <dev>', 'cpu | cuda | cuda:N', 'cpu')
    .option('--batch-size <n>', 'images of the same size scored together (default 4)')
    .option('-q, --quiet', 'no progress bar')
    .addHelpText('after', '\nExample:\n  vpdsr eval --sr out/osediff --sr out/bicubic --hr data/realsr/hr --metrics psnr,ssim,lpips,niqe --weights ~/weights --json scores.json')
    .action(async (o: EvalFlags) => {
      process.exitCode = await runEval(o);
    });
}

/**
 * `upscale --eval HR_DIR`: the eval table for the outputs of this batch (written or kept), with the
 * default metrics and VPDSR_WEIGHTS. Returns 1 when the evaluation cannot run or an image failed.
 */
export async function evalUpscaleOutputs(outDir: string, outputs: string[], hrDir: string, quiet?: boolean): Promise<number> {
  if (outputs.length === 0) { process.stderr.write('vpdsr: --eval: no outputs to evaluate\n'); return 1; }
  const progress = evalProgressBar(quiet);
  const warn = (l: string): void => { progress.stop(); process.stderr.write(`vpdsr: warning: ${l}\n`); };
  try {
    const r = await runEvaluation({
      sr: [{ name: path.basename(path.resolve(outDir)), dir: outDir, files: outputs }], hr: hrDir,
      weightsDir: weightsDir(), device: 'cpu', batchSize: 4, onWarning: warn, onProgress: progress.onProgress,
    });
    progress.stop();
    process.stdout.write(formatTable(r));
    return r.errors.length > 0 ? 1 : 0;
  } catch (e) {
    progress.stop();
    if (e instanceof EvalError) { process.stderr.write(`vpdsr: --eval: ${e.message}\n`); return 1; }
    throw e;
  }
}
