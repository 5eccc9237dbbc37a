// vpdsr distill --config FILE [--resume DIR] [--iterations N] [--out DIR] [--clip FILE]: distil the one-step VPD-SR student from a teacher model folder.
import type { Command } from 'commander';
import { distill } from '../train/index.js';
import { addNprocOption } from './launch.js';
import { runTrainCommand, type TrainCliOptions } from './train-common.js';

export function registerDistill(program: Command): void {
  addNprocOption(program
    .command('distill')
    .description('distil the one-step VPD-SR student from a teacher model folder')
    .option('--config <file>', 'the training config (YAML or JSON)')
    .option('--resume <dir>', 'continue the run in this folder from its last checkpoint')
    .option('--iterations <n>', 'override the config\'s iteration count')
    .option('--out <dir>', 'override the config\'s run folder')
    .option('--clip <file>', 'CLIP weights (e.g. OpenAI\'s ViT-B-16.pt) as the ESS encoder, in place of the config\'s')
    .option('-q, --quiet', 'no progress output'))
    .action(async (o: TrainCliOptions) => runTrainCommand('distill', o, distill));
}
