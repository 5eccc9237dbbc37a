// The small-scale experiment of VPDSR_METHOD §8.3 as one command: held-out crops, the stand-in
// encoder, the pixel-space teacher, run A (L_distill only) and run B (full objective) with the same
// seed and iterations, then the evaluation → results.json, results.md and panel.png.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import * as torch from '../engine/index.js';
import { Tensor } from '../engine/index.js';
import { listImages, readRgb8, degradeFile } from '../data/dataset.js';
import { writeImage } from '../io/image/index.js';
import { loadModelFolder } from '../models/convert.js';
import { checkConfig, ConfigError, type TrainConfig } from './config.js';
import { degradationPreset, loadValSet } from './data.js';
import { trainEncoder, loadEncoder, ENCODER_FILE } from './encoder-train.js';
import { trainTeacher } from './teacher.js';
import { distill } from './distill.js';
import { evaluate, markdownTable, runMethod, type Method } from './evaluate.js';
import { spaceFor } from './space.js';
import { previewGrid } from './sample.js';
import type { TrainOptions, TrainResult } from './run.js';
import { LAST, checkpointDir } from './checkpoint.js';

const section = z.record(z.string(), z.unknown());
const experimentSchema = z.strictObject({
  out: z.string().min(1),
  seed: z.number().int().nonnegative(),
  threads: z.number().int().min(0).default(0),
  data: z.strictObject({ train: z.string().min(1), val: z.string().min(1) }),
  heldOut: z.strictObject({ crop: z.number().int().positive().multipleOf(4), seed: z.number().int().nonnegative(), max: z.number().int().positive() }),
  /** data.degradation of every phase and of the held-out crops. */
  degradation: section,
  encoder: section,
  teacher: section,
  distill: section,
  runs: z.record(z.string(), section),
  evaluation: z.strictObject({ seed: z.number().int().nonnegative(), panel: z.number().int().min(0).default(4), monitor: z.number().int().positive().default(8) }),
});

/** Minutes each phase may take on the target machine (VPDSR_METHOD §8.3's budget). */
export const PHASE_BUDGET_MIN: Record<string, number> = { encoder: 3, teacher: 20, distill: 12 };

export interface ExperimentOptions extends TrainOptions {
  /** Timing probe: run each phase for this many iterations into OUT/probe and report s/it and the counts that fit the budget. */
  probe?: number;
  /** Overrides every phase's iteration count (a quick end-to-end proof). */
  iterations?: number;
  /** Overrides the run folder. */
  out?: string;
  log?: (line: string) => void;
}

async function prepareHeldOut(srcDir: string, outDir: string, crop: number, seed: number, max: number, degradation: Record<string, unknown>): Promise<{ hr: string; lr: string }> {
  const hrDir = path.join(outDir, 'hr'), lrDir = path.join(outDir, 'lr');
  const done = path.join(outDir, '.complete');
  if (fs.existsSync(done)) return { hr: hrDir, lr: lrDir };
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(hrDir, { recursive: true }); fs.mkdirSync(lrDir, { recursive: true });
  const preset = degradationPreset({ crop, batch: 1, workers: 0, degradation: degradation as { base: 'test' } });
  const names = (await listImages(srcDir)).sort().slice(0, max);
  for (const n of names) {
    const stem = n.replace(/\.[^.]+$/, '');
    const img = await readRgb8(path.join(srcDir, n));
    const c = torch.keep(torch.scope(() => img.narrow(1, Math.floor((img.size(1) - crop) / 2), crop).narrow(2, Math.floor((img.size(2) - crop) / 2), crop).contiguous()));
    img.dispose();
    await writeImage(path.join(hrDir, `${stem}.png`), c, { overwrite: true });
    c.dispose();
    // Degraded once, with a fixed seed per file, from the stored 8-bit crop.
    const b = await degradeFile(hrDir, `${stem}.png`, seed, preset, { gtPrep: false });
    await writeImage(path.join(lrDir, `${stem}.png`), b.lq, { overwrite: true });
    b.gt.dispose(); b.lq.dispose();
  }
  fs.writeFileSync(done, '');
  return { hr: hrDir, lr: lrDir };
}

