// The library as a dependency sees it: what it exports, one options schema (unknown keys refused
// with a did-you-mean, one default model), errors with a code, callbacks that throw, the worker
// under `node --input-type=module`, and a folder holding a symlink loop.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, copyFileSync, rmSync, symlinkSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import * as api from '../../src/api.js';
import { AbortError, CallbackError, ImageError, MemoryError, ModelFormatError, OptionError, loadModel, upscale, expandInputs, DEFAULT_MODEL } from '../../src/api.js';
import { didYouMean } from '../../src/api/options.js';
import { BicubicUpscaler } from '../../src/models/bicubic.js';
import { repoRoot } from '../helpers.js';

const SAMPLE = path.join(repoRoot, 'samples', 'chelsea-lr.png');
let root = '';
before(() => { root = mkdtempSync(path.join(tmpdir(), 'vpdsr-surface-')); });
after(() => rmSync(root, { recursive: true, force: true }));

test('exports: everything the README shows, errors as classes with a code', () => {
  for (const name of ['loadModel', 'upscale', 'modelFromUpscaler', 'runBatch', 'expandInputs', 'setNumThreads', 'getNumThreads', 'scope', 'keep', 'Tensor', 'listModels', 'modelsDir', 'parseOptions']) {
    assert.equal(typeof (api as Record<string, unknown>)[name], 'function', name);
  }
  assert.equal(DEFAULT_MODEL, 'vpdsr-x4');
  const codes = [[new OptionError('x'), 'VPDSR_OPTION'], [new AbortError(), 'VPDSR_ABORTED'], [new MemoryError('x'), 'VPDSR_MEMORY'],
    [new CallbackError('onProgress', new Error('x')), 'VPDSR_CALLBACK'], [new ImageError('f.png', 'bad'), 'VPDSR_IMAGE'], [new ModelFormatError('x'), 'VPDSR_MODEL_FORMAT'],
    [new api.CheckpointError('x'), 'VPDSR_CHECKPOINT']] as const;
  for (const [e, code] of codes) {
    assert.ok(e instanceof Error);
    assert.equal(e.code, code, e.name);
  }
});

test('options: unknown keys are refused with a did-you-mean; bad values name the option; one check', async () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ patchSize: 64 }, /^upscale\(input, options\): unknown option patchSize$/],
    [{ scale: 2 }, /unknown option scale \(did you mean outscale\?\)/],
    [{ tiel: 64 }, /unknown option tiel \(did you mean tile\?\)/],
    [{ tile: 8 }, /tile must be 0 \(no tiling\) or an integer of at least 16 LR pixels, got 8/],
    [{ tile: 64, tileOverlap: 40 }, /tileOverlap 40 is more than half of tile 64/],
    [{ quality: 0 }, /quality must be an integer from 1 to 100, got 0/],
    [{ colorFix: 'wavlet' }, /colorFix must be one of auto, none, adain, wavelet, got "wavlet" \(did you mean wavelet\?\)/],
    [{ maxMemory: 'lots' }, /maxMemory must be a size like 4G/],
    [{ outscale: 2, width: 10 }, /outscale cannot be combined with width\/height/],
    [{ onProgress: 3 }, /onProgress must be a function, got 3/],
  ];
  for (const [o, re] of cases) {
    await assert.rejects(upscale(SAMPLE, o as never), (e: unknown) => e instanceof OptionError && re.test(e.message) && !e.message.includes('\n'), JSON.stringify(o));
  }
  await assert.rejects(loadModel({ model: 'bicubic', dtyp: 'bf16' } as never), /loadModel\(spec\): unknown option dtyp \(did you mean dtype\?\)/);
  await assert.rejects(loadModel({ model: 'bicubic', dtype: 'bf16' }), /dtype bf16 does not apply to the bicubic model/);
  await assert.rejects(loadModel('bicubic', { workers: false } as never), /unknown option workers/);
  assert.equal(didYouMean('--tiel', ['--tile', '--seed']), '--tile');
  assert.equal(didYouMean('zzzzzz', ['--tile', '--seed']), undefined);
});

test('the default model is the same for the library and the CLI (the bundled vpdsr-x4)', async () => {
  const viaDefault = await upscale(SAMPLE);
  const m = await loadModel(DEFAULT_MODEL, { worker: false });
  try {
    assert.equal(m.name, 'vpdsr-x4');
    assert.equal(m.kind, 'diffusion');
    assert.ok(viaDefault.equals(await upscale(SAMPLE, { model: m })));
  } finally {
    m.dispose();
  }
});

