// The bundled model as one resumable command (npm run train:default): free training photos
// resized once, the stand-in encoder, the multi-step teacher, the plain-distillation student
// (L_distill only) and the VPD-SR student (L_distill + ESS + HFP + adversarial) with the same seed and
// iterations, the export of the VPD-SR student as a model folder, and its evaluation against bicubic,
// the teacher and the plain student on an LR/HR test set.
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import sharp from 'sharp';
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import * as torch from '../engine/index.js';
import { listImages, readRgb8 } from '../data/dataset.js';
import { writeImage } from '../io/image/index.js';
import { loadUpscaler } from '../models/index.js';
import { colorFixFromInput, type ColorFixSpec } from '../models/colorfix.js';
import { readModelJson, writeModelFolder, MODEL_JSON, UNET_FILE, MODEL_COLOR_FIXES, MAX_COLOR_FIX_LEVELS, type JsonObject } from '../models/format.js';
import { checkConfig, ConfigError } from './config.js';
import { trainEncoder, ENCODER_FILE } from './encoder-train.js';
import { trainTeacher } from './teacher.js';
import { distill } from './distill.js';
import { ImageMetrics } from './val-metrics.js';
import { phase, type ExperimentOptions } from './experiment.js';

const section = z.record(z.string(), z.unknown());
const schema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/),
  out: z.string().min(1),
  seed: z.number().int().nonnegative(),
  threads: z.number().int().min(0).default(0),
  data: z.strictObject({
    /** Folders of freely licensed photos (searched recursively). */
    sources: z.array(z.string().min(1)).min(1),
    /** Each photo is resized once (Lanczos) so its short side is at most this. */
    shortSide: z.number().int().min(64),
  }),
  degradation: section,
  encoder: section,
  teacher: section,
  distill: section,
  runs: z.strictObject({ plain: section, vpdsr: section }),
  export: z.strictObject({
    dir: z.string().min(1), license: z.string().min(1), provenance: z.string().min(1),
    /** The colour fix written to the exported model.json (what `--color-fix auto` applies); the evaluation's diffusion rows run with it. */
    colorFix: z.strictObject({ method: z.enum(MODEL_COLOR_FIXES), levels: z.number().int().min(1).max(MAX_COLOR_FIX_LEVELS) }).optional(),
  }),
  evaluation: z.strictObject({ hr: z.string().min(1), lr: z.string().min(1), seed: z.number().int().nonnegative(), max: z.number().int().positive().default(1000) }),
});
export type DefaultModelConfig = z.infer<typeof schema>;

export interface DefaultModelOptions extends ExperimentOptions {
  /** Skip the evaluation phase. */
  noEval?: boolean;
  /** Evaluate on the first N test images only (a quick proof). */
  evalMax?: number;
}

const sha256 = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

function gitCommit(dir: string): string | null {
  try {
    const head = execFileSync('git', ['-C', dir, 'rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['-C', dir, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
    return dirty ? `${head}+dirty` : head;
  } catch {
    return null;
  }
}

/** The photos of every source folder, resized so the short side ≤ shortSide, as PNGs in one folder. */
async function prepareData(sources: string[], outDir: string, shortSide: number, log?: (l: string) => void): Promise<{ dir: string; files: { source: string; name: string; sha256: string }[] }> {
  const done = path.join(outDir, '.complete');
  const indexFile = path.join(outDir, 'index.json');
  if (fs.existsSync(done)) return { dir: outDir, files: JSON.parse(fs.readFileSync(indexFile, 'utf8')) as { source: string; name: string; sha256: string }[] };
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });
  const files: { source: string; name: string; sha256: string }[] = [];
  for (const [k, src] of sources.entries()) {
    for (const n of await listImages(src)) {
      const file = path.join(src, n);
      const target = path.join(outDir, `${k}-${n.replace(/[\\/]/g, '__').replace(/\.[^.]+$/, '')}.png`);
      const img = sharp(file, { failOn: 'error' }).rotate();
      const meta = await img.metadata();
      const w = meta.autoOrient?.width ?? meta.width ?? 0, h = meta.autoOrient?.height ?? meta.height ?? 0;
      const s = Math.min(1, shortSide / Math.min(w, h));
      await img.resize({ width: Math.round(w * s), height: Math.round(h * s), kernel: 'lanczos3' }).removeAlpha().toColourspace('srgb').png().toFile(target);
      files.push({ source: src, name: n, sha256: sha256(file) });
    }
  }
  fs.writeFileSync(indexFile, JSON.stringify(files, null, 1) + '\n');
  fs.writeFileSync(done, '');
  log?.(`data: ${files.length} photos from ${sources.length} folders, short side ≤ ${shortSide} → ${outDir}`);
  return { dir: outDir, files };
}

