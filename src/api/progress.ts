// Feedback of a batch: on a terminal, two cli-progress bars (images, and the tiles of the current
// image) with percent, tiles/s and ETA; otherwise a plain progress line every `interval` seconds
// (logs, CI); with --quiet neither. One line per finished image unless quiet, every failure always
// (by name, one line, no stack trace), and a summary at the end.
import cliProgress from 'cli-progress';
import type { ItemResult, BatchSummary } from './runner.js';

export interface ProgressOptions {
  quiet?: boolean;
  /** Where lines go (default process.stderr). */
  stream?: NodeJS.WriteStream | NodeJS.WritableStream;
  /** Force the bars on or off (default: on when the stream is a TTY and not quiet). */
  bars?: boolean;
  /** Seconds between plain progress lines when there are no bars (default 10; 0 = every tile). */
  interval?: number;
}

/** 75 s → "1m15s". */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const t = Math.max(0, Math.round(s));
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, '0')}s`;
  return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m`;
}

export class Progress {
  private readonly quiet: boolean;
  private readonly stream: NodeJS.WriteStream | NodeJS.WritableStream;
  private readonly multi: cliProgress.MultiBar | undefined;
  private images: cliProgress.SingleBar | undefined;
  private tiles: cliProgress.SingleBar | undefined;
  private total = 0;
  private readonly interval: number;
  private lastLine = 0;
  private index = 0;
  private current = '';
  /** When the current image's first tile started, and the tiles done then. */
  private tileStart = 0;

  constructor(o: ProgressOptions = {}) {
    this.quiet = o.quiet === true;
    this.interval = (o.interval ?? 10) * 1000;
    this.stream = o.stream ?? process.stderr;
    const tty = (this.stream as NodeJS.WriteStream).isTTY === true;
    const bars = o.bars ?? (tty && !this.quiet);
    if (bars) {
      this.multi = new cliProgress.MultiBar({
        stream: this.stream as NodeJS.WriteStream,
        clearOnComplete: true,
        hideCursor: true,
        format: ' {label} |{bar}| {percentage}% {value}/{total} {rate} ETA {eta_formatted} {name}',
        barsize: 30,
        noTTYOutput: false,
      }, cliProgress.Presets.shades_classic);
    }
  }

  /** Prints a line above the bars (or plainly). */
  line(s: string): void {
    if (this.multi) this.multi.log(`${s}\n`);
    else this.stream.write(`${s}\n`);
  }

  info(s: string): void {
    if (!this.quiet) this.line(s);
  }

  start(total: number): void {
    this.total = total;
    if (this.multi) this.images = this.multi.create(total, 0, { label: 'images', name: '', rate: '' });
    this.lastLine = performance.now();
  }

  image(index: number, name: string): void {
    this.index = index;
    this.current = name;
    this.tileStart = performance.now();
    this.images?.update(index, { label: 'images', name, rate: '' });
    if (this.multi) {
      this.tiles?.stop();
      if (this.tiles) this.multi.remove(this.tiles);
      this.tiles = this.multi.create(1, 0, { label: 'tiles ', name: '', rate: '' });
    }
  }

  /** A plain line: image i/n name: tile d/t (p%), r tiles/s, ETA e. */
  private progressLine(done: number, total: number, rate: number): string {
    const eta = rate > 0 ? formatSeconds((total - done) / rate) : '?';
    return `vpdsr: progress: image ${this.index + 1}/${this.total} ${this.current}: tile ${done}/${total} (${Math.floor((100 * done) / total)}%), ${rate.toFixed(2)} tiles/s, ETA ${eta}`;
  }

  tile(done: number, total: number): void {
    const now = performance.now();
    const rate = done / Math.max(1e-3, (now - this.tileStart) / 1000);
    if (this.tiles) {
      this.tiles.setTotal(total);
      this.tiles.update(done, { label: 'tiles ', name: '', rate: `${rate.toFixed(2)} tiles/s` });
    } else if (!this.quiet && now - this.lastLine >= this.interval) {
      this.lastLine = now;
      this.stream.write(`${this.progressLine(done, total, rate)}\n`);
    }
  }

  result(r: ItemResult, index: number): void {
    this.images?.update(index + 1, { label: 'images', name: '', rate: '' });
    if (r.status === 'failed') this.line(`vpdsr: failed: ${r.reason}`);
    else if (r.status === 'skipped') this.info(`skipped ${r.input}: ${r.reason}`);
    else this.info(`${r.input} → ${r.output} (${r.width}×${r.height}, ${(r.seconds ?? 0).toFixed(1)} s)`);
  }

  /** Stops the bars and prints the summary (always when something failed or was interrupted). */
  finish(s: BatchSummary): void {
    this.stop();
    const failed = s.results.filter((r) => r.status === 'failed');
    const text = `vpdsr: ${s.done} done, ${s.skipped} skipped, ${s.failed} failed${s.aborted ? ', interrupted' : ''} (of ${Math.max(this.total, s.results.length)})`;
    if (this.quiet && failed.length === 0 && !s.aborted) return;
    this.stream.write(`${text}\n`);
    for (const f of failed) this.stream.write(`  failed: ${f.reason}\n`);
  }

  stop(): void {
    // A render flushes lines logged since the last one; stop() with clearOnComplete would drop them.
    this.multi?.update();
    this.multi?.stop();
  }
}
