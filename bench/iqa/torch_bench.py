#!/usr/bin/python3
"""The PyTorch side of bench/iqa: pyiqa's MUSIQ / MANIQA network (random weights, eval, no grad)
on one random image, fp32 CPU. Dev-only (Debian python3-torch 1.13, upstream trees as in
scripts/ref/pyiqa_shim.py). Prints one JSON line."""
import argparse
import json
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'scripts', 'ref'))
import pyiqa_shim  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument('--upstream', required=True)
ap.add_argument('--metric', required=True)
ap.add_argument('--size', type=int, default=512)
ap.add_argument('--threads', type=int, default=2)
ap.add_argument('--repeat', type=int, default=1)
ap.add_argument('--warmup', type=int, default=1)
a = ap.parse_args()
torch.set_num_threads(a.threads)
torch.set_grad_enabled(False)
MUSIQ, MANIQA = pyiqa_shim.load(a.upstream)
torch.manual_seed(1234)
nets = {
    'musiq': lambda: MUSIQ(pretrained=False, num_class=1),
    'musiq-spaq': lambda: MUSIQ(pretrained=False, num_class=1),
    'musiq-paq2piq': lambda: MUSIQ(pretrained=False, num_class=1),
    'musiq-ava': lambda: MUSIQ(pretrained=False, num_class=10),
    'maniqa': lambda: MANIQA(pretrained=False, scale=0.8),
    'maniqa-kadid': lambda: MANIQA(pretrained=False, scale=0.8),
    'maniqa-pipal': lambda: MANIQA(pretrained=False, scale=0.13),
}
net = nets[a.metric]().eval()
x = torch.rand(1, 3, a.size, a.size, generator=torch.Generator().manual_seed(7))
for _ in range(a.warmup):
    net(x)
t0 = time.perf_counter()
for _ in range(a.repeat):
    net(x)
sec = time.perf_counter() - t0
print(json.dumps({
    'bench': 'iqa', 'engine': 'pytorch', 'metric': a.metric, 'size': a.size, 'dtype': 'float32', 'threads': a.threads,
    'images': a.repeat, 'warmup': a.warmup, 'seconds': round(sec, 3), 'images_per_s': round(a.repeat / sec, 4),
    'peak_rss_mb': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024), 'torch': torch.__version__,
}))
