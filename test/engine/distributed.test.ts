// Process groups over loopback: collectives between two processes, a lost rank, bad launch settings.
// The file is its own worker: with VPDSR_DIST_CASE set it runs one rank of that case.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as torch from '../../src/engine/index.js';
import { freePort } from '../../src/cli/launch.js';

const { distributed } = torch;
const self = fileURLToPath(import.meta.url);

interface RankResult { rank: number; code: number | null; signal: string | null; stdout: string; stderr: string; ms: number }

/** Starts one process per env, waits for all (killing any still running after limitMs). */
export async function runRanks(script: string, envs: NodeJS.ProcessEnv[], limitMs: number, args: string[] = []): Promise<RankResult[]> {
  const t0 = performance.now();
  const kids = envs.map((env, rank) => {
    const child = spawn(process.execPath, [script, ...args], { env: { ...process.env, VPDSR_THREADS: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const r: RankResult = { rank, code: null, signal: null, stdout: '', stderr: '', ms: 0 };
    child.stdout.on('data', (d: Buffer) => { r.stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { r.stderr += d.toString(); });
    const done = new Promise<RankResult>((resolve) => child.on('close', (code, signal) => {
      r.code = code;
      r.signal = signal;
      r.ms = performance.now() - t0;
      resolve(r);
    }));
    return { child, done };
  });
  const timer = setTimeout(() => { for (const k of kids) if (k.child.exitCode === null) k.child.kill('SIGKILL'); }, limitMs);
  try {
    return await Promise.all(kids.map((k) => k.done));
  } finally {
    clearTimeout(timer);
    for (const k of kids) if (k.child.exitCode === null && k.child.signalCode === null) k.child.kill('SIGKILL');
  }
}

function vals(t: torch.Tensor): number[] {
  return Array.from(t.toArray() as ArrayLike<number | bigint>, Number);
}

function launchEnv(port: number, worldSize: number, rank: number, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), WORLD_SIZE: String(worldSize), RANK: String(rank), LOCAL_RANK: String(rank), ...extra };
}

// ---- worker side ---------------------------------------------------------------------------------

async function worker(kind: string): Promise<void> {
  const timeoutMs = Number(process.env.VPDSR_DIST_TIMEOUT_MS ?? 10000);
  const pg = await distributed.initProcessGroup({ timeoutMs });
  const r = pg.rank;
  if (kind === 'collectives') {
    const out: Record<string, unknown> = { rank: r };
    const a = torch.tensor([r + 1, 10 * (r + 1), -r]);
    await pg.allReduce(a, 'sum');
    out.sum = vals(a);
    const b = torch.tensor([r + 1, 2 * (r + 1)], { dtype: 'float64' });
    const c = torch.tensor([[r, 1], [2, r]]);
    await pg.allReduce([b, c], 'avg');
    out.avgB = vals(b);
    out.avgC = vals(c);
    const m = torch.tensor([r, -r]);
    await pg.allReduce(m, 'max');
    out.max = vals(m);
    const w = r === 0 ? torch.tensor([3.5, -1, 7]) : torch.zeros([3]);
    await pg.broadcast(w, 0);
    out.bcast = vals(w);
    const i64 = torch.tensor([100 + r], { dtype: 'int64' });
    await pg.broadcast(i64, 1);
    out.bcastFrom1 = vals(i64)[0];
    const parts = await pg.allGather(torch.tensor([[r, r + 0.5]]));
    out.gathered = parts.map((p) => ({ shape: p.shape, v: vals(p) }));
    await pg.barrier();
    await pg.destroy();
    process.stdout.write(JSON.stringify(out) + '\n');
  } else if (kind === 'die') {
    const a = torch.ones([4]);
    await pg.allReduce(a);
    if (r === 1) process.kill(process.pid, 'SIGKILL');
    process.stdout.write('first all-reduce done\n');
    for (let i = 0; i < 3; i++) await pg.allReduce(a);
    process.stdout.write('unexpected: collectives went on without rank 1\n');
  } else if (kind === 'stall') {
    // Rank 1 stays alive but never joins the all-reduce: rank 0 times out, and says all are alive.
    if (r === 1) await new Promise((resolve) => setTimeout(resolve, timeoutMs * 2));
    else await pg.allReduce(torch.ones([2]));
  } else {
    await pg.barrier();
    await pg.destroy();
  }
}

if (process.env.VPDSR_DIST_CASE) {
  worker(process.env.VPDSR_DIST_CASE).then(
    () => process.exit(0),
    (e: Error) => { process.stderr.write(`vpdsr: ${e.message.split('\n')[0]}\n`); process.exit(1); },
  );
} else {
  // ---- test side ---------------------------------------------------------------------------------

  test('distributed: this build has the Gloo process group, and doctor says so', async () => {
    const b = distributed.backends();
    assert.equal(b.store, true);
    assert.equal(b.gloo, true, 'the addon was built without gloo headers (libgloo-dev)');
    assert.equal(b.ncclUsable, b.nccl && torch.cudaAvailable());
    const { doctor } = await import('../../src/cli/doctor.js');
    assert.deepEqual(doctor('0.0.0').distributed, b);
  });

  test('distributed: two processes agree on all-reduce, broadcast and all-gather', async () => {
    const port = await freePort();
    const res = await runRanks(self, [0, 1].map((r) => launchEnv(port, 2, r, { VPDSR_DIST_CASE: 'collectives' })), 60000);
    for (const r of res) assert.equal(r.code, 0, `rank ${r.rank} failed: ${r.stderr}`);
    for (const r of res) {
      const o = JSON.parse(r.stdout.trim()) as Record<string, unknown>;
      assert.equal(o.rank, r.rank);
      assert.deepEqual(o.sum, [3, 30, -1]);
      assert.deepEqual(o.avgB, [1.5, 3]);
      assert.deepEqual(o.avgC, [0.5, 1, 2, 0.5]);
      assert.deepEqual(o.max, [1, 0]);
      assert.deepEqual(o.bcast, [3.5, -1, 7]);
      assert.equal(o.bcastFrom1, 101);
      assert.deepEqual(o.gathered, [{ shape: [1, 2], v: [0, 0.5] }, { shape: [1, 2], v: [1, 1.5] }]);
    }
  });

  test('distributed: a killed rank makes the other fail naming it, within the timeout', async () => {
    const port = await freePort();
    const timeoutMs = 8000;
    const res = await runRanks(self, [0, 1].map((r) => launchEnv(port, 2, r, { VPDSR_DIST_CASE: 'die', VPDSR_DIST_TIMEOUT_MS: String(timeoutMs) })), 60000);
    assert.equal(res[1]!.signal, 'SIGKILL');
    const r0 = res[0]!;
    assert.notEqual(r0.code, 0, 'rank 0 should fail');
    assert.equal(r0.signal, null, 'rank 0 should exit by itself, not be killed by the test');
    assert.match(r0.stdout, /first all-reduce done/);
    assert.doesNotMatch(r0.stdout, /unexpected/);
    const lines = r0.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r0.stderr);
    assert.match(lines[0]!, /^vpdsr: rank 0: allReduce: lost rank 1 \(its process stopped/);
    // From rank 1's death to rank 0's exit: well inside the timeout (process start-up excluded).
    assert.ok(r0.ms - res[1]!.ms < timeoutMs, `rank 0 took ${Math.round(r0.ms - res[1]!.ms)} ms after rank 1 died`);
  });

  test('distributed: a collective that times out with every rank alive says so', async () => {
    const port = await freePort();
    const timeoutMs = 2000;
    const res = await runRanks(self, [0, 1].map((r) => launchEnv(port, 2, r, { VPDSR_DIST_CASE: 'stall', VPDSR_DIST_TIMEOUT_MS: String(timeoutMs) })), 60000);
    const r0 = res[0]!;
    assert.equal(r0.code, 1, r0.stderr);
    assert.match(r0.stderr.trim(), /^vpdsr: rank 0: allReduce: every rank is alive \(a collective timed out after 2 s or was called in a different order on another rank\): .*[Tt]imed out/);
    assert.ok(r0.ms < res[1]!.ms, 'rank 0 must fail while rank 1 still runs');
  });

  test('distributed: a wrong MASTER_PORT gives one clear line on each rank', async () => {
    const port = await freePort();
    const other = await freePort();
    const res = await runRanks(self, [
      launchEnv(port, 2, 0, { VPDSR_DIST_CASE: 'join', VPDSR_DIST_TIMEOUT_MS: '2000' }),
      launchEnv(other === port ? port + 1 : other, 2, 1, { VPDSR_DIST_CASE: 'join', VPDSR_DIST_TIMEOUT_MS: '2000' }),
    ], 60000);
    for (const r of res) {
      assert.equal(r.code, 1, `rank ${r.rank}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    assert.match(res[0]!.stderr, /^vpdsr: rank 0: rendezvous: rank 1 of WORLD_SIZE=2 did not join within 2 s/);
    assert.match(res[1]!.stderr, /^vpdsr: rank 1: rendezvous: cannot reach the store at MASTER_ADDR:MASTER_PORT=127\.0\.0\.1:\d+ within 2 s/);
  });

  test('distributed: a wrong WORLD_SIZE gives one clear line on each rank', async () => {
    const port = await freePort();
    const res = await runRanks(self, [
      // Generous: on a loaded machine rank 0 may take seconds to start and publish its WORLD_SIZE.
      launchEnv(port, 2, 0, { VPDSR_DIST_CASE: 'join', VPDSR_DIST_TIMEOUT_MS: '20000' }),
      launchEnv(port, 3, 1, { VPDSR_DIST_CASE: 'join', VPDSR_DIST_TIMEOUT_MS: '20000' }),
    ], 60000);
    for (const r of res) {
      assert.equal(r.code, 1, `rank ${r.rank}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    assert.match(res[0]!.stderr, /^vpdsr: rank 0: rendezvous: rank 1 has WORLD_SIZE=3 but rank 0 has WORLD_SIZE=2/);
    assert.match(res[1]!.stderr, /^vpdsr: rank 1: rendezvous: WORLD_SIZE=3 here but rank 0 has WORLD_SIZE=2/);
  });

  test('distributed: launch variables are checked where they enter', () => {
    const base = { MASTER_ADDR: '127.0.0.1', MASTER_PORT: '29500', WORLD_SIZE: '2', RANK: '1' };
    assert.equal(distributed.distEnv({}), null);
    assert.deepEqual(distributed.distEnv(base), { rank: 1, worldSize: 2, localRank: 1, masterAddr: '127.0.0.1', masterPort: 29500 });
    assert.throws(() => distributed.distEnv({ ...base, RANK: '2' }), /^DistributedError: RANK must be an integer in \[0, 1\], got "2"$/);
    assert.throws(() => distributed.distEnv({ ...base, RANK: undefined }), /RANK is not set/);
    assert.throws(() => distributed.distEnv({ ...base, WORLD_SIZE: 'two' }), /WORLD_SIZE must be an integer in \[1, 65536\], got "two"/);
    assert.throws(() => distributed.distEnv({ ...base, MASTER_PORT: '70000' }), /MASTER_PORT must be an integer in \[1, 65535\], got "70000"/);
    assert.throws(() => distributed.distEnv({ ...base, MASTER_ADDR: ' ' }), /MASTER_ADDR is not set/);
    assert.throws(() => distributed.distEnv({ ...base, LOCAL_RANK: '-1' }), /LOCAL_RANK must be an integer/);
  });

  test('distributed: a one-rank group checks its arguments and is an identity', async () => {
    const port = await freePort();
    await assert.rejects(distributed.initProcessGroup({ worldSize: 1, rank: 1, masterAddr: '127.0.0.1', masterPort: port }), /argument 'rank' must be <= 0/);
    await assert.rejects(distributed.initProcessGroup({ worldSize: 1, rank: 0, masterAddr: 'a b', masterPort: port }), /argument 'masterAddr'/);
    const pg = await distributed.initProcessGroup({ worldSize: 1, rank: 0, masterAddr: '127.0.0.1', masterPort: port, timeoutMs: 5000 });
    try {
      const x = torch.tensor([1, 2, 3]);
      await pg.allReduce(x, 'avg');
      assert.deepEqual(vals(x), [1, 2, 3]);
      const t = torch.zeros([2, 3]).t();
      assert.throws(() => pg.allReduce(t), /allReduce\(\): argument 'tensor' must be contiguous/);
      assert.throws(() => pg.allReduce([]), /must hold at least one tensor/);
      assert.throws(() => pg.allReduce(x, 'mean' as 'sum'), /argument 'op' must be one of/);
      assert.throws(() => pg.broadcast(x, 1), /argument 'src' must be <= 0/);
      const d = torch.ones([1]);
      d.dispose();
      assert.throws(() => pg.allReduce([x, d]), /argument 'tensors\[1\]' was disposed/);
      const g = await pg.allGather(x);
      assert.equal(g.length, 1);
      assert.deepEqual(vals(g[0]!), [1, 2, 3]);
      g[0]!.dispose();
    } finally {
      await pg.destroy();
    }
    assert.throws(() => pg.barrier(), /the process group was destroyed/);
  });
}
