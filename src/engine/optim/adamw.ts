// torch.optim.AdamW of PyTorch 1.13 (torch/optim/adamw.py, the single-tensor `_single_tensor_adamw`
// path that 1.13 uses by default), bit for bit: same ATen ops in the same order, same scalars.
import { Tensor } from '../tensor.js';
import { noGrad } from '../autograd.js';
import { scope, keep } from '../scope.js';
import * as c from '../check.js';
import { ArgumentError } from '../check.js';
import { zerosLike } from '../ops/creation.js';
import { maximum } from '../ops/math.js';
import { pythonPow } from './scalar.js';

export interface AdamWOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  /** default 1e-2, as PyTorch's AdamW */
  weightDecay?: number;
  amsgrad?: boolean;
  maximize?: boolean;
}

/** A parameter group: its tensors and hyper-parameters (lr is what schedulers change). */
export interface ParamGroup {
  params: Tensor[];
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
  /** set by the first LR scheduler built on this optimizer (PyTorch's group['initial_lr']) */
  initialLr?: number;
}

export interface AdamWParamState {
  step: number;
  exp_avg: Tensor;
  exp_avg_sq: Tensor;
  max_exp_avg_sq?: Tensor;
}

/** PyTorch's optimizer.state_dict() layout: state by parameter index, groups with hyper-parameters. */
export interface AdamWStateDict {
  state: Map<number, AdamWParamState>;
  param_groups: {
    lr: number; betas: [number, number]; eps: number; weight_decay: number; amsgrad: boolean; maximize: boolean;
    initial_lr?: number; params: number[];
  }[];
}

const op = 'AdamW';

function checkHyper(where: string, o: { lr: number; betas: [number, number]; eps: number; weightDecay: number; amsgrad: boolean; maximize: boolean }): void {
  c.num(where, 'lr', o.lr, { min: 0, finite: true });
  if (!Array.isArray(o.betas) || o.betas.length !== 2) throw new ArgumentError(where, 'betas', 'must be a pair [beta1, beta2]');
  c.num(where, 'betas[0]', o.betas[0], { min: 0, max: 1 });
  c.num(where, 'betas[1]', o.betas[1], { min: 0, max: 1 });
  if (o.betas[0] >= 1 || o.betas[1] >= 1) throw new ArgumentError(where, 'betas', `must lie in [0, 1), got [${o.betas.join(', ')}]`);
  c.num(where, 'eps', o.eps, { min: 0, finite: true });
  c.num(where, 'weight_decay', o.weightDecay, { min: 0, finite: true });
  c.bool(where, 'amsgrad', o.amsgrad);
  c.bool(where, 'maximize', o.maximize);
}

export class AdamW {
  readonly paramGroups: ParamGroup[];
  private readonly state = new Map<Tensor, AdamWParamState>();

  /** AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False) */
  constructor(params: Iterable<Tensor> | (Partial<ParamGroup> & { params: Tensor[] })[], opts: AdamWOptions = {}) {
    const defaults = {
      lr: opts.lr ?? 1e-3, betas: opts.betas ?? [0.9, 0.999] as [number, number], eps: opts.eps ?? 1e-8,
      weightDecay: opts.weightDecay ?? 1e-2, amsgrad: opts.amsgrad ?? false, maximize: opts.maximize ?? false,
    };
    checkHyper(op, defaults);
    const list = [...(params as Iterable<unknown>)];
    if (list.length === 0) throw new ArgumentError(op, 'params', 'is an empty parameter list');
    const groups = list[0] instanceof Tensor ? [{ params: list as Tensor[] }] : (list as (Partial<ParamGroup> & { params: Tensor[] })[]);
    const seen = new Set<Tensor>();
    this.paramGroups = groups.map((g, gi) => {
      if (g === null || typeof g !== 'object' || !Array.isArray(g.params)) throw new ArgumentError(op, `params[${gi}]`, 'must be a Tensor or a group { params: Tensor[], … }');
      const group: ParamGroup = { ...defaults, ...g, params: [...g.params] };
      group.betas = [group.betas[0], group.betas[1]];
      checkHyper(op, group);
      group.params.forEach((p, i) => {
        if (!(p instanceof Tensor) || p.isDisposed) throw new ArgumentError(op, `params[${gi}][${i}]`, 'must be a live Tensor');
        if (!p.isLeaf) throw new ArgumentError(op, `params[${gi}][${i}]`, "can't optimize a non-leaf Tensor");
        if (seen.has(p)) throw new ArgumentError(op, `params[${gi}][${i}]`, 'appears more than once');
        seen.add(p);
      });
      return group;
    });
  }

  /** Per-parameter state (undefined before the parameter's first step). */
  stateOf(p: Tensor): AdamWParamState | undefined {
    return this.state.get(p);
  }

