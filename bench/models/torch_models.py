#!/usr/bin/python3
"""PyTorch side of bench:models: the one-step SinSR pipeline with upstream ResShift's own modules
(zsyOAOA/ResShift@3ce1d81: models/unet.py UNetModelSwin, ldm/models/autoencoder.py VQModelTorch,
models/script_util.py create_gaussian_diffusion) on the weights and inputs vpdsr wrote.

  /usr/bin/python3 bench/models/torch_models.py --resshift DIR --weights DIR --layout nchw|cl [--threads 2]

DIR (--weights) holds unet.safetensors, vq.safetensors and inputs.safetensors (lr [1,3,S,S] in
[0,1], noise [1,3,S,S]) and config.json (the UNet and VQ configs and the diffusion schedule). The
script loads, runs one warm-up, prints {"ready": ...}, then answers each line on stdin: "run" runs
the pipeline once and prints one JSON line with per-stage seconds; "quit" prints the peak RSS and
exits. The parent interleaves these runs with vpdsr's. timm and einops are replaced by minimal
stand-ins when absent (Debian has neither): drop path 0 is the identity, and the einops patterns
upstream uses here are plain permutes and reshapes.
"""
import argparse, json, os, resource, struct, sys, time, types

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'scripts', 'ref'))
import distill_step_ref as R  # noqa: E402  (timm_stub)


def einops_stub():
    if 'einops' in sys.modules:
        return
    try:
        import einops  # noqa: F401
        return
    except ImportError:
        pass

    def rearrange(x, pattern, **axes):
        p = ' '.join(pattern.split())
        if p == 'b c h w -> b h w c':
            return x.permute(0, 2, 3, 1)
        if p == 'b h w c -> b c h w':
            return x.permute(0, 3, 1, 2)
        if p == 'n d -> d n':
            return x.permute(1, 0)
        if p == 'b c h w -> b (h w) c':
            return x.permute(0, 2, 3, 1).reshape(x.shape[0], -1, x.shape[1])
        if p == 'b (h w) c -> b c h w':
            return x.reshape(x.shape[0], axes['h'], axes['w'], x.shape[2]).permute(0, 3, 1, 2)
        if p == '(b h w) -> b h w':
            return x.reshape(axes['b'], axes['h'], axes['w'])
        raise NotImplementedError(pattern)
    m = types.ModuleType('einops')
    m.rearrange = rearrange
    m.repeat = lambda *a, **k: (_ for _ in ()).throw(NotImplementedError('einops.repeat'))
    sys.modules['einops'] = m


DTYPES = {'F32': torch.float32, 'F64': torch.float64, 'I64': torch.int64, 'I32': torch.int32, 'BF16': torch.bfloat16, 'F16': torch.float16}


