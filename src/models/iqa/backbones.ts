// The LPIPS trunks (PerceptualSimilarity lpips/pretrained_networks.py `alexnet`, `vgg16`), with
// torchvision's layers split into five slices that keep torchvision's indices, so the state-dict
// keys are `slice{k}.{i}.weight` for torchvision's `features.{i}.weight`.
import { Tensor, nn } from '../../engine/index.js';
import { MaxPool2d, L2pooling } from './layers.js';

type Layer = nn.TensorModule;

/** torchvision.models.alexnet().features[i] for i < 12 (the LPIPS part). */
function alexLayer(i: number): Layer {
  switch (i) {
    case 0: return new nn.Conv2d(3, 64, 11, { stride: 4, padding: 2 });
    case 3: return new nn.Conv2d(64, 192, 5, { padding: 2 });
    case 6: return new nn.Conv2d(192, 384, 3, { padding: 1 });
    case 8: return new nn.Conv2d(384, 256, 3, { padding: 1 });
    case 10: return new nn.Conv2d(256, 256, 3, { padding: 1 });
    case 2: case 5: return new MaxPool2d(3, 2);
    default: return new nn.ReLU();
  }
}

const VGG16_CFG: (number | 'M')[] = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'];

/** torchvision.models.vgg16().features[i] (i < 30). */
function vggLayers(): Layer[] {
  const out: Layer[] = [];
  let cin = 3;
  for (const v of VGG16_CFG) {
    if (v === 'M') out.push(new MaxPool2d(2, 2));
    else { out.push(new nn.Conv2d(cin, v, 3, { padding: 1 }), new nn.ReLU()); cin = v; }
  }
  return out.slice(0, 30);
}

function slice(layers: Map<number, Layer>, from: number, to: number): nn.Sequential {
  const m = new Map<string, Layer>();
  for (let i = from; i <= to; i++) m.set(String(i), layers.get(i)!);
  return new nn.Sequential(m);
}

/** Runs the slices in order and returns each slice's output (the caller disposes them). */
function runSlices(slices: nn.Sequential[], x: Tensor): Tensor[] {
  const outs: Tensor[] = [];
  let h = x;
  for (const s of slices) { h = s.forward(h); outs.push(h); }
  return outs;
}

/** pretrained_networks.alexnet: relu1 … relu5 (after features 1, 4, 7, 9, 11). */
export class AlexNetSlices extends nn.Module {
  slice1: nn.Sequential; slice2: nn.Sequential; slice3: nn.Sequential; slice4: nn.Sequential; slice5: nn.Sequential;
  readonly chns = [64, 192, 384, 256, 256];
  constructor() {
    super();
    const L = new Map<number, Layer>();
    for (let i = 0; i < 12; i++) L.set(i, alexLayer(i));
    this.slice1 = slice(L, 0, 1); this.slice2 = slice(L, 2, 4); this.slice3 = slice(L, 5, 7);
    this.slice4 = slice(L, 8, 9); this.slice5 = slice(L, 10, 11);
  }
  /** torchvision `features.{i}` → `slice{k}.{i}`. */
  static sliceOf(i: number): number { return i <= 1 ? 1 : i <= 4 ? 2 : i <= 7 ? 3 : i <= 9 ? 4 : 5; }
  forward(x: Tensor): Tensor[] { return runSlices([this.slice1, this.slice2, this.slice3, this.slice4, this.slice5], x); }
}

/** pretrained_networks.vgg16: relu1_2 … relu5_3 (after features 3, 8, 15, 22, 29). */
export class Vgg16Slices extends nn.Module {
  slice1: nn.Sequential; slice2: nn.Sequential; slice3: nn.Sequential; slice4: nn.Sequential; slice5: nn.Sequential;
  readonly chns = [64, 128, 256, 512, 512];
  constructor() {
    super();
    const L = new Map<number, Layer>(vggLayers().map((l, i) => [i, l]));
    this.slice1 = slice(L, 0, 3); this.slice2 = slice(L, 4, 8); this.slice3 = slice(L, 9, 15);
    this.slice4 = slice(L, 16, 22); this.slice5 = slice(L, 23, 29);
  }
  static sliceOf(i: number): number { return i <= 3 ? 1 : i <= 8 ? 2 : i <= 15 ? 3 : i <= 22 ? 4 : 5; }
  forward(x: Tensor): Tensor[] { return runSlices([this.slice1, this.slice2, this.slice3, this.slice4, this.slice5], x); }
}

/** DISTS's VGG16 stages: the max pools 4, 9, 16, 23 replaced by L2pooling, keys `stage{k}.{i}`. */
export function vgg16L2Stages(): nn.Sequential[] {
  const L = new Map<number, Layer>(vggLayers().map((l, i) => [i, l]));
  L.set(4, new L2pooling(64)); L.set(9, new L2pooling(128)); L.set(16, new L2pooling(256)); L.set(23, new L2pooling(512));
  return [slice(L, 0, 3), slice(L, 4, 8), slice(L, 9, 15), slice(L, 16, 22), slice(L, 23, 29)];
}
