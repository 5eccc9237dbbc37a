// Data-parallel training through the commands: `vpdsr train-teacher --nproc 2` (Gloo over loopback)
// and `vpdsr distill --nproc 2` reach the weights one process reaches on the same global batch; only rank 0 writes; a resume
// with another world size and a batch the ranks cannot split are refused in one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as torch from '../../src/engine/index.js';
import { backends } from '../../src/engine/distributed.js';
import { writeImage } from '../../src/io/image/index.js';
import { loadSafetensors } from '../../src/io/checkpoint/tensors.js';
import { readCheckpointState } from '../../src/train/checkpoint.js';
import { TINY_UNET, TINY_SCHEDULE } from './tiny-nets.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vpdsr-dp-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
const bin = path.resolve(import.meta.dirname, '../../../bin/vpdsr.js');

function vpdsr(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, VPDSR_THREADS: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, stderr }); });
  });
}

// LR/HR pairs with a crop of the whole image and mirror-symmetric pictures: the loader's random
// crop and flip change nothing, so the batches are the same whichever rank reads them.
async function pairs(): Promise<{ hr: string; lr: string }> {
  const hr = path.join(tmp, 'hr'), lr = path.join(tmp, 'lr');
  fs.mkdirSync(hr); fs.mkdirSync(lr);
  for (let i = 0; i < 4; i++) {
    const [h, l] = torch.scope(() => {
      const half = torch.rand([1, 3, 16, 8], { generator: new torch.Generator(10 + i) });
      const h = torch.cat([half, half.flip(3)], 3);
      return [torch.keep(h.squeeze(0)), torch.keep(torch.avgPool2d(h, 4, { stride: 4 }).squeeze(0))];
    });
    await writeImage(path.join(hr, `p${i}.png`), h!); await writeImage(path.join(lr, `p${i}.png`), l!);
    h!.dispose(); l!.dispose();
  }
  return { hr, lr };
}

function config(name: string, p: { hr: string; lr: string }, batch: number, seed = 3): string {
  const file = path.join(tmp, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify({
    kind: 'teacher', out: path.join(tmp, name), seed, iterations: 3, threads: 1, log: { every: 1 },
    data: { pairs: p, crop: 16, batch, workers: 0 }, optim: { lr: 1e-3, warmup: 1 },
    space: 'pixel', schedule: TINY_SCHEDULE, unet: TINY_UNET, ema: 0.9,
  }));
  return file;
}

