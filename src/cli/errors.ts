// Maps errors to one clear line (no stack trace unless --debug) and exit codes. Every subcommand
// uses these: throw UsageError (or let an OptionError from the api through) for a bad flag, and
// return one of EXIT's codes from the action.
import { OptionError } from '../api/errors.js';
import { printable } from '../io/printable.js';
import { parseOptions, type ParseContext, type z } from '../api/options.js';

/** The documented exit codes of every vpdsr command. */
export const EXIT = {
  /** Everything done (or skipped). */
  ok: 0,
  /** Something failed (an item of a batch, a model that does not load, a corrupt file). */
  failed: 1,
  /** Bad command line: an unknown flag or command, a bad flag value. */
  usage: 2,
  /** Interrupted by Ctrl-C (128 + SIGINT). */
  sigint: 130,
  /** Terminated by SIGTERM (128 + SIGTERM). */
  sigterm: 143,
} as const;

export class UsageError extends Error {
  readonly code = 'VPDSR_USAGE';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

let debug = process.env.VPDSR_DEBUG === '1';
export function setDebug(v: boolean): void { debug = v; }
export function isDebug(): boolean { return debug; }

/**
 * One line for a user: the message's first line, without "Error:" noise, with control characters
 * escaped (messages quote names from files, which must not drive the terminal).
 */
export function oneLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return printable(msg.split('\n')[0]!.trim());
}

export function reportError(e: unknown): void {
  if (debug && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  else process.stderr.write(`vpdsr: ${oneLine(e)}\n`);
}

/** The exit code for an error that ended a command: 2 for usage (bad flags), 1 otherwise. */
export function exitCodeFor(e: unknown): number {
  return e instanceof UsageError || e instanceof OptionError ? EXIT.usage : EXIT.failed;
}

/** A flag name as the user typed it: tileOverlap → --tile-overlap. */
export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** Checks a command's flags (as an object keyed like its schema) with that schema; UsageError names the flag. */
export function parseFlags<S extends z.ZodType>(schema: S, flags: unknown, command: string, label: (key: string) => string = flagName): z.output<S> {
  const ctx: ParseContext = { where: command, label };
  try {
    return parseOptions(schema, flags, ctx);
  } catch (e) {
    if (e instanceof OptionError) throw new UsageError(e.message);
    throw e;
  }
}

/**
 * commander's error text ("error: unknown option '--tiel'\n(Did you mean --tile?)") as one line.
 */
export function commanderLine(text: string): string {
  const parts = text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  return `vpdsr: ${parts.join(' ').replace(/^error: /, '').replace('(Did you mean', '(did you mean')}`;
}

/** A commander argParser for numeric flags: a number when the text is one, else the text (the schema then names the flag). */
export function numeric(v: string): number | string {
  return /^\s*-?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?\s*$/i.test(v) ? Number(v) : v;
}