def read_safetensors(file):
    """The safetensors format read by hand (Debian has no safetensors package): 8-byte header length, JSON header, data."""
    with open(file, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = bytearray(f.read())
    out = {}
    for k, v in header.items():
        if k == '__metadata__':
            continue
        a, b = v['data_offsets']
        out[k] = torch.frombuffer(data, dtype=DTYPES[v['dtype']], count=(b - a) // torch.tensor([], dtype=DTYPES[v['dtype']]).element_size(), offset=a).reshape(v['shape']).clone()
    return out


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--resshift', required=True)
    ap.add_argument('--weights', required=True)
    ap.add_argument('--layout', choices=['nchw', 'cl'], required=True)
    ap.add_argument('--threads', type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    R.timm_stub()
    einops_stub()
    sys.path.insert(0, a.resshift)
    from models.unet import UNetModelSwin
    from models.script_util import create_gaussian_diffusion
    from ldm.models.autoencoder import VQModelTorch

    t0 = time.perf_counter()
    cfg = json.load(open(os.path.join(a.weights, 'config.json')))
    unet = UNetModelSwin(**cfg['unet'])
    vq = VQModelTorch(**cfg['vq'])
    for net, f in ((unet, 'unet.safetensors'), (vq, 'vq.safetensors')):
        sd = read_safetensors(os.path.join(a.weights, f))
        missing, unexpected = net.load_state_dict(sd, strict=False)
        # vpdsr keeps no copy of buffers it derives (Swin masks); every parameter must be there.
        params = {k for k, _ in net.named_parameters()}
        if params & set(missing) or unexpected:
            sys.exit(f'{f}: keys do not match upstream (missing {sorted(params & set(missing))[:5]}, unexpected {unexpected[:5]})')
        net.eval().requires_grad_(False)
    s = cfg['schedule']
    diffusion = create_gaussian_diffusion(
        normalize_input=True, schedule_name='exponential', schedule_kwargs={'power': s['power']}, sf=4, steps=s['steps'],
        min_noise_level=s['minNoiseLevel'], kappa=s['kappa'], etas_end=s['etasEnd'], predict_type='xstart',
        timestep_respacing=None, scale_factor=1.0, latent_flag=True)
    inputs = read_safetensors(os.path.join(a.weights, 'inputs.safetensors'))
    lr, noise = inputs['lr'], inputs['noise']
    fmt = torch.channels_last if a.layout == 'cl' else torch.contiguous_format
    if a.layout == 'cl':
        unet.to(memory_format=fmt)
        vq.to(memory_format=fmt)
    load_s = time.perf_counter() - t0
    pad = cfg['padding']
    times = {}

    def model(x, t, **kw):  # the UNet call, timed alone as vpdsr's bench times its denoiser
        t1 = time.perf_counter()
        y = unet(x, t, **kw)
        times['unet'] += time.perf_counter() - t1
        return y

    def run():
        # ResShift sampler.py sample_func (pad to a multiple of 64, reflect) + SinSR's one-step:
        # x̂0 = model(x_T scaled at T−1); gaussian_diffusion.py encode/decode_first_stage.
        for k in ('pre', 'encode', 'unet', 'decode'):
            times[k] = 0.0
        with torch.no_grad():
            t_all = time.perf_counter()
            y = (lr - 0.5) / 0.5
            h, w = y.shape[-2:]
            ph, pw = (-h) % pad, (-w) % pad
            if ph or pw:
                y = F.pad(y, (0, pw, 0, ph), mode='reflect')
            y_up = F.interpolate(y, scale_factor=4, mode='bicubic').contiguous(memory_format=fmt)
            times['pre'] = time.perf_counter() - t_all
            t1 = time.perf_counter()
            z_y = diffusion.encode_first_stage(y_up, vq, up_sample=False)
            times['encode'] = time.perf_counter() - t1
            t = torch.tensor([diffusion.num_timesteps - 1], dtype=torch.long)
            z_t = diffusion.prior_sample(z_y, noise.contiguous(memory_format=fmt))
            out = diffusion.p_mean_variance(model, z_t, z_y, t, clip_denoised=False, model_kwargs={'lq': y.contiguous(memory_format=fmt)})
            z0 = out['pred_xstart']
            t1 = time.perf_counter()
            x = diffusion.decode_first_stage(z0, vq)
            times['decode'] = time.perf_counter() - t1
            x = x[..., :4 * h, :4 * w].clamp(-1, 1) * 0.5 + 0.5
            total = time.perf_counter() - t_all
        return total, x

    t1 = time.perf_counter()
    _, first = run()  # warm-up: first-touch pages, oneDNN primitive caches
    warm_s = time.perf_counter() - t1
    ref = os.path.join(a.weights, 'out-vpdsr.safetensors')
    diff = {}
    if os.path.exists(ref):
        d = (read_safetensors(ref)['out'] - first).abs()
        diff = {'max_abs_vs_vpdsr': round(d.max().item(), 6), 'mean_abs_vs_vpdsr': round(d.mean().item(), 8)}
    base = {'impl': 'pytorch', 'layout': 'channels_last' if a.layout == 'cl' else 'contiguous', 'dtype': 'fp32', 'threads': torch.get_num_threads(), 'torch': torch.__version__}
    print(json.dumps({**base, 'ready': True, 'load_s': round(load_s, 3), 'warmup_s': round(warm_s, 3), **diff}), flush=True)
    r3 = lambda v: round(v, 3)  # noqa: E731
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == 'run':
            total, _ = run()
            print(json.dumps({**base, 'pre_s': r3(times['pre']), 'vq_encode_s': r3(times['encode']), 'unet_s': r3(times['unet']), 'vq_decode_s': r3(times['decode']),
                              'total_s': r3(total), 'other_s': r3(total - times['encode'] - times['unet'] - times['decode']),
                              'load': open('/proc/loadavg').read().split()[:3]}), flush=True)
        elif cmd == 'quit':
            break
    print(json.dumps({**base, 'peak_rss_mb': rss_mb()}), flush=True)


if __name__ == '__main__':
    main()
