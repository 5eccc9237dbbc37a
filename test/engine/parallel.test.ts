// Data parallel: 2 Gloo processes started by the --nproc launcher reach, after K AdamW steps, the
// weights 1 process reaches with the same global batch; the sampler matches PyTorch's.
// The file is its own worker: with VPDSR_DP_OUT set it runs one training process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, renameSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as torch from '../../src/engine/index.js';
import { DistributedSampler } from '../../src/data/sampler.js';
import { launchLocal } from '../../src/cli/launch.js';

const self = fileURLToPath(import.meta.url);
const N = 24, GLOBAL_BATCH = 8, STEPS = 7;

async function train(out: string): Promise<void> {
  const pg = process.env.WORLD_SIZE ? await torch.distributed.initProcessGroup({ timeoutMs: 30000 }) : null;
  const rank = pg?.rank ?? 0, ws = pg?.worldSize ?? 1;
  torch.manualSeed(100 + rank); // ranks start from different weights: the broadcast must fix that
  const model = new torch.nn.Sequential(new torch.nn.Linear(6, 16), new torch.nn.SiLU(), new torch.nn.Linear(16, 16), new torch.nn.SiLU(), new torch.nn.Linear(16, 3));
  const g = new torch.Generator(7);
  const X = torch.randn([N, 6], { generator: g }), Y = torch.randn([N, 3], { generator: g });
  // ~210-byte buckets: three buckets, each reduced while the next is packed.
  const dp = pg ? new torch.nn.DataParallel(pg, model, { bucketCapMB: 0.0002 }) : null;
  if (dp) assert.ok(dp.bucketCount >= 3, `expected several buckets, got ${dp.bucketCount}`);
  await dp?.syncParameters();
  const opt = new torch.optim.AdamW(model.parameters(), { lr: 1e-2, weightDecay: 0.01 });
  const sampler = new DistributedSampler(N, { rank, worldSize: ws, seed: 3 });
  const local = GLOBAL_BATCH / ws;
  const perEpoch = Math.floor(sampler.numSamples / local);
  let idx: number[] = [];
  for (let step = 0; step < STEPS; step++) {
    const b = step % perEpoch;
    if (b === 0) {
      sampler.setEpoch(Math.floor(step / perEpoch));
      idx = sampler.indices();
    }
    torch.scope(() => {
      opt.zeroGrad();
      const i = torch.tensor(idx.slice(b * local, (b + 1) * local), { dtype: 'int64' });
      const loss = torch.mseLoss(model.forward(X.indexSelect(0, i)), Y.indexSelect(0, i));
      loss.backward();
    });
    await dp?.reduceGradients();
    torch.scope(() => opt.step());
  }
  const weights = Object.fromEntries(model.namedParameters().map(([k, p]) => [k, Array.from(p.toFloat32Array())]));
  const file = `${out}.rank${rank}`;
  writeFileSync(`${file}.tmp`, JSON.stringify(weights));
  renameSync(`${file}.tmp`, file);
  await pg?.destroy();
}

