#!/usr/bin/env python3
"""Writes test/fixtures/nn-optim/refs.json: PyTorch 1.13 (Debian python3-torch) reference values
for the engine's nn and optim tests. Dev script only: run `/usr/bin/python3 scripts/ref/nn_optim_refs.py`
from the repository root; the JSON is committed and the tests never call Python.
float32 values are written as Python floats (exact), so they read back bit for bit."""
import json
import math
import os
import sys

import torch
import torch.nn as nn

torch.set_num_threads(1)
out = {"torch": torch.__version__}


def flat(t):
    return {"shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", ""), "data": t.detach().reshape(-1).tolist()}


# ---- default initialisation under torch.manual_seed ----
torch.manual_seed(0)
conv = nn.Conv2d(3, 8, 3)
lin = nn.Linear(5, 4)
convt = nn.ConvTranspose2d(4, 6, 3, groups=2)
emb = nn.Embedding(7, 3, padding_idx=2)
out["init_modules"] = {
    "conv.weight": flat(conv.weight), "conv.bias": flat(conv.bias),
    "lin.weight": flat(lin.weight), "lin.bias": flat(lin.bias),
    "convt.weight": flat(convt.weight), "convt.bias": flat(convt.bias),
    "emb.weight": flat(emb.weight),
}
torch.manual_seed(1)
a = torch.empty(16, 8, 3, 3)
inits = {}
nn.init.kaiming_normal_(a, mode="fan_out", nonlinearity="relu"); inits["kaiming_normal_fan_out_relu"] = flat(a)
nn.init.kaiming_uniform_(a); inits["kaiming_uniform_default"] = flat(a)
nn.init.xavier_uniform_(a, gain=0.5); inits["xavier_uniform_0.5"] = flat(a)
nn.init.xavier_normal_(a); inits["xavier_normal"] = flat(a)
nn.init.trunc_normal_(a, mean=0.1, std=0.02, a=-0.5, b=0.5); inits["trunc_normal"] = flat(a)
out["init_functions"] = {"seed": 1, "shape": [16, 8, 3, 3], "order": list(inits.keys()), "values": inits}
out["gains"] = {
    "linear": nn.init.calculate_gain("linear"), "relu": nn.init.calculate_gain("relu"), "tanh": nn.init.calculate_gain("tanh"),
    "leaky_relu": nn.init.calculate_gain("leaky_relu"), "leaky_relu:sqrt5": nn.init.calculate_gain("leaky_relu", math.sqrt(5)),
    "selu": nn.init.calculate_gain("selu"), "sigmoid": nn.init.calculate_gain("sigmoid"),
}


# ---- state-dict order of a nested model ----
class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = nn.GroupNorm(2, 4)
        self.layers = nn.ModuleList([nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.SiLU(), nn.Conv2d(4, 4, 1, bias=False)), nn.Identity()])
        self.register_buffer("attn_mask", torch.zeros(2, 2))
        self.register_buffer("scratch", torch.zeros(1), persistent=False)
        self.bn = nn.BatchNorm2d(4)
        self.head = nn.ModuleDict({"proj": nn.Linear(4, 2), "ln": nn.LayerNorm(2)})
        self.emb = nn.Embedding(5, 4)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv_in = nn.Conv2d(3, 4, 3, padding=1)
        self.blocks = nn.ModuleList([Block(), Block()])
        self.up = nn.ConvTranspose2d(4, 2, 4, stride=2, padding=1)
        self.scale = nn.Parameter(torch.ones(1))


net = Net()
out["nested_state_dict"] = [[k, list(v.shape), str(v.dtype).replace("torch.", "")] for k, v in net.state_dict().items()]
out["nested_named_parameters"] = [k for k, _ in net.named_parameters()]
out["nested_named_buffers"] = [k for k, _ in net.named_buffers()]


