// Command-line conventions: models by name (VPDSR_MODELS, vpdsr models), Real-ESRGAN's aliases,
// --json on stdout, plain progress lines off a terminal, --max-pixels, and the exit codes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { tinyModel } from '../models/tiny-model.js';
import { modelsDir } from '../../src/api/models-dir.js';
import { cliPath, repoRoot } from '../helpers.js';

const SAMPLE = path.join(repoRoot, 'samples', 'chelsea-lr.png');
let root = '';
let models = '';
before(() => {
  root = mkdtempSync(path.join(tmpdir(), 'vpdsr-conv-'));
  models = path.join(root, 'models');
  tinyModel(models); // models/tiny
});
after(() => rmSync(root, { recursive: true, force: true }));

function vpdsr(args: string[], env: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8', env: { ...process.env, VPDSR_MODELS: models, ...env }, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('models folder: VPDSR_MODELS, else the user data folder', () => {
  assert.equal(modelsDir({ VPDSR_MODELS: '/x/m' }), '/x/m');
  if (process.platform === 'linux') {
    assert.equal(modelsDir({ XDG_DATA_HOME: '/d' }), '/d/vpdsr/models');
    assert.match(modelsDir({}), /\/\.local\/share\/vpdsr\/models$/);
  }
});

test('vpdsr models [--json] lists the built-in and the installed models', () => {
  const j = vpdsr(['models', '--json']);
  assert.equal(j.code, 0, j.stderr);
  const list = JSON.parse(j.stdout) as { dir: string; models: { name: string; kind: string; source: string; bytes?: number; provenance: string }[] };
  assert.equal(list.dir, models);
  assert.deepEqual(list.models.map((m) => [m.name, m.kind, m.source]), [['bicubic', 'bicubic', 'bundled'], ['vpdsr-x4', 'unshuffle-diffusion-sr', 'bundled'], ['tiny', 'diffusion-sr', 'installed']]);
  assert.ok(list.models[1]!.bytes! > 1_000_000);
  assert.ok(list.models[2]!.bytes! > 1000);
  assert.match(list.models[2]!.provenance, /^sinsr-v1 \(test\)$/);
  const t = vpdsr(['models']);
  assert.match(t.stdout, /^tiny\s+diffusion-sr\s+installed\s+\d+ MiB\s+sinsr/m);
});

test('--model NAME finds an installed model; -n -s -t --tile_pad --fp32 are accepted; --json prints one line per item and a summary', async () => {
  const out = path.join(root, 'out');
  const r = vpdsr(['upscale', '-i', SAMPLE, '-i', path.join(root, 'missing.png'), '-o', out, '-n', 'tiny', '-s', '2', '-t', '48', '--tile_pad', '8', '--fp32', '--json'],
    { VPDSR_PROGRESS_SECONDS: '0' });
  assert.equal(r.code, 1, r.stderr); // the missing input failed
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(lines.length, 3);
  assert.deepEqual([lines[0]!.status, lines[0]!.width, lines[0]!.height], ['done', 192, 144]);
  assert.equal(lines[0]!.output, path.join(out, 'chelsea-lr.png'));
  assert.equal(lines[1]!.status, 'failed');
  assert.deepEqual(lines[2], { summary: { done: 1, skipped: 0, failed: 1, aborted: false, total: 2 } });
  assert.deepEqual((await sharp(path.join(out, 'chelsea-lr.png')).metadata()).width, 192);
  // stderr is not a terminal: plain progress lines (interval 0 here: one per tile).
  assert.match(r.stderr, /^vpdsr: tiny-sinsr|^vpdsr: sinsr/m);
  assert.match(r.stderr, /^vpdsr: progress: image 1\/1 .*chelsea-lr\.png: tile \d+\/\d+ \(\d+%\), [\d.]+ tiles\/s, ETA \S+$/m);
});

test('an unknown model name is a usage error with the installed names and a did-you-mean', () => {
  const r = vpdsr(['upscale', '-i', SAMPLE, '-o', path.join(root, 'o2'), '--model', 'tinny']);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /model tinny: not a folder and not installed in .*models \(installed: bicubic, vpdsr-x4, tiny\) \(did you mean tiny\?\)/);
  assert.ok(!existsSync(path.join(root, 'o2', 'chelsea-lr.png')));
});

test('--max-pixels refuses a larger input by name; the batch exit code is 1', () => {
  const out = path.join(root, 'o3');
  const r = vpdsr(['upscale', '-i', SAMPLE, '-o', out, '--max-pixels', '1000']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /chelsea-lr\.png: 96×72 = 6912 pixels exceeds the limit of 1000/);
  assert.deepEqual(readdirSync(out), []);
  assert.equal(vpdsr(['upscale', '-i', SAMPLE, '-o', out, '--max-pixels', 'many']).code, 2);
});

test('convert --name: checked as a model name; exactly one of --out and --name', () => {
  const base = ['convert', '--preset', 'sinsr', '--unet', 'u.pth', '--vq', 'v.pth'];
  const bad = vpdsr([...base, '--name', '../escape']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--name: model name "\.\.\/escape": use letters, digits/);
  const both = vpdsr([...base, '--name', 'a', '--out', path.join(root, 'a')]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /give --out DIR or --name NAME/);
  // A good name writes into the models folder (here it stops at the missing weights, naming them).
  const miss = vpdsr([...base, '--name', 'mine']);
  assert.equal(miss.code, 1);
  assert.match(miss.stderr, /u\.pth/);
});
