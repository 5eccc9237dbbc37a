#!/usr/bin/env node
// Dev script: the bundled model's comparison table on RealSR ×4 (LR → SR against HR) with
// `vpdsr eval` over the output folders of train:default (runs/default-model/eval/*), OSEDiff's
// published outputs and UpscalerJS's (scripts/dev/upscalerjs.mjs), then records it in the model
// folder's model.json (training.evaluation.table) and prints it as Markdown.
//   node scripts/dev/default-model-table.mjs [--eval "node bin/vpdsr.js eval"] [--ujs-out /tmp/ujs-out]
//     [--ujs-times /tmp/ujs-run.log] [--run runs/default-model] [--model models/vpdsr-x4] [--no-record]
import fs from 'node:fs';
import path from 'node:path';
import { execSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: {
  eval: { type: 'string', default: 'node bin/vpdsr.js eval' }, run: { type: 'string', default: 'runs/default-model' },
  model: { type: 'string', default: 'models/vpdsr-x4' }, 'ujs-out': { type: 'string' }, 'ujs-times': { type: 'string' },
  data: { type: 'string', default: '../shared/data/realsr-x4' }, metrics: { type: 'string', default: 'psnr,ssim,niqe,psnr_rgb,ssim_rgb,psnr_basicsr,ssim_basicsr' },
  'no-record': { type: 'boolean' },
} });
const ev = JSON.parse(fs.readFileSync(path.join(values.run, 'eval.json'), 'utf8'));
const secs = Object.fromEntries(ev.rows.map((r) => [r.method, r.seconds_per_image]));
// The diffusion rows carry the export's colour fix when the config names one (train:default's evaluateSet).
const fix = JSON.parse(fs.readFileSync(path.join(values.model, 'model.json'), 'utf8')).colorFix;
const withFix = fix ? ` + ${fix.method} colour fix (${fix.levels} levels)` : '';
const label = { bicubic: 'bicubic', teacher: `teacher (multi-step, T = 4)${withFix}`, 'student-plain': `plain-distillation student (L_distill)${withFix}`, 'student-vpdsr': `VPD-SR student = vpdsr-x4 (shipped)${withFix}`, 'student-vpdsr-raw': 'VPD-SR student without the colour fix' };
const methods = ev.rows.map((r) => ({ name: label[r.method] ?? r.method, dir: path.join(values.run, 'eval', r.method), s: secs[r.method] }));
methods.push({ name: 'OSEDiff (published outputs)', dir: path.join(values.data, 'osediff-sr'), s: null });
if (values['ujs-out']) {
  const times = values['ujs-times'] && fs.existsSync(values['ujs-times'])
    ? Object.fromEntries(fs.readFileSync(values['ujs-times'], 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).map((j) => [j.model, j.seconds_per_image])) : {};
  for (const d of fs.readdirSync(values['ujs-out']).sort()) {
    const n = fs.readdirSync(path.join(values['ujs-out'], d)).length;
    if (n === ev.rows[0].images) methods.push({ name: `UpscalerJS ${d.replace('upscalerjs-', '')} (tfjs wasm)`, dir: path.join(values['ujs-out'], d), s: times[d] ?? null });
  }
}
const out = path.join(values.run, 'table.json');
const cmd = `${values.eval} ${methods.map((m) => `--sr ${JSON.stringify(m.dir)} --name ${JSON.stringify(m.name)}`).join(' ')} --hr ${path.join(values.data, 'hr')} --metrics ${values.metrics} --json ${out} -q`;
process.stderr.write(`${cmd}\n`);
execSync(cmd, { stdio: ['ignore', 'ignore', 'inherit'] });
const docs = [JSON.parse(fs.readFileSync(out, 'utf8'))].flat();
const ids = values.metrics.split(',');
const rows = docs.map((d) => ({ method: d.method, images: d.images.length, ...Object.fromEntries(ids.map((id) => [id, d.mean[id]])), seconds_per_image: methods.find((m) => m.name === d.method)?.s ?? null }));
const lb = docs[0].lower_better;
const f = (v, d = 3) => (typeof v === 'number' ? v.toFixed(d) : '—');
const md = [
  `| method | ${ids.map((id) => `${id} ${lb[id] ? '↓' : '↑'}`).join(' | ')} | s/image |`,
  `| --- | ${ids.map(() => '---').join(' | ')} | --- |`,
  ...rows.map((r) => `| ${r.method} | ${ids.map((id) => f(r[id], id.startsWith('ssim') ? 4 : 3)).join(' | ')} | ${f(r.seconds_per_image, 2)} |`),
].join('\n');
process.stdout.write(md + '\n');
if (!values['no-record']) {
  const file = path.join(values.model, 'model.json');
  const j = JSON.parse(fs.readFileSync(file, 'utf8'));
  j.training.evaluation = { ...j.training.evaluation, table: { set: 'RealSR ×4 (shared/data/realsr-x4), LR → SR vs HR', metrics: `vpdsr eval --metrics ${values.metrics}`, rows } };
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(j, null, 2) + '\n');
  fs.renameSync(tmp, file);
  process.stderr.write(`recorded in ${file}\n`);
}
