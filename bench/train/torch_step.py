#!/usr/bin/python3
"""PyTorch side of bench:train: the same training steps with upstream ResShift's UNetModelSwin
(zsyOAOA/ResShift@3ce1d81 models/unet.py). For the recipe's tiny UNet two vpdsr options are patched
in: GroupNorm(8) instead of GroupNorm32, and no Swin layer in the middle block. Prints one JSON line."""
import argparse, json, os, resource, sys, time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'scripts', 'ref'))
import distill_step_ref as R  # noqa: E402

RECIPE = dict(image_size=64, in_channels=3, model_channels=24, out_channels=3, num_res_blocks=[1, 1, 1], attention_resolutions=[],
              dropout=0, channel_mult=[1, 2, 2], conv_resample=True, dims=2, use_fp16=False, num_head_channels=32,
              use_scale_shift_norm=True, resblock_updown=False, swin_depth=2, swin_embed_dim=32, window_size=8, mlp_ratio=4,
              patch_norm=False, cond_lq=True, lq_size=64)
RELEASED = dict(image_size=64, in_channels=3, model_channels=160, out_channels=3, num_res_blocks=[2, 2, 2, 2],
                attention_resolutions=[64, 32, 16, 8], dropout=0, channel_mult=[1, 2, 2, 4], conv_resample=True, dims=2,
                use_fp16=False, num_head_channels=32, use_scale_shift_norm=True, resblock_updown=False, swin_depth=2,
                swin_embed_dim=192, window_size=8, mlp_ratio=4, patch_norm=False, cond_lq=True, lq_size=64)


def recipe_unet(unet_mod, basic_ops):
    orig = unet_mod.normalization
    unet_mod.normalization = lambda ch: basic_ops.GroupNorm32(8, ch)
    try:
        net = unet_mod.UNetModelSwin(**RECIPE)
    finally:
        unet_mod.normalization = orig
    mid = net.middle_block
    net.middle_block = unet_mod.TimestepEmbedSequential(mid[0], mid[2])
    return net


