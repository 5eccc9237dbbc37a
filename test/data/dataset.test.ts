// Training datasets and the prefetching loader on real BSDS500 photos: shapes and ranges,
// determinism across runs and worker counts, paired folders with random crops, prefetching,
// and a bad file reported by name.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, copyFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as torch from '../../src/engine/index.js';
import { DataLoader, type Batch } from '../../src/data/loader.js';
import { listImages, readRgb8, degradeFile } from '../../src/data/dataset.js';
import { TRAIN_PRESET } from '../../src/data/degradation/params.js';
import { runDegrade } from '../../src/cli/degrade.js';
import { sharedDir } from '../helpers.js';

const BSDS = path.join(sharedDir, 'data', 'train', 'bsds500');
const FILES = ['train/100075.jpg', 'train/100080.jpg', 'train/100098.jpg', 'val/3096.jpg'];
let root = '';
let hrDir = '';

before(() => {
  root = mkdtempSync(path.join(tmpdir(), 'vpdsr-dataset-'));
  hrDir = path.join(root, 'hr-in');
  for (const f of FILES) {
    mkdirSync(path.dirname(path.join(hrDir, f)), { recursive: true });
    copyFileSync(path.join(BSDS, f), path.join(hrDir, f));
  }
});
after(() => rmSync(root, { recursive: true, force: true }));

async function collect(loader: DataLoader, epoch = 0): Promise<{ gt: Uint8Array[]; lq: Uint8Array[]; names: string[][]; shapes: number[][][] }> {
  const out = { gt: [] as Uint8Array[], lq: [] as Uint8Array[], names: [] as string[][], shapes: [] as number[][][] };
  for await (const b of loader.epoch(epoch)) {
    out.gt.push(b.gt.toBytes()); out.lq.push(b.lq.toBytes()); out.names.push(b.names); out.shapes.push([b.gt.shape, b.lq.shape]);
    b.gt.dispose(); b.lq.dispose();
  }
  return out;
}

test('listImages: recursive, sorted, relative', async () => {
  assert.deepEqual(await listImages(hrDir), FILES);
  await assert.rejects(listImages(path.join(root, 'nope')), /no such folder/);
});

test('HR folder loader: 256² GT and 64² LQ batches in [0, 1], LQ on 8-bit levels', async () => {
  const loader = await DataLoader.hrFolder(hrDir, TRAIN_PRESET, { batchSize: 2, seed: 3, workers: 0 });
  try {
    assert.equal(loader.batches, 2);
    for await (const b of loader.epoch(0)) {
      try {
        assert.deepEqual(b.gt.shape, [2, 3, 256, 256]);
        assert.deepEqual(b.lq.shape, [2, 3, 64, 64]);
        assert.equal(b.names.length, 2);
        torch.scope(() => {
          assert.ok(b.lq.min().item() >= 0 && b.lq.max().item() <= 1 && b.gt.min().item() >= 0 && b.gt.max().item() <= 1);
          assert.ok(b.lq.mul(255).sub(b.lq.mul(255).round()).abs().max().item() < 1e-4);
        });
        assert.ok(Array.isArray((b.meta.items as unknown[])) && typeof b.meta.choices === 'object');
      } finally { b.gt.dispose(); b.lq.dispose(); }
    }
  } finally { await loader.close(); }
});

test('loader determinism: same seed → same bytes, for 1 and 2 workers alike; epochs differ', async () => {
  const run = async (workers: number, epoch = 0): Promise<Awaited<ReturnType<typeof collect>>> => {
    const l = await DataLoader.hrFolder(hrDir, TRAIN_PRESET, { batchSize: 2, seed: 9, workers });
    try { return await collect(l, epoch); } finally { await l.close(); }
  };
  const a = await run(2), b = await run(2), c = await run(1), d = await run(2, 1);
  assert.deepEqual(a.names, b.names);
  assert.deepEqual(a.gt, b.gt);
  assert.deepEqual(a.lq, b.lq);
  assert.deepEqual(a.lq, c.lq, 'the worker count does not change the batches');
  assert.notDeepEqual(a.lq, d.lq, 'another epoch draws again');
});

test('prefetch: the next batch is ready while the consumer works', async () => {
  const loader = await DataLoader.hrFolder(hrDir, TRAIN_PRESET, { batchSize: 1, seed: 1, workers: 1, prefetch: 2 });
  try {
    const it = loader.epoch(0);
    let t = performance.now();
    const first = (await it.next()).value as Batch;
    const firstMs = performance.now() - t;
    first.gt.dispose(); first.lq.dispose();
    await new Promise((r) => setTimeout(r, Math.max(3 * firstMs, 300))); // a "training step"
    t = performance.now();
    const second = (await it.next()).value as Batch;
    const waitMs = performance.now() - t;
    second.gt.dispose(); second.lq.dispose();
    assert.ok(waitMs < firstMs, `waited ${waitMs.toFixed(0)} ms for a prefetched batch (the first took ${firstMs.toFixed(0)} ms)`);
    await it.return(undefined);
  } finally { await loader.close(); }
});