  /** zero_grad(set_to_none=True) (PyTorch 2's default; 1.13's was False). */
  zeroGrad(opts: { setToNone?: boolean } = {}): void {
    const setToNone = c.bool('AdamW.zeroGrad', 'setToNone', opts.setToNone ?? true);
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        if (setToNone) { p.grad = null; continue; }
        const gr = p.grad;
        if (gr) { noGrad(() => gr.zero_()); gr.dispose(); }
      }
    }
  }

  /** optimizer.step(): parameters without a gradient are skipped (and get no state), as PyTorch. */
  step(): void {
    noGrad(() => {
      for (const group of this.paramGroups) {
        const [beta1, beta2] = group.betas;
        const { lr, eps, weightDecay, amsgrad, maximize } = group;
        // bias corrections depend only on the step count; cache them for the parameters of the group
        const corrections = new Map<number, [number, number]>();
        for (const param of group.params) {
          scope(() => {
            const g0 = param.grad;
            if (g0 === null) return;
            let st = this.state.get(param);
            if (!st) {
              st = { step: 0, exp_avg: keep(zerosLike(param)), exp_avg_sq: keep(zerosLike(param)) };
              if (amsgrad) st.max_exp_avg_sq = keep(zerosLike(param));
              this.state.set(param, st);
            }
            const grad = maximize ? g0.neg() : g0;
            // _single_tensor_adamw
            st.step += 1;
            param.mul_(1 - lr * weightDecay);
            st.exp_avg.mul_(beta1).add_(grad, 1 - beta1);
            st.exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2);
            let bc = corrections.get(st.step);
            if (!bc) {
              bc = [1 - pythonPow(beta1, st.step), 1 - pythonPow(beta2, st.step)];
              corrections.set(st.step, bc);
            }
            const [biasCorrection1, biasCorrection2] = bc;
            const stepSize = lr / biasCorrection1;
            const biasCorrection2Sqrt = Math.sqrt(biasCorrection2);
            let denom: Tensor;
            if (amsgrad) {
              if (!st.max_exp_avg_sq) st.max_exp_avg_sq = keep(zerosLike(param));
              const m = maximum(st.max_exp_avg_sq, st.exp_avg_sq);
              st.max_exp_avg_sq.copy_(m);
              denom = st.max_exp_avg_sq.sqrt().div_(biasCorrection2Sqrt).add_(eps);
            } else {
              denom = st.exp_avg_sq.sqrt().div_(biasCorrection2Sqrt).add_(eps);
            }
            param.addcdiv_(st.exp_avg, denom, -stepSize);
          });
        }
      }
    });
  }

  /** state_dict(): the state tensors are the optimizer's own (not copies). */
  stateDict(): AdamWStateDict {
    const index = new Map<Tensor, number>();
    let n = 0;
    const groups = this.paramGroups.map((g) => {
      const ids = g.params.map((p) => { index.set(p, n); return n++; });
      const out: AdamWStateDict['param_groups'][number] = {
        lr: g.lr, betas: [g.betas[0], g.betas[1]], eps: g.eps, weight_decay: g.weightDecay, amsgrad: g.amsgrad, maximize: g.maximize, params: ids,
      };
      if (g.initialLr !== undefined) out.initial_lr = g.initialLr;
      return out;
    });
    const state = new Map<number, AdamWParamState>();
    for (const [p, s] of this.state) {
      const i = index.get(p);
      if (i !== undefined) state.set(i, { ...s });
    }
    return { state, param_groups: groups };
  }

  /**
   * load_state_dict(): hyper-parameters from the saved groups, state tensors copied (converted to
   * each parameter's dtype and device). Group and parameter counts and state shapes must match.
   */
  loadStateDict(sd: AdamWStateDict): void {
    const where = 'AdamW.loadStateDict';
    if (sd === null || typeof sd !== 'object' || !(sd.state instanceof Map) || !Array.isArray(sd.param_groups)) {
      throw new ArgumentError(where, 'state_dict', 'must be { state: Map<number, …>, param_groups: […] }');
    }
    if (sd.param_groups.length !== this.paramGroups.length) throw new ArgumentError(where, 'state_dict', `has ${sd.param_groups.length} parameter groups, the optimizer has ${this.paramGroups.length}`);
    const byIndex: Tensor[] = [];
    sd.param_groups.forEach((sg, gi) => {
      const g = this.paramGroups[gi]!;
      if (!Array.isArray(sg.params) || sg.params.length !== g.params.length) {
        throw new ArgumentError(where, 'state_dict', `group ${gi} has ${sg.params?.length} parameters, the optimizer's has ${g.params.length}`);
      }
      checkHyper(where, { lr: sg.lr, betas: sg.betas, eps: sg.eps, weightDecay: sg.weight_decay, amsgrad: sg.amsgrad, maximize: sg.maximize ?? false });
      sg.params.forEach((id, i) => { byIndex[id] = g.params[i]!; });
    });
    const fmt = (t: Tensor): string => `[${t.shape.join(', ')}]`;
    for (const [id, s] of sd.state) {
      const p = byIndex[id];
      if (!p) throw new ArgumentError(where, 'state_dict', `has state for parameter ${id}, which no group lists`);
      if (s === null || typeof s !== 'object' || !Number.isSafeInteger(s.step) || s.step < 0) throw new ArgumentError(where, `state[${id}].step`, 'must be a non-negative integer');
      for (const k of ['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'] as const) {
        const t = s[k];
        if (t === undefined && k === 'max_exp_avg_sq') continue;
        if (!(t instanceof Tensor) || t.isDisposed) throw new ArgumentError(where, `state[${id}].${k}`, 'must be a live Tensor');
        if (fmt(t) !== fmt(p)) throw new ArgumentError(where, `state[${id}].${k}`, `has shape ${fmt(t)}, the parameter has ${fmt(p)}`);
      }
    }
    // all checked: replace
    for (const s of this.state.values()) this.disposeState(s);
    this.state.clear();
    sd.param_groups.forEach((sg, gi) => {
      const g = this.paramGroups[gi]!;
      g.lr = sg.lr; g.betas = [sg.betas[0], sg.betas[1]]; g.eps = sg.eps; g.weightDecay = sg.weight_decay;
      g.amsgrad = sg.amsgrad; g.maximize = sg.maximize ?? false;
      if (sg.initial_lr !== undefined) g.initialLr = sg.initial_lr; else delete g.initialLr;
    });
    noGrad(() => {
      for (const [id, s] of sd.state) {
        const p = byIndex[id]!;
        const copy = (t: Tensor): Tensor => keep(t.to({ dtype: p.dtype, device: p.device, copy: true }));
        const st: AdamWParamState = { step: s.step, exp_avg: copy(s.exp_avg), exp_avg_sq: copy(s.exp_avg_sq) };
        if (s.max_exp_avg_sq) st.max_exp_avg_sq = copy(s.max_exp_avg_sq);
        this.state.set(p, st);
      }
    });
  }

  private disposeState(s: AdamWParamState): void {
    s.exp_avg.dispose(); s.exp_avg_sq.dispose(); s.max_exp_avg_sq?.dispose();
  }

  /** Frees the state tensors (the parameters belong to their module). */
  dispose(): void {
    for (const s of this.state.values()) this.disposeState(s);
    this.state.clear();
  }
}

