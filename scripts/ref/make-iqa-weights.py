#!/usr/bin/python3
"""Writes full-size random-weight MUSIQ and MANIQA checkpoints under pyiqa's public file names.

For a manual check of `vpdsr eval` with the no-reference metrics (no real weights needed): the
files are torch.save state dicts of the upstream classes at their released configurations, laid
out as the public files are (MANIQA's koniq/kadid files with the `module.` prefix their
DataParallel training leaves, which pyiqa strips). With --score, pyiqa's own scores of the given
images (loaded as pyiqa does: Pillow RGB, to_tensor) are written to reference-scores.json, so
that vpdsr's numbers on the same files can be compared.

Uses Debian's python3-torch 1.13 and the upstream trees (never part of vpdsr; see
scripts/ref/pyiqa_shim.py):
  /usr/bin/python3 scripts/ref/make-iqa-weights.py --upstream /tmp/iqa-ref --out /tmp/iqa-weights \
      [--only musiq,maniqa] [--score img.png ...]
About 0.43 GB for the four MUSIQ files and 1.6 GB for the three MANIQA files.
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pyiqa_shim  # noqa: E402

MUSIQ_FILES = {
    'musiq': ('koniq10k', 'musiq_koniq_ckpt-e95806b9.pth'),
    'musiq-spaq': ('spaq', 'musiq_spaq_ckpt-358bb6af.pth'),
    'musiq-paq2piq': ('paq2piq', 'musiq_paq2piq_ckpt-364c0c84.pth'),
    'musiq-ava': ('ava', 'musiq_ava_ckpt-e8d3f067.pth'),
}
MANIQA_FILES = {
    'maniqa': ('koniq', 0.8, 'ckpt_koniq10k.pt', 'module.'),
    'maniqa-kadid': ('kadid', 0.8, 'ckpt_kadid10k.pt', 'module.'),
    'maniqa-pipal': ('pipal', 0.13, 'MANIQA_PIPAL-ae6d356b.pth', ''),
}


def load_image(path):
    from PIL import Image
    import torchvision.transforms.functional as TF
    return TF.to_tensor(Image.open(path).convert('RGB')).unsqueeze(0)


def save_atomic(obj, path):
    tmp = path + '.tmp'
    torch.save(obj, tmp)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--upstream', required=True, help='folder holding pyiqa/ and timm/ (see pyiqa_shim.py)')
    ap.add_argument('--out', required=True)
    ap.add_argument('--only', default='', help='comma-separated metric ids (default: all seven)')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--score', nargs='*', default=[], help='images to score with pyiqa into reference-scores.json')
    a = ap.parse_args()
    MUSIQ, MANIQA = pyiqa_shim.load(a.upstream)
    os.makedirs(a.out, exist_ok=True)
    torch.set_grad_enabled(False)
    ids = [s for s in a.only.split(',') if s] or [*MUSIQ_FILES, *MANIQA_FILES]
    images = {p: load_image(p) for p in a.score}
    scores = {}
    for i, mid in enumerate(ids):
        torch.manual_seed(a.seed + i)
        if mid in MUSIQ_FILES:
            variant, name = MUSIQ_FILES[mid]
            net = MUSIQ(pretrained=False, num_class=10 if variant == 'ava' else 1).eval()
            save_atomic(net.state_dict(), os.path.join(a.out, name))
        elif mid in MANIQA_FILES:
            variant, scale, name, prefix = MANIQA_FILES[mid]
            net = MANIQA(pretrained=False, scale=scale).eval()
            save_atomic({prefix + k: v for k, v in net.state_dict().items()}, os.path.join(a.out, name))
        else:
            sys.exit(f'unknown metric id {mid}')
        print(f'{mid}: wrote {name}', flush=True)
        if images:
            scores[mid] = {os.path.basename(p): float(net(x).reshape(-1)[0]) for p, x in images.items()}
            print(f'{mid}: {scores[mid]}', flush=True)
    if images:
        with open(os.path.join(a.out, 'reference-scores.json'), 'w') as f:
            json.dump(scores, f, indent=1)


if __name__ == '__main__':
    main()