test('a throwing onProgress / onWarning rejects the call and leaves the model usable, in a worker and in this thread', async () => {
  // A 16-bit input written as JPEG gives a warning ("stores 8 bits").
  const x16 = path.join(root, 'x16.png');
  await sharp(SAMPLE).toColourspace('rgb16').png().toFile(x16);
  for (const worker of [true, false]) {
    const model = await loadModel('bicubic', { worker });
    try {
      await assert.rejects(upscale(SAMPLE, { model, tile: 32, onProgress: () => { throw new Error('progress boom'); } }),
        (e: unknown) => e instanceof CallbackError && /onProgress threw: progress boom/.test(e.message), `worker ${worker}`);
      await assert.rejects(upscale(x16, { model, ext: 'jpg', onWarning: () => { throw new Error('warning boom'); } }),
        (e: unknown) => e instanceof CallbackError && /onWarning threw: warning boom/.test(e.message), `worker ${worker}`);
      let tiles = 0;
      const png = await upscale(SAMPLE, { model, tile: 32, onProgress: () => { tiles++; } });
      assert.ok(png.length > 0 && tiles === 9, `worker ${worker}: ${tiles} tiles`);
      assert.equal(model.disposed, false);
    } finally {
      model.dispose();
    }
  }
});

test('the worker starts under node --input-type=module (it does not inherit execArgv)', () => {
  const apiUrl = pathToFileURL(path.join(repoRoot, 'dist', 'src', 'api.js')).href;
  const code = `import { loadModel, upscale } from '${apiUrl}';
const model = await loadModel('bicubic');
const png = await upscale(${JSON.stringify(SAMPLE)}, { model });
console.log(model.thread, png.length > 0);
model.dispose();`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'worker true');
});

test('a symlink loop in an input folder is reported for that entry; the other images are still taken', () => {
  const dir = path.join(root, 'loop');
  mkdirSync(dir);
  copyFileSync(SAMPLE, path.join(dir, 'good.png'));
  symlinkSync('a.png', path.join(dir, 'b.png'));
  symlinkSync('b.png', path.join(dir, 'a.png'));
  symlinkSync('self.png', path.join(dir, 'self.png'));
  const r = expandInputs([dir]);
  assert.deepEqual(r.files, [path.join(dir, 'good.png')]);
  assert.deepEqual(r.missing.map((m) => [path.basename(m.input), m.reason]), [
    ['a.png', 'cannot follow the link (ELOOP)'], ['b.png', 'cannot follow the link (ELOOP)'], ['self.png', 'cannot follow the link (ELOOP)'],
  ]);
  // The CLI goes on: the good image is written, each bad entry is one failure line, exit 1.
  const out = path.join(root, 'loop-out');
  const c = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'vpdsr.js'), 'upscale', '-i', dir, '-o', out], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(c.status, 1, c.stderr);
  assert.ok(existsSync(path.join(out, 'good.png')));
  assert.match(c.stderr, /^vpdsr: failed: -i .*self\.png: cannot follow the link \(ELOOP\)$/m);
  assert.match(c.stderr, /vpdsr: 1 done, 0 skipped, 3 failed/);
});

test('the pixel limit and the memory budget: an image over either is refused with one line before work', async () => {
  await assert.rejects(upscale(SAMPLE, { maxPixels: 1000 }), (e: unknown) => e instanceof ImageError && /exceeds the limit of 1000/.test(e.message));
  // 96×72 → 384×288: the whole-image buffers alone exceed 1 MiB, bicubic included.
  let progress = 0;
  await assert.rejects(upscale(SAMPLE, { maxMemory: '1M', onProgress: () => { progress++; } }),
    (e: unknown) => e instanceof MemoryError && /96×72 needs about \d+ MiB .*more than the memory budget of 1 MiB/.test(e.message));
  assert.equal(progress, 0, 'no tile ran');
  // A budget that fits the buffers but not the whole bicubic interpolation at once: tiles.
  let tiles = 0;
  const whole = await upscale(SAMPLE, { model: 'bicubic' });
  const tiled = await upscale(SAMPLE, { model: 'bicubic', maxMemory: 384 * 288 * 56 + new BicubicUpscaler().tileBytes(64) + 1, onProgress: (p) => { tiles = p.tiles; } });
  assert.equal(tiles, 4, '64-px tiles of 96×72');
  assert.ok(tiled.equals(whole), 'the same bytes as untiled');
});

test('runBatch checks its options like upscale() and fills the same defaults', async () => {
  const model = await loadModel('bicubic', { worker: false });
  try {
    const outDir = path.join(root, 'batch');
    await assert.rejects(api.runBatch([SAMPLE], model, { outDir, tiel: 3 } as never), /runBatch\(files, model, options\): unknown option tiel \(did you mean tile\?\)/);
    await assert.rejects(api.runBatch([SAMPLE], {} as never, { outDir }), /model must be a Model from loadModel\(\)/);
    await assert.rejects(api.runBatch([SAMPLE], model, { outDir, size: { outscale: 2, width: 3 } }), /outscale cannot be combined with width\/height/);
    const s = await api.runBatch([SAMPLE], model, { outDir, size: { outscale: 2 } });
    assert.deepEqual([s.done, s.failed, s.results[0]!.width], [1, 0, 192]);
  } finally {
    model.dispose();
  }
});
