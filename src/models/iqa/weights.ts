// pyiqa weight files → the IQA networks (IQA_SPEC §1 "Weight files"): a torch.save state dict (or
// its `params` entry), a leading `module.` dropped, exactly the model's keys and shapes (strict, as
// pyiqa's load_pretrained_network), floats up-cast to float32. Nothing is downloaded.
import * as fs from 'node:fs';
import * as os from 'node:os';
import path from 'node:path';
import * as torch from '../../engine/index.js';
import { readCheckpoint, stateDictFrom, type RawTensor } from '../../io/checkpoint/index.js';
import { rawToTensor } from '../../io/checkpoint/tensors.js';
import type { Module } from '../../engine/nn/index.js';
import type { IqaMetricInfo } from './metrics.js';

const DTYPE_NAME: Record<string, string> = {
  float32: 'F32', float64: 'F64', float16: 'F16', bfloat16: 'BF16', int64: 'I64', int32: 'I32', int8: 'I8', uint8: 'U8', bool: 'BOOL',
};

/** [key, dtype, shape] of every state-dict entry in order, as the golden `*.keys` cases list them. */
export function keyList(model: Module): [string, string, number[]][] {
  return [...model.stateDict()].map(([k, t]) => [k, DTYPE_NAME[t.dtype] ?? t.dtype, [...t.shape]]);
}

/**
 * The weight file of a metric: `weights` is the file itself or a folder holding it under pyiqa's
 * name. A missing file is one line naming it, the metric and where pyiqa publishes it.
 */
export function resolveWeightFile(info: IqaMetricInfo, weights: string): string {
  if (typeof weights !== 'string' || weights === '') throw new Error(`${info.id}: weights must be a file or folder path`);
  let st: fs.Stats | undefined;
  try { st = fs.statSync(weights); } catch { st = undefined; }
  const file = st?.isDirectory() ? path.join(weights, info.weightFile) : weights;
  let fst: fs.Stats | undefined;
  try { fst = fs.statSync(file); } catch { fst = undefined; }
  if (!fst) throw new Error(`${file}: not found: metric ${info.id} needs pyiqa's ${info.weightFile}, published at ${info.publishedAt} (vpdsr never downloads; fetch it yourself)`);
  if (!fst.isFile()) throw new Error(`${file}: not a file (metric ${info.id} needs pyiqa's ${info.weightFile})`);
  return file;
}

/** Where pyiqa caches its weight files: `$TORCH_HOME/hub/pyiqa` (default `~/.cache/torch/hub/pyiqa`). */
export function pyiqaCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const torchHome = env.TORCH_HOME || path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'torch');
  return path.join(torchHome, 'hub', 'pyiqa');
}

const FLOAT_SAFE = new Set(['F32', 'F16', 'BF16', 'F64']);
const INT_SAFE = new Set(['I64', 'I32']);

/**
 * Loads a pyiqa checkpoint into `model` strictly: every key of the model, no other, same shapes;
 * float tensors of any float dtype are stored as float32, integer buffers must be integers.
 * Errors name the file and the metric.
 */
export function loadPyiqaWeights(model: Module, file: string, info: IqaMetricInfo): void {
  let raw: Map<string, RawTensor>;
  try {
    raw = stateDictFrom(readCheckpoint(file), { unwrap: ['params'], stripPrefixes: ['module.'] });
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0]!;
    throw new Error(msg.startsWith(file) ? `${msg} (metric ${info.id})` : `${file}: ${msg} (metric ${info.id})`);
  }
  const own = model.stateDict();
  const problems: string[] = [];
  for (const k of raw.keys()) if (!own.has(k)) problems.push(`unexpected key ${k}`);
  for (const [k, t] of own) {
    const r = raw.get(k);
    if (!r) { problems.push(`missing key ${k}`); continue; }
    if (r.shape.join() !== t.shape.join()) problems.push(`${k}: shape [${r.shape.join(', ')}], expected [${t.shape.join(', ')}]`);
    else if (torch.isFloating(t.dtype) ? !FLOAT_SAFE.has(r.dtype) : !INT_SAFE.has(r.dtype)) problems.push(`${k}: dtype ${r.dtype}`);
  }
  if (problems.length) {
    throw new Error(`${file}: not a ${info.weightFile} checkpoint for metric ${info.id}: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? `; … ${problems.length - 3} more` : ''}`);
  }
  torch.noGrad(() => {
    for (const [k, dst] of own) {
      torch.scope(() => {
        const t = rawToTensor(raw.get(k)!);
        dst.copy_(t.dtype === dst.dtype ? t : t.to({ dtype: dst.dtype }));
      });
    }
  });
}