test('train-teacher --nproc 2 equals one process on the same global batch; rank 0 alone writes', { skip: !backends().gloo && 'this build has no Gloo' }, async (t) => {
  const p = await pairs();
  const one = await vpdsr(['train-teacher', '--config', config('one', p, 2), '-q']);
  assert.equal(one.code, 0, one.stderr);
  const two = await vpdsr(['train-teacher', '--config', config('two', p, 2), '--nproc', '2', '-q']);
  assert.equal(two.code, 0, two.stderr);
  // Adam moves each weight by about lr (1e-3) a step: a wrong batch or draw shows at that scale,
  // the ranks' different summation order far below it.
  const diff = (x: string, y: string): number => {
    const a = loadSafetensors(path.join(tmp, x, 'checkpoints', 'last.safetensors'));
    const b = loadSafetensors(path.join(tmp, y, 'checkpoints', 'last.safetensors'));
    try {
      const keys = [...a.keys()].filter((k) => /^(model|ema|disc)\./.test(k));
      assert.ok(keys.length > 10);
      let worst = 0;
      for (const k of keys) torch.scope(() => { worst = Math.max(worst, a.get(k)!.sub(b.get(k)!).abs().max().item()); });
      return worst;
    } finally {
      for (const t of [...a.values(), ...b.values()]) t.dispose();
    }
  };
  const same = diff('one', 'two');
  assert.ok(same < 1e-4, `max |diff| ${same}`);
  t.diagnostic(`train-teacher: 1 vs 2 processes, max |diff| ${same}`);
  // The control: other draws (another seed) do differ at the scale the tolerance guards.
  const other = await vpdsr(['train-teacher', '--config', config('other', p, 2, 4), '-q']);
  assert.equal(other.code, 0, other.stderr);
  assert.ok(diff('one', 'other') > 1e-3);
  // Rank 0 alone logs: each step once.
  const logs = fs.readFileSync(path.join(tmp, 'two', 'train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string });
  assert.equal(logs.filter((l) => l.type === 'train').length, 3);
  assert.equal(readCheckpointState(path.join(tmp, 'two', 'checkpoints', 'last.safetensors')).worldSize, 2);
  assert.ok(fs.existsSync(path.join(tmp, 'two', 'model', 'model.json')));

  // Resuming with another world size is refused, naming both.
  const re = await vpdsr(['train-teacher', '--resume', path.join(tmp, 'two'), '--iterations', '4', '-q']);
  assert.notEqual(re.code, 0);
  assert.match(re.stderr, /trained with WORLD_SIZE 2; resume it with the same number of processes, not 1/);
  assert.ok(!re.stderr.includes('    at '), re.stderr);

  // distill: the student's and the discriminator heads' gradients averaged, the draws sliced.
  const dcfg = (name: string): string => {
    const file = path.join(tmp, `${name}.json`);
    fs.writeFileSync(file, JSON.stringify({
      kind: 'distill', out: path.join(tmp, name), seed: 3, iterations: 2, threads: 1, log: { every: 1 },
      data: { pairs: p, crop: 16, batch: 2, workers: 0 }, optim: { lr: 1e-3, warmup: 1 },
      teacher: path.join(tmp, 'one', 'model'), losses: { distill: 1, adv: 0.02 }, heads: { width: 8, groups: 4 },
    }));
    return file;
  };
  const d1 = await vpdsr(['distill', '--config', dcfg('d1'), '-q']);
  assert.equal(d1.code, 0, d1.stderr);
  const d2 = await vpdsr(['distill', '--config', dcfg('d2'), '--nproc', '2', '-q']);
  assert.equal(d2.code, 0, d2.stderr);
  const dd = diff('d1', 'd2');
  assert.ok(dd < 1e-4, `distill max |diff| ${dd}`);
  t.diagnostic(`distill: 1 vs 2 processes, max |diff| ${dd}`);

  // A global batch the ranks cannot split equally.
  const odd = await vpdsr(['train-teacher', '--config', config('odd', p, 3), '--nproc', '2', '-q']);
  assert.notEqual(odd.code, 0);
  assert.match(odd.stderr, /data\.batch: 3 is not divisible by WORLD_SIZE 2/);
});

test('Ctrl-C to the --nproc launcher: every rank stops after its iteration, rank 0 writes a last checkpoint, exit 130; it resumes', { skip: !backends().gloo && 'this build has no Gloo' }, async () => {
  const p = fs.existsSync(path.join(tmp, 'hr')) ? { hr: path.join(tmp, 'hr'), lr: path.join(tmp, 'lr') } : await pairs();
  const file = config('int', p, 2);
  const cfg = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  fs.writeFileSync(file, JSON.stringify({ ...cfg, iterations: 100000 }));
  const child = spawn(process.execPath, [bin, 'train-teacher', '--config', file, '--nproc', '2'], { env: { ...process.env, VPDSR_THREADS: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const killer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  try {
    // Some iterations first (rank 0 logs each), then SIGINT to the launcher alone, as a terminal's Ctrl-C now reaches it.
    const log = path.join(tmp, 'int', 'train.jsonl');
    for (let i = 0; i < 600 && !(fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes('"type":"train"')); i++) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGINT');
    const code = await exited;
    assert.equal(code, 130, stderr);
    assert.match(stderr, /vpdsr: stopped at iteration (\d+); checkpoint .*last\.safetensors \(continue with --resume /);
    const step = Number(/stopped at iteration (\d+)/.exec(stderr)![1]);
    assert.ok(step >= 1);
    const state = readCheckpointState(path.join(tmp, 'int', 'checkpoints', 'last.safetensors'));
    assert.equal(state.step, step);
    assert.equal(state.worldSize, 2);
    // One line from rank 0 alone, no stack trace.
    assert.equal((stderr.match(/stopping after this iteration/g) ?? []).length, 1, stderr);
    assert.equal((stderr.match(/stopped at iteration/g) ?? []).length, 1, stderr);
    assert.ok(!stderr.includes('    at '), stderr);
  } finally {
    clearTimeout(killer);
  }
  const re = await vpdsr(['train-teacher', '--resume', path.join(tmp, 'int'), '--iterations', String(readCheckpointState(path.join(tmp, 'int', 'checkpoints', 'last.safetensors')).step + 1), '--nproc', '2', '-q']);
  assert.equal(re.code, 0, re.stderr);
});
