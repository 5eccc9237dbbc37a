// The one error type checkpoint readers throw: a single line that starts with the file's name.

import { PickleError } from './pickle.js';

/** Runs a reader and puts the file's name in front of any error (one line, no nesting of names). */
export function withFile<T>(file: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const refused = e instanceof PickleError || e instanceof CheckpointError ? e.refusedGlobal : undefined;
    throw new CheckpointError(msg.startsWith(`${file}: `) ? msg : `${file}: ${msg}`, refused);
  }
}

/** A checkpoint that cannot be read; `refusedGlobal` says which global stopped it, if one did. */
export class CheckpointError extends Error {
  readonly code = 'VPDSR_CHECKPOINT';
  readonly refusedGlobal?: string;
  constructor(message: string, refusedGlobal?: string) {
    super(message);
    this.name = 'CheckpointError';
    if (refusedGlobal !== undefined) this.refusedGlobal = refusedGlobal;
  }
}
