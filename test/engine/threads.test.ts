// Intra-op threads (issue 2, item 8): all available cores by default, VPDSR_THREADS, setNumThreads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import * as torch from '../../src/engine/index.js';

/** Threads and cores as a child process with the given VPDSR_THREADS sees them (undefined: unset). */
function childThreads(envValue: string | undefined, extra: Record<string, string | undefined> = {}): { threads: number; cores: number; waitPolicy?: string; capability: string } {
  const env = { ...process.env };
  delete env.VPDSR_THREADS;
  delete env.OMP_WAIT_POLICY;
  delete env.GOMP_SPINCOUNT;
  delete env.ATEN_CPU_CAPABILITY;
  delete env.VPDSR_CPU_CAPABILITY;
  if (envValue !== undefined) env.VPDSR_THREADS = envValue;
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url)], { env: { ...env, VPDSR_THREADS_DRIVER: '1' }, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim()) as { threads: number; cores: number; waitPolicy?: string; capability: string };
}

if (!isMainThread) {
  // A worker with its own addon instance: matmuls until told to stop (or terminated mid-loop).
  let stop = false;
  parentPort!.on('message', () => { stop = true; });
  const m = torch.keep(torch.randn([256, 256]));
  const loop = (): void => {
    if (stop) { m.dispose(); parentPort!.postMessage(torch.memory().liveTensors); parentPort!.close(); return; }
    torch.scope(() => torch.matmul(m, m).softmax(-1).sum().item());
    setImmediate(loop);
  };
  loop();
} else if (process.env.VPDSR_THREADS_DRIVER === '1') {
  // A parallel op after load, so that OpenMP's own pool has started with the configured count.
  torch.scope(() => torch.conv2d(torch.randn([1, 8, 32, 32]), torch.randn([8, 8, 3, 3])).sum().item());
  process.stdout.write(JSON.stringify({ threads: torch.getNumThreads(), cores: torch.availableCores(), waitPolicy: process.env.OMP_WAIT_POLICY,
    capability: /CPU capability usage: (\S+)/.exec(torch.buildConfig().showConfig)?.[1] ?? 'unknown' }));
} else {
  test('default: as many intra-op threads as available cores', () => {
    const r = childThreads(undefined);
    assert.ok(r.cores >= 1);
    assert.equal(r.threads, r.cores);
  });

  test('OpenMP waits passively by default; a user-set OMP_WAIT_POLICY or GOMP_SPINCOUNT is left alone', () => {
    assert.equal(childThreads(undefined).waitPolicy, 'PASSIVE');
    assert.equal(childThreads(undefined, { OMP_WAIT_POLICY: 'ACTIVE' }).waitPolicy, 'ACTIVE');
    assert.equal(childThreads(undefined, { GOMP_SPINCOUNT: '10000' }).waitPolicy, undefined);
  });

  test('VPDSR_CPU_CAPABILITY=avx512 opts in to AVX512 kernels where the CPU has them; the default is untouched', () => {
    const flags = /^flags\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.split(/\s+/) ?? [];
    const avx512 = ['avx512f', 'avx512bw', 'avx512vl', 'avx512dq'].every((f) => flags.includes(f));
    const plain = childThreads(undefined).capability;
    assert.equal(childThreads(undefined, { VPDSR_CPU_CAPABILITY: 'avx512' }).capability, avx512 ? 'AVX512' : plain);
    assert.equal(childThreads(undefined, { VPDSR_CPU_CAPABILITY: 'avx512', ATEN_CPU_CAPABILITY: 'avx2' }).capability, 'AVX2', 'a user-set ATEN_CPU_CAPABILITY wins');
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

  test('worker threads: each has its own tensors; terminating one mid-loop leaves the others working', async () => {
    const workers = [0, 1, 2].map(() => new Worker(fileURLToPath(import.meta.url)));
    const exits = workers.map((w) => new Promise<number>((r) => w.on('exit', r)));
    await new Promise((r) => setTimeout(r, 1000));
    await workers[0]!.terminate();
    const v = torch.scope(() => torch.conv2d(torch.ones([1, 4, 8, 8]), torch.ones([4, 4, 3, 3])).amax().item());
    assert.equal(v, 36, 'the main thread still computes');
    await workers[1]!.terminate();
    const left = new Promise<number>((r) => workers[2]!.once('message', r));
    workers[2]!.postMessage('stop');
    assert.equal(await left, 0, 'the last worker freed its tensors');
    await Promise.all(exits);
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
