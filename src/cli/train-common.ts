// What the three training commands share: config loading, the progress bar, Ctrl-C handling.
import path from 'node:path';
import cliProgress from 'cli-progress';
import { loadConfig, type TrainKind, type TrainConfig, type TrainOptions, type TrainResult, type TrainProgress } from '../train/index.js';
import { UsageError } from './errors.js';
import { launchIfRequested } from './launch.js';

export interface TrainCliOptions { config?: string; resume?: string; iterations?: string; out?: string; quiet?: boolean; clip?: string; nproc?: string }

function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = Math.floor(s % 60);
  return h ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(sec).padStart(2, '0')}s`;
}

function fmtTerms(t: Record<string, number>): string {
  return Object.entries(t).map(([k, v]) => `${k} ${Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(2) : v.toFixed(4)}`).join(' ');
}

/** Loads the config (--config, or the run folder's config.json with --resume), runs, reports. */
export async function runTrainCommand<K extends TrainKind>(kind: K, o: TrainCliOptions, run: (c: Extract<TrainConfig, { kind: K }>, opts: TrainOptions) => Promise<TrainResult>): Promise<void> {
  const file = o.config ?? (o.resume ? path.join(o.resume, 'config.json') : undefined);
  if (!file) throw new UsageError('give --config FILE (or --resume DIR to continue a run)');
  let iterations: number | undefined;
  if (o.iterations !== undefined) {
    iterations = Number(o.iterations);
    if (!Number.isSafeInteger(iterations) || iterations < 1) throw new UsageError(`--iterations must be a positive integer, got ${o.iterations}`);
  }
  const out = o.resume ?? o.out;
  const cfg = loadConfig(kind, file, { iterations, out, ...(o.clip !== undefined ? { clip: o.clip } : {}) });
  // --nproc N: this process starts the N workers (each runs this command) and waits for them.
  if (await launchIfRequested(o.nproc)) return;
  // Under a launcher only rank 0 reports (its progress, and the stop lines even with -q).
  const otherRank = Boolean(process.env.WORLD_SIZE && process.env.RANK && process.env.RANK.trim() !== '0');
  if (otherRank) o = { ...o, quiet: true };
  const ac = new AbortController();
  const onSig = (): void => {
    if (ac.signal.aborted) return;
    if (!otherRank) process.stderr.write('\nvpdsr: stopping after this iteration; writing a last checkpoint (Ctrl-C again to quit at once)\n');
    ac.abort();
    process.once('SIGINT', () => process.exit(130));
  };
  process.once('SIGINT', onSig);
  // Started by --nproc: a launcher that goes away (killed) counts as a Ctrl-C. (The listener keeps
  // the IPC channel referenced until it is removed below, after the run.)
  const onDisconnect = (): void => onSig();
  if (process.channel) process.once('disconnect', onDisconnect);
  const bar = o.quiet || !process.stderr.isTTY ? null : new cliProgress.SingleBar({
    format: `${kind} |{bar}| {value}/{total} {terms} | {rate} it/s | ETA {eta_s}`,
    hideCursor: true, clearOnComplete: false, stream: process.stderr,
  }, cliProgress.Presets.shades_classic);
  let lastLine = 0;
  const onProgress = (p: TrainProgress): void => {
    if (bar) {
      if (!bar.getTotal()) bar.start(p.total, p.step - 1, { terms: '', rate: '0', eta_s: '?' });
      bar.update(p.step, { terms: fmtTerms(p.terms), rate: p.itPerSec.toFixed(2), eta_s: fmtTime(p.etaSec) });
    } else if (!o.quiet && (Date.now() - lastLine > 10_000 || p.step === p.total)) {
      lastLine = Date.now();
      process.stderr.write(`vpdsr: ${kind} ${p.step}/${p.total} ${fmtTerms(p.terms)} ${p.itPerSec.toFixed(2)} it/s ETA ${fmtTime(p.etaSec)}\n`);
    }
  };
  try {
    const r = await run(cfg, { onProgress, signal: ac.signal, resume: o.resume !== undefined });
    bar?.stop();
    if (r.aborted) {
      if (!otherRank) process.stderr.write(`vpdsr: stopped at iteration ${r.step}; checkpoint ${r.checkpoint} (continue with --resume ${cfg.out})\n`);
      process.exitCode = 130;
    } else if (!o.quiet) {
      const v = r.lastVal && Object.keys(r.lastVal).length ? ` val ${fmtTerms(r.lastVal)};` : '';
      process.stderr.write(`vpdsr: ${kind} done: ${r.step} iterations;${v} wrote ${r.artifact}\n`);
    }
  } finally {
    bar?.stop();
    process.removeListener('SIGINT', onSig);
    process.removeListener('disconnect', onDisconnect);
  }
}
