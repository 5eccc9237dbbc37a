// vpdsr train-teacher --config FILE [--resume DIR] [--iterations N] [--out DIR]: train a ResShift teacher (latent or pixel space) from a config file.
import type { Command } from 'commander';
import { trainTeacher } from '../train/index.js';
import { addNprocOption } from './launch.js';
import { runTrainCommand, type TrainCliOptions } from './train-common.js';

export function registerTrainTeacher(program: Command): void {
  addNprocOption(program
    .command('train-teacher')
    .description('train a ResShift teacher (latent or pixel space) from a config file')
    .option('--config <file>', 'the training config (YAML or JSON)')
    .option('--resume <dir>', 'continue the run in this folder from its last checkpoint')
    .option('--iterations <n>', 'override the config\'s iteration count')
    .option('--out <dir>', 'override the config\'s run folder')
    .option('-q, --quiet', 'no progress output'))
    .action(async (o: TrainCliOptions) => runTrainCommand('teacher', o, trainTeacher));
}
