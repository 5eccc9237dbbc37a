// Hostile input, one class at a time: each file is small and was built to cost a reader
// gigabytes or minutes. Every case runs in a child process whose wall time and peak RSS are
// bounded (generous bounds for a loaded CI machine), and whose answer is checked: the right
// refusal naming the file, or the right result. "It threw" alone is never the check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildZip, tmpDir } from './fixtures.js';
import { bigStateDictPickle, deflatedZeros, writeBombs } from './bombs.js';
import { tinyUnetParam } from './hostile-widths.js';
import { parseClasses } from '../../src/io/checkpoint/torchscript.js';
import { inspectCheckpoint, inspectJson } from '../../src/cli/inspect.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'hostile-child.js');
const MAX_RSS_KB = 1024 * 1024; // 1 GiB
const MAX_SECONDS = 30;

const dir = tmpDir('vpdsr-hostile-');
const bombs = writeBombs(dir);

interface ChildResult { ok: boolean; message: string; output: string; maxRssKb: number; seconds: number }

/**
 * Children run under an address-space cap when prlimit(1) is there, so a regression fails the
 * test with an allocation error instead of swapping the machine. The cap is virtual memory
 * (Node and LibTorch reserve about 2 GB of it); the bound checked is the peak RSS.
 */
const CAP = spawnSync('prlimit', ['--version']).status === 0 ? ['prlimit', '--as=6000000000', '--'] : [];

function child(op: string, files: string[], prefix: string[] = CAP): ChildResult {
  const t0 = performance.now();
  const argv = [...prefix, process.execPath, CHILD, op, ...files];
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 3 * MAX_SECONDS * 1000 });
  const seconds = (performance.now() - t0) / 1000;
  const line = r.stdout.trim().split('\n').pop() ?? '';
  assert.ok(line.startsWith('{'), `${op} ${files[0]}: the child printed no result (status ${r.status}, signal ${r.signal}): ${r.stderr.slice(-400)}`);
  return { ...(JSON.parse(line) as Omit<ChildResult, 'seconds'>), seconds };
}

/** Runs one case and checks the bounds. */
function bounded(op: string, files: string[]): ChildResult {
  const r = child(op, files);
  assert.ok(r.maxRssKb <= MAX_RSS_KB, `${op} ${path.basename(files[0]!)}: peak RSS ${(r.maxRssKb / 1024).toFixed(0)} MiB, bound ${MAX_RSS_KB / 1024} MiB`);
  assert.ok(r.seconds <= MAX_SECONDS, `${op} ${path.basename(files[0]!)}: ${r.seconds.toFixed(1)} s, bound ${MAX_SECONDS} s`);
  return r;
}

/** A refusal: one line, naming the file, saying why. */
function refused(r: ChildResult, file: string, why: RegExp): void {
  assert.equal(r.ok, false, `${file}: expected a refusal, got ${r.output.slice(0, 200)}`);
  assert.ok(r.message.startsWith(`${file}: `), `the error names the file: ${r.message.slice(0, 300)}`);
  assert.ok(!r.message.includes('\n'), 'one line');
  assert.match(r.message, why);
}

test('stride-0 views: refused from the metadata, before any dense copy (read, inspect, convert)', () => {
  const f = bombs.stride0!.file;
  refused(bounded('read', [f]), f, /overlaps itself: its 1-element storage cannot back it/);
  refused(bounded('inspect', [f]), f, /overlaps itself/);
  refused(bounded('convert', [f, f, tmpDir()]), f, /overlaps itself/);
  const huge = bombs.hugeView!.file;
  refused(bounded('read', [huge]), huge, /view of 1099511627776 elements .* overlaps itself/);
});

test('deflate bomb: an unexpected key is refused before its 1 GiB storage is inflated', () => {
  const f = bombs.deflate!.file;
  refused(bounded('convert', [f, f, tmpDir()]), f, /not a UNetModelSwin checkpoint: unexpected key bomb\.weight/);
  refused(bounded('inspect', [bombs.pickleInflate!.file]), bombs.pickleInflate!.file, /entry archive\/data\.pkl declares 1073741824 bytes, more than the \d+ a pickle may have/);
  refused(bounded('inspect', [bombs.codeInflate!.file]), bombs.codeInflate!.file, /entry archive\/code\/__torch__\/m\.py declares 1073741824 bytes, more than the \d+ a TorchScript source file may have/);
});

