// Feedback of a batch: on a terminal, two cli-progress bars (images, and the tiles of the current
// image); otherwise — or with --quiet — no bars. One line per finished image unless quiet, every
// failure always (by name, one line, no stack trace), and a summary at the end.
import cliProgress from 'cli-progress';
import type { ItemResult, BatchSummary } from './runner.js';

export interface ProgressOptions {
  quiet?: boolean;
  /** Where lines go (default process.stderr). */
  stream?: NodeJS.WriteStream | NodeJS.WritableStream;
  /** Force the bars on or off (default: on when the stream is a TTY and not quiet). */
  bars?: boolean;
}

export class Progress {
  private readonly quiet: boolean;
  private readonly stream: NodeJS.WriteStream | NodeJS.WritableStream;
  private readonly multi: cliProgress.MultiBar | undefined;
  private images: cliProgress.SingleBar | undefined;
  private tiles: cliProgress.SingleBar | undefined;
  private total = 0;

  constructor(o: ProgressOptions = {}) {
    this.quiet = o.quiet === true;
    this.stream = o.stream ?? process.stderr;
    const tty = (this.stream as NodeJS.WriteStream).isTTY === true;
    const bars = o.bars ?? (tty && !this.quiet);
    if (bars) {
      this.multi = new cliProgress.MultiBar({
        stream: this.stream as NodeJS.WriteStream,
        clearOnComplete: true,
        hideCursor: true,
        format: ' {label} |{bar}| {value}/{total} {name}',
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
    if (this.multi) this.images = this.multi.create(total, 0, { label: 'images', name: '' });
  }

  image(index: number, name: string): void {
    this.images?.update(index, { label: 'images', name });
    if (this.multi) {
      this.tiles?.stop();
      if (this.tiles) this.multi.remove(this.tiles);
      this.tiles = this.multi.create(1, 0, { label: 'tiles ', name: '' });
    }
  }

  tile(done: number, total: number): void {
    if (this.tiles) {
      this.tiles.setTotal(total);
      this.tiles.update(done, { label: 'tiles ', name: '' });
    }
  }

  result(r: ItemResult, index: number): void {
    this.images?.update(index + 1, { label: 'images', name: '' });
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
