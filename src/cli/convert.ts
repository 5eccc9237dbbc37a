// vpdsr convert --preset P --unet FILE --vq FILE --out DIR: public .pth files → a vpdsr model folder.
import type { Command } from 'commander';
import { convertPublic } from '../models/convert.js';
import { UsageError } from './errors.js';

export interface ConvertCliOptions { preset: string; unet: string; vq: string; out: string; force?: boolean; quiet?: boolean }

export function registerConvert(program: Command, version = '0.0.0'): void {
  program
    .command('convert')
    .description('make a vpdsr model folder from public ResShift/SinSR checkpoints')
    .requiredOption('--preset <name>', 'resshift-v1|resshift-v2|resshift-v3|resshift-bicsr|sinsr (sinsr-v1)|sinsr-v2')
    .requiredOption('--unet <file>', 'the UNet .pth (e.g. SinSR_v1.pth, resshift_realsrx4_s4_v3.pth)')
    .requiredOption('--vq <file>', 'the autoencoder .pth (autoencoder_vq_f4.pth)')
    .requiredOption('--out <dir>', 'the model folder to create')
    .option('--force', 'replace an existing non-empty folder')
    .option('-q, --quiet', 'no summary line')
    .action((o: ConvertCliOptions) => {
      if (!o.out.trim()) throw new UsageError('--out must name a folder');
      const r = convertPublic(o.preset, o.unet, o.vq, o.out, {
        force: o.force, createdBy: `vpdsr ${version}`,
        onWarning: (w) => process.stderr.write(`vpdsr: warning: ${w}\n`),
      });
      if (!o.quiet) {
        process.stderr.write(`vpdsr: ${o.out}: model ${r.json.name} (${r.json.sampler}, T = ${r.json.schedule.steps}); read ${r.seconds.read.toFixed(1)} s, wrote ${r.seconds.write.toFixed(1)} s\n`);
      }
    });
}
