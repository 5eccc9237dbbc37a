// vpdsr convert and the model folder format: public-layout .pth files (written here the way
// torch.save lays them out, with the tiny networks of the golden e2e case) → a model folder that
// loads strictly and upscales; the error paths of the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as torch from '../../src/engine/index.js';
import { Tensor } from '../../src/engine/index.js';
import { SafetensorsFile } from '../../src/io/checkpoint/safetensors.js';
import { loadSafetensors, saveSafetensors } from '../../src/io/checkpoint/tensors.js';
import { convertPublic, loadModelFolder, loadUpscaler, readModelJson } from '../../src/models/index.js';
import { fromSinSRConfig } from '../../src/models/unet/index.js';
import type { VQConfig } from '../../src/models/vq/index.js';
import { PickleWriter, buildZip, tmpDir, type ZipInput } from '../io/fixtures.js';
import { cliPath, goldenDir } from '../helpers.js';

const E2E = path.join(goldenDir('models'), 'cases', 'e2e-upscale-sinsr-one-step-24x20.safetensors');
const manifest = JSON.parse(fs.readFileSync(path.join(goldenDir('models'), 'manifest.json'), 'utf8')) as { cases: { kind: string; params: Record<string, unknown> }[] };
const e2eParams = manifest.cases.find((c) => c.kind === 'e2e.upscale')!.params;
const unetConfig = fromSinSRConfig(e2eParams.unet_config as Record<string, unknown>);
const vqConfig = e2eParams.vq_config as VQConfig;
const widths = { unetConfig, vqConfig, padding: 16 };

const STORAGE: Record<string, string> = { float16: 'HalfStorage', float32: 'FloatStorage', int64: 'LongStorage' };

/** torch.save's zip layout of `obj` = { ...extra ints, [wrapKey]: OrderedDict(tensors) } or the bare OrderedDict. */
function torchSave(file: string, tensors: Map<string, Tensor>, opts: { wrap?: string; prefix?: string; extra?: Record<string, number> } = {}): void {
  const w = new PickleWriter().proto();
  if (opts.wrap) {
    w.op(0x7d).mark(); // EMPTY_DICT, MARK
    for (const [k, v] of Object.entries(opts.extra ?? {})) w.str(k).int(v);
    w.str(opts.wrap);
  }
  w.global('collections', 'OrderedDict').emptyTuple().reduce().mark();
  const entries: ZipInput[] = [];
  let key = 0;
  for (const [name, t] of tensors) {
    const k = String(key++);
    w.str((opts.prefix ?? '') + name).global('torch._utils', '_rebuild_tensor_v2').mark();
    w.mark().str('storage').global('torch', STORAGE[t.dtype]!).str(k).str('cpu').int(t.numel).tuple().op(0x51); // BINPERSID
    w.int(0).mark();
    for (const s of t.shape) w.int(s);
    w.tuple().mark();
    let stride = 1;
    const strides = t.shape.map(() => 0);
    for (let i = t.shape.length - 1; i >= 0; i--) { strides[i] = stride; stride *= t.shape[i]!; }
    for (const s of strides) w.int(s);
    w.tuple().op(0x89).global('collections', 'OrderedDict').emptyTuple().reduce().tuple().reduce(); // NEWFALSE
    entries.push({ name: `archive/data/${k}`, data: t.contiguous().toBytes() });
  }
  w.setitems();
  if (opts.wrap) w.setitems();
  w.stop();
  fs.writeFileSync(file, buildZip([{ name: 'archive/data.pkl', data: w.bytes() }, ...entries, { name: 'archive/version', data: Buffer.from('3\n') }]));
}

