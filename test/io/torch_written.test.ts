// Files written by PyTorch itself on this machine, when a Python with torch is at hand (Debian's
// python3-torch): TorchScript (scripted and traced) of a transformer layer like CLIP's, pickle
// protocol 4 in both torch.save layouts, and half precision. Each must read to exactly the keys,
// dtypes, shapes and bytes (sha256) of torch's own state_dict(). Skipped without torch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { readCheckpoint } from '../../src/io/checkpoint/index.js';
import { tmpDir } from './fixtures.js';

const PYTHON = process.env.VPDSR_TORCH_PYTHON ?? '/usr/bin/python3';
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;

const GENERATOR = String.raw`
import sys, json, hashlib, torch, warnings
warnings.filterwarnings('ignore')
out_dir = sys.argv[1]
torch.manual_seed(0)
expected = {}
def digest(t):
    t = t.contiguous()
    if t.dtype == torch.bfloat16: t = t.view(torch.int16)
    return hashlib.sha256(t.numpy().tobytes()).hexdigest()
def record(name, sd):
    expected[name] = [[k, str(v.dtype).replace('torch.', ''), list(v.shape), digest(v)] for k, v in sd.items()]
class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = torch.nn.TransformerEncoderLayer(16, 4, 32, batch_first=True)
        self.ln = torch.nn.LayerNorm(16)
        self.proj = torch.nn.Parameter(torch.randn(16, 8))
        self.register_buffer('pos', torch.randn(5, 16))
        self.seq = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.GELU(), torch.nn.Linear(8, 2, bias=False))
        self.bn = torch.nn.BatchNorm1d(8)
    def forward(self, x):
        x = self.enc(x + self.pos)
        return self.seq(self.bn(self.ln(x)[:, 0] @ self.proj))
m = Net().eval()
s = torch.jit.script(m); s.save(out_dir + '/script.pt'); record('script.pt', s.state_dict())
t = torch.jit.trace(m, torch.randn(2, 5, 16), check_trace=False); t.save(out_dir + '/trace.pt'); record('trace.pt', t.state_dict())
sd = m.state_dict()
torch.save(sd, out_dir + '/p4.pt', pickle_protocol=4); record('p4.pt', sd)
torch.save(sd, out_dir + '/p4_legacy.pt', pickle_protocol=4, _use_new_zipfile_serialization=False); record('p4_legacy.pt', sd)
half = {k: (v.half() if v.is_floating_point() else v) for k, v in sd.items()}
half['bf'] = torch.randn(3, 4).bfloat16().t()
torch.save(half, out_dir + '/half.pt'); record('half.pt', half)
json.dump(expected, open(out_dir + '/expected.json', 'w'))
`;

const SAFE: Record<string, string> = { float32: 'F32', float16: 'F16', bfloat16: 'BF16', int64: 'I64' };

test('files written by PyTorch on this machine read to its own state_dict()', { skip: hasTorch ? false : `no torch in ${PYTHON}` }, () => {
  const dir = tmpDir();
  // From a file: torch.jit.script reads the module's source through inspect.
  const script = path.join(dir, 'generate.py');
  writeFileSync(script, GENERATOR);
  execFileSync(PYTHON, [script, dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  const expected = JSON.parse(readFileSync(path.join(dir, 'expected.json'), 'utf8')) as Record<string, [string, string, number[], string][]>;
  const formats: Record<string, string> = { 'script.pt': 'torchscript', 'trace.pt': 'torchscript', 'p4.pt': 'zip', 'p4_legacy.pt': 'legacy', 'half.pt': 'zip' };
  for (const [file, entries] of Object.entries(expected)) {
    const ckpt = readCheckpoint(path.join(dir, file));
    assert.equal(ckpt.format, formats[file], file);
    assert.deepEqual([...ckpt.tensors.keys()], entries.map((e) => e[0]), `${file}: state-dict keys in order`);
    for (const [key, dtype, shape, sha] of entries) {
      const t = ckpt.tensors.get(key)!;
      assert.equal(t.dtype, SAFE[dtype], `${file} ${key}`);
      assert.deepEqual(t.shape, shape, `${file} ${key}`);
      assert.equal(createHash('sha256').update(t.data).digest('hex'), sha, `${file} ${key} bytes`);
    }
  }
});
