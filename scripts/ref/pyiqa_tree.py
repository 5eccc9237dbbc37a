"""Imports pyiqa's arch modules from an unpacked source tree (chaofengc/IQA-PyTorch, not part of
vpdsr) without running its package __init__, which imports every model and its dependencies.
Modules pyiqa imports but these archs never use are replaced by stubs."""
import importlib
import os
import sys
import types


def load_pyiqa(root, names=('lpips_arch', 'dists_arch', 'inception', 'fid_arch')):
    """Imports pyiqa's arch modules without its package __init__ (which pulls in every model)."""
    class Stub(types.ModuleType):
        def __getattr__(self, n):
            if n.startswith('__'):
                raise AttributeError(n)
            return Stub(self.__name__ + '.' + n)

        def __call__(self, *a, **k):
            raise RuntimeError('stub ' + self.__name__)
    for name in ['cv2', 'tqdm', 'timm', 'einops', 'transformers', 'open_clip', 'facexlib', 'accelerate', 'lmdb', 'addict', 'icecream']:
        try:
            __import__(name)
        except Exception:
            sys.modules[name] = Stub(name)
    hf = types.ModuleType('huggingface_hub')
    hf.hf_hub_url = lambda *a, **k: 'https://invalid/' + '/'.join(map(str, a))
    sys.modules['huggingface_hub'] = hf
    for pkg, sub in [('pyiqa', ''), ('pyiqa.archs', '/archs'), ('pyiqa.utils', '/utils')]:
        m = types.ModuleType(pkg)
        m.__path__ = [os.path.join(root, 'pyiqa') + sub]
        sys.modules[pkg] = m
    return {n: importlib.import_module('pyiqa.archs.' + n) for n in names}