/** Runs a phase unless its artifact exists; resumes it when a checkpoint is there. */
export async function phase<T extends TrainConfig>(cfg: T, artifact: string, run: (c: T, o: TrainOptions) => Promise<TrainResult>, o: ExperimentOptions): Promise<{ seconds: number; step: number; secondsPerIteration: number | null } | null> {
  if (fs.existsSync(artifact)) { o.log?.(`${cfg.kind}: ${artifact} exists, skipped`); return null; }
  const resume = fs.existsSync(path.join(checkpointDir(cfg.out), LAST));
  const t0 = performance.now();
  // Steady-state seconds per iteration: from the end of iteration 1 (loader start and first-call
  // costs excluded) to the end of the last.
  let tFirst = 0, nFirst = 0, tLast = 0, nLast = 0;
  const r = await run(cfg, { ...o, resume, onProgress: (p) => {
    if (!tFirst) { tFirst = performance.now(); nFirst = p.step; }
    tLast = performance.now(); nLast = p.step;
    o.onProgress?.(p);
  } });
  if (r.aborted) throw new Error(`stopped in ${cfg.kind} at iteration ${r.step}; rerun the same command to continue`);
  const seconds = (performance.now() - t0) / 1000;
  const secondsPerIteration = nLast > nFirst ? (tLast - tFirst) / 1000 / (nLast - nFirst) : null;
  o.log?.(`${cfg.kind} → ${r.artifact}: ${r.step} iterations in ${seconds.toFixed(1)} s (${secondsPerIteration === null ? '?' : secondsPerIteration.toFixed(3)} s/it after the first)`);
  return { seconds, step: r.step, secondsPerIteration };
}

