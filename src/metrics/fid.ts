// FID between two image sets as pyiqa's `fid` computes it in its default "clean" mode
// (pyiqa/archs/fid_arch.py: ResizeDataset(mode='clean') → (x − 128) / 128 → FID Inception-v3 →
// mean / np.cov of the 2048-d features → frechet_distance).
import * as torch from '../engine/index.js';
import { Tensor } from '../engine/index.js';
import { pilResizeBicubic } from './pil-resize.js';
import type { FIDInceptionV3 } from '../models/iqa/index.js';

/** Inception features of a batch: x (N, 3, H, W) RGB in [0, 1] from 8-bit files → (N, 2048) float32. */
export function fidFeatures(model: FIDInceptionV3, x: Tensor, device = 'cpu'): Tensor {
  return torch.noGrad(() => torch.scope(() => {
    // ResizeDataset 'clean': uint8 → float32 → PIL bicubic to 299 × 299 per channel → clip(0, 255).
    const u8 = x.mul(255).round();
    const r = pilResizeBicubic(u8, 299, 299).clamp(0, 255);
    const inp = r.sub(128).div(128).to({ device }).contiguous('channels_last');
    return model.forward(inp).to({ device: 'cpu' });
  }));
}

/** The mean (float32, as np.mean of float32 features) and the float64 covariance (np.cov, rowvar=False). */
export function featureStats(feats: Tensor): { mu: Tensor; sigma: Tensor } {
  return torch.scope(() => {
    const f64 = feats.to({ dtype: 'float64' });
    return { mu: feats.mean(0).to({ dtype: 'float64' }), sigma: torch.cov(f64.t(), feats.size(0) > 1 ? 1 : 0) };
  });
}

/**
 * frechet_distance(mu1, sigma1, mu2, sigma2): ‖μ1 − μ2‖² + tr Σ1 + tr Σ2 − 2 tr √(Σ1 Σ2). Upstream
 * takes scipy's sqrtm of Σ1Σ2 and its trace; that trace equals Σ √λ over the eigenvalues of the
 * symmetric Σ1^½ Σ2 Σ1^½ (similar to Σ1Σ2), which is what is computed here, in float64.
 */
export function frechetDistance(mu1: Tensor, sigma1: Tensor, mu2: Tensor, sigma2: Tensor): number {
  return torch.scope(() => {
    const diff = mu1.sub(mu2);
    const [w, v] = torch.eigh(sigma1);
    const root = v.mul(w.clamp(0).sqrt().unsqueeze(0)).matmul(v.t());
    const m = root.matmul(sigma2).matmul(root);
    const sym = m.add(m.t()).div(2);
    const trCovmean = torch.eigvalsh(sym).clamp(0).sqrt().sum().item();
    const n = sigma1.size(0);
    const eye = torch.eye(n, n).gt(0);
    const tr = (s: Tensor): number => torch.where(eye, s, 0).sum().item();
    return diff.mul(diff).sum().item() + tr(sigma1) + tr(sigma2) - 2 * trCovmean;
  });
}
