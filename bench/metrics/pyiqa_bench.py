#!/usr/bin/python3
"""The PyTorch side of `npm run bench:metrics`: pyiqa's own metric code (an unpacked
chaofengc/IQA-PyTorch tree at commit 01ae427, given by --pyiqa; never part of vpdsr) on CPU with
Debian's python3-torch, random backbones, the same 512x512 images and thread count as the vpdsr
side. Prints one JSON line per metric: {"side": "pytorch", "metric", "images", "seconds", "images_per_s"}.

Usage: /usr/bin/python3 bench/metrics/pyiqa_bench.py --pyiqa /tmp/pyiqa --images A.png,B.png --hr A.png,B.png [--n 4] [--threads 2]
"""
import argparse, json, os, sys, time

import numpy as np
import torch
import torchvision
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'scripts', 'ref'))
from pyiqa_tree import load_pyiqa  # noqa: E402


def image(path):
    return torch.from_numpy(np.array(Image.open(path).convert('RGB'))).permute(2, 0, 1).float().div(255).unsqueeze(0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--pyiqa', required=True)
    ap.add_argument('--images', required=True)
    ap.add_argument('--hr', required=True)
    ap.add_argument('--niqe', required=True, help='pristine parameters (.safetensors is not readable here: pass modelparameters.mat)')
    ap.add_argument('--assets', required=True)
    ap.add_argument('--metrics', default='psnr,ssim,niqe,lpips,lpips_vgg,dists,fid')
    ap.add_argument('--threads', type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    m = load_pyiqa(a.pyiqa, ('psnr_arch', 'ssim_arch', 'niqe_arch', 'lpips_arch', 'dists_arch', 'inception', 'fid_arch'))
    orig_alex, orig_vgg = torchvision.models.alexnet, torchvision.models.vgg16
    torchvision.models.alexnet = lambda *x, **k: orig_alex(weights=None)
    torchvision.models.vgg16 = lambda *x, **k: orig_vgg(weights=None)
    m['inception'].load_pretrained_network = lambda net, path, strict=True, **k: None
    srs = [image(p) for p in a.images.split(',')]
    hrs = [image(p) for p in a.hr.split(',')]
    ids = a.metrics.split(',')
    nets = {
        'psnr': lambda: m['psnr_arch'].PSNR(test_y_channel=True, color_space='ycbcr'),
        'ssim': lambda: m['ssim_arch'].SSIM(test_y_channel=True, color_space='ycbcr'),
        'niqe': lambda: m['niqe_arch'].NIQE(pretrained_model_path=a.niqe),
        'lpips': lambda: m['lpips_arch'].LPIPS(net='alex', version='0.1', pretrained_model_path=os.path.join(a.assets, 'lpips', 'v0.1', 'alex.pth')),
        'lpips_vgg': lambda: m['lpips_arch'].LPIPS(net='vgg', version='0.1', pretrained_model_path=os.path.join(a.assets, 'lpips', 'v0.1', 'vgg.pth')),
        'dists': lambda: m['dists_arch'].DISTS(pretrained_model_path=os.path.join(a.assets, 'dists', 'weights.pt')),
        'fid': lambda: m['fid_arch'].FID().model,
    }
    for mid in ids:
        net = nets[mid]().eval()

        def once(sr, hr):
            if mid == 'niqe':
                return net(sr)
            if mid == 'fid':
                # ResizeDataset('clean') per channel with PIL, then (x - 128) / 128 and the Inception.
                x = (sr[0].permute(1, 2, 0).numpy() * 255).round().astype(np.float32)
                ch = [np.asarray(Image.fromarray(x[:, :, i], mode='F').resize((299, 299), resample=Image.BICUBIC)).clip(0, 255) for i in range(3)]
                t = torch.tensor(np.stack(ch, 2)).permute(2, 0, 1).unsqueeze(0)
                return net((t - 128) / 128, False, False)[0]
            return net(sr, hr)
        with torch.no_grad():
            once(srs[0], hrs[0])  # warm-up
            t0 = time.perf_counter()
            for sr, hr in zip(srs, hrs):
                once(sr, hr)
            dt = time.perf_counter() - t0
        print(json.dumps({'side': 'pytorch', 'metric': mid, 'images': len(srs), 'seconds': round(dt, 3), 'images_per_s': round(len(srs) / dt, 3)}), flush=True)


if __name__ == '__main__':
    main()
