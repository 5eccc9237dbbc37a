#!/usr/bin/env node
// vpdsr command-line entry: the compiled CLI lives in dist/.
import { main } from '../dist/src/cli/main.js';

// A reader that stops early (`vpdsr models | head`) ends the run quietly, as SIGPIPE would.
for (const s of [process.stdout, process.stderr]) {
  s.on('error', (e) => { if (e.code === 'EPIPE') process.exit(0); else throw e; });
}
main(process.argv).then((code) => { process.exitCode = code; });
