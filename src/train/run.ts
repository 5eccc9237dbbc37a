// The training loop every command shares: iterations with progress, JSON-lines logs, periodic
// validation, previews and checkpoints, exact resumption, and a last checkpoint on abort.
import fs from 'node:fs';
import path from 'node:path';
import * as torch from '../engine/index.js';
import { Tensor } from '../engine/index.js';
import { AdamW, WarmupLR, flattenOptimizerState, unflattenOptimizerState } from '../engine/optim/index.js';
import { LAST, checkpointDir, loadCheckpoint, saveCheckpoint, section, putSection, CHECKPOINT_FORMAT, type CheckpointState } from './checkpoint.js';
import type { OptimConfig, TrainConfig } from './config.js';
import { anyRank, type TrainDist } from './parallel.js';

export interface TrainProgress {
  kind: TrainConfig['kind'];
  step: number;
  total: number;
  /** The loss terms of the last iteration. */
  terms: Record<string, number>;
  itPerSec: number;
  etaSec: number;
}

export interface TrainLogRecord { type: 'train' | 'val' | 'checkpoint' | 'end'; step: number; time: number; [k: string]: unknown }

export interface TrainOptions {
  onProgress?: (p: TrainProgress) => void;
  onLog?: (r: TrainLogRecord) => void;
  signal?: AbortSignal;
  /** Continue from OUT/checkpoints/last.safetensors. */
  resume?: boolean;
}

export interface TrainResult {
  out: string;
  step: number;
  aborted: boolean;
  /** The model folder / encoder file written at the end (absent when aborted, and on ranks other than 0). */
  artifact?: string;
  lastTerms: Record<string, number>;
  lastVal?: Record<string, number>;
  checkpoint: string;
}

/** What a command plugs into the loop. */
export interface Phase {
  step(): Promise<Record<string, number>>;
  /** Everything a checkpoint must hold beyond the step (views are fine: written at once). */
  saveState(): { tensors: Map<string, Tensor>; json: Record<string, unknown> };
  loadState(tensors: Map<string, Tensor>, json: Record<string, unknown>): void;
  validate?(step: number, previewFile: string | null): Promise<Record<string, number>>;
  finish(): Promise<string>;
  dispose(): Promise<void>;
  /** The process group of a data-parallel run (rank 0 alone writes and validates). */
  dist?: TrainDist | null;
}

/** AdamW plus its warm-up/cosine schedule, from an optim section. */
export function makeOptimizer(params: Tensor[], o: OptimConfig, iterations: number): { opt: AdamW; sched: WarmupLR } {
  const opt = new AdamW(params, { lr: o.lr, betas: o.betas, weightDecay: o.weightDecay });
  const after = o.schedule === 'cosine' ? { kind: 'cosine' as const, tMax: Math.max(1, iterations - o.warmup), etaMin: o.minLr } : { kind: 'constant' as const };
  return { opt, sched: new WarmupLR(opt, { warmupIters: o.warmup, after }) };
}

export function saveOptimizer(into: Map<string, Tensor>, json: Record<string, unknown>, name: string, o: { opt: AdamW; sched: WarmupLR }): void {
  const f = flattenOptimizerState(o.opt.stateDict());
  putSection(into, name, f.tensors);
  json[name] = { optimizer: f.json, scheduler: o.sched.stateDict() };
}

export function loadOptimizer(tensors: Map<string, Tensor>, json: Record<string, unknown>, name: string, o: { opt: AdamW; sched: WarmupLR }): void {
  const j = json[name] as { optimizer: string; scheduler: ReturnType<WarmupLR['stateDict']> } | undefined;
  if (!j) throw new Error(`checkpoint: no ${name} state`);
  o.opt.loadStateDict(unflattenOptimizerState(section(tensors, name), j.optimizer));
  o.sched.loadStateDict(j.scheduler);
}

export class TrainAbortedError extends Error {
  constructor(readonly checkpoint: string) {
    super(`training stopped; the last checkpoint is ${checkpoint}`);
    this.name = 'TrainAbortedError';
  }
}

