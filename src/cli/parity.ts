// vpdsr parity --golden DIR [--kinds a,b]: runs a golden set and prints one line per case.
import type { Command } from 'commander';
import { runGolden, formatReport } from '../parity/runner.js';

export function registerParity(program: Command): void {
  program
    .command('parity')
    .description('check vpdsr against golden reference results (one line per case)')
    .requiredOption('--golden <dir>', 'golden set folder (with manifest.json)')
    .option('--kinds <list>', 'comma-separated kinds to run')
    .option('--cases <regex>', 'only cases whose name matches')
    .option('--json', 'print JSON lines')
    .action(async (opts: { golden: string; kinds?: string; cases?: string; json?: boolean }) => {
      const reports = await runGolden(opts.golden, {
        kinds: opts.kinds ? opts.kinds.split(',').map((s) => s.trim()).filter(Boolean) : undefined,
        names: opts.cases ? new RegExp(opts.cases) : undefined,
        onCase: (r) => process.stdout.write((opts.json ? JSON.stringify(r) : formatReport(r)) + '\n'),
      });
      const failed = reports.filter((r) => !r.pass).length;
      process.stdout.write(`${reports.length - failed} passed, ${failed} failed\n`);
      if (failed > 0 || reports.length === 0) process.exitCode = 1;
    });
}
