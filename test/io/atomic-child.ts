// Writes a model folder (as `vpdsr convert` does) whose weights take a while, printing "ready"
// once the temporary folder holds a partial weights file: the test then signals or kills this
// process mid-write.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { getPreset } from '../../src/models/presets.js';
import { presetModelJson } from '../../src/models/convert.js';
import { writeModelFolder, UNET_FILE, AUTOENCODER_FILE } from '../../src/models/format.js';
import { tinyWidths } from './hostile-widths.js';

const [target, seconds] = process.argv.slice(2);
// The test runner also loads this file, with no arguments: then it does nothing.
if (target !== undefined) writeModelFolder(target, presetModelJson(getPreset('sinsr'), [], 'test', tinyWidths()), (tmp) => {
  fs.writeFileSync(path.join(tmp, UNET_FILE), Buffer.alloc(1 << 20));
  process.stdout.write(`ready ${tmp}\n`);
  const until = Date.now() + Number(seconds) * 1000;
  while (Date.now() < until) { /* a long synchronous write, as convert's */ }
  fs.writeFileSync(path.join(tmp, AUTOENCODER_FILE), Buffer.alloc(1 << 10));
});
if (target !== undefined) process.stdout.write('done\n');