export async function runExperiment(file: string, o: ExperimentOptions = {}): Promise<{ out: string; results: string }> {
  let raw: unknown;
  try { raw = parseYaml(fs.readFileSync(file, 'utf8')); } catch (e) { throw new ConfigError(`${file}: ${(e as Error).message.split('\n')[0]}`); }
  const p = experimentSchema.safeParse(raw);
  if (!p.success) throw new ConfigError(`${file}: ${p.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ')}`);
  const x = p.data;
  const base = path.dirname(path.resolve(file));
  const out0 = o.out ? path.resolve(o.out) : path.resolve(base, x.out);
  const out = o.probe ? path.join(out0, 'probe') : out0;
  if (o.probe) { fs.rmSync(out, { recursive: true, force: true }); o = { ...o, iterations: o.probe }; }
  const trainDir = path.resolve(base, x.data.train), valSrc = path.resolve(base, x.data.val);
  fs.mkdirSync(out, { recursive: true });
  const it = (v: unknown): unknown => o.iterations ?? v;
  const common = { seed: x.seed, threads: x.threads };
  o.log?.(`held-out crops: ${x.heldOut.max} × ${x.heldOut.crop}² from ${valSrc}`);
  const held = await prepareHeldOut(valSrc, path.join(out0, 'heldout'), x.heldOut.crop, x.heldOut.seed, x.heldOut.max, x.degradation);
  const monitor = { hr: held.hr, lr: held.lr, max: x.evaluation.monitor, preview: 4, seed: x.evaluation.seed };
  // Every phase config is checked before any training starts.
  const enc = x.encoder as Record<string, unknown> & { data: Record<string, unknown> };
  const encCfg = checkConfig('encoder', { ...common, ...enc, iterations: it(enc.iterations), out: path.join(out, 'encoder'), data: { ...enc.data, hr: trainDir } }, `${file}: encoder`);
  const { valEvery: teaEvery, ...tea } = x.teacher as Record<string, unknown> & { data: Record<string, unknown>; valEvery?: number };
  const teaCfg = checkConfig('teacher', { ...common, ...tea, iterations: it(tea.iterations), out: path.join(out, 'teacher'), data: { ...tea.data, hr: trainDir, degradation: x.degradation }, val: { ...monitor, every: teaEvery ?? 0 }, preview: { every: teaEvery ?? 0 } }, `${file}: teacher`);
  const { valEvery: disEvery, ...dis } = x.distill as Record<string, unknown> & { data: Record<string, unknown>; valEvery?: number };
  const runCfgs = Object.entries(x.runs).map(([name, r]) => [name, checkConfig('distill', {
    ...common, ...dis, ...r, iterations: it(dis.iterations), out: path.join(out, `run-${name}`), teacher: path.join(out, 'teacher', 'model'),
    encoder: path.join(out, 'encoder', ENCODER_FILE), data: { ...dis.data, hr: trainDir, degradation: x.degradation }, val: { ...monitor, every: disEvery ?? 0 }, preview: { every: disEvery ?? 0 },
  }, `${file}: runs.${name}`)] as const);
  const timings: Record<string, unknown> = {};
  timings.encoder = await phase(encCfg, path.join(encCfg.out, ENCODER_FILE), trainEncoder, o);
  timings.teacher = await phase(teaCfg, path.join(teaCfg.out, 'model'), trainTeacher, o);
  for (const [name, c] of runCfgs) timings[`run-${name}`] = await phase(c, path.join(c.out, 'model'), distill, o);
  if (o.probe) {
    // Iteration counts that fit each phase's budget at the probed speed (validation excluded).
    const fit = (k: string, budget: number): number | null => {
      const t = timings[k] as { secondsPerIteration: number | null } | null;
      return t?.secondsPerIteration ? Math.floor((budget * 60) / t.secondsPerIteration / 50) * 50 : null;
    };
    const runNames = runCfgs.map(([n]) => `run-${n}`);
    const slowestRun = Math.max(...runNames.map((n) => (timings[n] as { secondsPerIteration: number | null } | null)?.secondsPerIteration ?? 0));
    const suggestion = {
      encoder: fit('encoder', PHASE_BUDGET_MIN.encoder!), teacher: fit('teacher', PHASE_BUDGET_MIN.teacher!),
      distill: slowestRun ? Math.floor((PHASE_BUDGET_MIN.distill! * 60) / slowestRun / 50) * 50 : null,
    };
    const report = { probe: o.probe, timings, budgetMinutes: PHASE_BUDGET_MIN, suggestedIterations: suggestion, threads: torch.getNumThreads() };
    fs.writeFileSync(path.join(out, 'probe.json'), JSON.stringify(report, null, 2) + '\n');
    o.log?.(`probe: ${JSON.stringify(report)}`);
    return { out, results: path.join(out, 'probe.json') };
  }

  // Evaluation on every held-out crop with a fixed ε.
  const t0 = performance.now();
  const items = await loadValSet({ hr: held.hr, lr: held.lr, max: x.heldOut.max });
  const encoder = loadEncoder(path.join(encCfg.out, ENCODER_FILE));
  const loaded = [['teacher', path.join(teaCfg.out, 'model')] as const, ...runCfgs.map(([n, c]) => [n, path.join(c.out, 'model')] as const)].map(([n, d]) => ({ n, m: loadModelFolder(d) }));
  try {
    const methods: Method[] = [{ name: 'bicubic', kind: 'bicubic' }, ...loaded.map(({ n, m }) => ({
      name: n, kind: 'net' as const, net: m.unet, mode: m.json.oneStep ? 'one-step' as const : 'multi-step' as const,
      space: spaceFor(m.json.kind, m.json.schedule, m.vq),
    }))];
    const rows = evaluate(items, methods, encoder, 'teacher', x.evaluation.seed);
    timings.evaluation = { seconds: (performance.now() - t0) / 1000 };
    const results = { config: path.resolve(file), iterationsOverride: o.iterations ?? null, heldOut: { count: items.length, crop: x.heldOut.crop, seed: x.heldOut.seed }, noiseSeed: x.evaluation.seed, rows, timings, threads: torch.getNumThreads() };
    fs.writeFileSync(path.join(out, 'results.json'), JSON.stringify(results, null, 2) + '\n');
    const md = `# VPD-SR small-scale experiment\n\n${items.length} held-out BSDS500 val crops (${x.heldOut.crop}² HR, ×4), noise seed ${x.evaluation.seed}, fp32, CPU.\n\n${markdownTable(rows)}`;
    fs.writeFileSync(path.join(out, 'results.md'), md);
    // Panel: bicubic, teacher, the runs, HR on a few crops.
    const panelRows: Tensor[][] = [];
    try {
      for (const [i, item] of items.slice(0, x.evaluation.panel).entries()) {
        panelRows.push([...methods.map((m) => torch.keep(runMethod(m, item.lq, x.evaluation.seed + i))), torch.keep(item.hr.clone())]);
      }
      if (panelRows.length) {
        const grid = torch.keep(torch.scope(() => previewGrid(panelRows)));
        try { await writeImage(path.join(out, 'panel.png'), grid, { overwrite: true }); } finally { grid.dispose(); }
      }
    } finally {
      for (const t of panelRows.flat()) t.dispose();
    }
    o.log?.(md);
    return { out, results: path.join(out, 'results.json') };
  } finally {
    encoder.dispose();
    for (const { m } of loaded) { m.unet.dispose(); m.vq?.dispose(); }
    for (const i of items) { i.hr.dispose(); i.lq.dispose(); }
  }
}
