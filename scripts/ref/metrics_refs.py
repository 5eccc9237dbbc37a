#!/usr/bin/python3
"""Reference values for vpdsr's lpips, lpips_vgg, dists and fid metrics with random backbones (and ssim_rgb).

Runs pyiqa's own code (chaofengc/IQA-PyTorch at commit 01ae427f9afd66842031d3a7cb694dcad5b5cbb8,
an unpacked tree given by --pyiqa; it is never part of vpdsr) on CPU with Debian's python3-torch
1.13.1. The ImageNet / FID Inception weights are not available offline, so each backbone is drawn
from a seeded torch.Generator in a rule vpdsr's test repeats with its own engine (same generator
streams): keys in sorted order; 4-D weights randn * sqrt(2 / fan_in); other biases randn * 0.01;
BatchNorm weight 1 + 0.1 randn, bias 0.1 randn, running_mean 0.1 randn, running_var 0.75 + 0.5 rand.
The LPIPS heads and DISTS alpha/beta are the real files (vpdsr's assets/). Images: 128x128 crops
(left 200, top 160) of shared/data/realsr-x4 osediff-sr (output) and hr (reference).

Usage: /usr/bin/python3 scripts/ref/metrics_refs.py --pyiqa /tmp/pyiqa --shared ../shared \
           --out test/fixtures/metrics/refs.json
"""
import argparse, importlib, json, math, os, sys, tempfile, types

import numpy as np
import torch
import torchvision
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pyiqa_tree import load_pyiqa  # noqa: E402

SEEDS = {'alexnet': 1001, 'vgg16': 1002, 'inception': 1003}
NAMES = ['Canon_001', 'Canon_002', 'Nikon_003', 'Nikon_010']
PAIR_NAMES = NAMES[:3]
CROP = (200, 160, 328, 288)


def seeded_state(keys_shapes, seed):
    g = torch.Generator().manual_seed(seed)
    out = {}
    for k, shape in sorted(keys_shapes):
        if k.endswith('num_batches_tracked'):
            continue
        if len(shape) == 4:
            fan_in = shape[1] * shape[2] * shape[3]
            t = torch.randn(shape, generator=g) * math.sqrt(2.0 / fan_in)
        elif k.endswith('bn.weight'):
            t = torch.randn(shape, generator=g) * 0.1 + 1
        elif k.endswith('bn.bias') or k.endswith('running_mean'):
            t = torch.randn(shape, generator=g) * 0.1
        elif k.endswith('running_var'):
            t = torch.rand(shape, generator=g) * 0.5 + 0.75
        else:
            t = torch.randn(shape, generator=g) * 0.01
        out[k] = t
    return out


def torchvision_features(ctor, seed):
    net = ctor(weights=None)
    feats = {k: v.shape for k, v in net.state_dict().items() if k.startswith('features.')}
    net.load_state_dict(seeded_state(feats.items(), seed), strict=False)
    return net


