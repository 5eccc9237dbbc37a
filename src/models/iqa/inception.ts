// The FID Inception-v3 (mseitzer/pytorch-fid src/pytorch_fid/inception.py, as pyiqa
// archs/inception.py copies it): torchvision's Inception-v3 with the FIDInceptionA/C/E_1/E_2
// blocks, up to the 2048-d average-pooled features (output block 3). State-dict keys are those of
// `pt_inception-2015-12-05-6726825d.pth` (`Conv2d_1a_3x3.conv.weight`, `Mixed_5b.branch1x1.bn.running_mean` …).
import * as torch from '../../engine/index.js';
import { Tensor, nn } from '../../engine/index.js';

type P = number | [number, number];

/** torchvision.models.inception.BasicConv2d: conv (no bias), BatchNorm (eps 0.001), ReLU. */
export class BasicConv2d extends nn.Module {
  conv: nn.Conv2d;
  bn: nn.BatchNorm2d;
  constructor(cin: number, cout: number, k: P, o: { stride?: number; padding?: P } = {}) {
    super();
    this.conv = new nn.Conv2d(cin, cout, k, { stride: o.stride ?? 1, padding: o.padding ?? 0, bias: false });
    this.bn = new nn.BatchNorm2d(cout, { eps: 0.001 });
  }
  forward(x: Tensor): Tensor { return torch.scope(() => this.bn.forward(this.conv.forward(x)).relu()); }
}

const avg3 = (x: Tensor): Tensor => torch.avgPool2d(x, 3, { stride: 1, padding: 1, countIncludePad: false });

/** FIDInceptionA (InceptionA with count_include_pad=False in the pool branch). */
export class FIDInceptionA extends nn.Module {
  branch1x1: BasicConv2d; branch5x5_1: BasicConv2d; branch5x5_2: BasicConv2d;
  branch3x3dbl_1: BasicConv2d; branch3x3dbl_2: BasicConv2d; branch3x3dbl_3: BasicConv2d; branch_pool: BasicConv2d;
  constructor(cin: number, poolFeatures: number) {
    super();
    this.branch1x1 = new BasicConv2d(cin, 64, 1);
    this.branch5x5_1 = new BasicConv2d(cin, 48, 1);
    this.branch5x5_2 = new BasicConv2d(48, 64, 5, { padding: 2 });
    this.branch3x3dbl_1 = new BasicConv2d(cin, 64, 1);
    this.branch3x3dbl_2 = new BasicConv2d(64, 96, 3, { padding: 1 });
    this.branch3x3dbl_3 = new BasicConv2d(96, 96, 3, { padding: 1 });
    this.branch_pool = new BasicConv2d(cin, poolFeatures, 1);
  }
  forward(x: Tensor): Tensor {
    return torch.scope(() => torch.cat([
      this.branch1x1.forward(x),
      this.branch5x5_2.forward(this.branch5x5_1.forward(x)),
      this.branch3x3dbl_3.forward(this.branch3x3dbl_2.forward(this.branch3x3dbl_1.forward(x))),
      this.branch_pool.forward(avg3(x)),
    ], 1));
  }
}

/** torchvision InceptionB (Mixed_6a). */
export class InceptionB extends nn.Module {
  branch3x3: BasicConv2d; branch3x3dbl_1: BasicConv2d; branch3x3dbl_2: BasicConv2d; branch3x3dbl_3: BasicConv2d;
  constructor(cin: number) {
    super();
    this.branch3x3 = new BasicConv2d(cin, 384, 3, { stride: 2 });
    this.branch3x3dbl_1 = new BasicConv2d(cin, 64, 1);
    this.branch3x3dbl_2 = new BasicConv2d(64, 96, 3, { padding: 1 });
    this.branch3x3dbl_3 = new BasicConv2d(96, 96, 3, { stride: 2 });
  }
  forward(x: Tensor): Tensor {
    return torch.scope(() => torch.cat([
      this.branch3x3.forward(x),
      this.branch3x3dbl_3.forward(this.branch3x3dbl_2.forward(this.branch3x3dbl_1.forward(x))),
      torch.maxPool2d(x, 3, { stride: 2 }),
    ], 1));
  }
}

