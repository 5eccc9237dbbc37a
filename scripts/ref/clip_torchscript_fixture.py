# Writes test/fixtures/clip/tiny-vit.pt, a TorchScript archive laid out like OpenAI's CLIP .pt files
# (a TorchScript module, fp16 Conv/Linear/attention/projection weights, input_resolution / context_length /
# vocab_size buffers), and tiny-vit.json with an input and the float32 outputs of the traced model.
# The modules below are written for this fixture: the same attribute names and arithmetic as CLIP
# (QuickGELU MLP, nn.MultiheadAttention, ln_post on the class token, causal text mask, EOT pooling).
# Run: /usr/bin/python3 scripts/ref/clip_torchscript_fixture.py   (Debian python3-torch 1.13)
import json, os, sys, collections
import torch
from typing import Optional
from torch import nn

out_dir = sys.argv[1] if len(sys.argv) > 1 else 'test/fixtures/clip'
torch.manual_seed(20240607)

class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)

class MHA(nn.Module):
    # nn.MultiheadAttention's parameters (packed q, k, v rows; out_proj) with its arithmetic, small
    # enough to script without pulling torch.nn.functional's code into the archive.
    def __init__(self, w: int, heads: int):
        super().__init__()
        self.heads = heads
        self.in_proj_weight = nn.Parameter(torch.randn(3 * w, w) * w ** -0.5)
        self.in_proj_bias = nn.Parameter(torch.randn(3 * w) * 0.1)
        self.out_proj = nn.Linear(w, w)
    def forward(self, x, mask: Optional[torch.Tensor]):  # x [L, N, W]
        L, N, W = x.shape
        d = W // self.heads
        q, k, v = torch.nn.functional.linear(x, self.in_proj_weight, self.in_proj_bias).chunk(3, dim=-1)
        q = q.reshape(L, N * self.heads, d).transpose(0, 1) / (d ** 0.5)
        k = k.reshape(L, N * self.heads, d).transpose(0, 1)
        v = v.reshape(L, N * self.heads, d).transpose(0, 1)
        a = torch.bmm(q, k.transpose(1, 2))
        if mask is not None:
            a = a + mask
        o = torch.bmm(a.softmax(-1), v).transpose(0, 1).reshape(L, N, W)
        return self.out_proj(o)

class Block(nn.Module):
    mask: Optional[torch.Tensor]
    def __init__(self, w, heads, mask: Optional[torch.Tensor] = None):
        super().__init__()
        self.attn = MHA(w, heads)
        self.ln_1 = nn.LayerNorm(w)
        self.mlp = nn.Sequential(collections.OrderedDict([('c_fc', nn.Linear(w, 4 * w)), ('gelu', QuickGELU()), ('c_proj', nn.Linear(4 * w, w))]))
        self.ln_2 = nn.LayerNorm(w)
        self.mask = mask
    def forward(self, x):  # sequence first
        h = self.ln_1(x.float()).to(x.dtype)
        x = x + self.attn(h, self.mask)
        return x + self.mlp(self.ln_2(x.float()).to(x.dtype))

class Stack(nn.Module):
    def __init__(self, w, layers, heads, mask=None):
        super().__init__()
        self.resblocks = nn.Sequential(*[Block(w, heads, mask) for _ in range(layers)])
    def forward(self, x):
        return self.resblocks(x)

class Visual(nn.Module):
    def __init__(self, res, patch, w, layers, heads, out):
        super().__init__()
        self.conv1 = nn.Conv2d(3, w, patch, stride=patch, bias=False)
        self.class_embedding = nn.Parameter(torch.randn(w) * w ** -0.5)
        self.positional_embedding = nn.Parameter(torch.randn((res // patch) ** 2 + 1, w) * w ** -0.5)
        self.ln_pre = nn.LayerNorm(w)
        self.transformer = Stack(w, layers, heads)
        self.ln_post = nn.LayerNorm(w)
        self.proj = nn.Parameter(torch.randn(w, out) * w ** -0.5)
    def forward(self, x):
        x = self.conv1(x)
        x = x.reshape(x.shape[0], x.shape[1], -1).permute(0, 2, 1)
        x = torch.cat([self.class_embedding.expand(x.shape[0], 1, -1), x], 1) + self.positional_embedding
        x = self.ln_pre(x).permute(1, 0, 2)
        x = self.transformer(x).permute(1, 0, 2)
        return self.ln_post(x[:, 0, :]) @ self.proj

class TinyCLIP(nn.Module):
    def __init__(self):
        super().__init__()
        ctx, vocab, tw = 8, 100, 16
        self.visual = Visual(16, 8, 16, 1, 2, 16)
        mask = torch.full((ctx, ctx), float('-inf')).triu_(1)
        self.transformer = Stack(tw, 1, 2, mask)
        self.token_embedding = nn.Embedding(vocab, tw)
        self.positional_embedding = nn.Parameter(torch.randn(ctx, tw) * 0.1)
        self.ln_final = nn.LayerNorm(tw)
        self.text_projection = nn.Parameter(torch.randn(tw, 16) * tw ** -0.5)
        self.logit_scale = nn.Parameter(torch.tensor(4.6052))
        self.register_buffer('input_resolution', torch.tensor(16))
        self.register_buffer('context_length', torch.tensor(ctx))
        self.register_buffer('vocab_size', torch.tensor(vocab))
    def forward(self, image, text):
        fi = self.visual(image)
        x = self.token_embedding(text) + self.positional_embedding
        x = self.transformer(x.permute(1, 0, 2)).permute(1, 0, 2)
        x = self.ln_final(x)
        ft = x[torch.arange(x.shape[0]), text.argmax(dim=-1)] @ self.text_projection
        return fi, ft

m = TinyCLIP().eval()
with torch.no_grad():
    for name, p in m.named_parameters():  # non-trivial LayerNorm and bias values
        if p.dim() == 1 and ('ln' in name or 'bias' in name):
            p.copy_(torch.randn_like(p) * 0.2 + (1.0 if name.endswith('ln_1.weight') or name.endswith('ln_2.weight') or 'ln_p' in name or 'ln_final' in name else 0.0) * (name.endswith('weight')))
    # OpenAI stores these in half precision (clip/model.py convert_weights); CPU clip.load upcasts.
    for mod in m.modules():
        if isinstance(mod, (nn.Conv2d, nn.Linear)):
            mod.weight.data = mod.weight.data.half()
            if mod.bias is not None: mod.bias.data = mod.bias.data.half()
        if isinstance(mod, MHA):
            mod.in_proj_weight.data = mod.in_proj_weight.data.half(); mod.in_proj_bias.data = mod.in_proj_bias.data.half()
    m.visual.proj.data = m.visual.proj.data.half(); m.text_projection.data = m.text_projection.data.half()
image = (torch.randn(2, 3, 16, 16) * 64).round() / 64  # short decimal forms in the JSON
text = torch.tensor([[49406 % 100, 5, 7, 99, 0, 0, 0, 0], [3, 4, 99, 0, 0, 0, 0, 0]])
traced = torch.jit.script(m)  # scripting runs nothing (CPU has no half convolution)
os.makedirs(out_dir, exist_ok=True)
traced.save(os.path.join(out_dir, 'tiny-vit.pt'))
f32 = TinyCLIP().eval()
f32.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in m.state_dict().items()})
with torch.no_grad():
    fi, ft = f32(image, text)
json.dump({'image': image.flatten().tolist(), 'image_shape': list(image.shape), 'text': text.tolist(),
           'image_features': fi.tolist(), 'text_features': ft.tolist()}, open(os.path.join(out_dir, 'tiny-vit.json'), 'w'))
