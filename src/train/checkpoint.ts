// Training checkpoints: one safetensors file holding every tensor (model, EMA, optimiser moments,
// discriminator, RNG state) and the rest of the state as JSON metadata. The file is written under
// a temporary name and renamed (src/io's atomic write), so a crash or Ctrl-C never leaves a
// partial checkpoint.
import fs from 'node:fs';
import path from 'node:path';
import { Tensor } from '../engine/index.js';
import { loadSafetensors, saveSafetensors } from '../io/checkpoint/tensors.js';
import { SafetensorsFile } from '../io/checkpoint/index.js';

export const CHECKPOINT_FORMAT = 'vpdsr-train-checkpoint/1';
const STATE_KEY = 'vpdsr_train_state';

export interface CheckpointState {
  format: typeof CHECKPOINT_FORMAT;
  kind: string;
  /** Iterations done. */
  step: number;
  [k: string]: unknown;
}

/** The one place checkpoints are written (atomic). */
export function saveCheckpoint(file: string, tensors: Map<string, Tensor>, state: CheckpointState): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  saveSafetensors(file, tensors, { [STATE_KEY]: JSON.stringify(state) });
}

export function readCheckpointState(file: string): CheckpointState {
  const f = SafetensorsFile.open(file);
  try {
    const text = f.metadata[STATE_KEY];
    if (text === undefined) throw new Error(`${file}: not a vpdsr training checkpoint (no ${STATE_KEY} metadata)`);
    const s = JSON.parse(text) as CheckpointState;
    if (s.format !== CHECKPOINT_FORMAT) throw new Error(`${file}: checkpoint format ${JSON.stringify(s.format)}, expected ${CHECKPOINT_FORMAT}`);
    return s;
  } finally {
    f.close();
  }
}

/** Reads a checkpoint: the state and every tensor (the caller owns them). */
export function loadCheckpoint(file: string, kind: string): { state: CheckpointState; tensors: Map<string, Tensor> } {
  if (!fs.existsSync(file)) throw new Error(`${file}: no checkpoint to resume from`);
  const state = readCheckpointState(file);
  if (state.kind !== kind) throw new Error(`${file}: a ${state.kind} checkpoint cannot resume ${kind} training`);
  return { state, tensors: loadSafetensors(file) };
}

/** Tensors under `prefix.` as their own map (the prefix removed). */
export function section(tensors: Map<string, Tensor>, prefix: string): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  const p = `${prefix}.`;
  for (const [k, t] of tensors) if (k.startsWith(p)) out.set(k.slice(p.length), t);
  return out;
}

/** Adds a map under `prefix.`. */
export function putSection(into: Map<string, Tensor>, prefix: string, tensors: Map<string, Tensor>): void {
  for (const [k, t] of tensors) into.set(`${prefix}.${k}`, t);
}

export const LAST = 'last.safetensors';
export function checkpointDir(out: string): string { return path.join(out, 'checkpoints'); }
