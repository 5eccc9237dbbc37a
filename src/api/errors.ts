// Errors of the library surface. Each message is one line a user can act on; the CLI prints it
// as is (no stack trace unless --debug). Every error class vpdsr exports has a stable `code`.

/** An option or flag value that cannot work (the CLI reports it as a usage error, exit 2). */
export class OptionError extends Error {
  readonly code = 'VPDSR_OPTION';
  constructor(message: string) {
    super(message);
    this.name = 'OptionError';
  }
}

/** The run was aborted (AbortSignal, Ctrl-C); nothing of the current image was written. */
export class AbortError extends Error {
  readonly code = 'VPDSR_ABORTED';
  constructor(message = 'upscale aborted') {
    super(message);
    this.name = 'AbortError';
  }
}

/** An image cannot be upscaled within the memory budget (maxMemory / --max-memory); refused before any work. */
export class MemoryError extends Error {
  readonly code = 'VPDSR_MEMORY';
  constructor(message: string) {
    super(message);
    this.name = 'MemoryError';
  }
}

/** A callback of the caller (onProgress, onWarning) threw; the job was stopped and the model stays usable. */
export class CallbackError extends Error {
  readonly code = 'VPDSR_CALLBACK';
  constructor(which: string, cause: unknown) {
    super(`${which} threw: ${oneLine(cause)}`, { cause });
    this.name = 'CallbackError';
  }
}

/** The first line of an error's message, without "Error:" noise. */
export function oneLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return (msg.split('\n').map((l) => l.trim()).find((l) => l.length > 0) ?? 'unknown error');
}
