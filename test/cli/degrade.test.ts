// `vpdsr degrade` end to end on a subset of BSDS500: output layout and sizes, byte-identical
// reruns with the same seed, a bad file reported and skipped with a failing exit code, usage errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, mkdirSync, copyFileSync, writeFileSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { cliPath, sharedDir } from '../helpers.js';

const run = promisify(execFile);
const BSDS = path.join(sharedDir, 'data', 'train', 'bsds500');
const FILES = ['train/100075.jpg', 'train/100080.jpg', 'val/3096.jpg'];
let root = '';
let input = '';

before(() => {
  root = mkdtempSync(path.join(tmpdir(), 'vpdsr-degrade-cli-'));
  input = path.join(root, 'in');
  for (const f of FILES) {
    mkdirSync(path.dirname(path.join(input, f)), { recursive: true });
    copyFileSync(path.join(BSDS, f), path.join(input, f));
  }
});
after(() => rmSync(root, { recursive: true, force: true }));

async function vpdsr(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [cliPath, ...args], { maxBuffer: 1 << 24 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

function tree(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (rel: string): void => {
    for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r); else out.set(r, readFileSync(path.join(dir, r)));
    }
  };
  walk('');
  return out;
}

test('degrade writes hr/, lr/ (HR / 4), params.jsonl; reruns with the same seed are byte-identical', async () => {
  const a = path.join(root, 'a'), b = path.join(root, 'b'), c = path.join(root, 'c');
  const ra = await vpdsr(['degrade', '-i', input, '-o', a, '--seed', '11']);
  assert.equal(ra.code, 0, ra.stderr);
  assert.match(ra.stdout, /degraded 3 of 3 images/);
  const rb = await vpdsr(['degrade', '-i', input, '-o', b, '--seed', '11', '--workers', '2']);
  assert.equal(rb.code, 0, rb.stderr);
  const ta = tree(a), tb = tree(b);
  const expected = ['degrade.json', 'hr/train/100075.png', 'hr/train/100080.png', 'hr/val/3096.png', 'lr/train/100075.png', 'lr/train/100080.png', 'lr/val/3096.png', 'params.jsonl'];
  assert.deepEqual([...ta.keys()].sort(), expected);
  for (const [k, v] of ta) assert.ok(v.equals(tb.get(k)!), `${k} differs between two runs with seed 11`);
  for (const f of FILES) {
    const stem = f.replace(/\.jpg$/, '.png');
    const hr = await sharp(path.join(a, 'hr', stem)).metadata(), lr = await sharp(path.join(a, 'lr', stem)).metadata();
    const src = await sharp(path.join(input, f)).metadata();
    assert.equal(hr.width, src.width! - (src.width! % 4));
    assert.equal(hr.height, src.height! - (src.height! % 4));
    assert.equal(lr.width! * 4, hr.width);
    assert.equal(lr.height! * 4, hr.height);
  }
  const lines = readFileSync(path.join(a, 'params.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(lines.map((l) => l.name), ['train/100075', 'train/100080', 'val/3096']);
  for (const l of lines) assert.ok(l.kernels && l.choices && l.jpeg_quality, 'each line logs kernels, batch choices and JPEG qualities');
  const rc = await vpdsr(['degrade', '-i', input, '-o', c, '--seed', '12', '--gt-size', '256']);
  assert.equal(rc.code, 0, rc.stderr);
  assert.ok(!tree(c).get('lr/train/100075.png')!.equals(ta.get('lr/train/100075.png')!));
  const m = await sharp(path.join(c, 'lr', 'val', '3096.png')).metadata();
  assert.deepEqual([m.width, m.height], [64, 64]);
});

test('a bad file is reported and skipped, the rest are written, the exit code says so', async () => {
  const inp = path.join(root, 'bad-in'), out = path.join(root, 'bad-out');
  mkdirSync(inp, { recursive: true });
  copyFileSync(path.join(BSDS, FILES[0]!), path.join(inp, 'good.jpg'));
  writeFileSync(path.join(inp, 'broken.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
  const r = await vpdsr(['degrade', '-i', inp, '-o', out]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /broken\.jpg/);
  assert.equal(r.stderr.trim().split('\n').length, 1, 'one line per bad file, no stack trace');
  assert.ok(statSync(path.join(out, 'lr', 'good.png')).isFile());
  assert.equal(readFileSync(path.join(out, 'params.jsonl'), 'utf8').trim().split('\n').length, 1);
});

test('usage errors are one line and non-zero', async () => {
  for (const args of [['degrade', '-i', path.join(root, 'none'), '-o', path.join(root, 'x')], ['degrade', '-i', input, '-o', path.join(root, 'x'), '--scale', 'four'],
    ['degrade', '-i', input, '-o', path.join(root, 'x'), '--preset', path.join(root, 'missing.json')], ['degrade', '-i', input, '-o', input]]) {
    const r = await vpdsr(args);
    assert.notEqual(r.code, 0, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^vpdsr: /);
  }
});
