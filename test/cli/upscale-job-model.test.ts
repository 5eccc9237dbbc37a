// `vpdsr upscale` (issue 8 command) with a real diffusion model folder: the golden e2e tiny
// networks (SinSR one-step schedule, padding 16). The CLI's pixels equal the pipeline Upscaler's
// for the same seed; alpha, grey and 16-bit go through it; the tile comes from --max-memory.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import * as torch from '../../src/engine/index.js';
import { loadUpscaler, bicubicX4 } from '../../src/models/index.js';
import { applyColorFix } from '../../src/models/colorfix.js';
import { defaultDType } from '../../src/models/precision.js';
import { readImage, toUint8 } from '../../src/io/image/index.js';
import { tinyModel } from '../models/tiny-model.js';
import { loadModel, upscale, AbortError } from '../../src/api.js';

const run = promisify(execFile);
const ENTRY = path.join(path.dirname(fileURLToPath(import.meta.url)), 'upscale-job-entry.js');
const ENV = { ...process.env, VPDSR_UPSCALE_ENTRY: '1' };
let root = '';
let model = '';


async function noisePng(file: string, w: number, h: number, channels: 1 | 2 | 3 | 4, seed: number): Promise<void> {
  const buf = Buffer.alloc(w * h * channels);
  let s = seed;
  for (let i = 0; i < buf.length; i++) { s = (Math.imul(s, 1103515245) + 12345) >>> 0; buf[i] = s >>> 24; }
  const img = sharp(buf, { raw: { width: w, height: h, channels } }).blur(1.2);
  await (channels <= 2 ? img.toColourspace('b-w') : img).png().toFile(file);
}

async function vpdsr(args: string[]): Promise<{ code: number; out: string }> {
  try {
    const r = await run(process.execPath, [ENTRY, 'upscale', ...args], { env: ENV, maxBuffer: 1 << 24 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, out: x.stdout + x.stderr };
  }
}

before(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'vpdsr-upscale-model-'));
  model = tinyModel(root);
  await noisePng(path.join(root, 'rgb.png'), 40, 28, 3, 1);
  await noisePng(path.join(root, 'rgba.png'), 24, 20, 4, 2);
  await noisePng(path.join(root, 'grey.png'), 24, 20, 1, 3);
  await noisePng(path.join(root, 'big.png'), 160, 120, 3, 4);
});
after(() => rmSync(root, { recursive: true, force: true }));

test('--model DIR: pixels equal the pipeline Upscaler for the same seed, tiled as asked', async () => {
  const out = path.join(root, 'out');
  for (const [tile, extra] of [['0', []], ['16', ['--tile-overlap', '4']]] as const) {
    const dir = `${out}-${tile}`;
    const r = await vpdsr(['-i', path.join(root, 'rgb.png'), '-o', dir, '--model', model, '--seed', '7', '--tile', tile, ...extra]);
    assert.equal(r.code, 0, r.out);
    // No --dtype: this CPU's default (auto with AVX512_BF16/AMX, else fp32), the same as loadUpscaler's below.
    assert.match(r.out, new RegExp(`sinsr-v1 on cpu \\(${defaultDType('cpu')}\\)`));
    const got = await sharp(path.join(dir, 'rgb.png')).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([got.info.width, got.info.height, got.info.channels], [160, 112, 3]);
    const up = loadUpscaler({ model });
    const lr = await readImage(path.join(root, 'rgb.png'));
    const want = torch.scope(() => toUint8(up.upscale(lr.data, { seed: 7, tile: Number(tile), tileOverlap: 4 })).squeeze(0).permute(1, 2, 0).contiguous().toBytes());
    lr.data.dispose();
    up.dispose();
    assert.ok(Buffer.from(want).equals(got.data), `tile ${tile}: CLI pixels differ from the Upscaler's`);
  }
});

test('a model folder\'s colorFix runs by default (--color-fix auto) and not with --color-fix none', async () => {
  const fixed = path.join(root, 'model-colorfix');
  fs.cpSync(model, fixed, { recursive: true });
  const json = JSON.parse(fs.readFileSync(path.join(fixed, 'model.json'), 'utf8')) as Record<string, unknown>;
  fs.writeFileSync(path.join(fixed, 'model.json'), JSON.stringify({ ...json, colorFix: { method: 'wavelet', levels: 2 } }));
  const read = async (dir: string): Promise<Buffer> => (await sharp(path.join(dir, 'rgb.png')).raw().toBuffer());
  const runs: Record<string, Buffer> = {};
  for (const fix of ['default', 'none']) {
    const dir = path.join(root, `out-colorfix-${fix}`);
    const r = await vpdsr(['-i', path.join(root, 'rgb.png'), '-o', dir, '--model', fixed, '--seed', '7', '--tile', '0', '--dtype', 'fp32', ...(fix === 'none' ? ['--color-fix', 'none'] : [])]);
    assert.equal(r.code, 0, r.out);
    runs[fix] = await read(dir);
  }
  const up = loadUpscaler({ model: fixed, dtype: 'fp32' });
  assert.deepEqual(up.colorFix, { method: 'wavelet', levels: 2 });
  const lr = await readImage(path.join(root, 'rgb.png'));
  const bytes = (t: torch.Tensor): Buffer => Buffer.from(toUint8(t).squeeze(0).permute(1, 2, 0).contiguous().toBytes());
  const [raw, want] = torch.scope(() => {
    const y = up.upscale(lr.data, { seed: 7, tile: 0 });
    return [bytes(y), bytes(applyColorFix({ method: 'wavelet', levels: 2 }, y, bicubicX4(lr.data).clamp(0, 1)))];
  });
  lr.data.dispose();
  up.dispose();
  assert.ok(raw.equals(runs.none!), '--color-fix none: the model output as is');
  assert.ok(want.equals(runs.default!), 'default: the folder\'s two-level wavelet fix');
  assert.ok(!raw.equals(want), 'the fix changed the pixels');
});

