#!/usr/bin/python3
"""One full VPD-SR distillation step in PyTorch (VPDSR_METHOD §3.6), with tiny networks: every loss
term and the weights after one AdamW step of the student and of the discriminator heads.

Usage (dev only; python3-torch 1.13 via /usr/bin/python3):
  /usr/bin/python3 scripts/ref/distill_step_ref.py --resshift DIR --out test/fixtures/train/distill-step.safetensors
DIR is a checkout of zsyOAOA/ResShift (3ce1d81): its models/unet.py is the UNet used here.
timm is only needed for DropPath/to_2tuple/trunc_normal_ of its Swin code; a minimal stand-in is
installed in sys.modules when timm is absent (drop path 0: DropPath is the identity).
"""
import argparse, json, math, struct, sys, types

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def timm_stub():
    if 'timm' in sys.modules:
        return
    try:
        import timm  # noqa: F401
        return
    except ImportError:
        pass
    layers = types.ModuleType('timm.models.layers')
    layers.DropPath = lambda p=0.0: nn.Identity()
    layers.to_2tuple = lambda x: tuple(x) if isinstance(x, (tuple, list)) else (x, x)
    layers.trunc_normal_ = lambda t, std=1.0, **kw: nn.init.trunc_normal_(t, std=std)
    timm = types.ModuleType('timm'); models = types.ModuleType('timm.models')
    timm.models = models; models.layers = layers
    sys.modules.update({'timm': timm, 'timm.models': models, 'timm.models.layers': layers})


UNET = dict(image_size=16, in_channels=3, model_channels=32, out_channels=3, num_res_blocks=[1],
            attention_resolutions=[], dropout=0, channel_mult=[1], conv_resample=True, dims=2,
            use_fp16=False, num_head_channels=32, use_scale_shift_norm=True, resblock_updown=False,
            swin_depth=1, swin_embed_dim=32, window_size=8, mlp_ratio=1, patch_norm=False, cond_lq=True,
            lq_size=16)
T, KAPPA, POWER, MIN_NOISE, ETAS_END = 4, 2.0, 0.3, 0.2, 0.99
WEIGHTS = dict(distill=1.0, ess=1.0, hfp=1.0, adv=0.02, inverse=1.0, gt=1.0)
LR = 1e-3


def sqrt_etas():
    # ResShift get_named_eta_schedule('exponential') with the journal start min(m/κ, m)
    etas_start = min(MIN_NOISE / KAPPA, MIN_NOISE)
    increaser = math.exp(1 / (T - 1) * math.log(ETAS_END / etas_start))
    base = np.ones([T]) * increaser
    power_timestep = np.linspace(0, 1, T, endpoint=True) ** POWER * (T - 1)
    return np.power(base, power_timestep) * etas_start


SE = sqrt_etas()
ETAS = SE ** 2
ETAS_PREV = np.append(0.0, ETAS[:-1])


def ext(arr, t):
    return torch.from_numpy(arr).float()[t].view(-1, 1, 1, 1)


def scale_input(x, t):  # pixel space (latent_flag False)
    return x / (ext(SE, t) * KAPPA * 3 + 1)


def q_sample(x0, y, t, noise):
    return ext(ETAS, t) * (y - x0) + x0 + ext(SE * KAPPA, t) * noise


class StandIn(nn.Module):
    def __init__(self, widths=(8, 16), embed_dim=8, classes=4):
        super().__init__()
        layers, c = [], 3
        for w in widths:
            layers += [nn.Conv2d(c, w, 3, stride=2, padding=1), nn.ReLU()]
            c = w
        self.features = nn.Sequential(*layers)
        self.embedding = nn.Linear(c, embed_dim)
        self.classifier = nn.Linear(embed_dim, classes)

    def embed(self, x01):
        return self.embedding(self.features((x01 - 0.5) / 0.5).mean([2, 3]))