/** FIDInceptionC. */
export class FIDInceptionC extends nn.Module {
  branch1x1: BasicConv2d; branch7x7_1: BasicConv2d; branch7x7_2: BasicConv2d; branch7x7_3: BasicConv2d;
  branch7x7dbl_1: BasicConv2d; branch7x7dbl_2: BasicConv2d; branch7x7dbl_3: BasicConv2d; branch7x7dbl_4: BasicConv2d; branch7x7dbl_5: BasicConv2d;
  branch_pool: BasicConv2d;
  constructor(cin: number, c7: number) {
    super();
    this.branch1x1 = new BasicConv2d(cin, 192, 1);
    this.branch7x7_1 = new BasicConv2d(cin, c7, 1);
    this.branch7x7_2 = new BasicConv2d(c7, c7, [1, 7], { padding: [0, 3] });
    this.branch7x7_3 = new BasicConv2d(c7, 192, [7, 1], { padding: [3, 0] });
    this.branch7x7dbl_1 = new BasicConv2d(cin, c7, 1);
    this.branch7x7dbl_2 = new BasicConv2d(c7, c7, [7, 1], { padding: [3, 0] });
    this.branch7x7dbl_3 = new BasicConv2d(c7, c7, [1, 7], { padding: [0, 3] });
    this.branch7x7dbl_4 = new BasicConv2d(c7, c7, [7, 1], { padding: [3, 0] });
    this.branch7x7dbl_5 = new BasicConv2d(c7, 192, [1, 7], { padding: [0, 3] });
    this.branch_pool = new BasicConv2d(cin, 192, 1);
  }
  forward(x: Tensor): Tensor {
    return torch.scope(() => {
      let b7 = this.branch7x7_1.forward(x);
      b7 = this.branch7x7_3.forward(this.branch7x7_2.forward(b7));
      let d = this.branch7x7dbl_1.forward(x);
      for (const m of [this.branch7x7dbl_2, this.branch7x7dbl_3, this.branch7x7dbl_4, this.branch7x7dbl_5]) d = m.forward(d);
      return torch.cat([this.branch1x1.forward(x), b7, d, this.branch_pool.forward(avg3(x))], 1);
    });
  }
}

/** torchvision InceptionD (Mixed_7a). */
export class InceptionD extends nn.Module {
  branch3x3_1: BasicConv2d; branch3x3_2: BasicConv2d;
  branch7x7x3_1: BasicConv2d; branch7x7x3_2: BasicConv2d; branch7x7x3_3: BasicConv2d; branch7x7x3_4: BasicConv2d;
  constructor(cin: number) {
    super();
    this.branch3x3_1 = new BasicConv2d(cin, 192, 1);
    this.branch3x3_2 = new BasicConv2d(192, 320, 3, { stride: 2 });
    this.branch7x7x3_1 = new BasicConv2d(cin, 192, 1);
    this.branch7x7x3_2 = new BasicConv2d(192, 192, [1, 7], { padding: [0, 3] });
    this.branch7x7x3_3 = new BasicConv2d(192, 192, [7, 1], { padding: [3, 0] });
    this.branch7x7x3_4 = new BasicConv2d(192, 192, 3, { stride: 2 });
  }
  forward(x: Tensor): Tensor {
    return torch.scope(() => {
      let b = this.branch7x7x3_1.forward(x);
      for (const m of [this.branch7x7x3_2, this.branch7x7x3_3, this.branch7x7x3_4]) b = m.forward(b);
      return torch.cat([this.branch3x3_2.forward(this.branch3x3_1.forward(x)), b, torch.maxPool2d(x, 3, { stride: 2 })], 1);
    });
  }
}

