// EMA of a model's state dict, as the ResShift/SinSR trainers keep it (update_ema_model):
// ema ← rate·ema + (1 − rate)·model for every entry, in place, except excluded keys (left as they
// are: SinSR's relative_position_index) and copied keys (set to the model's value: ResShift's
// running_* / num_batches_tracked / relative_position_index).
import { Tensor } from '../tensor.js';
import { noGrad } from '../autograd.js';
import { keep } from '../scope.js';
import * as c from '../check.js';
import { ArgumentError } from '../check.js';
import { isFloating } from '../dtype.js';
import type { Module, StateDict } from '../nn/module.js';

/** Keys matched by substring (upstream's `'relative_position_index' in key`) or by a predicate. */
export type KeyMatcher = string[] | ((key: string) => boolean);

export interface EMAOptions {
  rate?: number;
  exclude?: KeyMatcher;
  copy?: KeyMatcher;
}

function matcher(where: string, arg: string, m: KeyMatcher | undefined): (k: string) => boolean {
  if (m === undefined) return () => false;
  if (typeof m === 'function') return m;
  if (!Array.isArray(m) || m.some((s) => typeof s !== 'string')) throw new ArgumentError(where, arg, 'must be an array of key substrings or a function');
  return (k) => m.some((s) => k.includes(s));
}

export class EMA {
  readonly rate: number;
  private readonly ema: StateDict = new Map();
  private readonly isExcluded: (k: string) => boolean;
  private readonly isCopied: (k: string) => boolean;

  /** Starts as a copy of the model's state dict (deepcopy(model.state_dict())). */
  constructor(model: Module, opts: EMAOptions = {}) {
    const op = 'EMA';
    this.rate = c.num(op, 'rate', opts.rate ?? 0.999, { min: 0, max: 1 });
    this.isExcluded = matcher(op, 'exclude', opts.exclude);
    this.isCopied = matcher(op, 'copy', opts.copy);
    const sd = stateOf(op, model);
    for (const [k, t] of sd) {
      if (!isFloating(t.dtype) && !this.isExcluded(k) && !this.isCopied(k)) {
        throw new ArgumentError(op, 'exclude', `must name the ${t.dtype} entry "${k}" (or copy must): integer entries cannot be averaged`);
      }
    }
    noGrad(() => { for (const [k, t] of sd) this.ema.set(k, keep(t.clone('preserve'))); });
  }

  /** update_ema_model(): in place, no allocation. */
  update(model: Module): void {
    const sd = stateOf('EMA.update', model);
    for (const k of this.ema.keys()) if (!sd.has(k)) throw new ArgumentError('EMA.update', 'model', `has no state-dict entry "${k}"`);
    const rate = this.rate;
    noGrad(() => {
      for (const [k, e] of this.ema) {
        if (this.isExcluded(k)) continue;
        const src = sd.get(k)!;
        if (this.isCopied(k)) e.copy_(src);
        else e.mul_(rate).add_(src, 1 - rate);
      }
    });
  }

  /** The EMA tensors (its own, not copies: do not dispose them). */
  stateDict(): StateDict {
    return new Map(this.ema);
  }

  /** Replaces the EMA values (e.g. from ema_model_k.pth); keys and shapes must match. */
  loadStateDict(state: Map<string, Tensor>): void {
    const where = 'EMA.loadStateDict';
    if (!(state instanceof Map)) throw new ArgumentError(where, 'state', 'must be a Map<string, Tensor>');
    const missing = [...this.ema.keys()].filter((k) => !state.has(k));
    const unexpected = [...state.keys()].filter((k) => !this.ema.has(k));
    const problems: string[] = [];
    if (missing.length) problems.push(`missing keys: ${missing.join(', ')}`);
    if (unexpected.length) problems.push(`unexpected keys: ${unexpected.join(', ')}`);
    for (const [k, e] of this.ema) {
      const s = state.get(k);
      if (s === undefined) continue;
      if (!(s instanceof Tensor) || s.isDisposed) { problems.push(`entry ${k} is not a live Tensor`); continue; }
      if (s.shape.join() !== e.shape.join()) problems.push(`size mismatch for ${k}: the state dict has shape [${s.shape.join(', ')}], the EMA has [${e.shape.join(', ')}]`);
    }
    if (problems.length) throw new Error(`${where}(): ${problems.join('; ')}`);
    noGrad(() => { for (const [k, e] of this.ema) e.copy_(state.get(k)!); });
  }

  /** reload_ema_model(): loads the EMA values into a model (strict). */
  copyTo(model: Module): void {
    if (model === null || typeof model !== 'object' || typeof (model as Module).loadStateDict !== 'function') throw new ArgumentError('EMA.copyTo', 'model', 'must be a Module');
    model.loadStateDict(this.ema);
  }

  dispose(): void {
    for (const t of this.ema.values()) t.dispose();
    this.ema.clear();
  }
}

function stateOf(where: string, model: Module): StateDict {
  if (model === null || typeof model !== 'object' || typeof (model as Module).stateDict !== 'function') throw new ArgumentError(where, 'model', 'must be a Module');
  return model.stateDict();
}
