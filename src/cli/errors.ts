// Maps errors to one clear line (no stack trace unless --debug) and exit codes.
import { printable } from '../io/printable.js';

export class UsageError extends Error {
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
