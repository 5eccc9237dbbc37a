// Feedback (issue 8 point 7): bars for images and tiles on a terminal, none otherwise, one line
// per failure, and the summary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Progress } from '../../src/api/progress.js';

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
  assert.match(t, /images \|[█░]+\| \d\/3/);
  assert.match(t, /tiles  \|[█░]+\| [25]\/5/);
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