/** The golden tiny networks as public files: UNet as a trainer checkpoint (F16, module.), VQ flat F32. */
function publicFiles(dir: string): { unet: string; vq: string } {
  return torch.scope(() => {
    const all = loadSafetensors(E2E);
    const unet = new Map<string, Tensor>(), vq = new Map<string, Tensor>();
    for (const [k, t] of all) {
      if (k.startsWith('w.unet.')) unet.set(k.slice(7), t); // stored F16: the reader must up-cast
      if (k.startsWith('w.vq.')) vq.set(k.slice(5), t.float());
    }
    const files = { unet: path.join(dir, 'SinSR_v1.pth'), vq: path.join(dir, 'autoencoder_vq_f4.pth') };
    torchSave(files.unet, unet, { wrap: 'state_dict', prefix: 'module.', extra: { iters_start: 3 } });
    torchSave(files.vq, vq);
    return files;
  });
}

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('convert: a trainer-layout F16 UNet + flat VQ → a strict model folder with the buffers', () => {
  const dir = tmpDir();
  const src = publicFiles(dir);
  const out = path.join(dir, 'model');
  const warnings: string[] = [];
  const r = convertPublic('sinsr', src.unet, src.vq, out, { ...widths, onWarning: (w) => warnings.push(w) });
  assert.deepEqual(warnings, []);
  assert.deepEqual(fs.readdirSync(out).sort(), ['autoencoder.safetensors', 'model.json', 'unet.safetensors']);
  const json = readModelJson(out);
  assert.equal(json.name, 'sinsr-v1');
  assert.equal(json.sampler, 'one-step');
  assert.equal(json.oneStep, true);
  assert.equal(json.padding, 16);
  assert.deepEqual(json.schedule, { steps: 15, kappa: 2, power: 0.3, minNoiseLevel: 0.04, etasEnd: 0.99, etasStart: 'legacy' });
  assert.deepEqual(json.provenance.sources.map((s) => [s.role, s.name, s.bytes]), [
    ['unet', 'SinSR_v1.pth', fs.statSync(src.unet).size], ['autoencoder', 'autoencoder_vq_f4.pth', fs.statSync(src.vq).size],
  ]);
  assert.match(json.provenance.sources[0]!.sha256, /^[0-9a-f]{64}$/);
  assert.ok(r.seconds.read >= 0 && r.seconds.write >= 0);
  const f = SafetensorsFile.open(path.join(out, 'unet.safetensors'));
  try {
    const names = f.names();
    assert.ok(!names.some((n) => n.startsWith('module.')), 'keys are unprefixed');
    const rpi = names.filter((n) => n.endsWith('relative_position_index'));
    assert.ok(rpi.length > 0, 'relative_position_index buffers are included');
    assert.equal(f.info(rpi[0]!).dtype, 'I64');
    assert.ok(names.some((n) => n.endsWith('attn_mask')), 'the shifted blocks carry attn_mask');
    for (const n of names) if (!n.endsWith('relative_position_index')) assert.equal(f.info(n).dtype, 'F32', n);
  } finally {
    f.close();
  }
  // The weights are the golden ones, up-cast exactly.
  torch.scope(() => {
    const got = loadSafetensors(path.join(out, 'unet.safetensors'));
    const gold = loadSafetensors(E2E);
    const k = 'input_blocks.0.0.weight';
    assert.equal(got.get(k)!.sub(gold.get(`w.unet.${k}`)!.float()).abs().max().item(), 0);
  });
  // A model folder is loaded strictly and upscales.
  const m = loadModelFolder(out);
  m.unet.dispose(); m.vq?.dispose();
  const up = loadUpscaler({ model: out });
  torch.scope(() => {
    const y = up.upscale(torch.rand([1, 3, 24, 20], { generator: new torch.Generator(4) }), { seed: 1 });
    assert.deepEqual(y.shape, [1, 3, 96, 80]);
    assert.ok(y.min().item() >= 0 && y.max().item() <= 1);
  });
  up.dispose();
});

