#!/usr/bin/python3
"""Writes a full-size random-weight CLIP RN50 as OpenAI's `RN50.pt` (a traced TorchScript archive with
fp16 Conv/Linear/attention/projection weights, fp32 BatchNorm, and the input_resolution /
context_length / vocab_size entries), for a manual check of `vpdsr eval --metrics clipiqa`.

With --score, pyiqa's own `clipiqa` (CLIPIQA(model_type='clipiqa', backbone=<the file>), images loaded
as pyiqa does: Pillow RGB, to_tensor, full resolution) is written to clipiqa-scores.json beside it.

Uses Debian's python3-torch 1.13 and the upstream trees (never part of vpdsr): openai/CLIP's `clip/`
folder and pyiqa's tree as scripts/ref/pyiqa_shim.py describes:
  /usr/bin/python3 scripts/ref/make-clip-rn50.py --openai /tmp/openai-clip --upstream /tmp/iqa-ref \
      --out /tmp/weights [--score img.png ...]
About 0.25 GB.
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pyiqa_shim  # noqa: E402

RN50 = pyiqa_shim.CLIP_RN50


def load_image(path):
    from PIL import Image
    import torchvision.transforms.functional as TF
    return TF.to_tensor(Image.open(path).convert('RGB')).unsqueeze(0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--openai', required=True, help='folder holding openai/CLIP\'s clip/ package')
    ap.add_argument('--upstream', help='folder holding pyiqa/ and timm/ (for --score)')
    ap.add_argument('--out', required=True)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--score', nargs='*', default=[], help='images to score with pyiqa clipiqa into clipiqa-scores.json')
    a = ap.parse_args()
    _, clip_model = pyiqa_shim.import_clip(a.openai)
    torch.manual_seed(a.seed)
    torch.set_grad_enabled(False)
    model = clip_model.CLIP(*RN50).eval()  # initialize_parameters: CLIP's own random init
    # The archive entries build_model deletes (OpenAI's archives carry them).
    del model.context_length, model.vocab_size  # plain ints here, used only by __init__
    model.register_buffer('input_resolution', torch.tensor(224))
    model.register_buffer('context_length', torch.tensor(77))
    model.register_buffer('vocab_size', torch.tensor(49408))
    half = clip_model.CLIP(*RN50)
    half.load_state_dict(model.state_dict(), strict=False)
    clip_model.convert_weights(half)  # which entries OpenAI stores in fp16
    half_keys = {k for k, v in half.state_dict().items() if v.dtype == torch.float16}
    # Traced in float32 (CPU has no fp16 convolution), then the entries set to fp16 as OpenAI's are.
    traced = torch.jit.trace(model, (torch.zeros(1, 3, 224, 224), torch.zeros(1, 77, dtype=torch.long)))
    n = 0
    for k, p in list(traced.named_parameters()) + list(traced.named_buffers()):
        if k in half_keys:
            p.data = p.data.half()
            n += 1
    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, 'RN50.pt')
    traced.save(path + '.tmp')
    os.replace(path + '.tmp', path)
    print(f'wrote {path} ({n} fp16 entries of {len(traced.state_dict())})', flush=True)
    if a.score:
        if not a.upstream:
            sys.exit('--score needs --upstream (pyiqa tree)')
        CLIPIQA, _ = pyiqa_shim.load_clipiqa(a.upstream, a.openai)
        net = CLIPIQA(model_type='clipiqa', backbone=path).eval()
        scores = {p: float(net(load_image(p)).reshape(-1)[0]) for p in a.score}
        print(f'clipiqa: {scores}', flush=True)
        with open(os.path.join(a.out, 'clipiqa-scores.json'), 'w') as f:
            json.dump({'clipiqa': scores}, f, indent=1)


if __name__ == '__main__':
    main()