# ---- BatchNorm2d in train mode (running statistics) and eval mode ----
torch.manual_seed(4)
bn = nn.BatchNorm2d(3, momentum=0.2)
x1 = torch.randn(2, 3, 4, 4)
x2 = torch.randn(2, 3, 4, 4) * 2 + 1
y1 = bn(x1); y2 = bn(x2)
bn.eval(); y3 = bn(x1)
bnc = nn.BatchNorm2d(3, momentum=None)
bnc(x1); bnc(x2)
out["batchnorm"] = {"x1": flat(x1), "x2": flat(x2), "y1": flat(y1), "y2": flat(y2), "y_eval": flat(y3),
                    "running_mean": flat(bn.running_mean), "running_var": flat(bn.running_var),
                    "num_batches_tracked": int(bn.num_batches_tracked),
                    "cma_running_mean": flat(bnc.running_mean), "cma_running_var": flat(bnc.running_var)}


# ---- AdamW (single-tensor path) on given gradients ----
def adamw_case(seed, steps, dtype=torch.float32, **kw):
    torch.manual_seed(seed)
    w = torch.randn(4, 3, dtype=dtype).requires_grad_()
    b = torch.randn(4, dtype=dtype).requires_grad_()
    p0 = [flat(w), flat(b)]
    opt = torch.optim.AdamW([w, b], foreach=False, **kw)
    grads, after = [], []
    for s in range(steps):
        gw, gb = torch.randn(4, 3, dtype=dtype), torch.randn(4, dtype=dtype)
        if s == 2:
            gb = None  # a parameter without a gradient is skipped
        grads.append([flat(gw), None if gb is None else flat(gb)])
        w.grad = gw
        b.grad = gb
        opt.step()
        after.append([flat(w), flat(b)])
    sd = opt.state_dict()
    st = {str(i): {k: (float(v.item()) if k == "step" else flat(v)) for k, v in s.items()} for i, s in sd["state"].items()}
    kw2 = {k: (list(v) if isinstance(v, tuple) else v) for k, v in kw.items()}
    return {"options": kw2, "p0": p0, "grads": grads, "after": after, "state": st}


out["adamw"] = {
    "wd": adamw_case(2, 6, lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1),
    "defaults": adamw_case(3, 5, lr=1e-3),
    "amsgrad": adamw_case(5, 6, lr=3e-3, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.0, amsgrad=True),
    "maximize": adamw_case(6, 5, lr=5e-3, weight_decay=0.02, maximize=True),
    # float64 exposes the bias corrections' last bit (Python's pow vs JavaScript's)
    "float64": adamw_case(10, 40, dtype=torch.float64, lr=2e-2, betas=(0.9, 0.999), weight_decay=0.1),
}


# ---- the trainers' adjust_lr (ResShift/SinSR), on a real optimizer ----
def trainer_lrs(iterations, warmup, milestones=None, cosine=None, base=5e-5):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.AdamW([p], lr=base, weight_decay=0)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cosine[0], eta_min=cosine[1]) if cosine else None
    used = []
    for k in range(1, iterations + 1):
        used.append(opt.param_groups[0]["lr"])  # the lr iteration k runs at
        # adjust_lr(k) after the step
        if k <= warmup:
            for g in opt.param_groups:
                g["lr"] = (k / warmup) * base
        elif sched is not None:
            sched.step()
        elif milestones and k in milestones:
            for g in opt.param_groups:
                g["lr"] *= 0.5
    return used


out["schedules"] = {
    "multistep": {"warmup": 5, "milestones": [5, 12], "iterations": 16, "base": 5e-5, "lrs": trainer_lrs(16, 5, milestones=[5, 12])},
    "constant": {"warmup": 5, "iterations": 10, "base": 5e-5, "lrs": trainer_lrs(10, 5)},
    "cosine": {"warmup": 5, "iterations": 30, "base": 5e-5, "t_max": 25, "eta_min": 2e-5, "lrs": trainer_lrs(30, 5, cosine=(25, 2e-5))},
}
p = torch.zeros(1, requires_grad=True)
opt = torch.optim.SGD([p], lr=0.5)
cos = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=7, eta_min=0.01)
lrs = []
for _ in range(20):
    lrs.append(cos.get_last_lr()[0]); opt.step(); cos.step()
