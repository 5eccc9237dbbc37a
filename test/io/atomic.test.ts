// The atomic writer every output goes through: all or nothing, no overwrite unless asked,
// temporaries removed on failure, on SIGINT/SIGTERM, and (after SIGKILL) by the next writer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { removeStaleTemporaries, tempPathFor, writeFileAtomic, writeFileAtomicAsync, writeFolderAtomic } from '../../src/io/atomic.js';
import { tmpDir } from './fixtures.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'atomic-child.js');
const hidden = (dir: string): string[] => fs.readdirSync(dir).filter((n) => n.startsWith('.'));

test('writeFileAtomic: writes whole files, refuses an existing one unless overwrite, cleans up on failure', async () => {
  const dir = tmpDir();
  const f = path.join(dir, 'a.bin');
  writeFileAtomic(f, 'one');
  assert.equal(fs.readFileSync(f, 'utf8'), 'one');
  assert.throws(() => writeFileAtomic(f, 'two'), (e: NodeJS.ErrnoException) => e.code === 'EEXIST');
  writeFileAtomic(f, (fd) => { fs.writeSync(fd, 'three'); }, { overwrite: true });
  assert.equal(fs.readFileSync(f, 'utf8'), 'three');
  assert.throws(() => writeFileAtomic(f, () => { throw new Error('disk full'); }, { overwrite: true }), /disk full/);
  assert.equal(fs.readFileSync(f, 'utf8'), 'three', 'a failed write leaves the old file');
  await assert.rejects(writeFileAtomicAsync(f, 'four'), (e: NodeJS.ErrnoException) => e.code === 'EEXIST');
  await writeFileAtomicAsync(path.join(dir, 'b.txt'), new Uint8Array([104, 105]));
  assert.equal(fs.readFileSync(path.join(dir, 'b.txt'), 'utf8'), 'hi');
  assert.deepEqual(hidden(dir), [], 'no temporaries left');
  assert.match(path.basename(tempPathFor(f)), new RegExp(`^\\.a\\.bin\\.vpdsr-[A-Za-z0-9]+-${process.pid}-[0-9a-f]{8}\\.tmp$`));
});

test('writeFolderAtomic: the old folder stays until the new one is complete', () => {
  const dir = tmpDir();
  const out = path.join(dir, 'model');
  writeFolderAtomic(out, (tmp) => writeFileAtomic(path.join(tmp, 'x'), '1'));
  assert.equal(fs.readFileSync(path.join(out, 'x'), 'utf8'), '1');
  assert.throws(() => writeFolderAtomic(out, () => undefined), (e: NodeJS.ErrnoException) => e.code === 'EEXIST');
  assert.throws(() => writeFolderAtomic(out, (tmp) => { writeFileAtomic(path.join(tmp, 'x'), '2'); throw new Error('interrupted'); }, { overwrite: true }), /interrupted/);
  assert.equal(fs.readFileSync(path.join(out, 'x'), 'utf8'), '1');
  writeFolderAtomic(out, (tmp) => writeFileAtomic(path.join(tmp, 'y'), '2'), { overwrite: true });
  assert.deepEqual(fs.readdirSync(out), ['y']);
  assert.deepEqual(hidden(dir), []);
});

/** Starts the child, waits for "ready", then sends `sig`; resolves with how it ended and what it printed. */
function interrupt(target: string, sig: NodeJS.Signals): Promise<{ code: number | null; signal: string | null; out: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [CHILD, target, '3'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready') && !c.killed) c.kill(sig);
    });
    c.on('error', reject);
    c.on('exit', (code, signal) => resolve({ code, signal, out }));
  });
}

test('SIGTERM and SIGINT during a folder write leave no temporary; the process still ends by the signal', async () => {
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    const dir = tmpDir();
    const r = await interrupt(path.join(dir, 'model'), sig);
    assert.equal(r.signal, sig, `ended by ${sig} (${JSON.stringify(r)})`);
    assert.deepEqual(hidden(dir), [], `no hidden temporary after ${sig}`);
  }
});

test('SIGKILL leaves a temporary; the next write into that folder removes it (and only dead writers\')', async () => {
  const dir = tmpDir();
  const r = await interrupt(path.join(dir, 'model'), 'SIGKILL');
  assert.equal(r.signal, 'SIGKILL');
  const left = hidden(dir);
  assert.equal(left.length, 1, 'the killed writer left its temporary folder');
  assert.ok(fs.existsSync(path.join(dir, left[0]!, 'unet.safetensors')), 'with a partial weights file');
  // Older releases' names (.NAME.PID.HEX.tmp) of a dead process go too; a live process's stay.
  const deadPid = Number(/(\d+)[.-][0-9a-f]{8}\.tmp$/.exec(left[0]!)![1]);
  fs.mkdirSync(path.join(dir, `.old-model.${deadPid}.0123abcd.tmp`));
  const liveName = path.basename(tempPathFor(path.join(dir, 'other')));
  fs.writeFileSync(path.join(dir, liveName), 'in progress');
  fs.writeFileSync(path.join(dir, '.keep.me'), 'user file');
  const removed = removeStaleTemporaries(dir);
  assert.deepEqual(removed.map((p) => path.basename(p)).sort(), [left[0]!, `.old-model.${deadPid}.0123abcd.tmp`].sort());
  assert.deepEqual(hidden(dir).sort(), ['.keep.me', liveName].sort());
});