test('model folders are strict: extra fields, missing or extra keys, wrong dtypes are errors naming them', () => {
  const dir = tmpDir();
  const src = publicFiles(dir);
  const good = path.join(dir, 'good');
  convertPublic('sinsr', src.unet, src.vq, good, widths);
  const copy = (name: string): string => {
    const d = path.join(dir, name);
    fs.cpSync(good, d, { recursive: true });
    return d;
  };
  const edit = (d: string, f: (j: Record<string, unknown>) => void): void => {
    const j = JSON.parse(fs.readFileSync(path.join(d, 'model.json'), 'utf8')) as Record<string, unknown>;
    f(j);
    fs.writeFileSync(path.join(d, 'model.json'), JSON.stringify(j));
  };
  const a = copy('extra-field');
  edit(a, (j) => { j.speed = 'fast'; });
  assert.throws(() => loadModelFolder(a), /model\.json\.speed: is not a field of this format \(strict\)/);
  const b = copy('bad-sampler');
  edit(b, (j) => { j.sampler = 'ddim'; });
  assert.throws(() => loadModelFolder(b), /sampler: must be "one-step" for a one-step model/);
  const c = copy('bad-schedule');
  edit(c, (j) => { (j.schedule as Record<string, unknown>).etasStart = 'new'; });
  assert.throws(() => loadModelFolder(c), /schedule\.etasStart: must be "journal" or "legacy"/);
  const d = copy('missing-key');
  torch.scope(() => {
    const w = loadSafetensors(path.join(d, 'unet.safetensors'));
    w.delete('out.2.bias');
    w.set('extra.weight', torch.zeros([1]));
    saveSafetensors(path.join(d, 'unet.safetensors'), w);
  });
  assert.throws(() => loadModelFolder(d), /unet\.safetensors: missing key out\.2\.bias; unexpected key extra\.weight/);
  const e = copy('f16');
  torch.scope(() => {
    const w = loadSafetensors(path.join(e, 'autoencoder.safetensors'));
    w.set('quant_conv.bias', w.get('quant_conv.bias')!.half());
    saveSafetensors(path.join(e, 'autoencoder.safetensors'), w);
  });
  assert.throws(() => loadModelFolder(e), /autoencoder\.safetensors: quant_conv\.bias: dtype F16, expected F32/);
  const f = copy('no-weights');
  fs.rmSync(path.join(f, 'unet.safetensors'));
  assert.throws(() => loadModelFolder(f), /unet\.safetensors: missing \(the model folder is incomplete\)/);
  assert.throws(() => loadModelFolder(path.join(dir, 'nothing')), /model folder not found/);
  assert.throws(() => loadModelFolder(src.unet), /not a model folder/);
});

