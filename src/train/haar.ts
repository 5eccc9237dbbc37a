// The High-Frequency Perception operator (VPDSR_METHOD §3.3): the orthonormal 2-D Haar DWT as a
// stride-2 convolution with four fixed 2×2 kernels per channel, its inverse, and the HFP loss on
// the detail bands.
import * as torch from '../engine/index.js';
import { Tensor } from '../engine/index.js';

export class LossInputError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'LossInputError';
  }
}

/** One level of the transform: the low-pass band and the three detail bands, each [B, C, ⌈H/2⌉, ⌈W/2⌉]. */
export interface HaarBands { ll: Tensor; lh: Tensor; hl: Tensor; hh: Tensor }

// For a 2×2 block [[a, b], [c, d]]: LL = (a+b+c+d)/2, LH = (a+b−c−d)/2, HL = (a−b+c−d)/2, HH = (a−b−c+d)/2.
const KERNELS = [
  [0.5, 0.5, 0.5, 0.5], // LL
  [0.5, 0.5, -0.5, -0.5], // LH
  [0.5, -0.5, 0.5, -0.5], // HL
  [0.5, -0.5, -0.5, 0.5], // HH
];

function haarWeight(channels: number, like: Tensor): Tensor {
  const w = new Float32Array(channels * 16);
  for (let c = 0; c < channels; c++) for (let k = 0; k < 4; k++) w.set(KERNELS[k]!, (c * 4 + k) * 4);
  return torch.scope(() => torch.fromTypedArray(w, [channels * 4, 1, 2, 2]).to({ dtype: like.dtype, device: like.device }));
}

function check4d(op: string, x: unknown): Tensor {
  if (!(x instanceof Tensor) || x.isDisposed) throw new LossInputError(`${op}: input must be a live Tensor`);
  if (x.ndim !== 4 || x.size(0) < 1 || x.size(1) < 1 || x.size(2) < 2 || x.size(3) < 2) throw new LossInputError(`${op}: input must be [B, C, H, W] with H, W ≥ 2, got [${x.shape.join(', ')}]`);
  if (!torch.isFloating(x.dtype)) throw new LossInputError(`${op}: input must be floating point, got ${x.dtype}`);
  return x;
}

/** One level of the Haar DWT; odd sides are reflect-padded by one pixel at the bottom/right. */
export function haarDwt(x: Tensor): HaarBands {
  check4d('haarDwt', x);
  return torch.scope(() => {
    const C = x.size(1);
    const ph = x.size(2) % 2, pw = x.size(3) % 2;
    const xp = ph || pw ? torch.pad(x, [0, pw, 0, ph], 'reflect') : x;
    const y = torch.conv2d(xp, haarWeight(C, x), null, { stride: 2, groups: C });
    const [B, , h, w] = y.shape as [number, number, number, number];
    const bands = y.view([B, C, 4, h, w]).unbind(2);
    return { ll: bands[0]!.contiguous(), lh: bands[1]!.contiguous(), hl: bands[2]!.contiguous(), hh: bands[3]!.contiguous() };
  });
}

/** The inverse of haarDwt for even sides (orthonormal: the transposed convolution). */
export function haarIdwt(b: HaarBands): Tensor {
  const ll = check4d('haarIdwt', b.ll);
  return torch.scope(() => {
    const C = ll.size(1);
    const y = torch.stack([b.ll, b.lh, b.hl, b.hh], 2).flatten(1, 2);
    return torch.convTranspose2d(y, haarWeight(C, ll), null, { stride: 2, groups: C });
  });
}

/** HF(x): the detail bands of `levels` levels (level 2 decomposes LL again), each as a tensor. */
export function haarDetails(x: Tensor, levels = 1): Tensor[] {
  if (!Number.isInteger(levels) || levels < 1 || levels > 4) throw new LossInputError(`haar levels must be an integer in [1, 4], got ${String(levels)}`);
  return torch.scope(() => {
    const out: Tensor[] = [];
    let cur = x;
    for (let l = 0; l < levels; l++) {
      const b = haarDwt(cur);
      out.push(b.lh, b.hl, b.hh);
      cur = b.ll;
    }
    return out;
  });
}

export type HfpDistance = 'l1' | 'charbonnier';

/**
 * L_HFP = mean |HF(x̂) − HF(x)| over every detail coefficient (each level's bands weighted
 * alike: the mean of the per-level means), or the Charbonnier distance √(d² + ε²).
 * `shift`: the mean of that and the same on both images shifted by one pixel (one row and column
 * cropped on each side). The Haar blocks tile the image on a 2^levels grid, so a step between two
 * grid cells (the 4×4 blocks an unshuffle-space model writes) lies in no detail band; shifted by
 * one pixel, every such edge falls inside a level-1 block.
 */
export function hfpLoss(pred: Tensor, target: Tensor, opts: { levels?: number; distance?: HfpDistance; eps?: number; shift?: boolean } = {}): Tensor {
  check4d('hfpLoss', pred); check4d('hfpLoss', target);
  if (pred.shape.join() !== target.shape.join()) throw new LossInputError(`hfpLoss: prediction [${pred.shape.join(', ')}] and target [${target.shape.join(', ')}] differ in shape`);
  const levels = opts.levels ?? 1;
  const dist = opts.distance ?? 'l1';
  if (dist !== 'l1' && dist !== 'charbonnier') throw new LossInputError(`hfpLoss: distance must be "l1" or "charbonnier", got ${JSON.stringify(dist)}`);
  const eps = opts.eps ?? 1e-3;
  if (opts.shift && (pred.size(2) < 4 || pred.size(3) < 4)) throw new LossInputError(`hfpLoss: shift needs H, W ≥ 4, got [${pred.shape.join(', ')}]`);
  const once = (p: Tensor, t: Tensor): Tensor => {
    const a = haarDetails(p, levels), b = haarDetails(t, levels);
    let total: Tensor | null = null;
    for (let l = 0; l < levels; l++) {
      const d = torch.cat(a.slice(3 * l, 3 * l + 3), 1).sub(torch.cat(b.slice(3 * l, 3 * l + 3), 1));
      const v = dist === 'l1' ? d.abs().mean() : d.square().add(eps * eps).sqrt().mean();
      total = total ? total.add(v) : v;
    }
    return levels > 1 ? total!.div(levels) : total!;
  };
  return torch.scope(() => {
    if (!opts.shift) return once(pred, target);
    const inner = (x: Tensor): Tensor => x.narrow(2, 1, x.size(2) - 2).narrow(3, 1, x.size(3) - 2);
    return once(pred, target).add(once(inner(pred), inner(target))).mul(0.5);
  });
}

/** ‖HF(x)‖² summed over the detail coefficients, per sample [B] (the HF energy of §8.3's evaluation). */
export function hfEnergy(x: Tensor, levels = 1): Tensor {
  check4d('hfEnergy', x);
  return torch.scope(() => {
    let e: Tensor | null = null;
    for (const d of haarDetails(x, levels)) {
      const s = d.square().sum([1, 2, 3]);
      e = e ? e.add(s) : s;
    }
    return e!;
  });
}
