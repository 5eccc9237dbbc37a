// `--nproc N`: starts N local workers of the same command, torchrun-style (MASTER_ADDR,
// MASTER_PORT, WORLD_SIZE, RANK, LOCAL_RANK, LOCAL_WORLD_SIZE), each CPU worker with its share of
// the cores; if one fails, the others are stopped and the launcher exits with its code. On several
// machines, NNODES and NODE_RANK (with MASTER_ADDR and MASTER_PORT of node 0) number the ranks
// across them, as torchrun's --nnodes/--node_rank.
//
// Ctrl-C: the workers run in their own process group, so a terminal's SIGINT reaches the launcher
// alone, which passes each SIGINT on once. The workers' first SIGINT stops them after the current
// iteration with a last checkpoint (train-common.ts), a second quits at once; so two Ctrl-C behave
// as with one process. A launcher that dies without passing anything on (SIGKILL) closes the IPC
// channel each worker holds, which a worker takes as its first SIGINT.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { UsageError } from './errors.js';

export interface LaunchOptions {
  nproc: number;
  /** The program and its arguments (e.g. [process.execPath, script, ...args]). */
  argv: string[];
  /** Default: a free port on 127.0.0.1. */
  port?: number;
  /** Intra-op threads per worker (VPDSR_THREADS); default: the cores split evenly, at least 1. */
  threadsPerProc?: number;
  env?: NodeJS.ProcessEnv;
  /** Time a stopped worker gets between SIGTERM and SIGKILL (ms). */
  graceMs?: number;
  /** Several machines: their number, this one's index, and node 0's address (port: `port`). */
  nnodes?: number;
  nodeRank?: number;
  masterAddr?: string;
}

/** NNODES, NODE_RANK, MASTER_ADDR, MASTER_PORT for a multi-machine --nproc launch, or null. */
export function nodesFromEnv(env: NodeJS.ProcessEnv = process.env): { nnodes: number; nodeRank: number; masterAddr: string; port: number } | null {
  if (env.NNODES === undefined || env.NNODES === '') return null;
  const int = (name: string, min: number, max: number): number => {
    const raw = env[name] ?? '';
    const v = /^\d+$/.test(raw.trim()) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(v) || v < min || v > max) throw new UsageError(`${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(env[name] ?? null)}`);
    return v;
  };
  const nnodes = int('NNODES', 1, 4096);
  const nodeRank = int('NODE_RANK', 0, nnodes - 1);
  const masterAddr = (env.MASTER_ADDR ?? '').trim();
  if (!masterAddr) throw new UsageError('MASTER_ADDR must name node 0 when NNODES is set');
  return { nnodes, nodeRank, masterAddr, port: int('MASTER_PORT', 1, 65535) };
}

/** A TCP port that no one listens on right now (the launcher's rendezvous port). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export function parseNproc(v: unknown): number {
  const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : typeof v === 'number' ? v : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > 1024) throw new UsageError(`--nproc must be an integer in [1, 1024], got ${JSON.stringify(v)}`);
  return n;
}

/** Runs the workers to the end; resolves to the launcher's exit code (0 when every rank succeeded). */
export async function launchLocal(o: LaunchOptions): Promise<number> {
  const nproc = parseNproc(o.nproc);
  if (!Array.isArray(o.argv) || o.argv.length === 0) throw new UsageError('launch: no command to start');
  const nnodes = o.nnodes ?? 1, nodeRank = o.nodeRank ?? 0;
  if (nnodes > 1 && (o.port === undefined || !o.masterAddr)) throw new UsageError('launch: several nodes need MASTER_ADDR and MASTER_PORT of node 0');
  const port = o.port ?? await freePort();
  const masterAddr = o.masterAddr ?? '127.0.0.1';
  const threads = o.threadsPerProc ?? Math.max(1, Math.floor(availableParallelism() / nproc));
  const grace = o.graceMs ?? 5000;
  const kids: ChildProcess[] = [];
  let firstFailure: number | null = null;
  let stopping = false;
  const stopAll = (): void => {
    if (stopping) return;
    stopping = true;
    for (const k of kids) if (k.exitCode === null && k.signalCode === null) k.kill('SIGTERM');
    setTimeout(() => { for (const k of kids) if (k.exitCode === null && k.signalCode === null) k.kill('SIGKILL'); }, grace).unref();
  };
  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    firstFailure ??= 128 + (sig === 'SIGINT' ? 2 : 15);
    if (sig !== 'SIGINT') { stopAll(); return; }
    // Passed on as it came: the workers checkpoint and end by themselves (they exit 130).
    interrupted = true;
    for (const k of kids) if (k.exitCode === null && k.signalCode === null) k.kill('SIGINT');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const done: Promise<void>[] = [];
    for (let local = 0; local < nproc; local++) {
      const rank = nodeRank * nproc + local;
      const env: NodeJS.ProcessEnv = {
        ...process.env, ...o.env,
        MASTER_ADDR: masterAddr, MASTER_PORT: String(port), WORLD_SIZE: String(nnodes * nproc), RANK: String(rank),
        LOCAL_RANK: String(local), LOCAL_WORLD_SIZE: String(nproc), VPDSR_THREADS: String(threads),
      };
      // detached: a process group of its own (the terminal's Ctrl-C reaches the launcher only);
      // the IPC channel tells the worker when the launcher is gone.
      const child = spawn(o.argv[0]!, o.argv.slice(1), { env, stdio: ['inherit', 'inherit', 'inherit', 'ipc'], detached: true });
      kids.push(child);
      done.push(new Promise<void>((resolve) => {
        child.on('error', (e) => {
          process.stderr.write(`vpdsr: rank ${rank}: cannot start ${o.argv[0]}: ${e.message}\n`);
          firstFailure ??= 1;
          stopAll();
          resolve();
        });
        child.on('exit', (code, signal) => {
          if (code !== 0 && !stopping && !(interrupted && code === 130)) {
            firstFailure ??= code ?? 1;
            if (signal) process.stderr.write(`vpdsr: rank ${rank} was killed by ${signal}; stopping the other ranks\n`);
            stopAll();
          }
          resolve();
        });
      }));
    }
    await Promise.all(done);
    return firstFailure ?? 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Adds `--nproc <n>` to a training command. */
export function addNprocOption(cmd: Command): Command {
  return cmd.option('--nproc <n>', 'start N local data-parallel workers (CPU: the cores are split between them)');
}

/**
 * For a command with --nproc N (N > 1) outside a distributed launch: starts the N workers with the
 * same command line minus --nproc and returns true (the caller does nothing else); else false.
 */
export async function launchIfRequested(nproc: unknown, argv: string[] = process.argv): Promise<boolean> {
  if (nproc === undefined) return false;
  const n = parseNproc(nproc);
  if (process.env.WORLD_SIZE !== undefined && process.env.WORLD_SIZE !== '') {
    throw new UsageError('--nproc starts the workers itself: do not combine it with WORLD_SIZE/RANK set by another launcher');
  }
  const args: string[] = [];
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--nproc') { i++; continue; }
    if (a.startsWith('--nproc=')) continue;
    args.push(a);
  }
  const nodes = nodesFromEnv();
  if (n === 1 && !nodes) return false;
  const code = await launchLocal({
    nproc: n, argv: [process.execPath, ...process.execArgv, argv[1]!, ...args],
    ...(nodes ? { nnodes: nodes.nnodes, nodeRank: nodes.nodeRank, masterAddr: nodes.masterAddr, port: nodes.port } : {}),
  });
  process.exitCode = code;
  return true;
}
