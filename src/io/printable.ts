// Text from a file (tensor names, metadata, dict keys) is printed to terminals; a name holding an
// escape sequence could clear the screen, set the window title or forge lines of output. It is
// shown escaped instead, the way Python's repr() shows such characters.

/** C0 controls, DEL, C1 controls, and the Unicode marks that reorder or hide text. */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

/** `s` with every control or bidi character written as \xNN or \uNNNN (printable text unchanged). */
export function printable(s: string): string {
  return s.replace(UNPRINTABLE, (c) => {
    const code = c.charCodeAt(0);
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
