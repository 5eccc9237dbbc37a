// Learning-rate schedules: PyTorch 1.13's CosineAnnealingLR and MultiStepLR
// (torch/optim/lr_scheduler.py), and the ResShift/SinSR trainers' adjust_lr rules (WarmupLR).
// Call step() after each iteration's optimizer.step(), as upstream does: iteration 1 runs at the
// optimizer's initial lr (MODEL_SPEC §5.5 quirk).
import * as c from '../check.js';
import { ArgumentError } from '../check.js';
import type { AdamW } from './adamw.js';
import { pythonPow } from './scalar.js';

/** What a schedule needs of an optimizer: its parameter groups' lr. */
export interface HasParamGroups {
  paramGroups: { lr: number; initialLr?: number }[];
}

export interface SchedulerState {
  last_epoch: number;
  _step_count: number;
  base_lrs: number[];
  _last_lr: number[];
}

/** _LRScheduler: base_lrs from initial_lr, and the initial step() that sets last_epoch to 0. */
export abstract class LRScheduler {
  protected readonly optimizer: HasParamGroups;
  lastEpoch = -1;
  protected stepCount = 0;
  baseLrs: number[];
  protected lastLr: number[] = [];

  constructor(optimizer: HasParamGroups | AdamW) {
    if (optimizer === null || typeof optimizer !== 'object' || !Array.isArray(optimizer.paramGroups)) throw new ArgumentError(this.constructor.name, 'optimizer', 'must be an optimizer');
    this.optimizer = optimizer;
    for (const g of optimizer.paramGroups) if (g.initialLr === undefined) g.initialLr = g.lr;
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr!);
  }

  /** Subclass constructors call this last (PyTorch's _initial_step). */
  protected initialStep(): void {
    this.stepCount = 0;
    this.step();
  }

  protected abstract getLr(): number[];

  step(): void {
    this.stepCount += 1;
    this.lastEpoch += 1;
    const lrs = this.getLr();
    this.optimizer.paramGroups.forEach((g, i) => { g.lr = lrs[i]!; });
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** get_last_lr() */
  getLastLr(): number[] {
    return this.lastLr.slice();
  }

  stateDict(): SchedulerState & Record<string, number | number[] | null> {
    return { last_epoch: this.lastEpoch, _step_count: this.stepCount, base_lrs: this.baseLrs.slice(), _last_lr: this.lastLr.slice() };
  }

  loadStateDict(s: SchedulerState): void {
    const where = `${this.constructor.name}.loadStateDict`;
    if (s === null || typeof s !== 'object') throw new ArgumentError(where, 'state', 'must be an object');
    c.int(where, 'last_epoch', s.last_epoch, { min: -1 });
    c.int(where, '_step_count', s._step_count, { min: 0 });
    for (const k of ['base_lrs', '_last_lr'] as const) {
      if (!Array.isArray(s[k]) || s[k].length !== this.optimizer.paramGroups.length) throw new ArgumentError(where, k, `must list one lr per parameter group (${this.optimizer.paramGroups.length})`);
      s[k].forEach((v, i) => c.num(where, `${k}[${i}]`, v, { finite: true }));
    }
    this.lastEpoch = s.last_epoch;
    this.stepCount = s._step_count;
    this.baseLrs = s.base_lrs.slice();
    this.lastLr = s._last_lr.slice();
  }
}

/** CosineAnnealingLR(optimizer, T_max, eta_min): PyTorch's recursive (chainable) form. */
export class CosineAnnealingLR extends LRScheduler {
  readonly T_max: number;
  readonly eta_min: number;

  constructor(optimizer: HasParamGroups | AdamW, opts: { tMax: number; etaMin?: number }) {
    super(optimizer);
    this.T_max = c.int('CosineAnnealingLR', 'T_max', opts.tMax, { min: 1 });
    this.eta_min = c.num('CosineAnnealingLR', 'eta_min', opts.etaMin ?? 0, { min: 0, finite: true });
    this.initialStep();
  }

  protected getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    const e = this.lastEpoch, T = this.T_max, m = this.eta_min;
    if (e === 0) return groups.map((g) => g.lr);
    if (this.stepCount === 1 && e > 0) return this.baseLrs.map((b) => m + (b - m) * (1 + Math.cos(e * Math.PI / T)) / 2);
    // Python's % is never negative; only equality with 0 matters, which JS's % gives the same
    if ((e - 1 - T) % (2 * T) === 0) return groups.map((g, i) => g.lr + (this.baseLrs[i]! - m) * (1 - Math.cos(Math.PI / T)) / 2);
    return groups.map((g) => (1 + Math.cos(Math.PI * e / T)) / (1 + Math.cos(Math.PI * (e - 1) / T)) * (g.lr - m) + m);
  }
}

/** MultiStepLR(optimizer, milestones, gamma): lr ×= gamma^(count) at each milestone epoch. */
export class MultiStepLR extends LRScheduler {
  readonly milestones: number[];
  readonly gamma: number;