export interface EvalRow { method: string; images: number; psnr_y: number; ssim_y: number; seconds_per_image: number }

/** Upscales every LR of the set with each method (then its colour fix, if any), writes the outputs (PNG) and scores PSNR/SSIM on Y. */
async function evaluateSet(methods: { name: string; model: string; colorFix?: ColorFixSpec }[], lrDir: string, hrDir: string, outDir: string, seed: number, max: number, log?: (l: string) => void): Promise<EvalRow[]> {
  const names = (await listImages(lrDir)).slice(0, max);
  const rows: EvalRow[] = [];
  // The registry's psnr / ssim (pyiqa's Y of YCbCr), the same numbers `vpdsr eval` prints.
  const metrics = new ImageMetrics(['psnr', 'ssim']);
  try {
    for (const m of methods) {
      const dir = path.join(outDir, m.name);
      fs.mkdirSync(dir, { recursive: true });
      // fp32, the reference precision (the CLI's default may be auto): the recorded table is reproducible anywhere.
      const up = loadUpscaler({ model: m.model, dtype: 'fp32', onWarning: () => {} });
      let psnr = 0, ssim = 0, secs = 0;
      try {
        for (const n of names) {
          const lr = await readRgb8(path.join(lrDir, n));
          const hr = await readRgb8(path.join(hrDir, n));
          try {
            const t0 = performance.now();
            // As `vpdsr upscale` does: the fix on the float output against the bicubic ×4 input, then 8 bits.
            const sr = torch.keep(torch.scope(() => {
              const y = up.upscale(lr.unsqueeze(0), { seed, tile: 0 });
              return (m.colorFix ? colorFixFromInput(m.colorFix, y, lr.unsqueeze(0)) : y).mul(255).round().div(255);
            }));
            secs += (performance.now() - t0) / 1000;
            try {
              await writeImage(path.join(dir, n.replace(/\.[^.]+$/, '.png')), sr.squeeze(0), { overwrite: true });
              torch.scope(() => {
                const h = hr.unsqueeze(0).narrow(2, 0, sr.size(2)).narrow(3, 0, sr.size(3));
                psnr += metrics.score('psnr', sr, h)!;
                ssim += metrics.score('ssim', sr, h)!;
              });
            } finally { sr.dispose(); }
          } finally { lr.dispose(); hr.dispose(); }
        }
      } finally { up.dispose(); }
      const row = { method: m.name, images: names.length, psnr_y: psnr / names.length, ssim_y: ssim / names.length, seconds_per_image: secs / names.length };
      log?.(`eval ${m.name}: PSNR-Y ${row.psnr_y.toFixed(3)} SSIM-Y ${row.ssim_y.toFixed(4)} ${row.seconds_per_image.toFixed(3)} s/image`);
      rows.push(row);
    }
  } finally { metrics.dispose(); }
  return rows;
}

export function loadDefaultModelConfig(file: string): DefaultModelConfig {
  let raw: unknown;
  try { raw = parseYaml(fs.readFileSync(file, 'utf8')); } catch (e) { throw new ConfigError(`${file}: ${(e as Error).message.split('\n')[0]}`); }
  const p = schema.safeParse(raw);
  if (!p.success) throw new ConfigError(`${file}: ${p.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ')}`);
  return p.data;
}

