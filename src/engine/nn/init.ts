// nn.init (torch/nn/init.py of PyTorch 1.13): in-place initialisers, run under noGrad, with an
// optional seeded Generator (PyTorch 1.13's init has none; without one the default generator is
// used, so torch.manualSeed(s) reproduces PyTorch's values for the same seed).
import { Tensor } from '../tensor.js';
import { noGrad } from '../autograd.js';
import { ArgumentError } from '../check.js';
import * as c from '../check.js';
import { Generator } from '../ops/random.js';
import { full } from '../ops/creation.js';
import { erf, erfinv_ } from '../ops/math.js';

export type Nonlinearity = 'linear' | 'conv1d' | 'conv2d' | 'conv3d' | 'conv_transpose1d' | 'conv_transpose2d' | 'conv_transpose3d'
  | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu';
export type FanMode = 'fan_in' | 'fan_out';

const NONLINEARITIES: readonly Nonlinearity[] = ['linear', 'conv1d', 'conv2d', 'conv3d', 'conv_transpose1d', 'conv_transpose2d', 'conv_transpose3d',
  'sigmoid', 'tanh', 'relu', 'leaky_relu', 'selu'];

function live(op: string, t: unknown): Tensor {
  if (!(t instanceof Tensor) || t.isDisposed) throw new ArgumentError(op, 'tensor', 'must be a live Tensor');
  return t;
}

function gen(op: string, g: unknown): Generator | undefined {
  if (g === undefined) return undefined;
  if (!(g instanceof Generator)) throw new ArgumentError(op, 'generator', 'must be a Generator');
  return g;
}

/** calculate_gain(nonlinearity, param) */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  const nl = c.str('calculateGain', 'nonlinearity', nonlinearity, NONLINEARITIES);
  switch (nl) {
    case 'tanh': return 5.0 / 3;
    case 'relu': return Math.sqrt(2.0);
    case 'leaky_relu': {
      const slope = param === undefined ? 0.01 : c.num('calculateGain', 'param', param, { finite: true });
      // Python's `negative_slope ** 2` is pow(x, 2.0), which is the correctly rounded x·x.
      return Math.sqrt(2.0 / (1 + slope * slope));
    }
    case 'selu': return 3.0 / 4;
    default: return 1; // linear, conv*, sigmoid
  }
}

/** _calculate_fan_in_and_fan_out: dim 1 is fan-in, dim 0 fan-out, times the receptive field. */
export function calculateFanInAndFanOut(t: Tensor): [number, number] {
  live('calculateFanInAndFanOut', t);
  const s = t.shape;
  if (s.length < 2) throw new ArgumentError('calculateFanInAndFanOut', 'tensor', `needs at least 2 dimensions, got ${s.length}`);
  const receptive = s.slice(2).reduce((a, b) => a * b, 1);
  return [s[1]! * receptive, s[0]! * receptive];
}

function correctFan(op: string, t: Tensor, mode: FanMode): number {
  const m = c.str(op, 'mode', mode, ['fan_in', 'fan_out'] as const);
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  return m === 'fan_in' ? fanIn : fanOut;
}

/** uniform_(tensor, a, b) */
export function uniform_(t: Tensor, a = 0, b = 1, generator?: Generator): Tensor {
  live('uniform_', t);
  noGrad(() => t.uniform_(a, b, gen('uniform_', generator)));
  return t;
}

/** normal_(tensor, mean, std) */
export function normal_(t: Tensor, mean = 0, std = 1, generator?: Generator): Tensor {
  live('normal_', t);
  noGrad(() => t.normal_(mean, std, gen('normal_', generator)));
  return t;
}

export function constant_(t: Tensor, val: number): Tensor {
  live('constant_', t);
  c.num('constant_', 'val', val);
  noGrad(() => t.fill_(val));
  return t;
}

export function zeros_(t: Tensor): Tensor {
  live('zeros_', t);
  noGrad(() => t.zero_());
  return t;
}

export function ones_(t: Tensor): Tensor {
  return constant_(t, 1);
}

export interface KaimingOptions { a?: number; mode?: FanMode; nonlinearity?: Nonlinearity; generator?: Generator }

/** kaiming_uniform_: U(−bound, bound), bound = √3 · gain / √fan. */
export function kaimingUniform_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  live('kaimingUniform_', t);
  if (t.numel === 0) return t; // PyTorch warns and leaves it
  const fan = correctFan('kaimingUniform_', t, opts.mode ?? 'fan_in');
  const gain = calculateGain(opts.nonlinearity ?? 'leaky_relu', opts.a ?? 0);
  const std = gain / Math.sqrt(fan);
  const bound = Math.sqrt(3.0) * std;
  return uniform_(t, -bound, bound, opts.generator);
}

/** kaiming_normal_: N(0, gain / √fan). */
export function kaimingNormal_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  live('kaimingNormal_', t);
  if (t.numel === 0) return t;
  const fan = correctFan('kaimingNormal_', t, opts.mode ?? 'fan_in');
  const gain = calculateGain(opts.nonlinearity ?? 'leaky_relu', opts.a ?? 0);
  const std = gain / Math.sqrt(fan);
  return normal_(t, 0, std, opts.generator);
}

/** xavier_uniform_: U(−a, a), a = gain · √(6 / (fan_in + fan_out)). */
export function xavierUniform_(t: Tensor, gain = 1.0, generator?: Generator): Tensor {
  const [fanIn, fanOut] = calculateFanInAndFanOut(live('xavierUniform_', t));
  const std = c.num('xavierUniform_', 'gain', gain, { finite: true }) * Math.sqrt(2.0 / (fanIn + fanOut));
  const a = Math.sqrt(3.0) * std;
  return uniform_(t, -a, a, generator);
}

/** xavier_normal_: N(0, gain · √(2 / (fan_in + fan_out))). */
export function xavierNormal_(t: Tensor, gain = 1.0, generator?: Generator): Tensor {
  const [fanIn, fanOut] = calculateFanInAndFanOut(live('xavierNormal_', t));
  const std = c.num('xavierNormal_', 'gain', gain, { finite: true }) * Math.sqrt(2.0 / (fanIn + fanOut));
  return normal_(t, 0, std, generator);
}

/** math.erf through LibTorch in float64 (JavaScript has no erf). */
function erfScalar(x: number): number {
  const t = full([], x, { dtype: 'float64' });
  try {
    const e = erf(t);
    try { return e.item(); } finally { e.dispose(); }
  } finally { t.dispose(); }
}

/** trunc_normal_(tensor, mean, std, a, b): inverse-CDF sampling, then clamped to [a, b]. */
export function truncNormal_(t: Tensor, mean = 0, std = 1, a = -2, b = 2, generator?: Generator): Tensor {
  const op = 'truncNormal_';
  live(op, t);
  c.num(op, 'mean', mean, { finite: true });
  c.num(op, 'std', std, { finite: true, min: 0 });
  c.num(op, 'a', a); c.num(op, 'b', b);
  if (!(a < b)) throw new ArgumentError(op, 'a', `must be smaller than b (${b}), got ${a}`);
  const normCdf = (x: number): number => (1 + erfScalar(x / Math.sqrt(2))) / 2;
  const l = normCdf((a - mean) / std);
  const u = normCdf((b - mean) / std);
  noGrad(() => {
    t.uniform_(2 * l - 1, 2 * u - 1, gen(op, generator));
    erfinv_(t);
    t.mul_(std * Math.sqrt(2));
    t.add_(mean);
    t.clamp_(a, b);
  });
  return t;
}