test('convert: unknown keys and wrong shapes in a public file are errors naming the key', () => {
  const dir = tmpDir();
  const src = publicFiles(dir);
  torch.scope(() => {
    const vq = new Map([...loadSafetensors(E2E)].filter(([k]) => k.startsWith('w.vq.')).map(([k, t]) => [k.slice(5), t.float()] as [string, Tensor]));
    vq.set('loss.discriminator.weight', torch.zeros([2]));
    torchSave(path.join(dir, 'vq-extra.pth'), vq);
    vq.delete('loss.discriminator.weight');
    const bias = vq.get('quant_conv.bias')!;
    vq.set('quant_conv.bias', torch.zeros([4]));
    torchSave(path.join(dir, 'vq-shape.pth'), vq);
    vq.set('quant_conv.bias', bias);
    vq.delete('decoder.conv_out.bias');
    torchSave(path.join(dir, 'vq-missing.pth'), vq);
  });
  fs.writeFileSync(path.join(dir, 'garbage.pth'), Buffer.from('PK\x03\x04 this is not really a zip'));
  assert.throws(() => convertPublic('sinsr', src.unet, path.join(dir, 'vq-missing.pth'), path.join(dir, 'o4'), widths),
    /vq-missing\.pth: .*missing keys: decoder\.conv_out\.bias/);
  assert.throws(() => convertPublic('sinsr', path.join(dir, 'garbage.pth'), src.vq, path.join(dir, 'o5'), widths),
    (e: Error) => e.message.includes('garbage.pth') && !e.message.includes('\n'));
  assert.throws(() => convertPublic('sinsr', src.unet, path.join(dir, 'vq-extra.pth'), path.join(dir, 'o1'), widths),
    /vq-extra\.pth: not a VQ-f4 autoencoder checkpoint: unexpected key loss\.discriminator\.weight/);
  assert.throws(() => convertPublic('sinsr', src.unet, path.join(dir, 'vq-shape.pth'), path.join(dir, 'o2'), widths),
    /quant_conv\.bias: shape \[4\], the VQ-f4 autoencoder has \[3\]/);
  // The released architecture is the default: the tiny files do not fit it.
  assert.throws(() => convertPublic('sinsr', src.unet, src.vq, path.join(dir, 'o3')), /SinSR_v1\.pth: not a UNetModelSwin checkpoint: (unexpected key|.*shape)/);
  for (const o of ['o1', 'o2', 'o3', 'o4', 'o5']) assert.ok(!fs.existsSync(path.join(dir, o)), `no partial folder ${o}`);
  assert.deepEqual(fs.readdirSync(dir).filter((n) => n.endsWith('.tmp')), []);
});

test('vpdsr convert CLI: missing files name the file and its URL; a non-empty --out needs --force', () => {
  const dir = tmpDir();
  const r = cli('convert', '--preset', 'resshift-v3', '--unet', path.join(dir, 'none.pth'), '--vq', path.join(dir, 'vq.pth'), '--out', path.join(dir, 'm'));
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /none\.pth: UNet weights not found \(resshift_realsrx4_s4_v3\.pth is published at https:\/\/github\.com\/zsyOAOA\/ResShift\/releases\/download\/v2\.0\/resshift_realsrx4_s4_v3\.pth; download it yourself, vpdsr never downloads\)/);
  const src = publicFiles(dir);
  const r2 = cli('convert', '--preset', 'sinsr', '--unet', src.unet, '--vq', path.join(dir, 'vq.pth'), '--out', path.join(dir, 'm'));
  assert.match(r2.stderr, /vq\.pth: autoencoder weights not found \(autoencoder_vq_f4\.pth is published at https:\/\/github\.com\/zsyOAOA\/ResShift\/releases\/download\/v2\.0\/autoencoder_vq_f4\.pth/);
  const r3 = cli('convert', '--preset', 'sinsr-v9', '--unet', src.unet, '--vq', src.vq, '--out', path.join(dir, 'm'));
  assert.match(r3.stderr, /^vpdsr: unknown preset "sinsr-v9"; expected one of resshift-v1, .*sinsr\n$/);
  const out = path.join(dir, 'full');
  fs.mkdirSync(out);
  fs.writeFileSync(path.join(out, 'keep.txt'), 'user data');
  const r4 = cli('convert', '--preset', 'sinsr', '--unet', src.unet, '--vq', src.vq, '--out', out);
  assert.equal(r4.code, 1);
  assert.match(r4.stderr, /folder exists and is not empty \(choose another --out, or pass --force\)/);
  assert.equal(fs.readFileSync(path.join(out, 'keep.txt'), 'utf8'), 'user data');
  // (A successful CLI convert needs the full-size files: scripts/make-fullsize-pth.py, a manual check.)
  const r5 = cli('convert', '--preset', 'sinsr', '--unet', src.unet, '--vq', src.vq, '--out', path.join(dir, 'x'), '--force');
  assert.equal(r5.code, 1);
  assert.match(r5.stderr, /^vpdsr: .*SinSR_v1\.pth: not a UNetModelSwin checkpoint/);
  assert.ok(!r5.stderr.includes('    at '), 'no stack trace');
});