class FiLMHead(nn.Module):
    def __init__(self, cin, emb_dim, width, groups):
        super().__init__()
        self.conv_in = nn.Conv2d(cin, width, 3, padding=1)
        self.norm = nn.GroupNorm(groups, width)
        self.conv_mid = nn.Conv2d(width, width, 3, padding=1)
        self.film = nn.Linear(emb_dim, 2 * width)
        self.conv_out = nn.Conv2d(width, 1, 1)

    def forward(self, x, emb):
        h = self.conv_mid(F.silu(self.norm(self.conv_in(x))))
        scale, shift = self.film(emb)[:, :, None, None].chunk(2, dim=1)
        return self.conv_out(F.silu(h * (1 + scale) + shift))


class Heads(nn.Module):
    def __init__(self, chans, emb_dim, width=8, groups=4):
        super().__init__()
        self.heads = nn.ModuleList([FiLMHead(c, emb_dim, width, groups) for c in chans])

    def forward(self, taps, emb):
        return torch.cat([h(t, emb).flatten(1) for h, t in zip(self.heads, taps)], 1)


def encoder_features(unet, x, t, lq, tap_idx, timestep_embedding):
    emb = unet.time_embed(timestep_embedding(t, unet.model_channels))
    h = torch.cat([x, unet.feature_extractor(lq)], 1)
    taps = []
    for i, m in enumerate(unet.input_blocks):
        h = m(h, emb)
        if i in tap_idx:
            taps.append(h)
    taps.append(unet.middle_block(h, emb))
    return taps, emb


