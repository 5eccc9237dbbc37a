// Random numbers from LibTorch's CPU generator (the same Philox/MT streams as PyTorch for a seed).
import { native } from '../../native/binding.js';
import { Tensor } from '../tensor.js';
import { callT, callInplace } from '../dispatch.js';
import * as c from '../check.js';
import { T, dtypeCode, device as deviceArg } from './util.js';
import type { DType } from '../dtype.js';

/** A seeded CPU generator (torch.Generator). */
export class Generator {
  readonly id: number;
  constructor(seed = 0) {
    this.id = native.generatorNew(c.int('Generator', 'seed', seed, { min: 0 }));
  }
  manualSeed(seed: number): this {
    native.generatorSeed(this.id, c.int('Generator.manualSeed', 'seed', seed, { min: 0 }));
    return this;
  }
  /** The full generator state as a uint8 tensor (for resumable training). */
  getState(): Tensor { return Tensor.fromHandle(native.generatorGetState(this.id)); }
  setState(state: Tensor): void { native.generatorSetState(this.id, T('Generator.setState', 'state', state).handle); }
}

/** torch.manual_seed: seeds the default generator. */
export function manualSeed(seed: number): void {
  native.manualSeed(c.int('manualSeed', 'seed', seed, { min: 0 }));
}

export interface RandOptions { dtype?: DType; device?: string; generator?: Generator; requiresGrad?: boolean }

function gen(g: Generator | undefined): number | null {
  if (g === undefined) return null;
  if (!(g instanceof Generator)) throw new c.ArgumentError('random', 'generator', 'must be a Generator');
  return g.id;
}

function finish(t: Tensor, o: RandOptions): Tensor { if (o.requiresGrad) t.requiresGrad_(true); return t; }

export function rand(size: number[], o: RandOptions = {}): Tensor {
  o = c.options('rand', o);
  const s = c.shape('rand', 'size', size);
  return finish(callT('rand', 'generator', [s, gen(o.generator), dtypeCode('rand', o.dtype ?? 'float32'), null, o.device ? deviceArg('rand', o.device) : null, null]), o);
}

export function randn(size: number[], o: RandOptions = {}): Tensor {
  o = c.options('randn', o);
  const s = c.shape('randn', 'size', size);
  return finish(callT('randn', 'generator', [s, gen(o.generator), dtypeCode('randn', o.dtype ?? 'float32'), null, o.device ? deviceArg('randn', o.device) : null, null]), o);
}

/** Integers uniform in [low, high). */
export function randint(low: number, high: number, size: number[], o: RandOptions = {}): Tensor {
  o = c.options('randint', o);
  c.int('randint', 'low', low); c.int('randint', 'high', high);
  if (high <= low) throw new c.ArgumentError('randint', 'high', `must be greater than low (${low}), got ${high}`);
  const s = c.shape('randint', 'size', size);
  return callT('randint', 'low_generator', [low, high, s, gen(o.generator), dtypeCode('randint', o.dtype ?? 'int64'), null, o.device ? deviceArg('randint', o.device) : null, null]);
}

export function randperm(n: number, o: RandOptions = {}): Tensor {
  o = c.options('randperm', o);
  c.int('randperm', 'n', n, { min: 0, max: 2 ** 40 });
  return callT('randperm', 'generator', [n, gen(o.generator), dtypeCode('randperm', o.dtype ?? 'int64'), null, o.device ? deviceArg('randperm', o.device) : null, null]);
}

export function randnLike(x: Tensor, o: RandOptions = {}): Tensor {
  o = c.options('randnLike', o);
  T('randnLike', 'input', x);
  return randn(x.shape, { dtype: o.dtype ?? x.dtype, device: o.device ?? x.device, generator: o.generator });
}

export function randLike(x: Tensor, o: RandOptions = {}): Tensor {
  o = c.options('randLike', o);
  T('randLike', 'input', x);
  return rand(x.shape, { dtype: o.dtype ?? x.dtype, device: o.device ?? x.device, generator: o.generator });
}

export function normal_(x: Tensor, mean = 0, std = 1, g?: Generator): void {
  T('normal_', 'input', x);
  callInplace('normal_', '', [x, c.num('normal_', 'mean', mean, { finite: true }), c.num('normal_', 'std', std, { min: 0, finite: true }), gen(g)]);
}

export function uniform_(x: Tensor, from = 0, to = 1, g?: Generator): void {
  T('uniform_', 'input', x);
  c.num('uniform_', 'from', from, { finite: true }); c.num('uniform_', 'to', to, { finite: true });
  if (from > to) throw new c.ArgumentError('uniform_', 'from', 'must be <= to');
  callInplace('uniform_', '', [x, from, to, gen(g)]);
}

export function bernoulli(x: Tensor, p: number, g?: Generator): Tensor {
  T('bernoulli', 'input', x);
  return callT('bernoulli', 'p', [x, c.num('bernoulli', 'p', p, { min: 0, max: 1 }), gen(g)]);
}

/** torch.poisson: one Poisson sample per element with the element as its rate (rates must be >= 0). */
export function poisson(rates: Tensor, g?: Generator): Tensor {
  T('poisson', 'input', rates);
  if (rates.dtype !== 'float32' && rates.dtype !== 'float64') throw new c.ArgumentError('poisson', 'input', `must be float32 or float64, got ${rates.dtype}`);
  if (rates.numel > 0) {
    const bad = callT('lt', 'Scalar', [rates, 0]), any = callT('any', '', [bad]), nan = callT('isnan', '', [rates]), anyNan = callT('any', '', [nan]);
    const neg = any.item() !== 0 || anyNan.item() !== 0;
    bad.dispose(); any.dispose(); nan.dispose(); anyNan.dispose();
    if (neg) throw new c.ArgumentError('poisson', 'input', 'must hold non-negative rates (no NaN)');
  }
  return callT('poisson', '', [rates, gen(g)]);
}

export function multinomial(probs: Tensor, numSamples: number, replacement = false, g?: Generator): Tensor {
  T('multinomial', 'input', probs);
  c.rank('multinomial', 'input', probs.ndim, [1, 2]);
  c.int('multinomial', 'num_samples', numSamples, { min: 1, max: replacement ? 2 ** 24 : probs.size(-1) });
  return callT('multinomial', '', [probs, numSamples, replacement, gen(g)]);
}
