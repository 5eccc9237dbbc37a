# Writes test/fixtures/clip/alpha-resize.json: RGBA and LA images (some fully transparent / opaque
# pixels) through CLIP's _transform steps with Pillow — Resize(16, BICUBIC) (Pillow resizes
# RGBA/LA in premultiplied alpha), CenterCrop(16), convert("RGB"). Run with /usr/bin/python3.
import json, sys
import numpy as np
from PIL import Image
out_file = sys.argv[1] if len(sys.argv) > 1 else 'test/fixtures/clip/alpha-resize.json'
rng = np.random.default_rng(0)
out = {}
for mode, c in [('RGBA', 4), ('LA', 2)]:
    a = rng.integers(0, 256, (23, 31, c), dtype=np.uint8)
    a[..., -1] = np.where(rng.random((23, 31)) < 0.3, rng.choice([0, 255], (23, 31)), a[..., -1])
    im = Image.fromarray(a, mode)
    n, h, w = 16, 23, 31
    nh, nw = n, int(n * w / h)
    r = im.resize((nw, nh), Image.BICUBIC)
    top, left = int(round((nh - n) / 2.0)), int(round((nw - n) / 2.0))
    rgb = r.crop((left, top, left + n, top + n)).convert('RGB')
    out[mode] = {'input': a.flatten().tolist(), 'height': h, 'width': w, 'channels': c, 'n_px': n,
                 'resized': np.asarray(r).flatten().tolist(), 'rgb': np.asarray(rgb).flatten().tolist()}
json.dump(out, open(out_file, 'w'), separators=(',', ':'))
