// Errors of the library surface. Each message is one line a user can act on; the CLI prints it
// as is (no stack trace unless --debug).

/** An option or flag value that cannot work (the CLI reports it as a usage error). */
export class OptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OptionError';
  }
}

/** The run was aborted (AbortSignal, Ctrl-C); nothing of the current image was written. */
export class AbortError extends Error {
  constructor(message = 'upscale aborted') {
    super(message);
    this.name = 'AbortError';
  }
}

/** The first line of an error's message, without "Error:" noise. */
export function oneLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return (msg.split('\n').map((l) => l.trim()).find((l) => l.length > 0) ?? 'unknown error');
}
