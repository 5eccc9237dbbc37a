// vpdsr convert --preset P --unet FILE --vq FILE --out DIR: public .pth files → a vpdsr model folder.
import type { Command } from 'commander';
import { convertPublic } from '../models/convert.js';
import { checkModelName, modelsDir } from '../api/models-dir.js';
import { OptionError } from '../api/errors.js';
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { UsageError } from './errors.js';

export interface ConvertCliOptions { preset: string; unet: string; vq: string; out?: string; name?: string; force?: boolean; quiet?: boolean }

/** The folder to write: --out DIR, or --name NAME in the models folder (vpdsr models). */
function target(o: ConvertCliOptions): string {
  if ((o.out === undefined) === (o.name === undefined)) throw new UsageError('convert: give --out DIR or --name NAME (saved in the models folder), one of them');
  if (o.out !== undefined) {
    if (!o.out.trim()) throw new UsageError('--out must name a folder');
    return o.out;
  }
  try {
    checkModelName(o.name!);
  } catch (e) {
    throw new UsageError(`--name: ${(e as OptionError).message}`);
  }
  const dir = modelsDir();
  mkdirSync(dir, { recursive: true });
  return path.join(dir, o.name!);
}

export function registerConvert(program: Command, version = '0.0.0'): void {
  program
    .command('convert')
    .description('make a vpdsr model folder from public ResShift/SinSR checkpoints')
    .requiredOption('--preset <name>', 'resshift-v1|resshift-v2|resshift-v3|resshift-bicsr|sinsr (sinsr-v1)|sinsr-v2')
    .requiredOption('--unet <file>', 'the UNet .pth (e.g. SinSR_v1.pth, resshift_realsrx4_s4_v3.pth)')
    .requiredOption('--vq <file>', 'the autoencoder .pth (autoencoder_vq_f4.pth)')
    .option('--out <dir>', 'the model folder to create')
    .option('--name <name>', 'save as NAME in the models folder (VPDSR_MODELS); then --model NAME finds it')
    .option('--force', 'replace an existing non-empty folder')
    .option('-q, --quiet', 'no summary line')
    .action((o: ConvertCliOptions) => {
      const out = target(o);
      const r = convertPublic(o.preset, o.unet, o.vq, out, {
        force: o.force, createdBy: `vpdsr ${version}`,
        onWarning: (w) => process.stderr.write(`vpdsr: warning: ${w}\n`),
      });
      if (!o.quiet) {
        process.stderr.write(`vpdsr: ${out}: model ${r.json.name} (${r.json.sampler}, T = ${r.json.schedule.steps}); read ${r.seconds.read.toFixed(1)} s, wrote ${r.seconds.write.toFixed(1)} s\n`);
      }
    });
}