/** Runs a phase to cfg.iterations (from the last checkpoint when resuming). */
export async function runPhase(cfg: TrainConfig, phase: Phase, o: TrainOptions): Promise<TrainResult> {
  const dist = phase.dist ?? null;
  const worldSize = dist?.worldSize ?? 1;
  const writer = !dist || dist.rank === 0;
  const ckDir = checkpointDir(cfg.out);
  const lastFile = path.join(ckDir, LAST);
  if (writer) fs.mkdirSync(cfg.out, { recursive: true });
  const logFile = path.join(cfg.out, 'train.jsonl');
  const log = (r: Omit<TrainLogRecord, 'time'>): void => {
    if (!writer) return;
    const rec = { ...r, time: Date.now() / 1000 } as TrainLogRecord;
    fs.appendFileSync(logFile, JSON.stringify(rec) + '\n');
    o.onLog?.(rec);
  };
  let step = 0;
  if (o.resume) {
    const { state, tensors } = loadCheckpoint(lastFile, cfg.kind);
    const saved = typeof state.worldSize === 'number' ? state.worldSize : 1;
    try {
      if (saved !== worldSize) throw new Error(`${lastFile}: the run was trained with WORLD_SIZE ${saved}; resume it with the same number of processes, not ${worldSize}`);
      phase.loadState(tensors, state);
      step = state.step;
    } finally {
      for (const t of tensors.values()) t.dispose();
    }
    if (step > cfg.iterations) throw new Error(`${lastFile}: the checkpoint is at iteration ${step}, beyond iterations ${cfg.iterations}`);
  } else {
    // A fresh run refuses a folder that already holds a run (use --resume to continue it).
    if (fs.existsSync(lastFile)) throw new Error(`${cfg.out}: holds a training run already (continue it with --resume, or choose another out)`);
    if (writer) fs.writeFileSync(path.join(cfg.out, 'config.json'), JSON.stringify(cfg, null, 2) + '\n');
  }
  const writeCheckpoint = (): string => {
    if (!writer) return lastFile;
    const s = phase.saveState();
    const state: CheckpointState = { ...s.json, format: CHECKPOINT_FORMAT, kind: cfg.kind, step, worldSize };
    saveCheckpoint(lastFile, s.tensors, state);
    if (cfg.checkpoint.every > 0 && step % cfg.checkpoint.every === 0) {
      const keep = path.join(ckDir, `step-${String(step).padStart(7, '0')}.safetensors`);
      fs.copyFileSync(lastFile, keep);
      const old = fs.readdirSync(ckDir).filter((n) => /^step-\d+\.safetensors$/.test(n)).sort();
      for (const n of old.slice(0, Math.max(0, old.length - cfg.checkpoint.keep))) fs.rmSync(path.join(ckDir, n), { force: true });
    }
    log({ type: 'checkpoint', step, file: lastFile });
    return lastFile;
  };
  const previewDir = path.join(cfg.out, 'previews');
  const validate = async (preview: boolean): Promise<Record<string, number> | undefined> => {
    if (!phase.validate || !writer) return undefined;
    if (preview) fs.mkdirSync(previewDir, { recursive: true });
    const v = await phase.validate(step, preview ? path.join(previewDir, `step-${String(step).padStart(7, '0')}.png`) : null);
    log({ type: 'val', step, ...v });
    return v;
  };
  let lastTerms: Record<string, number> = {};
  let lastVal: Record<string, number> | undefined;
  let rate = 0;
  const t0 = performance.now();
  const start = step;
  try {
    while (step < cfg.iterations) {
      if (await anyRank(o.signal?.aborted ?? false, dist)) {
        const file = writeCheckpoint();
        return { out: cfg.out, step, aborted: true, lastTerms, lastVal, checkpoint: file };
      }
      lastTerms = await phase.step();
      step++;
      const elapsed = (performance.now() - t0) / 1000;
      rate = (step - start) / Math.max(elapsed, 1e-9);
      o.onProgress?.({ kind: cfg.kind, step, total: cfg.iterations, terms: lastTerms, itPerSec: rate, etaSec: (cfg.iterations - step) / Math.max(rate, 1e-9) });
      if (step % cfg.log.every === 0 || step === cfg.iterations) log({ type: 'train', step, ...lastTerms, it_per_s: rate });
      // Validation numbers every val.every, a preview grid every preview.every (both at the end).
      const vEvery = 'val' in cfg && cfg.val ? cfg.val.every : 0;
      const pEvery = cfg.preview.every;
      const doVal = vEvery > 0 && step % vEvery === 0, doPreview = pEvery > 0 && step % pEvery === 0;
      if (step < cfg.iterations && (doVal || doPreview)) lastVal = await validate(doPreview);
      if (step < cfg.iterations && cfg.checkpoint.every > 0 && step % cfg.checkpoint.every === 0) writeCheckpoint();
    }
    if (start < cfg.iterations || !lastVal) lastVal = await validate(true);
    const file = writeCheckpoint();
    const artifact = writer ? await phase.finish() : undefined;
    log({ type: 'end', step, artifact });
    // The workers end together, once rank 0 has written the model.
    if (dist) await dist.pg.barrier();
    return { out: cfg.out, step, aborted: false, ...(artifact ? { artifact } : {}), lastTerms, lastVal, checkpoint: file };
  } finally {
    await phase.dispose();
    await dist?.pg.destroy();
  }
}

/** The run's RNG state as a tensor entry (restored with setState). */
export function rngTensor(g: torch.Generator): Tensor { return g.getState(); }
