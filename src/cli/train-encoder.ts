// vpdsr train-encoder --config FILE [--resume DIR] [--iterations N] [--out DIR]: train the stand-in image encoder that ESS uses when no CLIP is given.
import type { Command } from 'commander';
import { trainEncoder } from '../train/index.js';
import { addNprocOption } from './launch.js';
import { runTrainCommand, type TrainCliOptions } from './train-common.js';

export function registerTrainEncoder(program: Command): void {
  addNprocOption(program
    .command('train-encoder')
    .description('train the stand-in image encoder that ESS uses when no CLIP is given')
    .option('--config <file>', 'the training config (YAML or JSON)')
    .option('--resume <dir>', 'continue the run in this folder from its last checkpoint')
    .option('--iterations <n>', 'override the config\'s iteration count')
    .option('--out <dir>', 'override the config\'s run folder')
    .option('-q, --quiet', 'no progress output'))
    .action(async (o: TrainCliOptions) => runTrainCommand('encoder', o, trainEncoder));
}
