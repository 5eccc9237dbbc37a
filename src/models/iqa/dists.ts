// DISTS (dingkeyan93/DISTS DISTS_pytorch/DISTS_pt.py; pyiqa archs/dists_arch.py): VGG16 with L2
// pooling, structure and texture similarity of the image and five stages, learned alpha/beta.
import * as torch from '../../engine/index.js';
import { Tensor, nn } from '../../engine/index.js';
import { vgg16L2Stages } from './backbones.js';
import { mapFeatures } from './layers.js';

const STAGE_OF = (i: number): number => (i <= 3 ? 1 : i <= 8 ? 2 : i <= 15 ? 3 : i <= 22 ? 4 : 5);

export class DISTS extends nn.Module {
  stage1: nn.Sequential; stage2: nn.Sequential; stage3: nn.Sequential; stage4: nn.Sequential; stage5: nn.Sequential;
  declare mean: Tensor;
  declare std: Tensor;
  alpha: Tensor;
  beta: Tensor;
  readonly chns = [3, 64, 128, 256, 512, 512];

  constructor() {
    super();
    const s = vgg16L2Stages();
    this.stage1 = s[0]!; this.stage2 = s[1]!; this.stage3 = s[2]!; this.stage4 = s[3]!; this.stage5 = s[4]!;
    this.registerBuffer('mean', torch.tensor([0.485, 0.456, 0.406]).view([1, 3, 1, 1]));
    this.registerBuffer('std', torch.tensor([0.229, 0.224, 0.225]).view([1, 3, 1, 1]));
    this.alpha = nn.Parameter(torch.full([1, 1475, 1, 1], 0.1), false);
    this.beta = nn.Parameter(torch.full([1, 1475, 1, 1], 0.1), false);
    this.eval();
  }

  /** torchvision `features.{i}` → `stage{k}.{i}` (classifier keys ignored). */
  loadTrunk(torchvision: Map<string, Tensor>): void {
    const mapped = mapFeatures(torchvision, (i) => `stage${STAGE_OF(i)}.${i}`);
    const want = [...this.stateDict().keys()].filter((k) => /^stage\d\.\d+\.(weight|bias)$/.test(k));
    const missing = want.filter((k) => !mapped.has(k));
    if (missing.length) throw new Error(`trunk weights lack ${missing.map((k) => 'features.' + k.replace(/^stage\d+\./, '')).join(', ')}`);
    this.loadStateDict(mapped, { strict: false });
  }

  /** alpha and beta from DISTS's weights.pt. */
  loadAlphaBeta(w: Map<string, Tensor>): void {
    const a = w.get('alpha'), b = w.get('beta');
    if (!a || !b) throw new Error('DISTS weight file lacks alpha or beta');
    this.loadStateDict(new Map([['alpha', a], ['beta', b]]), { strict: false });
  }

  forwardOnce(x: Tensor): Tensor[] {
    return torch.scope(() => {
      let h = x.sub(this.mean).div(this.std);
      const out: Tensor[] = [x];
      for (const s of [this.stage1, this.stage2, this.stage3, this.stage4, this.stage5]) { h = s.forward(h); out.push(h); }
      return out;
    });
  }

  /** DISTS.forward(x, y): x the distorted image, y the reference, both in [0, 1]; (N, 1). */
  forward(x: Tensor, y: Tensor): Tensor {
    return torch.scope(() => {
      const feats0 = this.forwardOnce(x), feats1 = this.forwardOnce(y);
      const c1 = 1e-6, c2 = 1e-6;
      const wSum = this.alpha.sum().add(this.beta.sum());
      const alpha = torch.split(this.alpha.div(wSum), this.chns, 1);
      const beta = torch.split(this.beta.div(wSum), this.chns, 1);
      let dist1: Tensor | number = 0, dist2: Tensor | number = 0;
      for (let k = 0; k < this.chns.length; k++) {
        const f0 = feats0[k]!, f1 = feats1[k]!;
        const xMean = f0.mean([2, 3], true), yMean = f1.mean([2, 3], true);
        const S1 = xMean.mul(2).mul(yMean).add(c1).div(xMean.pow(2).add(yMean.pow(2)).add(c1));
        const t1 = alpha[k]!.mul(S1).sum(1, true);
        dist1 = typeof dist1 === 'number' ? t1.add(dist1) : dist1.add(t1);
        const xVar = f0.sub(xMean).pow(2).mean([2, 3], true), yVar = f1.sub(yMean).pow(2).mean([2, 3], true);
        const xyCov = f0.mul(f1).mean([2, 3], true).sub(xMean.mul(yMean));
        const S2 = xyCov.mul(2).add(c2).div(xVar.add(yVar).add(c2));
        const t2 = beta[k]!.mul(S2).sum(1, true);
        dist2 = typeof dist2 === 'number' ? t2.add(dist2) : dist2.add(t2);
      }
      const score = torch.rsub((dist1 as Tensor).add(dist2 as Tensor), 1);
      return score.squeeze(-1).squeeze(-1);
    });
  }
}