test('deflate bomb: an expected key viewing a 1 GiB storage is refused, not inflated', () => {
  const p = tinyUnetParam();
  const numel = p.shape.reduce((a, b) => a * b, 1);
  const stride = p.shape.map((_, i) => p.shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const n = 1 << 28;
  const f = path.join(dir, 'expected-key-bomb.pth');
  fs.writeFileSync(f, buildZip([
    { name: 'archive/data.pkl', data: bigStateDictPickle([{ name: p.name, cls: 'FloatStorage', key: '0', numel: n, size: p.shape, stride }]) },
    { name: 'archive/data/0', data: Buffer.alloc(0), deflated: { body: deflatedZeros(n * 4), size: n * 4 } },
    { name: 'archive/version', data: Buffer.from('3\n') },
  ]));
  assert.ok(numel * 4 < (n * 4) / 16, 'the view is a small part of the storage');
  refused(bounded('convert', [f, f, tmpDir()]), f, new RegExp(`view storages of ${n * 4} bytes in all, for ${numel * 4} bytes of weights`));
});

test('TorchScript source: 400 000 escaped quotes parse in linear time', () => {
  const f = bombs.regex!.file;
  const r = bounded('inspect', [f]);
  assert.equal(r.ok, true, r.message);
  assert.match(r.output, /\(module\): __torch__\.m\.M/);
  // The scanner itself: a malformed list is not a declaration; a well-formed one is read exactly.
  assert.deepEqual(parseClasses(`class M(Module):\n  __parameters__ = ["${'\\"'.repeat(1000)}]\n`).get('M')!.parameters, []);
  assert.deepEqual(parseClasses('class M(Module):\n  __parameters__ = ["a\\"b", "c", ]\n  __buffers__ = []\n').get('M')!.parameters, ['a"b', 'c']);
});

test('deep nesting: a 30 000-deep module chain is walked iteratively; a million nested lists are refused', () => {
  const deep = bombs.deepScript!.file;
  const r = bounded('inspect', [deep]);
  assert.equal(r.ok, true, r.message);
  assert.ok(r.output.includes(`${'a.'.repeat(29_999)}a: None`), 'the innermost attribute is listed under its full path');
  const read = bounded('read', [deep]);
  assert.equal(read.ok, true, read.message);
  refused(bounded('inspect', [bombs.deepList!.file]), bombs.deepList!.file, /containers nest deeper than 1000 levels/);
  // A dict key inspect cannot print: the error names the file.
  refused(bounded('inspect', [bombs.bytesKey!.file]), bombs.bytesKey!.file, /dict key is not a str/);
});

test('a pickle that makes an object per byte is stopped before the heap fills', () => {
  const f = bombs.pickleFlood!.file;
  refused(bounded('inspect', [f]), f, /the pickle makes more than \d+ values \(the limit for a pickle\)/);
});

test('many tensors: 200 000 tensors are listed', () => {
  const f = bombs.manyTensors!.file;
  const r = bounded('inspect', [f]);
  assert.equal(r.ok, true, r.message);
  assert.match(r.output, /^tensors: 200000$/m);
  assert.match(r.output, /^ {2}layer\.199999\.w +F32 +\[1\]$/m);
});

test('huge declared sizes: a 2^40-element storage over a 4-byte record, a 2 GiB view of a storage', () => {
  const f = bombs.hugeDeclared!.file;
  refused(bounded('read', [f]), f, /record archive\/data\/0 holds 4 bytes, its storage of 1099511627776 F32 needs 4398046511104/);
  // Strided views of storages of 2 GiB or more: sizes are 64-bit safe (no "Invalid typed array length").
  const g = bounded('gather2g', ['-']);
  assert.equal(g.ok, true, g.message);
  assert.equal(g.output, '16 bytes, last 7');
});

test('a 2 GiB file named .png that is no image is refused from its first bytes', () => {
  const f = bombs.fakePng!.file;
  const r = bounded('image', [f]);
  assert.equal(r.ok, false);
  assert.match(r.message, new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not a recognised image format$`));
});

test('tensor names cannot drive the terminal: inspect and convert escape control characters', () => {
  const f = bombs.escapes!.file;
  const r = bounded('inspect', [f]);
  assert.equal(r.ok, true, r.message);
  assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f]/.test(r.output), 'no control characters but newlines in the text output');
  assert.match(r.output, /^ {2}evil\\x1b\[2J\\x1b\]0;owned\\x07\\nforged: line\\x9b2J\\u202e +F32 +\[1\]$/m);
  const json = inspectJson(inspectCheckpoint(f));
  assert.ok(!/[\u0000-\u001f\u007f-\u009f\u202e]/.test(json.replace(/\n/g, '')), 'no raw control characters in --json either');
  assert.equal((JSON.parse(json) as { tensors: { name: string }[] }).tensors[0]!.name, 'evil\x1b[2J\x1b]0;owned\x07\nforged: line\u009b2J\u202e');
  assert.ok(!/^forged/m.test(r.output), 'no forged line');
  const c = bounded('convert', [f, f, tmpDir()]);
  assert.equal(c.ok, false);
  assert.match(c.message, /unexpected key evil\\x1b\[2J\\x1b\]0;owned\\x07\\nforged: line\\x9b2J\\u202e/);
});
