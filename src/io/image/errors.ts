// The one error type of image I/O: a single line that names the file and says what is wrong.

export class ImageError extends Error {
  readonly code = 'VPDSR_IMAGE';
  /** The file (or "<buffer>") the error is about. */
  readonly file: string;

  constructor(file: string, reason: string) {
    super(`${file}: ${oneLine(reason)}`);
    this.name = 'ImageError';
    this.file = file;
  }
}

/** libvips messages span lines and end in newlines: join them into one line. */
export function oneLine(s: string): string {
  const line = [...new Set(s.split('\n').map((l) => l.trim()).filter((l) => l.length > 0))].join(' ') || 'unknown error';
  return line.length > 300 ? line.slice(0, 300) + '…' : line;
}