def haar_details(x):
    a, b, c, d = x[..., 0::2, 0::2], x[..., 0::2, 1::2], x[..., 1::2, 0::2], x[..., 1::2, 1::2]
    return [(a + b - c - d) / 2, (a - b + c - d) / 2, (a - b - c + d) / 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--resshift', required=True)
    ap.add_argument('--out', required=True)
    args = ap.parse_args()
    timm_stub()
    sys.path.insert(0, args.resshift)
    from models.unet import UNetModelSwin
    from models.basic_ops import timestep_embedding

    torch.manual_seed(0)
    teacher = UNetModelSwin(**UNET)
    # Random non-zero weights everywhere (upstream zero-initialises some output convs).
    with torch.no_grad():
        for p in teacher.parameters():
            p.copy_(torch.randn_like(p) * 0.15)
    teacher.eval().requires_grad_(False)
    student = UNetModelSwin(**UNET)
    student.load_state_dict(teacher.state_dict())
    enc = StandIn().eval().requires_grad_(False)
    tap_idx = [1]
    heads = Heads([32, 32], 4 * UNET['model_channels'])
    init = {f'w.{k}': v.clone() for k, v in teacher.state_dict().items()}
    init.update({f'e.{k}': v.clone() for k, v in enc.state_dict().items()})
    init.update({f'h.{k}': v.clone() for k, v in heads.state_dict().items()})

    g = torch.Generator().manual_seed(1)
    B = 2
    hr = torch.rand(B, 3, 16, 16, generator=g) * 2 - 1
    lq = torch.rand(B, 3, 4, 4, generator=g) * 2 - 1
    noise = torch.randn(B, 3, 16, 16, generator=g)
    tD = torch.tensor([0, 2])
    noiseD = torch.randn(B, 3, 16, 16, generator=g)

    zY = F.interpolate(lq, scale_factor=4, mode='bicubic', align_corners=False)
    z0 = hr
    cond = zY
    tl = torch.full((B,), T - 1, dtype=torch.long)
    t0 = torch.zeros(B, dtype=torch.long)
    xT = zY + ext(KAPPA * SE, tl) * noise
    with torch.no_grad():  # SinSR's deterministic sampler, x̂_0 clamped (no autoencoder)
        z = xT
        for i in range(T - 1, -1, -1):
            t = torch.full((B,), i, dtype=torch.long)
            pred = teacher(scale_input(z, t), t, cond).clamp(-1, 1)
            ep, e = ETAS_PREV[i], ETAS[i]
            c1 = torch.tensor(ep * e).float().sqrt(); c2 = torch.tensor(ep / e).float().sqrt(); epf = torch.tensor(ep).float()
            k = 1 - epf + c1 - c2; m = c2; j = epf - c1
            z = pred * k + m * z + j * zY
        z_tea = z

    opt = torch.optim.AdamW(student.parameters(), lr=LR, weight_decay=0)
    dopt = torch.optim.AdamW(heads.parameters(), lr=LR, weight_decay=0)
    opt.zero_grad()
    z_hat = student(scale_input(xT, tl), tl, cond)
    terms = {}
    terms['distill'] = F.mse_loss(z_hat, z_tea)
    x_hat = z_hat
    terms['ess'] = (1 - F.cosine_similarity(enc.embed(x_hat * 0.5 + 0.5), enc.embed(hr * 0.5 + 0.5).detach(), dim=1, eps=1e-8)).mean()
    terms['hfp'] = (torch.cat(haar_details(x_hat), 1) - torch.cat(haar_details(hr), 1)).abs().mean()
    r = lambda zz: scale_input(q_sample(zz, zY, tD, noiseD), tD)
    taps, emb = encoder_features(teacher, r(z_hat), tD, cond, tap_idx, timestep_embedding)
    terms['adv'] = -heads(taps, emb).mean()
    terms['inverse'] = F.mse_loss(student(scale_input(z_tea, tl), t0, cond), xT)
    with torch.no_grad():
        xt_gt = student(scale_input(z0, tl), t0, cond)
    terms['gt'] = F.mse_loss(student(scale_input(xt_gt, tl), tl, cond), z0)
    total = sum(WEIGHTS[k] * v for k, v in terms.items())
    total.backward()
    opt.step()
    dopt.zero_grad()
    with torch.no_grad():
        tr, er = encoder_features(teacher, r(z0), tD, cond, tap_idx, timestep_embedding)
        tf, ef = encoder_features(teacher, r(z_hat.detach()), tD, cond, tap_idx, timestep_embedding)
    ld = F.relu(1 - heads(tr, er)).mean() + F.relu(1 + heads(tf, ef)).mean()
    ld.backward()
    dopt.step()

    out = dict(init)
    out.update({'in.hr': hr, 'in.lq': lq, 'in.noise': noise, 'in.noiseD': noiseD, 'in.tD': tD, 'out.z_tea': z_tea})
    for k, v in terms.items():
        out[f'loss.{k}'] = v.detach().reshape(1)
    out['loss.total'] = total.detach().reshape(1)
    out['loss.d'] = ld.detach().reshape(1)
    out.update({f's1.{k}': v.clone() for k, v in student.state_dict().items() if not k.endswith(('relative_position_index', 'attn_mask'))})
    out.update({f'h1.{k}': v.clone() for k, v in heads.state_dict().items()})
    meta = {'unet': json.dumps({k: v for k, v in UNET.items() if k not in ('dims', 'use_fp16')}), 'weights': json.dumps(WEIGHTS), 'lr': str(LR),
            'schedule': json.dumps(dict(steps=T, kappa=KAPPA, power=POWER, minNoiseLevel=MIN_NOISE, etasEnd=ETAS_END, etasStart='journal')),
            'torch': torch.__version__}
    write_safetensors(args.out, out, meta)
    print(json.dumps({k: float(v) for k, v in terms.items()}), file=sys.stderr)


def write_safetensors(file, tensors, meta):
    DT = {torch.float32: 'F32', torch.int64: 'I64', torch.uint8: 'U8'}
    header, blobs, at = {'__metadata__': meta}, [], 0
    for k, v in tensors.items():
        b = v.detach().contiguous().numpy().tobytes()
        header[k] = {'dtype': DT[v.dtype], 'shape': list(v.shape), 'data_offsets': [at, at + len(b)]}
        blobs.append(b); at += len(b)
    h = json.dumps(header).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(file, 'wb') as f:
        f.write(struct.pack('<Q', len(h))); f.write(h)
        for b in blobs:
            f.write(b)


if __name__ == '__main__':
    main()
