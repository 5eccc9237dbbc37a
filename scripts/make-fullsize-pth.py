#!/usr/bin/python3
"""Writes full-size random-weight checkpoints laid out the way upstream saves them.

A manual check of `vpdsr convert` (the files are ~0.7 GB together, too big for CI):

    /usr/bin/python3 scripts/make-fullsize-pth.py --out /tmp/fullsize
    node bin/vpdsr.js convert --preset sinsr --unet /tmp/fullsize/SinSR_v1.pth \
        --vq /tmp/fullsize/autoencoder_vq_f4.pth --out /tmp/fullsize/model
    node bin/vpdsr.js upscale -i ../shared/samples/camera.png -o /tmp/fullsize/sr --model /tmp/fullsize/model

Needs Debian's python3-torch (1.13). No upstream code is used: the key names, shapes and dtypes
come from the golden `keys.fullsize` cases (../shared/golden/models/manifest.json, computed from
the upstream classes), the two deterministic buffers from the rules of MODEL_SPEC.md §2.4.2 and
§2.4.5. Weights are random (seeded): conv/linear weights N(0, 1/fan_in), biases N(0, 0.1²),
GroupNorm weights 1 + N(0, 0.1²) and biases N(0, 0.1²), relative-position tables N(0, 0.02²),
codebook U(−1, 1) — enough for a finite, image-shaped output, not a trained one.

UNet layout (--unet-layout): `trainer` (default) = what upstream's trainers write
(trainer.py: {'iters_start', 'log_step', 'log_step_img', 'state_dict'} with DDP's `module.`
prefix on every key); `plain` = the bare state dict; `compiled` = {'state_dict'} with
`module._orig_mod.` prefixes (torch.compile under DDP). The autoencoder is always a flat state
dict (§6.3). `--legacy` writes the pre-1.6 non-zip torch.save format instead.
"""
import argparse
import json
import math
import os
import sys

import torch


def rel_position_index(w):
    """§2.4.2: index[p, q] = (r_p − r_q + w − 1)·(2w − 1) + (c_p − c_q + w − 1), p = r·w + c."""
    coords = torch.stack(torch.meshgrid(torch.arange(w), torch.arange(w), indexing="ij")).flatten(1)
    rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + (w - 1)
    return rel[:, :, 0] * (2 * w - 1) + rel[:, :, 1]


def upstream_mask(res, w, s):
    """§2.4.5 (the upstream quirk): only the last window row is masked, split by in-window column."""
    n_wr, n_wc = res // w, res // w
    mask = torch.zeros(n_wr * n_wc, w * w, w * w)
    col = torch.arange(w * w) % w
    group = (col >= w - s)
    differ = group[:, None] != group[None, :]
    for j in range(n_wc):
        mask[(n_wr - 1) * n_wc + j][differ] = -100.0
    return mask


def random_tensor(key, shape, gen):
    if key.endswith("relative_position_bias_table"):
        return torch.randn(shape, generator=gen) * 0.02
    if key == "quantize.embedding.weight":
        return torch.rand(shape, generator=gen) * 2 - 1
    if len(shape) >= 2:
        fan_in = math.prod(shape[1:])
        return torch.randn(shape, generator=gen) / math.sqrt(fan_in)
    if key.endswith(".bias"):
        return torch.randn(shape, generator=gen) * 0.1
    # The only 1-D weights are GroupNorm affine weights.
    return 1 + torch.randn(shape, generator=gen) * 0.1


def build(keys, seed, window=8):
    gen = torch.Generator().manual_seed(seed)
    sd = {}
    for key, shape, dtype, role in keys:
        if role == "param":
            sd[key] = random_tensor(key, shape, gen).to(torch.float32)
        elif key.endswith("relative_position_index"):
            sd[key] = rel_position_index(window)
        elif key.endswith("attn_mask"):
            n_w = shape[0]
            res = int(round(math.sqrt(n_w))) * window
            sd[key] = upstream_mask(res, window, window // 2)
        else:
            sys.exit(f"unknown buffer {key}")
        if list(sd[key].shape) != list(shape):
            sys.exit(f"{key}: made {list(sd[key].shape)}, expected {shape}")
    return sd


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--manifest", default=os.path.join(here, "..", "..", "shared", "golden", "models", "manifest.json"))
    ap.add_argument("--unet-name", default="SinSR_v1.pth")
    ap.add_argument("--unet-layout", choices=["trainer", "plain", "compiled"], default="trainer")
    ap.add_argument("--legacy", action="store_true", help="non-zip torch.save format")
    ap.add_argument("--seed", type=int, default=20240912)
    a = ap.parse_args()

    cases = {c["name"]: c for c in json.load(open(a.manifest))["cases"] if c["kind"] == "keys.fullsize"}
    unet_keys, vq_keys = cases["sinsr-unet"]["expect"]["keys"], cases["vq-f4"]["expect"]["keys"]
    os.makedirs(a.out, exist_ok=True)
    kw = {} if not a.legacy else {"_use_new_zipfile_serialization": False}

    unet = build(unet_keys, a.seed)
    if a.unet_layout == "plain":
        obj = unet
    elif a.unet_layout == "compiled":
        obj = {"state_dict": {"module._orig_mod." + k: v for k, v in unet.items()}}
    else:
        obj = {"iters_start": 500000, "log_step": {"train": 500000}, "log_step_img": {"train": 50000},
               "state_dict": {"module." + k: v for k, v in unet.items()}}
    unet_path = os.path.join(a.out, a.unet_name)
    torch.save(obj, unet_path, **kw)

    vq = build(vq_keys, a.seed + 1)
    vq_path = os.path.join(a.out, "autoencoder_vq_f4.pth")
    torch.save(vq, vq_path, **kw)

    n_unet = sum(v.numel() for k, v in unet.items() if v.dtype == torch.float32 and "attn_mask" not in k)
    print(f"{unet_path}: {len(unet)} keys, {n_unet} parameter elements, layout {a.unet_layout}, {os.path.getsize(unet_path)} bytes")
    print(f"{vq_path}: {len(vq)} keys, {sum(v.numel() for v in vq.values())} parameter elements, {os.path.getsize(vq_path)} bytes")


if __name__ == "__main__":
    main()