def image(path):
    return torch.from_numpy(np.array(Image.open(path).convert('RGB'))).permute(2, 0, 1).float().div(255).unsqueeze(0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--pyiqa', required=True)
    ap.add_argument('--shared', required=True)
    ap.add_argument('--assets', default=os.path.join(os.path.dirname(__file__), '..', '..', 'assets'))
    ap.add_argument('--out', required=True)
    a = ap.parse_args()
    torch.set_num_threads(1)
    mods = load_pyiqa(a.pyiqa, ('lpips_arch', 'dists_arch', 'inception', 'fid_arch', 'ssim_arch'))
    data = os.path.join(a.shared, 'data', 'realsr-x4')

    orig_alex, orig_vgg = torchvision.models.alexnet, torchvision.models.vgg16
    torchvision.models.alexnet = lambda *x, **k: torchvision_features(orig_alex, SEEDS['alexnet'])
    torchvision.models.vgg16 = lambda *x, **k: torchvision_features(orig_vgg, SEEDS['vgg16'])

    tmp = tempfile.mkdtemp(prefix='vpdsr-metric-refs-')
    for d in ['sr', 'hr']:
        os.makedirs(os.path.join(tmp, d))
    for n in NAMES:
        Image.open(os.path.join(data, 'osediff-sr', n + '_LR4.png')).crop(CROP).save(os.path.join(tmp, 'sr', n + '.png'))
        Image.open(os.path.join(data, 'hr', n + '_LR4.png')).crop(CROP).save(os.path.join(tmp, 'hr', n + '.png'))

    out = {'pyiqa_commit': '01ae427f9afd66842031d3a7cb694dcad5b5cbb8', 'torch': torch.__version__, 'seeds': SEEDS,
           'crop_ltrb': CROP, 'pair_names': PAIR_NAMES, 'fid_names': NAMES}
    with torch.no_grad():
        for mid, net in [('lpips', 'alex'), ('lpips_vgg', 'vgg')]:
            m = mods['lpips_arch'].LPIPS(net=net, version='0.1', pretrained_model_path=os.path.join(a.assets, 'lpips', 'v0.1', net + '.pth')).eval()
            out[mid] = {n: m(image(os.path.join(tmp, 'sr', n + '.png')), image(os.path.join(tmp, 'hr', n + '.png'))).item() for n in PAIR_NAMES}
        ssim_rgb = mods['ssim_arch'].SSIM(test_y_channel=False)
        out['ssim_rgb'] = {n: ssim_rgb(image(os.path.join(tmp, 'sr', n + '.png')), image(os.path.join(tmp, 'hr', n + '.png'))).item() for n in PAIR_NAMES}
        d = mods['dists_arch'].DISTS(pretrained_model_path=os.path.join(a.assets, 'dists', 'weights.pt')).eval()
        out['dists'] = {n: d(image(os.path.join(tmp, 'sr', n + '.png')), image(os.path.join(tmp, 'hr', n + '.png'))).item() for n in PAIR_NAMES}

        inc = mods['inception']
        probe = inc._inception_v3(num_classes=1008, aux_logits=False, pretrained=False)
        for name, blk in [('Mixed_5b', inc.FIDInceptionA(192, 32)), ('Mixed_5c', inc.FIDInceptionA(256, 64)), ('Mixed_5d', inc.FIDInceptionA(288, 64)),
                          ('Mixed_6b', inc.FIDInceptionC(768, 128)), ('Mixed_6c', inc.FIDInceptionC(768, 160)), ('Mixed_6d', inc.FIDInceptionC(768, 160)),
                          ('Mixed_6e', inc.FIDInceptionC(768, 192)), ('Mixed_7b', inc.FIDInceptionE_1(1280)), ('Mixed_7c', inc.FIDInceptionE_2(2048))]:
            setattr(probe, name, blk)
        shapes = [(k, v.shape) for k, v in probe.state_dict().items() if not k.startswith('fc.') and not k.startswith('AuxLogits.')]
        rand = seeded_state(shapes, SEEDS['inception'])
        inc.load_pretrained_network = lambda net, path, strict=True, **k: net.load_state_dict(rand, strict=False)
        fid = mods['fid_arch'].FID().eval()
        out['fid'] = float(fid(os.path.join(tmp, 'sr'), os.path.join(tmp, 'hr'), mode='clean', device=torch.device('cpu'), num_workers=0, verbose=False))
        feats = mods['fid_arch'].get_folder_features(os.path.join(tmp, 'sr'), fid.model, num_workers=0, device=torch.device('cpu'), mode='clean', verbose=False)
        out['fid_features_sr_first8'] = feats[:, :8].tolist()
        out['fid_features_sr_mean'] = float(np.mean(feats))
    with open(a.out, 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')
    print(json.dumps(out)[:2000])


if __name__ == '__main__':
    main()