test('a bad file fails its batch with a message naming it (workers and main thread)', async () => {
  const bad = path.join(root, 'bad-in');
  mkdirSync(bad, { recursive: true });
  copyFileSync(path.join(BSDS, FILES[0]!), path.join(bad, 'a.jpg'));
  writeFileSync(path.join(bad, 'b.png'), 'not an image');
  for (const workers of [0, 1]) {
    const loader = await DataLoader.hrFolder(bad, TRAIN_PRESET, { batchSize: 1, seed: 0, workers, shuffle: false });
    try {
      await assert.rejects(collect(loader), /b\.png/);
    } finally { await loader.close(); }
  }
});

test('degradeFile: whole image mod-cropped, HR/4 LQ, reproducible', async () => {
  const a = await degradeFile(hrDir, FILES[3]!, 5, TRAIN_PRESET, { gtPrep: false });
  const b = await degradeFile(hrDir, FILES[3]!, 5, TRAIN_PRESET, { gtPrep: false });
  try {
    assert.deepEqual(a.gt.shape, [1, 3, 320, 480]);
    assert.deepEqual(a.lq.shape, [1, 3, 80, 120]);
    assert.deepEqual(a.lq.toBytes(), b.lq.toBytes());
    const src = await readRgb8(path.join(hrDir, FILES[3]!));
    try { torch.scope(() => assert.ok(a.gt.select(0, 0).eq(src.slice(1, 0, 320).slice(2, 0, 480)).all().item(), 'GT = the decoded photo, cropped')); } finally { src.dispose(); }
  } finally { for (const t of [a.gt, a.lq, b.gt, b.lq]) t.dispose(); }
});

test('paired loader over `vpdsr degrade` output: aligned random crops', async () => {
  const out = path.join(root, 'pairs');
  const summary = await runDegrade({ input: hrDir, output: out, scale: 4, seed: 2, preset: 'train', workers: 0 }, () => undefined);
  assert.equal(summary.written, 4);
  const loader = await DataLoader.paired(path.join(out, 'hr'), path.join(out, 'lr'), { scale: 4, gtSize: 64, useHflip: false }, { batchSize: 2, seed: 4, workers: 0, shuffle: false });
  try {
    for await (const b of loader.epoch(0)) {
      try {
        assert.deepEqual(b.gt.shape, [2, 3, 64, 64]);
        assert.deepEqual(b.lq.shape, [2, 3, 16, 16]);
        const crops = b.meta.crops as { top: number; left: number }[];
        const hr = await readRgb8(path.join(out, 'hr', b.names[0]!.replace(/\.jpg$/, '.png')));
        try {
          torch.scope(() => {
            const { top, left } = crops[0]!;
            assert.ok(b.gt.select(0, 0).eq(hr.slice(1, top * 4, top * 4 + 64).slice(2, left * 4, left * 4 + 64)).all().item(), 'GT patch = HR at 4× the LQ offset');
          });
        } finally { hr.dispose(); }
      } finally { b.gt.dispose(); b.lq.dispose(); }
    }
  } finally { await loader.close(); }
});

test('sharded loader: the ranks read the global batches one process reads, and bad shards are named', async () => {
  const whole = await DataLoader.hrFolder(hrDir, TRAIN_PRESET, { batchSize: 2, seed: 5, workers: 0 });
  const ranks = await Promise.all([0, 1].map((rank) => DataLoader.hrFolder(hrDir, TRAIN_PRESET, { batchSize: 1, seed: 5, workers: 0, shard: { rank, worldSize: 2 } })));
  for (const epoch of [0, 1, 2]) {
    const w = whole.batchNames(epoch);
    const [r0, r1] = ranks.map((l) => l.batchNames(epoch));
    assert.equal(r0!.length, 2);
    assert.deepEqual(r0!.map((b, i) => [...b, ...r1![i]!]), w);
  }
  assert.notDeepEqual(ranks[0]!.batchNames(0), ranks[0]!.batchNames(1));
  const three = await DataLoader.hrFolder(hrDir, TRAIN_PRESET, { batchSize: 1, seed: 5, workers: 0, shard: { rank: 2, worldSize: 3 } });
  assert.equal(three.batches, 1);
  await assert.rejects(DataLoader.hrFolder(hrDir, TRAIN_PRESET, { batchSize: 1, seed: 5, workers: 0, shard: { rank: 2, worldSize: 2 } }), /loader: shard\.rank must be an integer in \[0, 1\], got 2/);
});
