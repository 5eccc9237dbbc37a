// LPIPS v0.1 (richzhang/PerceptualSimilarity lpips/lpips.py `LPIPS`, as pyiqa archs/lpips_arch.py
// runs it with normalize=True): scaling layer, AlexNet or VGG16 trunk, channel-normalised squared
// feature differences, learned 1×1 heads `lin{k}.model.1`, spatial means summed over the layers.
import * as torch from '../../engine/index.js';
import { Tensor, nn } from '../../engine/index.js';
import { AlexNetSlices, Vgg16Slices } from './backbones.js';
import { mapFeatures } from './layers.js';

/** lpips.ScalingLayer: (x − shift) / scale with LPIPS's constants. */
export class ScalingLayer extends nn.Module {
  declare shift: Tensor;
  declare scale: Tensor;
  constructor() {
    super();
    this.registerBuffer('shift', torch.tensor([-0.030, -0.088, -0.188]).view([1, 3, 1, 1]));
    this.registerBuffer('scale', torch.tensor([0.458, 0.448, 0.450]).view([1, 3, 1, 1]));
  }
  forward(x: Tensor): Tensor { return torch.scope(() => x.sub(this.shift).div(this.scale)); }
}

/** lpips.NetLinLayer(chn_in, use_dropout=True): Sequential(Dropout, Conv2d(chn_in, 1, 1, bias=False)). */
export class NetLinLayer extends nn.Module {
  model: nn.Sequential;
  constructor(chnIn: number) {
    super();
    this.model = new nn.Sequential(new nn.Dropout(), new nn.Conv2d(chnIn, 1, 1, { bias: false }));
  }
  forward(x: Tensor): Tensor { return this.model.forward(x); }
}

/** lpips.normalize_tensor: x / (‖x‖₂ over channels + 1e-10). */
export function normalizeTensor(x: Tensor, eps = 1e-10): Tensor {
  return torch.scope(() => x.div(x.pow(2).sum(1, true).sqrt().add(eps)));
}

export interface LpipsOutput {
  /** (N, 1, 1, 1), the original's return shape. */
  distance: Tensor;
  /** The five spatially averaged layer terms, each (N, 1, 1, 1). */
  perLayer: Tensor[];
  /** Debug: the squared differences fed to each head, and the trunk outputs for x0. */
  diffs?: Tensor[];
  feats0?: Tensor[];
}

export class LPIPS extends nn.Module {
  scaling_layer: ScalingLayer;
  net: AlexNetSlices | Vgg16Slices;
  lin0: NetLinLayer; lin1: NetLinLayer; lin2: NetLinLayer; lin3: NetLinLayer; lin4: NetLinLayer;
  readonly pnetType: 'alex' | 'vgg';

  constructor(net: 'alex' | 'vgg') {
    super();
    this.pnetType = net;
    this.scaling_layer = new ScalingLayer();
    this.net = net === 'alex' ? new AlexNetSlices() : new Vgg16Slices();
    const ch = this.net.chns;
    this.lin0 = new NetLinLayer(ch[0]!); this.lin1 = new NetLinLayer(ch[1]!); this.lin2 = new NetLinLayer(ch[2]!);
    this.lin3 = new NetLinLayer(ch[3]!); this.lin4 = new NetLinLayer(ch[4]!);
    this.eval();
  }

  /** Loads torchvision `features.*` trunk weights (other keys, e.g. the classifier, are ignored). */
  loadTrunk(torchvision: Map<string, Tensor>): void {
    const sliceOf = this.pnetType === 'alex' ? AlexNetSlices.sliceOf : Vgg16Slices.sliceOf;
    const mapped = mapFeatures(torchvision, (i) => `slice${sliceOf(i)}.${i}`);
    const want = [...this.net.stateDict().keys()];
    const missing = want.filter((k) => !mapped.has(k));
    if (missing.length) throw new Error(`trunk weights lack ${missing.map((k) => 'features.' + k.replace(/^slice\d+\./, '')).join(', ')}`);
    this.net.loadStateDict(mapped, { strict: true });
  }

  /** Loads the v0.1 heads (`lin{k}.model.1.weight`). */
  loadHeads(heads: Map<string, Tensor>): void {
    const own = new Map<string, Tensor>();
    for (let k = 0; k < 5; k++) {
      const key = `lin${k}.model.1.weight`;
      const t = heads.get(key);
      if (!t) throw new Error(`LPIPS head file lacks ${key}`);
      own.set(`model.1.weight`, t);
      (this as unknown as Record<string, NetLinLayer>)[`lin${k}`]!.loadStateDict(own, { strict: true });
    }
  }

  /** LPIPS.forward(in0, in1, retPerLayer=True, normalize=True): inputs in [0, 1]. */
  forward(in0: Tensor, in1: Tensor, debug = false): LpipsOutput {
    return torch.scope(() => {
      const x0 = this.scaling_layer.forward(in0.mul(2).sub(1));
      const x1 = this.scaling_layer.forward(in1.mul(2).sub(1));
      const outs0 = this.net.forward(x0), outs1 = this.net.forward(x1);
      const lins = [this.lin0, this.lin1, this.lin2, this.lin3, this.lin4];
      const perLayer: Tensor[] = [];
      const diffs: Tensor[] = [];
      for (let k = 0; k < 5; k++) {
        const d = normalizeTensor(outs0[k]!).sub(normalizeTensor(outs1[k]!)).pow(2);
        if (debug) diffs.push(d);
        perLayer.push(lins[k]!.forward(d).mean([2, 3], true));
      }
      let val = perLayer[0]!;
      for (let k = 1; k < 5; k++) val = val.add(perLayer[k]!);
      return debug ? { distance: val, perLayer, diffs, feats0: outs0 } : { distance: val, perLayer };
    });
  }
}
