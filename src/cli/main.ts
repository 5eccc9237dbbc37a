// vpdsr command line: one file per subcommand registers itself here. Exit codes (src/cli/errors.ts
// EXIT): 0 ok, 1 something failed, 2 usage (unknown flag or command, bad value), 130/143 signals.
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { commanderLine, exitCodeFor, EXIT, reportError, setDebug } from './errors.js';

type Register = (program: Command, version: string) => void;

// Each subcommand's module is imported only when that command runs, so `vpdsr inspect` does not
// load LibTorch and a broken module cannot take the other commands down. `--help` loads them all.
const COMMANDS: Record<string, () => Promise<Register>> = {
  upscale: async () => (await import('./upscale-cli.js')).registerUpscale,
  convert: async () => (await import('./convert.js')).registerConvert,
  inspect: async () => (await import('./inspect.js')).registerInspect,
  degrade: async () => (await import('./degrade.js')).registerDegrade,
  doctor: async () => (await import('./doctor.js')).registerDoctor,
  parity: async () => (await import('./parity.js')).registerParity,
  'train-teacher': async () => (await import('./train-teacher.js')).registerTrainTeacher,
  distill: async () => (await import('./distill.js')).registerDistill,
  'train-encoder': async () => (await import('./train-encoder.js')).registerTrainEncoder,
  models: async () => (await import('./models.js')).registerModels,
  eval: async () => (await import('./eval.js')).registerEval,
};

/** The subcommand named on the command line (first argument that is not an option), if any. */
function requestedCommand(argv: string[]): string | undefined {
  const first = argv.slice(2).find((a) => !a.startsWith('-'));
  return first !== undefined && Object.prototype.hasOwnProperty.call(COMMANDS, first) ? first : undefined;
}

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

export async function buildProgram(argv: string[] = []): Promise<Command> {
  const version = packageVersion();
  const program = new Command();
  program
    .name('vpdsr')
    .description('One-step diffusion real-world image super-resolution (VPD-SR) on LibTorch')
    .version(version, '-V, --version')
    .option('--debug', 'print stack traces')
    // Errors of the command line are one line (with commander's did-you-mean), not the help.
    .configureOutput({ outputError: (text, write) => write(`${commanderLine(text)}\n`) })
    .exitOverride()
    .hook('preAction', (cmd) => { if (cmd.opts().debug) setDebug(true); });
  const wanted = requestedCommand(argv);
  for (const name of wanted ? [wanted] : Object.keys(COMMANDS)) (await COMMANDS[name]!())(program, version);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    const program = await buildProgram(argv);
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    reportError(e);
    return exitCodeFor(e);
  }
}