/** FIDInceptionE_1 (pool branch: average, count_include_pad=False) and FIDInceptionE_2 (max pool). */
export class FIDInceptionE extends nn.Module {
  branch1x1: BasicConv2d; branch3x3_1: BasicConv2d; branch3x3_2a: BasicConv2d; branch3x3_2b: BasicConv2d;
  branch3x3dbl_1: BasicConv2d; branch3x3dbl_2: BasicConv2d; branch3x3dbl_3a: BasicConv2d; branch3x3dbl_3b: BasicConv2d;
  branch_pool: BasicConv2d;
  readonly maxPool: boolean;
  constructor(cin: number, maxPool: boolean) {
    super();
    this.maxPool = maxPool;
    this.branch1x1 = new BasicConv2d(cin, 320, 1);
    this.branch3x3_1 = new BasicConv2d(cin, 384, 1);
    this.branch3x3_2a = new BasicConv2d(384, 384, [1, 3], { padding: [0, 1] });
    this.branch3x3_2b = new BasicConv2d(384, 384, [3, 1], { padding: [1, 0] });
    this.branch3x3dbl_1 = new BasicConv2d(cin, 448, 1);
    this.branch3x3dbl_2 = new BasicConv2d(448, 384, 3, { padding: 1 });
    this.branch3x3dbl_3a = new BasicConv2d(384, 384, [1, 3], { padding: [0, 1] });
    this.branch3x3dbl_3b = new BasicConv2d(384, 384, [3, 1], { padding: [1, 0] });
    this.branch_pool = new BasicConv2d(cin, 192, 1);
  }
  forward(x: Tensor): Tensor {
    return torch.scope(() => {
      const b3 = this.branch3x3_1.forward(x);
      const d = this.branch3x3dbl_2.forward(this.branch3x3dbl_1.forward(x));
      const pool = this.maxPool ? torch.maxPool2d(x, 3, { stride: 1, padding: 1 }) : avg3(x);
      return torch.cat([
        this.branch1x1.forward(x),
        torch.cat([this.branch3x3_2a.forward(b3), this.branch3x3_2b.forward(b3)], 1),
        torch.cat([this.branch3x3dbl_3a.forward(d), this.branch3x3dbl_3b.forward(d)], 1),
        this.branch_pool.forward(pool),
      ], 1);
    });
  }
}

/** InceptionV3(output_blocks=[3]) of pytorch-fid with fid_inception_v3(): (N, 3, H, W) in [−1, 1] → (N, 2048). */
export class FIDInceptionV3 extends nn.Module {
  Conv2d_1a_3x3 = new BasicConv2d(3, 32, 3, { stride: 2 });
  Conv2d_2a_3x3 = new BasicConv2d(32, 32, 3);
  Conv2d_2b_3x3 = new BasicConv2d(32, 64, 3, { padding: 1 });
  Conv2d_3b_1x1 = new BasicConv2d(64, 80, 1);
  Conv2d_4a_3x3 = new BasicConv2d(80, 192, 3);
  Mixed_5b = new FIDInceptionA(192, 32);
  Mixed_5c = new FIDInceptionA(256, 64);
  Mixed_5d = new FIDInceptionA(288, 64);
  Mixed_6a = new InceptionB(288);
  Mixed_6b = new FIDInceptionC(768, 128);
  Mixed_6c = new FIDInceptionC(768, 160);
  Mixed_6d = new FIDInceptionC(768, 160);
  Mixed_6e = new FIDInceptionC(768, 192);
  Mixed_7a = new InceptionD(768);
  Mixed_7b = new FIDInceptionE(1280, false);
  Mixed_7c = new FIDInceptionE(2048, true);

  constructor() {
    super();
    this.eval();
  }

  /** Loads the pt_inception file (its `fc.*` and `num_batches_tracked` entries are not used); all other keys must be there. */
  loadFid(sd: Map<string, Tensor>): void {
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !sd.has(k) && !k.endsWith('num_batches_tracked'));
    if (missing.length) throw new Error(`not the FID Inception weights: ${missing.length} keys missing (${missing.slice(0, 3).join(', ')} …)`);
    const use = new Map([...sd].filter(([k]) => own.has(k)));
    this.loadStateDict(use, { strict: false });
  }

  /** InceptionV3.forward(x, resize_input=False, normalize_input=False)[0] flattened. */
  forward(x: Tensor): Tensor {
    return torch.scope(() => {
      let h = x;
      for (const m of [this.Conv2d_1a_3x3, this.Conv2d_2a_3x3, this.Conv2d_2b_3x3]) h = m.forward(h);
      h = torch.maxPool2d(h, 3, { stride: 2 });
      h = this.Conv2d_4a_3x3.forward(this.Conv2d_3b_1x1.forward(h));
      h = torch.maxPool2d(h, 3, { stride: 2 });
      for (const m of [this.Mixed_5b, this.Mixed_5c, this.Mixed_5d, this.Mixed_6a, this.Mixed_6b, this.Mixed_6c, this.Mixed_6d, this.Mixed_6e, this.Mixed_7a, this.Mixed_7b, this.Mixed_7c]) h = m.forward(h);
      return torch.adaptiveAvgPool2d(h, 1).flatten(1);
    });
  }
}