def main():
    ap = argparse.ArgumentParser()
    for a in ('--resshift', '--case'):
        ap.add_argument(a, required=True)
    ap.add_argument('--iters', type=int, default=3)
    ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--hr', type=int, default=64)
    ap.add_argument('--threads', type=int, default=0)
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    R.timm_stub()
    sys.path.insert(0, a.resshift)
    import models.unet as U
    import models.basic_ops as BO
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    B, H = a.batch, a.hr
    T = R.T
    fullwidth = 'fullwidth' in a.case
    if fullwidth:
        net = U.UNetModelSwin(**RELEASED)
    else:
        net = recipe_unet(U, BO)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-4, weight_decay=0)
    ema = {k: v.detach().clone() for k, v in net.state_dict().items()}

    def ema_update():
        with torch.no_grad():
            for k, v in net.state_dict().items():
                if v.dtype.is_floating_point:
                    ema[k].mul_(0.999).add_(v, alpha=0.001)

    if a.case.startswith('teacher'):
        def step():
            opt.zero_grad()
            if a.case == 'teacher-fullwidth':
                s = H // 4
                z0, zy, lq = torch.randn(B, 3, s, s, generator=g), torch.randn(B, 3, s, s, generator=g), torch.randn(B, 3, s, s, generator=g)
                t = torch.full((B,), 3, dtype=torch.long)
                xt = R.q_sample(z0, zy, t, torch.randn(z0.shape, generator=g))
                pred = net(xt / torch.sqrt(R.ext(R.ETAS, t) * R.KAPPA ** 2 + 1), t, lq)
            else:
                hr = torch.rand(B, 3, H, H, generator=g) * 2 - 1
                lq = torch.rand(B, 3, H // 4, H // 4, generator=g) * 2 - 1
                zy = F.interpolate(lq, scale_factor=4, mode='bicubic', align_corners=False)
                z0 = hr
                t = torch.randint(0, T, (B,), generator=g)
                xt = R.q_sample(z0, zy, t, torch.randn(z0.shape, generator=g))
                pred = net(R.scale_input(xt, t), t, zy)
            F.mse_loss(pred, z0).backward()
            opt.step()
            ema_update()
    else:
        # Full width: the released UNet on a 64² image standing in for the latent of a 256² crop (no VQ).
        teacher = U.UNetModelSwin(**RELEASED) if fullwidth else recipe_unet(U, BO)
        teacher.load_state_dict(net.state_dict())
        teacher.eval().requires_grad_(False)
        full = a.case.endswith('-B')
        S = H // 4 if fullwidth else H
        enc = R.StandIn(widths=(32, 64, 128, 128), embed_dim=64, classes=200).eval().requires_grad_(False)
        # Taps: the last block of each level of input_blocks, then the middle block (vpdsr's tapIndices).
        chans, tap_idx = ([160, 320, 320, 640, 640], [2, 5, 8, 11]) if fullwidth else ([24, 48, 48, 48], [1, 3, 5])
        heads = R.Heads(chans, 4 * chans[0], width=32, groups=8) if full else None
        dopt = torch.optim.AdamW(heads.parameters(), lr=1e-4, weight_decay=0) if full else None

        def step():
            hr = torch.rand(B, 3, S, S, generator=g) * 2 - 1
            lq = torch.rand(B, 3, S // 4, S // 4, generator=g) * 2 - 1
            noise = torch.randn(B, 3, S, S, generator=g)
            tD = torch.randint(0, T - 1, (B,), generator=g)
            noiseD = torch.randn(B, 3, S, S, generator=g)
            zY = F.interpolate(lq, scale_factor=4, mode='bicubic', align_corners=False)
            tl = torch.full((B,), T - 1, dtype=torch.long)
            xT = zY + R.ext(R.KAPPA * R.SE, tl) * noise
            with torch.no_grad():
                z = xT
                for i in range(T - 1, -1, -1):
                    t = torch.full((B,), i, dtype=torch.long)
                    pred = teacher(R.scale_input(z, t), t, zY).clamp(-1, 1)
                    ep, e = R.ETAS_PREV[i], R.ETAS[i]
                    c1 = torch.tensor(ep * e).float().sqrt(); c2 = torch.tensor(ep / e).float().sqrt(); epf = torch.tensor(ep).float()
                    z = pred * (1 - epf + c1 - c2) + c2 * z + (epf - c1) * zY
            opt.zero_grad()
            z_hat = net(R.scale_input(xT, tl), tl, zY)
            loss = F.mse_loss(z_hat, z)
            if full:
                loss = loss + (1 - F.cosine_similarity(enc.embed(z_hat * 0.5 + 0.5), enc.embed(hr * 0.5 + 0.5), dim=1)).mean()
                loss = loss + (torch.cat(R.haar_details(z_hat), 1) - torch.cat(R.haar_details(hr), 1)).abs().mean()
                r = lambda zz: R.scale_input(R.q_sample(zz, zY, tD, noiseD), tD)
                taps, emb = R.encoder_features(teacher, r(z_hat), tD, zY, tap_idx, BO.timestep_embedding)
                loss = loss + 0.02 * -heads(taps, emb).mean()
            loss.backward()
            opt.step()
            ema_update()
            if full:
                dopt.zero_grad()
                with torch.no_grad():
                    tr, er = R.encoder_features(teacher, r(hr), tD, zY, tap_idx, BO.timestep_embedding)
                    tf, ef = R.encoder_features(teacher, r(z_hat.detach()), tD, zY, tap_idx, BO.timestep_embedding)
                (F.relu(1 - heads(tr, er)).mean() + F.relu(1 + heads(tf, ef)).mean()).backward()
                dopt.step()

    times = []
    for i in range(a.iters + 1):
        t0 = time.perf_counter()
        step()
        if i > 0:
            times.append(time.perf_counter() - t0)
    m = sum(times) / len(times)
    print(json.dumps({'impl': 'pytorch', 'case': a.case, 'dtype': 'fp32', 'batch': B, 'hr': H, 'iters': len(times), 's_per_it': round(m, 4),
                      'it_per_s': round(1 / m, 3), 'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                      'threads': torch.get_num_threads(), 'torch': torch.__version__}))


if __name__ == '__main__':
    main()