export async function trainDefaultModel(file: string, o: DefaultModelOptions = {}): Promise<{ out: string; model: string }> {
  const x = loadDefaultModelConfig(file);
  const base = path.dirname(path.resolve(file));
  const out = o.out ? path.resolve(o.out) : path.resolve(base, x.out);
  const it = (v: unknown): unknown => o.iterations ?? v;
  const common = { seed: x.seed, threads: x.threads };
  fs.mkdirSync(out, { recursive: true });
  const sources = x.data.sources.map((s) => path.resolve(base, s));
  const data = await prepareData(sources, path.join(out, 'data'), x.data.shortSide, o.log);
  const trainDir = data.dir;
  const enc = x.encoder as Record<string, unknown> & { data: Record<string, unknown> };
  const encCfg = checkConfig('encoder', { ...common, ...enc, iterations: it(enc.iterations), out: path.join(out, 'encoder'), data: { ...enc.data, hr: trainDir } }, `${file}: encoder`);
  const tea = x.teacher as Record<string, unknown> & { data: Record<string, unknown> };
  const teaCfg = checkConfig('teacher', { ...common, ...tea, iterations: it(tea.iterations), out: path.join(out, 'teacher'), data: { ...tea.data, hr: trainDir, degradation: x.degradation } }, `${file}: teacher`);
  const dis = x.distill as Record<string, unknown> & { data: Record<string, unknown> };
  const runCfgs = (['plain', 'vpdsr'] as const).map((name) => [name, checkConfig('distill', {
    ...common, ...dis, ...x.runs[name], iterations: it(dis.iterations), out: path.join(out, `student-${name}`), teacher: path.join(out, 'teacher', 'model'),
    encoder: path.join(out, 'encoder', ENCODER_FILE), data: { ...dis.data, hr: trainDir, degradation: x.degradation },
  }, `${file}: runs.${name}`)] as const);
  const steps: Record<string, number> = {};
  const note = (k: string, r: { step: number } | null, c: { iterations: number }): void => { steps[k] = r?.step ?? c.iterations; };
  note('encoder', await phase(encCfg, path.join(encCfg.out, ENCODER_FILE), trainEncoder, o), encCfg);
  note('teacher', await phase(teaCfg, path.join(teaCfg.out, 'model'), trainTeacher, o), teaCfg);
  for (const [name, c] of runCfgs) note(`student-${name}`, await phase(c, path.join(c.out, 'model'), distill, o), c);

  // Export: the VPD-SR student's folder with the training record, licence and provenance.
  const exportDir = o.out ? path.join(out, 'export', x.name) : path.resolve(base, x.export.dir);
  const student = path.join(runCfgs[1]![1].out, 'model');
  const json = readModelJson(student);
  const configText = fs.readFileSync(file);
  const training: JsonObject = {
    command: 'npm run train:default',
    config: { file: path.relative(path.resolve(base, '..'), path.resolve(file)), sha256: createHash('sha256').update(configText).digest('hex'), iterationsOverride: o.iterations ?? null },
    commit: gitCommit(base),
    seed: x.seed,
    data: {
      sources: x.data.sources, shortSide: x.data.shortSide, images: data.files.length,
      files: data.files.map((f) => ({ file: `${path.basename(f.source)}/${f.name}`, sha256: f.sha256 })),
      degradation: x.degradation as JsonObject,
    },
    steps,
    evaluation: null,
  };
  const writeExport = (t: JsonObject): void => {
    writeModelFolder(exportDir, { ...json, name: x.name, ...(x.export.colorFix ? { colorFix: x.export.colorFix } : {}), training: t, provenance: { ...json.provenance, note: `VPD-SR student (L_distill + ESS + HFP + adversarial) trained by vpdsr from freely licensed photos only; see PROVENANCE.md` } }, (tmp) => {
      fs.copyFileSync(path.join(student, UNET_FILE), path.join(tmp, UNET_FILE));
      fs.copyFileSync(path.resolve(base, x.export.license), path.join(tmp, 'LICENSE'));
      fs.copyFileSync(path.resolve(base, x.export.provenance), path.join(tmp, 'PROVENANCE.md'));
    }, true);
  };
  writeExport(training);
  o.log?.(`export → ${exportDir}`);
  if (o.noEval) return { out, model: exportDir };

  // Evaluation on the test set: bicubic, the teacher (T steps), the plain student, the VPD-SR student,
  // the three with the export's colour fix, and the VPD-SR student without it.
  const ev = x.evaluation;
  const fix = x.export.colorFix;
  const methods = [
    { name: 'bicubic', model: 'bicubic' }, { name: 'teacher', model: teaCfg.out + '/model', colorFix: fix },
    { name: 'student-plain', model: path.join(runCfgs[0]![1].out, 'model'), colorFix: fix }, { name: 'student-vpdsr', model: exportDir, colorFix: fix },
    ...(fix ? [{ name: 'student-vpdsr-raw', model: exportDir }] : []),
  ];
  const rows = await evaluateSet(methods, path.resolve(base, ev.lr), path.resolve(base, ev.hr), path.join(out, 'eval'), ev.seed, o.evalMax ?? ev.max, o.log);
  const evaluation = { set: ev.lr, threads: torch.getNumThreads(), seed: ev.seed, outputs: path.join(path.relative(path.resolve(base, '..'), out), 'eval'), rows } as unknown as JsonObject;
  fs.writeFileSync(path.join(out, 'eval.json'), JSON.stringify(evaluation, null, 2) + '\n');
  writeExport({ ...training, evaluation });
  o.log?.(`evaluation recorded in ${path.join(exportDir, MODEL_JSON)}`);
  return { out, model: exportDir };
}