/**
 * An optimizer state dict as flat tensors plus JSON, for safetensors (the engine does not write
 * files; io's saveSafetensors(path, tensors, metadata) does): tensor keys `state.<i>.<name>`, the
 * JSON holds param_groups and the step counts.
 */
export function flattenOptimizerState(sd: AdamWStateDict): { tensors: Map<string, Tensor>; json: string } {
  const tensors = new Map<string, Tensor>();
  const steps: Record<string, number> = {};
  for (const [i, s] of sd.state) {
    steps[String(i)] = s.step;
    tensors.set(`state.${i}.exp_avg`, s.exp_avg);
    tensors.set(`state.${i}.exp_avg_sq`, s.exp_avg_sq);
    if (s.max_exp_avg_sq) tensors.set(`state.${i}.max_exp_avg_sq`, s.max_exp_avg_sq);
  }
  return { tensors, json: JSON.stringify({ format: 'vpdsr.optim.adamw/1', param_groups: sd.param_groups, steps }) };
}

/** Inverse of flattenOptimizerState (the tensors are used as given, not copied). */
export function unflattenOptimizerState(tensors: Map<string, Tensor>, json: string): AdamWStateDict {
  const where = 'unflattenOptimizerState';
  let meta: { format?: unknown; param_groups?: unknown; steps?: unknown };
  try { meta = JSON.parse(json) as typeof meta; } catch (e) { throw new ArgumentError(where, 'json', `is not valid JSON (${(e as Error).message})`); }
  if (meta.format !== 'vpdsr.optim.adamw/1' || !Array.isArray(meta.param_groups) || meta.steps === null || typeof meta.steps !== 'object') {
    throw new ArgumentError(where, 'json', 'is not a vpdsr AdamW state (format vpdsr.optim.adamw/1)');
  }
  const state = new Map<number, AdamWParamState>();
  for (const [k, step] of Object.entries(meta.steps as Record<string, unknown>)) {
    const i = Number(k);
    const get = (n: string): Tensor | undefined => tensors.get(`state.${k}.${n}`);
    const ea = get('exp_avg'), eas = get('exp_avg_sq'), mx = get('max_exp_avg_sq');
    if (!ea || !eas) throw new ArgumentError(where, 'tensors', `lack state.${k}.exp_avg or state.${k}.exp_avg_sq`);
    if (typeof step !== 'number') throw new ArgumentError(where, 'json', `step of parameter ${k} is not a number`);
    const s: AdamWParamState = { step, exp_avg: ea, exp_avg_sq: eas };
    if (mx) s.max_exp_avg_sq = mx;
    state.set(i, s);
  }
  return { state, param_groups: meta.param_groups as AdamWStateDict['param_groups'] };
}
