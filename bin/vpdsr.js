#!/usr/bin/env node
// vpdsr command-line entry: the compiled CLI lives in dist/.
import { main } from '../dist/src/cli/main.js';
main(process.argv).then((code) => { process.exitCode = code; });
