# The PyTorch side of bench/clip: upstream CLIP image towers (openai/CLIP clip/model.py, loaded
# from a checkout given on the command line, never copied here), random weights, timed on request.
# Protocol: one JSON command per stdin line {"tower", "dtype", "pass", "batch", "iters"}; one JSON
# result per stdout line {"times_s": [...], "cpu_s": [...]} (wall and process CPU seconds). Run by bench/clip/clip.ts, not by hand.
#   /usr/bin/python3 bench/clip/torch_ref.py /path/to/CLIP/clip/model.py THREADS
import importlib.util, json, sys, time
import torch

spec = importlib.util.spec_from_file_location('clip_model', sys.argv[1])
clip_model = importlib.util.module_from_spec(spec)
spec.loader.exec_module(clip_model)
torch.set_num_threads(int(sys.argv[2]))
torch.manual_seed(0)

CONFIGS = {  # build_model()'s arguments for the image towers (embed_dim, resolution, layers, width, patch)
    'ViT-B/16': dict(output_dim=512, input_resolution=224, layers=12, width=768, patch_size=16, heads=12),
    'RN50': dict(output_dim=1024, input_resolution=224, layers=(3, 4, 6, 3), width=64, heads=32),
}
towers = {}

def tower(name, dtype):
    key = (name, dtype)
    if key not in towers:
        c = CONFIGS[name]
        if name.startswith('ViT'):
            m = clip_model.VisionTransformer(c['input_resolution'], c['patch_size'], c['width'], c['layers'], c['heads'], c['output_dim'])
        else:
            m = clip_model.ModifiedResNet(c['layers'], c['output_dim'], c['heads'], c['input_resolution'], c['width'])
        with torch.no_grad():
            for p in m.parameters():
                p.normal_(0, 0.02)
        m = m.eval().requires_grad_(False)
        if dtype == 'bf16':
            m = m.to(torch.bfloat16)
            for mod in m.modules():  # upstream's LayerNorm computes in float32
                if isinstance(mod, torch.nn.LayerNorm):
                    mod.float()
        towers[key] = m
    return towers[key]

for line in sys.stdin:
    cmd = json.loads(line)
    m = tower(cmd['tower'], cmd['dtype'])
    dt = torch.bfloat16 if cmd['dtype'] == 'bf16' else torch.float32
    x = torch.randn(cmd['batch'], 3, 224, 224).to(dt)
    times, cpu = [], []
    for i in range(cmd['iters'] + 1):  # the first run warms up
        t0, c0 = time.perf_counter(), time.process_time()
        if cmd['pass'] == 'fwd':
            with torch.no_grad():
                m(x)
        else:
            xi = x.clone().requires_grad_(True)
            m(xi).float().sum().backward()
        if i > 0:
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    print(json.dumps({'times_s': times, 'cpu_s': cpu}), flush=True)
