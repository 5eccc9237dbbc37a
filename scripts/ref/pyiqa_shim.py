"""Imports pyiqa's MUSIQ and MANIQA classes from an upstream checkout without installing pyiqa.

Dev-only helper for scripts/ref/make-iqa-weights.py and bench/iqa/torch_bench.py (Debian's
python3-torch 1.13). The upstream trees are NOT part of vpdsr: fetch chaofengc/IQA-PyTorch and
huggingface/pytorch-image-models (tag v1.0.15) yourself and pass their roots, e.g.
  git -C <IQA-PyTorch clone> archive 01ae427 pyiqa | tar x -C /tmp/iqa-ref
  git -C <timm clone> archive v1.0.15 timm | tar x -C /tmp/iqa-ref
Only the arch files run: pyiqa's package __init__ (which imports every metric and its
dependencies) is bypassed, huggingface_hub and einops are replaced by stand-ins, and timm's
create_model never downloads (pretrained=False is forced; MANIQA's checkpoint overwrites every
ViT weight anyway).
"""
import importlib
import importlib.util
import os
import sys
import types


def _rearrange(x, pattern, **axes):
    """The five einops patterns maniqa_arch.py / maniqa_swin.py use (split/permute/merge only)."""
    p = ' '.join(pattern.split())
    if p == 'b (h w) c -> b c (h w)':
        return x.transpose(1, 2)
    if p == 'b c (h w) -> b c h w':
        return x.reshape(x.shape[0], x.shape[1], axes['h'], axes['w'])
    if p == 'b c h w -> b c (h w)':
        return x.reshape(x.shape[0], x.shape[1], -1)
    if p == 'b (h w) c -> b c h w':
        return x.transpose(1, 2).reshape(x.shape[0], x.shape[2], axes['h'], axes['w'])
    if p == 'b c h w -> b (h w) c':
        return x.flatten(2).transpose(1, 2)
    raise NotImplementedError(pattern)


def _package(name, path=None):
    m = types.ModuleType(name)
    m.__path__ = [path] if path else []
    sys.modules[name] = m
    return m


def _load_file(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    m = importlib.util.module_from_spec(spec)
    sys.modules[name] = m
    spec.loader.exec_module(m)
    return m


def load(root):
    """Returns (MUSIQ, MANIQA) classes from <root>/pyiqa and <root>/timm."""
    root = os.path.abspath(root)
    for d in ('pyiqa', 'timm'):
        if not os.path.isdir(os.path.join(root, d)):
            sys.exit(f'{root}/{d} not found: see scripts/ref/pyiqa_shim.py for how to fetch the upstream trees')
    sys.path.insert(0, root)

    hub = types.ModuleType('huggingface_hub')
    hub.hf_hub_url = lambda repo_id, filename, **_: f'https://huggingface.co/{repo_id}/resolve/main/{filename}'
    sys.modules['huggingface_hub'] = hub
    ein = types.ModuleType('einops')
    ein.rearrange = _rearrange
    sys.modules['einops'] = ein

    import timm
    _create = timm.create_model
    timm.create_model = lambda name, pretrained=False, **kw: _create(name, pretrained=False, **kw)

    pkg = os.path.join(root, 'pyiqa')
    _package('pyiqa', pkg)
    _package('pyiqa.utils', os.path.join(pkg, 'utils'))
    reg = types.ModuleType('pyiqa.utils.registry')

    class _Registry:
        def register(self, *a, **k):
            return (lambda c: c) if not a or not isinstance(a[0], type) else a[0]
    reg.ARCH_REGISTRY = _Registry()
    sys.modules['pyiqa.utils.registry'] = reg
    dl = types.ModuleType('pyiqa.utils.download_util')

    def _no_download(*a, **k):
        raise RuntimeError('downloads are disabled')
    dl.load_file_from_url = _no_download
    sys.modules['pyiqa.utils.download_util'] = dl
    mu = _package('pyiqa.matlab_utils', os.path.join(pkg, 'matlab_utils'))
    pad = _load_file('pyiqa.matlab_utils.padding', os.path.join(pkg, 'matlab_utils', 'padding.py'))
    mu.ExactPadding2d, mu.exact_padding_2d = pad.ExactPadding2d, pad.exact_padding_2d
    _package('pyiqa.data', os.path.join(pkg, 'data'))
    _load_file('pyiqa.data.multiscale_trans_util', os.path.join(pkg, 'data', 'multiscale_trans_util.py'))
    _package('pyiqa.archs', os.path.join(pkg, 'archs'))
    musiq = importlib.import_module('pyiqa.archs.musiq_arch')
    maniqa = importlib.import_module('pyiqa.archs.maniqa_arch')
    return musiq.MUSIQ, maniqa.MANIQA