out["schedules"]["torch_cosine"] = {"lr": 0.5, "t_max": 7, "eta_min": 0.01, "lrs": lrs}
opt = torch.optim.SGD([p], lr=0.5)
ms = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[3, 3, 6], gamma=0.1)
lrs = []
for _ in range(9):
    lrs.append(ms.get_last_lr()[0]); opt.step(); ms.step()
out["schedules"]["torch_multistep"] = {"lr": 0.5, "milestones": [3, 3, 6], "gamma": 0.1, "lrs": lrs}


# ---- clip_grad_norm_ ----
torch.manual_seed(7)
ps = [torch.zeros(3, 4, requires_grad=True), torch.zeros(5, requires_grad=True), torch.zeros(2, requires_grad=True)]
gs = [torch.randn(3, 4) * 3, torch.randn(5), None]
clip = {"grads": [None if g is None else flat(g) for g in gs], "cases": []}
for max_norm, norm_type in [(1.0, 2.0), (100.0, 2.0), (0.5, float("inf")), (2.0, 1.0)]:
    for q, g in zip(ps, gs):
        q.grad = None if g is None else g.clone()
    total = torch.nn.utils.clip_grad_norm_(ps, max_norm, norm_type)
    clip["cases"].append({"max_norm": max_norm, "norm_type": "inf" if norm_type == float("inf") else norm_type,
                          "total": float(total), "clipped": [None if q.grad is None else flat(q.grad) for q in ps]})
out["clip"] = clip


# ---- EMA as update_ema_model (SinSR: relative_position_index excluded) ----
torch.manual_seed(8)
src = {"a": torch.randn(3, 2), "relative_position_index": torch.arange(4), "attn_mask": torch.randn(2)}
out["ema"] = {"rate": 0.999, "a0": flat(src["a"]), "attn_mask0": flat(src["attn_mask"]), "steps": []}
ema = {k: v.clone() for k, v in src.items()}
for s in range(3):
    src["a"] = src["a"] + torch.randn(3, 2)
    src["attn_mask"] = src["attn_mask"] * 0.5 + 1
    for k in ema:
        if "relative_position_index" not in k:
            ema[k].mul_(0.999).add_(src[k], alpha=1 - 0.999)
    out["ema"]["steps"].append({"src_a": flat(src["a"]), "src_attn_mask": flat(src["attn_mask"]),
                                "ema_a": flat(ema["a"]), "ema_attn_mask": flat(ema["attn_mask"])})


# ---- a small training loop: module forward/backward + clip + AdamW + warm-up/cosine ----
torch.manual_seed(9)
model = nn.Sequential(nn.Linear(3, 4), nn.SiLU(), nn.Linear(4, 2))
init_sd = {k: flat(v) for k, v in model.state_dict().items()}
x = torch.randn(5, 3); y = torch.randn(5, 2)
opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.05, foreach=False)
cos = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4, eta_min=1e-3)
losses, norms = [], []
for k in range(1, 7):
    opt.zero_grad()
    loss = torch.nn.functional.mse_loss(model(x), y)
    loss.backward()
    norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)))
    opt.step()
    losses.append(float(loss))
    if k <= 2:
        for g in opt.param_groups:
            g["lr"] = (k / 2) * 1e-2
    else:
        cos.step()
out["train_loop"] = {"init": init_sd, "x": flat(x), "y": flat(y), "losses": losses, "norms": norms,
                     "final": {k: flat(v) for k, v in model.state_dict().items()}}

path = os.path.join("test", "fixtures", "nn-optim", "refs.json")
tmp = path + ".tmp"
with open(tmp, "w") as f:
    json.dump(out, f)
os.replace(tmp, path)
print("wrote", path, os.path.getsize(path), "bytes", file=sys.stderr)
