// Test entry for `vpdsr upscale`: the CLI's own main (src/cli/main.ts: exit codes, one-line
// errors), run only when VPDSR_UPSCALE_ENTRY=1, so `node --test dist/test/` loading it does nothing.
import { main } from '../../src/cli/main.js';

export async function entry(argv: string[]): Promise<number> {
  return main(argv);
}

if (process.env.VPDSR_UPSCALE_ENTRY === '1') {
  entry(process.argv).then((code) => { process.exitCode = code; });
}
