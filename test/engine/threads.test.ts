// Intra-op threads (issue 2, item 8): all available cores by default, VPDSR_THREADS, setNumThreads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as torch from '../../src/engine/index.js';

/** Threads and cores as a child process with the given VPDSR_THREADS sees them (undefined: unset). */
function childThreads(envValue: string | undefined): { threads: number; cores: number } {
  const env = { ...process.env };
  delete env.VPDSR_THREADS;
  if (envValue !== undefined) env.VPDSR_THREADS = envValue;
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url)], { env: { ...env, VPDSR_THREADS_DRIVER: '1' }, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim()) as { threads: number; cores: number };
}

if (process.env.VPDSR_THREADS_DRIVER === '1') {
  // A parallel op after load, so that OpenMP's own pool has started with the configured count.
  torch.scope(() => torch.conv2d(torch.randn([1, 8, 32, 32]), torch.randn([8, 8, 3, 3])).sum().item());
  process.stdout.write(JSON.stringify({ threads: torch.getNumThreads(), cores: torch.availableCores() }));
} else {
  test('default: as many intra-op threads as available cores', () => {
    const r = childThreads(undefined);
    assert.ok(r.cores >= 1);
    assert.equal(r.threads, r.cores);
  });

  test('VPDSR_THREADS=1 gives one thread', () => {
    assert.equal(childThreads('1').threads, 1);
  });

  test('VPDSR_THREADS=3 gives three threads (more than cores is allowed, as in PyTorch)', () => {
    assert.equal(childThreads('3').threads, 3);
  });

  test('an unusable VPDSR_THREADS falls back to all cores', () => {
    for (const bad of ['0', '-2', 'abc', '']) {
      const r = childThreads(bad);
      assert.equal(r.threads, r.cores, `VPDSR_THREADS=${JSON.stringify(bad)}`);
    }
  });

  test('setNumThreads changes the count and checks its argument', () => {
    const before = torch.getNumThreads();
    try {
      torch.setNumThreads(1);
      assert.equal(torch.getNumThreads(), 1);
      torch.setNumThreads(2);
      assert.equal(torch.getNumThreads(), 2);
      // Work still runs and gives the same answer with a different count.
      const x = torch.scope(() => torch.arange(0, 1000, 1, { dtype: 'float32' }).sum().item());
      assert.equal(x, 499500);
    } finally {
      torch.setNumThreads(before);
    }
    for (const bad of [0, -1, 1.5, NaN, 2000, '2', null, undefined, 2n]) {
      assert.throws(() => torch.setNumThreads(bad as number), { name: 'ArgumentError' }, `setNumThreads(${String(bad)})`);
    }
    assert.equal(torch.getNumThreads(), before);
  });
}