test('--model DIR: alpha re-attached, grey written back as grey, 16-bit kept; an image over --max-memory is refused before work', async () => {
  const out = path.join(root, 'px');
  const r = await vpdsr(['-i', path.join(root, 'rgba.png'), '-i', path.join(root, 'grey.png'), '-o', out, '--model', model]);
  assert.equal(r.code, 0, r.out);
  const a = await sharp(path.join(out, 'rgba.png')).metadata();
  assert.deepEqual([a.width, a.height, a.channels], [96, 80, 4]);
  const gi = await readImage(path.join(root, 'grey.png'));
  assert.equal(gi.channels, 1, 'the input is grey');
  gi.data.dispose();
  const g = await readImage(path.join(out, 'grey.png'));
  assert.deepEqual([g.width, g.height, g.channels], [96, 80, 1]);
  g.data.dispose();
  const x16 = path.join(root, 'x16.png');
  await sharp(path.join(root, 'rgb.png')).toColourspace('rgb16').png().toFile(x16);
  const over = await vpdsr(['-i', x16, '-o', out, '--model', model, '--max-memory', '1M']);
  assert.equal(over.code, 1, over.out);
  assert.match(over.out, /^vpdsr: failed: .*x16\.png: 40×28 needs about \d+ MiB even with 64-px tiles, more than the memory budget of 1 MiB; raise --max-memory/m);
  assert.ok(!fs.existsSync(path.join(out, 'x16.png')));
  const r16 = await vpdsr(['-i', x16, '-o', out, '--model', model, '--tile', '16', '--tile-overlap', '8']);
  assert.equal(r16.code, 0, r16.out);
  assert.equal((await sharp(path.join(out, 'x16.png')).metadata()).depth, 'ushort');
});

test('library: the model works in a worker, the event loop stays free, and a timer\'s abort stops it at the next tile', async () => {
  const m = await loadModel({ model });
  try {
    assert.equal(m.thread, 'worker');
    let ticks = 0;
    const timer = setInterval(() => { ticks++; }, 20);
    const seen: number[] = [];
    const ac = new AbortController();
    let stopAfter = 0;
    const job = upscale(path.join(root, 'big.png'), { model: m, tile: 16, tileOverlap: 4, signal: ac.signal, onProgress: (p) => {
      seen.push(p.tile);
      if (p.tile === 3) { stopAfter = p.tiles; setTimeout(() => ac.abort(), 0); }
    } });
    await assert.rejects(job, AbortError);
    clearInterval(timer);
    assert.ok(stopAfter > 50, `tiles in all: ${stopAfter}`);
    assert.ok(seen.length >= 3 && seen.length < stopAfter, `tiles done before the abort: ${seen.length} of ${stopAfter}`);
    assert.ok(ticks > 0, 'timers ran while the model computed');
    // The same model goes on working after an abort.
    const png = await upscale(path.join(root, 'rgb.png'), { model: m, seed: 7, tile: 0 });
    assert.equal((await sharp(png).metadata()).width, 160);
  } finally {
    m.dispose();
  }
});

test('CLI: Ctrl-C during a many-tile diffusion image stops it at the next tile: exit 130, nothing written', async () => {
  const out = path.join(root, 'sigint');
  const child = spawn(process.execPath, [ENTRY, 'upscale', '-i', path.join(root, 'big.png'), '-i', path.join(root, 'rgb.png'), '-o', out, '--model', model, '--tile', '16', '--tile-overlap', '4'], { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const loaded = new Promise<void>((resolve) => child.stderr.on('data', (d: Buffer) => { text += d.toString(); if (/loaded in/.test(text)) resolve(); }));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, sig) => resolve({ code, signal: sig })));
  await loaded;
  await new Promise((r) => setTimeout(r, 800));
  const t0 = performance.now();
  child.kill('SIGINT');
  const { code, signal } = await exited;
  const seconds = (performance.now() - t0) / 1000;
  assert.deepEqual([code, signal], [130, null], text);
  assert.match(text, /interrupted/);
  assert.match(text, /0 done, 0 skipped, 0 failed, interrupted \(of 2\)/);
  assert.ok(seconds < 10, `took ${seconds.toFixed(1)} s to stop`);
  assert.deepEqual(existsSync(out) ? readdirSync(out) : [], [], 'no output, no temporary file');
});
