// vpdsr eval: image-quality metrics of SR folders against ground truth (pyiqa's numbers), as a
// terminal table, JSON, CSV and an HTML report for people to look at.
import type { Command } from 'commander';
import { rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import cliProgress from 'cli-progress';
import { evaluate, EvaluateOptionsSchema, type EvalResult } from '../api/evaluate.js';
import { runEvaluation, EvalError } from '../metrics/run.js';
import { weightsDir } from '../metrics/weights.js';
import { OptionError } from '../api/errors.js';
import { z, nonEmpty, flagOption } from '../api/options.js';
import { formatCsv, formatJson, formatTable } from '../metrics/format.js';
import { listMetrics } from '../metrics/index.js';
import type { ReportInput } from '../metrics/report/html.js';
import { EXIT, UsageError, flagName, numeric, parseFlags } from './errors.js';

export type { ReportInput };

export interface EvalFlags {
  sr: string[]; hr?: string; lr?: string; metrics?: string; weights?: string;
  json?: string; csv?: string; report?: string; title?: string; name?: string[];
  device: string; batchSize?: number | string; quiet?: boolean;
}

/** The command's flags, checked by evaluate()'s schema plus the output flags (one line naming the flag). */
const EvalFlagsSchema = EvaluateOptionsSchema.pick({ sr: true, names: true, hr: true, lr: true, metrics: true, weights: true, device: true, batchSize: true })
  .extend({ json: nonEmpty.optional(), csv: nonEmpty.optional(), report: nonEmpty.optional(), title: z.string().optional(), quiet: flagOption.optional() })
  .strict();

const flagLabel = (key: string): string => (key === 'names' ? '--name' : flagName(key));

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
  const flags = Object.fromEntries(Object.entries({
    sr: o.sr, hr: o.hr, lr: o.lr, metrics: o.metrics, weights: o.weights, device: o.device, names: o.name, batchSize: o.batchSize,
    json: o.json, csv: o.csv, report: o.report, title: o.title, quiet: o.quiet,
  }).filter(([, v]) => v !== undefined));
  const p = parseFlags(EvalFlagsSchema, flags, 'eval', flagLabel);
  for (const f of [p.json, p.csv, p.report]) {
    if (f !== undefined && [p.hr, p.lr, ...p.sr].some((d) => d !== undefined && path.resolve(d) === path.resolve(f))) throw new UsageError(`eval: ${f}: an output file cannot be an input folder`);
  }
  const progress = evalProgressBar(p.quiet);
  const warn = (l: string): void => { progress.stop(); process.stderr.write(`vpdsr: warning: ${l}\n`); };
  let r: EvalResult;
  try {
    const { json: _j, csv: _c, report: _r, title: _t, quiet: _q, ...opts } = p;
    r = await evaluate({ ...opts, onWarning: warn, onProgress: progress.onProgress });
  } catch (e) {
    // Folders, metric names and pairing problems are bad command lines (exit 2).
    if (e instanceof OptionError) throw new UsageError(`eval: ${e.message.replace(/^evaluate\((options)?\): /, '')}`);
    throw e;
  } finally { progress.stop(); }
  out(formatTable(r));
  await writeOutputs(r, p);
  return r.errors.length > 0 ? EXIT.failed : EXIT.ok;
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
    .option('--batch-size <n>', 'images of the same size scored together (default 4)', numeric)
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
  if (outputs.length === 0) { process.stderr.write('vpdsr: --eval: no outputs to evaluate\n'); return EXIT.failed; }
  const progress = evalProgressBar(quiet);
  const warn = (l: string): void => { progress.stop(); process.stderr.write(`vpdsr: warning: ${l}\n`); };
  try {
    const r = await runEvaluation({
      sr: [{ name: path.basename(path.resolve(outDir)), dir: outDir, files: outputs }], hr: hrDir,
      weightsDir: weightsDir(), device: 'cpu', batchSize: 4, onWarning: warn, onProgress: progress.onProgress,
    });
    progress.stop();
    process.stdout.write(formatTable(r));
    return r.errors.length > 0 ? EXIT.failed : EXIT.ok;
  } catch (e) {
    progress.stop();
    if (e instanceof EvalError) { process.stderr.write(`vpdsr: --eval: ${e.message}\n`); return EXIT.failed; }
    throw e;
  }
}