if (process.env.VPDSR_DP_OUT) {
  train(process.env.VPDSR_DP_OUT).then(
    () => process.exit(0),
    (e: Error) => { process.stderr.write(`vpdsr: ${e.message.split('\n')[0]}\n`); process.exit(1); },
  );
} else {
  test('data parallel: 2 processes give the weights of 1 process with the same global batch', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vpdsr-dp-'));
    try {
      const one = spawnSync(process.execPath, [self], { env: { ...process.env, VPDSR_DP_OUT: path.join(dir, 'one'), WORLD_SIZE: '', VPDSR_THREADS: '1' }, encoding: 'utf8', timeout: 60000 });
      assert.equal(one.status, 0, one.stderr);
      const code = await launchLocal({ nproc: 2, argv: [process.execPath, self], threadsPerProc: 1, env: { VPDSR_DP_OUT: path.join(dir, 'two') } });
      assert.equal(code, 0);
      const ref = JSON.parse(readFileSync(path.join(dir, 'one.rank0'), 'utf8')) as Record<string, number[]>;
      for (const rank of [0, 1]) {
        const got = JSON.parse(readFileSync(path.join(dir, `two.rank${rank}`), 'utf8')) as Record<string, number[]>;
        assert.deepEqual(Object.keys(got), Object.keys(ref));
        let maxDiff = 0, moved = 0;
        for (const k of Object.keys(ref)) {
          ref[k]!.forEach((v, i) => { maxDiff = Math.max(maxDiff, Math.abs(v - got[k]![i]!)); });
          moved += ref[k]!.length;
        }
        assert.ok(moved > 0);
        assert.ok(maxDiff < 2e-5, `rank ${rank}: max |diff| ${maxDiff}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('data parallel: the launcher stops the other ranks when one fails, and exits non-zero', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vpdsr-dp-'));
    try {
      // The output path is a folder that does not exist: rank 0's write fails after training.
      const t0 = performance.now();
      const code = await launchLocal({ nproc: 2, argv: [process.execPath, self], threadsPerProc: 1, env: { VPDSR_DP_OUT: path.join(dir, 'missing', 'x') }, graceMs: 2000 });
      assert.notEqual(code, 0);
      assert.ok(performance.now() - t0 < 60000);
      assert.equal(existsSync(path.join(dir, 'missing')), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('launcher: ranks across nodes, and bad --nproc/NNODES values are named', async () => {
    const { nodesFromEnv, parseNproc } = await import('../../src/cli/launch.js');
    const dir = mkdtempSync(path.join(tmpdir(), 'vpdsr-launch-'));
    try {
      const script = `require('fs').writeFileSync(require('path').join(${JSON.stringify(dir)}, 'r' + process.env.LOCAL_RANK), JSON.stringify([process.env.RANK, process.env.WORLD_SIZE, process.env.MASTER_ADDR, process.env.MASTER_PORT, process.env.VPDSR_THREADS]))`;
      const code = await launchLocal({ nproc: 2, argv: [process.execPath, '-e', script], nnodes: 3, nodeRank: 1, masterAddr: '10.1.2.3', port: 29555, threadsPerProc: 3 });
      assert.equal(code, 0);
      assert.deepEqual(JSON.parse(readFileSync(path.join(dir, 'r0'), 'utf8')), ['2', '6', '10.1.2.3', '29555', '3']);
      assert.deepEqual(JSON.parse(readFileSync(path.join(dir, 'r1'), 'utf8')), ['3', '6', '10.1.2.3', '29555', '3']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(parseNproc('8'), 8);
    assert.throws(() => parseNproc('0'), /^UsageError: --nproc must be an integer in \[1, 1024\], got "0"$/);
    assert.equal(nodesFromEnv({}), null);
    assert.deepEqual(nodesFromEnv({ NNODES: '2', NODE_RANK: '1', MASTER_ADDR: 'n0', MASTER_PORT: '29500' }), { nnodes: 2, nodeRank: 1, masterAddr: 'n0', port: 29500 });
    assert.throws(() => nodesFromEnv({ NNODES: '2', NODE_RANK: '2', MASTER_ADDR: 'n0', MASTER_PORT: '29500' }), /NODE_RANK must be an integer in \[0, 1\], got "2"/);
    assert.throws(() => nodesFromEnv({ NNODES: '2', NODE_RANK: '0', MASTER_PORT: '29500' }), /MASTER_ADDR must name node 0/);
  });

  test('distributed sampler: the indices of PyTorch 1.13 DistributedSampler', () => {
    const ref = JSON.parse(readFileSync(path.join(path.dirname(self), '../../../test/fixtures/dist/sampler.json'), 'utf8')) as {
      cases: { length: number; worldSize: number; rank: number; seed: number; dropLast: boolean; shuffle: boolean; epoch: number; indices: number[] }[];
    };
    assert.ok(ref.cases.length >= 60);
    for (const c of ref.cases) {
      const s = new DistributedSampler(c.length, { rank: c.rank, worldSize: c.worldSize, seed: c.seed, dropLast: c.dropLast, shuffle: c.shuffle });
      s.setEpoch(c.epoch);
      assert.deepEqual(s.indices(), c.indices, JSON.stringify({ ...c, indices: undefined }));
    }
  });

  test('distributed sampler: shards cover the data once per epoch; bad arguments are named', () => {
    const shards = [0, 1, 2].map((rank) => new DistributedSampler(12, { rank, worldSize: 3, seed: 5 }));
    const e0 = shards.flatMap((s) => s.indices());
    assert.deepEqual([...e0].sort((a, b) => a - b), Array.from({ length: 12 }, (_, i) => i));
    shards.forEach((s) => s.setEpoch(1));
    assert.notDeepEqual(shards.flatMap((s) => s.indices()), e0);
    assert.throws(() => new DistributedSampler(12, { rank: 3, worldSize: 3 }), /^RangeError: DistributedSampler: rank must be an integer in \[0, 2\], got 3$/);
    assert.throws(() => new DistributedSampler(-1, { rank: 0, worldSize: 1 }), /length must be an integer/);
    assert.throws(() => shards[0]!.setEpoch(-1), /epoch must be an integer/);
  });

  test('DataParallel: a parameter without a gradient is an error naming the rank', async () => {
    const { initProcessGroup } = torch.distributed;
    const { freePort } = await import('../../src/cli/launch.js');
    const pg = await initProcessGroup({ worldSize: 1, rank: 0, masterAddr: '127.0.0.1', masterPort: await freePort(), timeoutMs: 5000 });
    const lin = new torch.nn.Linear(2, 2);
    try {
      const dp = new torch.nn.DataParallel(pg, lin);
      await assert.rejects(dp.reduceGradients(), /DataParallel: a parameter of shape \[2(, 2)?\] has no gradient on rank 0/);
      assert.throws(() => new torch.nn.DataParallel(pg, [1 as unknown as torch.Tensor]), /argument 'target' must be a Module or an array of Tensors/);
      assert.throws(() => new torch.nn.DataParallel(pg, lin, { bucketCapMB: 0 }), /argument 'bucketCapMB' must be >= /);
    } finally {
      lin.dispose();
      await pg.destroy();
    }
  });
}
