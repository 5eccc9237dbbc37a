// The small-scale experiment's evaluation (VPDSR_METHOD §8.3): on held-out crops with a fixed ε,
// PSNR/SSIM (Y) vs HR and NIQE (no reference) from the metric registry, HF error (Haar detail L1 vs HR), HF energy ratio, stand-in-encoder cosine to
// HR, and MSE to the teacher's sample; rows for bicubic, the teacher and the students.
import * as torch from '../engine/index.js';
import { Tensor } from '../engine/index.js';
import type { UNetModelSwin } from '../models/unet/index.js';
import type { ImageEncoder } from './losses.js';
import { hfEnergy, hfpLoss } from './haar.js';
import { ImageMetrics } from './val-metrics.js';
import { sampleSR, type SampleMode } from './sample.js';
import type { TrainSpace } from './space.js';
import type { ValItem } from './data.js';

export interface EvalRow {
  name: string;
  nfe: number;
  psnr_y: number;
  ssim_y: number;
  /** null when the crops are smaller than NIQE's 96-px blocks. */
  niqe: number | null;
  hf_error: number;
  hf_energy_ratio: number;
  encoder_cos: number;
  mse_to_teacher: number | null;
}

export type Method = { name: string; kind: 'bicubic' } | { name: string; kind: 'net'; space: TrainSpace; net: UNetModelSwin; mode: SampleMode };

/** SR of one LR crop [1, 3, h, w] in [0, 1] by a method (noise from seed). */
export function runMethod(m: Method, lq: Tensor, seed: number): Tensor {
  if (m.kind === 'bicubic') return torch.scope(() => torch.interpolate(lq, { scaleFactor: 4, mode: 'bicubic', alignCorners: false }).clamp(0, 1));
  return sampleSR(m.space, m.net, lq, m.mode, seed);
}

/** Evaluates every method on the items; `teacher` names the row the MSE-to-teacher column compares with. */
export function evaluate(items: ValItem[], methods: Method[], encoder: ImageEncoder, teacher: string, seed: number, onItem?: (i: number) => void): EvalRow[] {
  const acc = methods.map((m) => ({ name: m.name, nfe: m.kind === 'bicubic' ? 0 : m.mode === 'one-step' ? 1 : m.space.diffusion.numTimesteps, psnr: 0, ssim: 0, niqe: 0, niqeN: 0, hf: 0, eSr: 0, eHr: 0, cos: 0, mseT: 0 }));
  const ti = methods.findIndex((m) => m.name === teacher);
  const metrics = new ImageMetrics(['psnr', 'ssim', 'niqe']);
  try {
    items.forEach((it, i) => {
      torch.scope(() => {
        const outs = methods.map((m) => runMethod(m, it.lq, seed + i));
        const hr = it.hr;
        const eHr = hfEnergy(hr.mul(2).sub(1)).item();
        const gHr = encoder.embed(hr);
        outs.forEach((sr, k) => {
          const a = acc[k]!;
          a.psnr += metrics.score('psnr', sr, hr)!;
          a.ssim += metrics.score('ssim', sr, hr)!;
          const nq = metrics.score('niqe', sr, hr);
          if (nq !== null) { a.niqe += nq; a.niqeN++; }
          a.hf += hfpLoss(sr.mul(2).sub(1), hr.mul(2).sub(1)).item();
          a.eSr += hfEnergy(sr.mul(2).sub(1)).item();
          a.eHr += eHr;
          a.cos += torch.cosineSimilarity(encoder.embed(sr), gHr, 1).item();
          if (ti >= 0) a.mseT += sr.sub(outs[ti]!).square().mean().item();
        });
      });
      onItem?.(i + 1);
    });
  } finally {
    metrics.dispose();
  }
  const n = items.length;
  return acc.map((a) => ({
    name: a.name, nfe: a.nfe, psnr_y: a.psnr / n, ssim_y: a.ssim / n, niqe: a.niqeN ? a.niqe / a.niqeN : null, hf_error: a.hf / n, hf_energy_ratio: a.eSr / a.eHr,
    encoder_cos: a.cos / n, mse_to_teacher: ti >= 0 ? a.mseT / n : null,
  }));
}

export function markdownTable(rows: EvalRow[]): string {
  const f = (v: number | null, d: number): string => (v === null ? '—' : v.toFixed(d));
  const lines = [
    '| method | NFE | PSNR-Y ↑ | SSIM-Y ↑ | NIQE ↓ | HF error ↓ | HF energy ratio (→1) | encoder cos ↑ | MSE to teacher ↓ |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.name} | ${r.nfe} | ${f(r.psnr_y, 2)} | ${f(r.ssim_y, 4)} | ${f(r.niqe, 3)} | ${f(r.hf_error, 4)} | ${f(r.hf_energy_ratio, 3)} | ${f(r.encoder_cos, 4)} | ${r.mse_to_teacher === null ? '—' : r.mse_to_teacher.toExponential(2)} |`),
  ];
  return lines.join('\n') + '\n';
}
