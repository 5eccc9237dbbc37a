// evaluate(): image-quality metrics of SR folders against ground truth, with pyiqa's numbers.
//
// ```ts
// import { evaluate } from 'vpdsr';
// const r = await evaluate({ sr: 'out/', hr: 'data/hr', metrics: ['psnr', 'ssim', 'lpips'], weights: '~/weights' });
// console.log(r.methods[0].mean.psnr);
// ```
// Options are checked once here by a schema that rejects unknown keys; a wrong option, an unknown
// metric, a folder without images, two files with one key or an SR image without ground truth is
// an OptionError with one line. A metric whose weight file is missing is skipped (listed in
// `skipped` with the reason) while the others run.
import path from 'node:path';
import { z } from 'zod';
import { OptionError, AbortError } from './errors.js';
import { runEvaluation, EvalError, type EvalResult, type EvalProgress } from '../metrics/run.js';
import { weightsDir } from '../metrics/weights.js';

const fn = <T>(what: string) => z.custom<T>((v) => typeof v === 'function', { message: `${what} must be a function` });
const folder = z.string().min(1, 'must be a folder path');

export const EvaluateOptionsSchema = z.object({
  /** SR output folder(s): one method per folder. */
  sr: z.union([folder, z.array(folder).min(1, 'needs at least one folder')]),
  /** Method names shown in tables and reports (default: the folder names). */
  names: z.array(z.string().min(1)).optional(),
  hr: folder.optional(),
  lr: folder.optional(),
  /** Metric ids, as a list or comma-separated (default: psnr, ssim, lpips, dists, niqe; without hr only niqe). */
  metrics: z.union([z.string(), z.array(z.string())]).optional(),
  /** Folder with the backbone weight files (default VPDSR_WEIGHTS). */
  weights: z.string().min(1).optional(),
  device: z.string().regex(/^(cpu|cuda(:\d+)?)$/, "must be 'cpu' or 'cuda[:N]'").optional(),
  batchSize: z.number().int().min(1).max(64).optional(),
  onProgress: fn<(p: EvalProgress) => void>('onProgress').optional(),
  onWarning: fn<(line: string) => void>('onWarning').optional(),
  signal: z.custom<AbortSignal>((v) => v instanceof AbortSignal, { message: 'signal must be an AbortSignal' }).optional(),
}).strict();

export type EvaluateOptions = z.input<typeof EvaluateOptionsSchema>;
export type { EvalResult, EvalProgress };

/** One line for the first problem zod found: `option: message`. */
export function zodLine(prefix: string, err: z.ZodError): string {
  const i = err.issues[0]!;
  if (i.code === 'unrecognized_keys') return `${prefix}: unknown option${i.keys.length > 1 ? 's' : ''} ${i.keys.join(', ')}`;
  const where = i.path.length ? i.path.join('.') : 'options';
  return `${prefix}: ${where}: ${i.message}`;
}

/** Checks evaluate()'s options (the CLI passes its flags through this too). */
export function parseEvaluateOptions(o: unknown): z.output<typeof EvaluateOptionsSchema> {
  if (o === null || typeof o !== 'object') throw new OptionError('evaluate(options): options must be an object');
  const r = EvaluateOptionsSchema.safeParse(o);
  if (!r.success) throw new OptionError(zodLine('evaluate()', r.error));
  return r.data;
}

/** Method names: the given ones, else each folder's base name (made unique with its parent). */
function methodNames(dirs: string[], names?: string[]): string[] {
  if (names) {
    if (names.length !== dirs.length) throw new OptionError(`evaluate(): names has ${names.length} entries for ${dirs.length} sr folders`);
    if (new Set(names).size !== names.length) throw new OptionError('evaluate(): names must differ');
    return names;
  }
  const base = dirs.map((d) => path.basename(path.resolve(d)));
  return base.map((b, i) => (base.indexOf(b) !== base.lastIndexOf(b) ? path.join(path.basename(path.dirname(path.resolve(dirs[i]!))), b) : b));
}

/** Scores SR folders; see the module comment. */
export async function evaluate(options: EvaluateOptions): Promise<EvalResult> {
  const o = parseEvaluateOptions(options);
  const dirs = typeof o.sr === 'string' ? [o.sr] : o.sr;
  const names = methodNames(dirs, o.names);
  const metrics = o.metrics === undefined ? undefined
    : (typeof o.metrics === 'string' ? o.metrics.split(',') : o.metrics).map((s) => s.trim()).filter((s) => s.length > 0);
  if (metrics !== undefined && metrics.length === 0) throw new OptionError('evaluate(): metrics names no metric');
  if (o.signal?.aborted) throw new AbortError('evaluation aborted');
  try {
    return await runEvaluation({
      sr: dirs.map((d, i) => ({ name: names[i]!, dir: d })), hr: o.hr, lr: o.lr, metrics,
      weightsDir: weightsDir(o.weights), device: o.device ?? 'cpu', batchSize: o.batchSize ?? 4,
      onProgress: o.onProgress, onWarning: o.onWarning, signal: o.signal,
    });
  } catch (e) {
    if (e instanceof EvalError) throw o.signal?.aborted ? new AbortError('evaluation aborted') : new OptionError(e.message);
    throw e;
  }
}
