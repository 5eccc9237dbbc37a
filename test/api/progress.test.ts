// Feedback (issue 8 point 7): bars for images and tiles on a terminal, none otherwise, one line
// per failure, and the summary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Progress, formatSeconds } from '../../src/api/progress.js';

function sink(tty: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  let out = '';
  const w = new Writable({ write(chunk, _enc, cb) { out += chunk.toString(); cb(); } }) as unknown as NodeJS.WriteStream;
  Object.assign(w, {
    isTTY: tty, columns: 100, rows: 30,
    cursorTo: (_x: number, _y?: number | (() => void), cb?: () => void) => { cb?.(); return true; },
    moveCursor: (_dx: number, _dy: number, cb?: () => void) => { cb?.(); return true; },
    clearLine: (_d: number, cb?: () => void) => { cb?.(); return true; },
    clearScreenDown: (cb?: () => void) => { cb?.(); return true; },
  });
  return { stream: w, text: () => out.replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, '') };
}

const summary = {
  done: 1, skipped: 1, failed: 1, aborted: false,
  results: [
    { input: 'a.png', status: 'done' as const, output: 'out/a.png', width: 8, height: 8, seconds: 0.1 },
    { input: 'b.png', status: 'skipped' as const, reason: 'out/b.png exists (use --overwrite to replace it)' },
    { input: 'c.png', status: 'failed' as const, reason: 'c.png: truncated or corrupt png file' },
  ],
};

test('on a terminal: an images bar and a tiles bar; lines and the summary above them', () => {
  const s = sink(true);
  const p = new Progress({ stream: s.stream });
  p.start(3);
  p.image(0, 'a.png');
  p.tile(2, 5);
  p.tile(5, 5);
  summary.results.forEach((r, i) => p.result(r, i));
  p.finish(summary);
  const t = s.text();
  assert.match(t, /images \|[█░]+\| \d+% \d\/3/);
  assert.match(t, /tiles  \|[█░]+\| \d+% [25]\/5/);
  assert.match(t, /a\.png → out\/a\.png/);
  assert.match(t, /vpdsr: failed: c\.png: truncated or corrupt png file/);
  assert.match(t, /vpdsr: 1 done, 1 skipped, 1 failed \(of 3\)\n  failed: c\.png: truncated/);
});

test('not a terminal: no bars; quiet: only failures and the summary that has them', () => {
  const s = sink(false);
  const p = new Progress({ stream: s.stream });
  p.start(3);
  p.image(0, 'a.png');
  p.tile(1, 2);
  summary.results.forEach((r, i) => p.result(r, i));
  p.finish(summary);
  assert.doesNotMatch(s.text(), /[█░]/);
  assert.match(s.text(), /skipped b\.png: out\/b\.png exists/);
  const q = sink(true);
  const pq = new Progress({ stream: q.stream, quiet: true });
  pq.start(3);
  summary.results.forEach((r, i) => pq.result(r, i));
  pq.finish(summary);
  assert.doesNotMatch(q.text(), /[█░]|a\.png →|skipped b/);
  assert.match(q.text(), /failed: c\.png/);
  const ok = sink(false);
  const po = new Progress({ stream: ok.stream, quiet: true });
  po.finish({ done: 2, skipped: 0, failed: 0, aborted: false, results: [] });
  assert.equal(ok.text(), '');
});

test('the bars show percent, tiles/s and ETA; off a terminal a plain progress line comes every interval', () => {
  const s = sink(true);
  const p = new Progress({ stream: s.stream });
  p.start(2);
  p.image(0, 'a.png');
  p.tile(1, 4);
  p.tile(2, 4);
  p.stop();
  assert.match(s.text(), /tiles  \|[█░]+\| 50% 2\/4 [\d.]+ tiles\/s ETA \S+/);
  assert.match(s.text(), /images \|[█░]+\| 0% 0\/2/);
  const plain = sink(false);
  const every = new Progress({ stream: plain.stream, interval: 0 });
  every.start(2);
  every.image(1, 'b.png');
  every.tile(1, 4);
  every.tile(3, 4);
  assert.match(plain.text(), /^vpdsr: progress: image 2\/2 b\.png: tile 1\/4 \(25%\), [\d.]+ tiles\/s, ETA (\d+s|\d+m\d\ds|\?)$/m);
  assert.match(plain.text(), /tile 3\/4 \(75%\)/);
  // A long interval: no line yet; quiet: never.
  const slow = sink(false);
  const ps = new Progress({ stream: slow.stream, interval: 3600 });
  ps.start(1); ps.image(0, 'c.png'); ps.tile(1, 2);
  assert.doesNotMatch(slow.text(), /progress:/);
  const q = sink(false);
  const pq = new Progress({ stream: q.stream, interval: 0, quiet: true });
  pq.start(1); pq.image(0, 'c.png'); pq.tile(1, 2);
  assert.equal(q.text(), '');
});

test('formatSeconds', () => {
  assert.deepEqual([formatSeconds(5.4), formatSeconds(75), formatSeconds(7322), formatSeconds(Infinity)], ['5s', '1m15s', '2h02m', '?']);
});
