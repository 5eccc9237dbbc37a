// vpdsr command line: one file per subcommand registers itself here.
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { reportError, setDebug } from './errors.js';
import { registerDoctor } from './doctor.js';
import { registerParity } from './parity.js';
import { registerUpscale } from './upscale.js';
import { registerConvert } from './convert.js';
import { registerInspect } from './inspect.js';
import { registerDegrade } from './degrade.js';

function packageVersion(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'vpdsr' && pkg.version) return pkg.version;
    } catch { /* keep looking upwards */ }
    dir = path.dirname(dir);
  }
  return '0.0.0';
}

export function buildProgram(): Command {
  const version = packageVersion();
  const program = new Command();
  program
    .name('vpdsr')
    .description('One-step diffusion real-world image super-resolution (VPD-SR) on LibTorch')
    .version(version, '-V, --version')
    .option('--debug', 'print stack traces')
    .showHelpAfterError()
    .exitOverride()
    .hook('preAction', (cmd) => { if (cmd.opts().debug) setDebug(true); });
  registerDoctor(program, version);
  registerParity(program);
  registerUpscale(program);
  registerConvert(program, version);
  registerInspect(program);
  registerDegrade(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    reportError(e);
    return 1;
  }
}
