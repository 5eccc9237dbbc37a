// Test-only entry for `vpdsr upscale` (src/cli/upscale-cli.ts) until src/cli/main.ts registers it:
// the same program set-up as main.ts (exit codes, one-line errors), with only this command.
// Runs only when VPDSR_UPSCALE_ENTRY=1, so `node --test dist/test/` loading it does nothing.
import { Command, CommanderError } from 'commander';
import { registerUpscale } from '../../src/cli/upscale-cli.js';
import { reportError, setDebug } from '../../src/cli/errors.js';

export async function entry(argv: string[]): Promise<number> {
  const program = new Command();
  program.name('vpdsr').option('--debug', 'print stack traces').exitOverride()
    .hook('preAction', (cmd) => { if (cmd.opts().debug) setDebug(true); });
  registerUpscale(program);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    reportError(e);
    return 1;
  }
}

if (process.env.VPDSR_UPSCALE_ENTRY === '1') {
  entry(process.argv).then((code) => { process.exitCode = code; });
}
