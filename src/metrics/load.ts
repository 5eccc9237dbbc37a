// Reading metric weight files (torch .pth / .pt, safetensors) into engine tensors, with the file
// named in every error.
import * as torch from '../engine/index.js';
import { Tensor } from '../engine/index.js';
import { readCheckpoint, sniffFormat, stateDictFrom } from '../io/checkpoint/index.js';
import { rawToTensor, loadSafetensors } from '../io/checkpoint/tensors.js';

/** Every tensor of a checkpoint as float32 (torch.save zip or legacy, or safetensors). */
export function loadStateDictFile(file: string): Map<string, Tensor> {
  try {
    if (sniffFormat(file) === 'safetensors') return loadSafetensors(file);
    const sd = stateDictFrom(readCheckpoint(file));
    return torch.scope(() => {
      const out = new Map<string, Tensor>();
      for (const [k, r] of sd) {
        const t = rawToTensor(r);
        out.set(k, torch.keep(torch.isFloating(t.dtype) && t.dtype !== 'float32' ? t.to({ dtype: 'float32' }) : t));
      }
      return out;
    });
  } catch (e) {
    const msg = (e as Error).message;
    throw new Error(msg.includes(file) ? msg : `${file}: ${msg}`);
  }
}

export function disposeAll(m: Map<string, Tensor>): void {
  for (const t of m.values()) t.dispose();
}