  constructor(optimizer: HasParamGroups | AdamW, opts: { milestones: number[]; gamma?: number }) {
    super(optimizer);
    this.milestones = c.intList('MultiStepLR', 'milestones', opts.milestones, { min: 0, maxLen: 1024 }).slice().sort((a, b) => a - b);
    this.gamma = c.num('MultiStepLR', 'gamma', opts.gamma ?? 0.1, { min: 0, finite: true });
    this.initialStep();
  }

  protected getLr(): number[] {
    const count = this.milestones.filter((v) => v === this.lastEpoch).length;
    if (count === 0) return this.optimizer.paramGroups.map((g) => g.lr);
    const f = pythonPow(this.gamma, count);
    return this.optimizer.paramGroups.map((g) => g.lr * f);
  }
}

/** What follows the linear warm-up of WarmupLR. */
export type AfterWarmup =
  | { kind: 'constant' }
  /** SinSR / ResShift ≤ 92ca23c: at an (absolute) iteration listed in milestones, lr ×= gamma (0.5) */
  | { kind: 'multistep'; milestones: number[]; gamma?: number }
  /** ResShift v3: CosineAnnealingLR(T_max, eta_min), built with the optimizer and stepped once per iteration after the warm-up */
  | { kind: 'cosine'; tMax: number; etaMin?: number };

export interface WarmupLRState {
  iteration: number;
  base_lrs: number[];
  cosine: SchedulerState | null;
}

/**
 * The trainers' adjust_lr: after iteration k finishes (step()), if k ≤ warmupIters the lr is
 * (k / warmupIters)·base, else the after-warm-up rule applies. base is the lr the optimizer was
 * built with (configs.train.lr).
 */
export class WarmupLR {
  private readonly optimizer: HasParamGroups;
  readonly warmupIters: number;
  readonly after: AfterWarmup;
  /** the last finished iteration (upstream current_iters) */
  iteration = 0;
  private baseLrs: number[];
  private readonly cosine: CosineAnnealingLR | null;
  private readonly milestones: number[];
  private readonly gamma: number;

  constructor(optimizer: HasParamGroups | AdamW, opts: { warmupIters: number; after?: AfterWarmup }) {
    const op = 'WarmupLR';
    if (optimizer === null || typeof optimizer !== 'object' || !Array.isArray(optimizer.paramGroups)) throw new ArgumentError(op, 'optimizer', 'must be an optimizer');
    this.optimizer = optimizer;
    this.warmupIters = c.int(op, 'warmupIters', opts.warmupIters, { min: 0 });
    this.after = opts.after ?? { kind: 'constant' };
    const kind = c.str(op, 'after.kind', this.after.kind, ['constant', 'multistep', 'cosine'] as const);
    // configs.train.lr: the group's initial lr (restored with an optimizer state dict), else its lr
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr ?? g.lr);
    this.milestones = kind === 'multistep' ? c.intList(op, 'milestones', (this.after as { milestones: number[] }).milestones, { min: 0, maxLen: 1024 }) : [];
    this.gamma = kind === 'multistep' ? c.num(op, 'gamma', (this.after as { gamma?: number }).gamma ?? 0.5, { min: 0, finite: true }) : 1;
    const a = this.after;
    this.cosine = a.kind === 'cosine' ? new CosineAnnealingLR(optimizer, { tMax: a.tMax, etaMin: a.etaMin }) : null;
  }

  /** adjust_lr(current_iters) for the iteration that just finished. */
  step(): void {
    const k = ++this.iteration;
    const groups = this.optimizer.paramGroups;
    if (k <= this.warmupIters) {
      groups.forEach((g, i) => { g.lr = (k / this.warmupIters) * this.baseLrs[i]!; });
    } else if (this.cosine) {
      this.cosine.step();
    } else if (this.milestones.includes(k)) {
      groups.forEach((g) => { g.lr *= this.gamma; });
    }
  }

  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  stateDict(): WarmupLRState {
    return { iteration: this.iteration, base_lrs: this.baseLrs.slice(), cosine: this.cosine ? this.cosine.stateDict() : null };
  }

  /** Restores the schedule position (the groups' lr come back with the optimizer's state dict). */
  loadStateDict(s: WarmupLRState): void {
    const where = 'WarmupLR.loadStateDict';
    if (s === null || typeof s !== 'object') throw new ArgumentError(where, 'state', 'must be an object');
    c.int(where, 'iteration', s.iteration, { min: 0 });
    if (!Array.isArray(s.base_lrs) || s.base_lrs.length !== this.optimizer.paramGroups.length) throw new ArgumentError(where, 'base_lrs', 'must list one lr per parameter group');
    if ((s.cosine === null) !== (this.cosine === null)) throw new ArgumentError(where, 'cosine', `state ${s.cosine ? 'has' : 'lacks'} a cosine schedule, this one ${this.cosine ? 'has' : 'has none'}`);
    if (this.cosine && s.cosine) this.cosine.loadStateDict(s.cosine);
    this.iteration = s.iteration;
    this.baseLrs = s.base_lrs.slice();
  }
}
