// `node dist/bench/data/io-run.js [WIDTH HEIGHT]`: prints the image I/O bench as JSON lines.
import { benchImageIO } from './io.js';

const [w, h] = process.argv.slice(2).map(Number);
for (const line of await benchImageIO({ width: w || undefined, height: h || undefined })) console.log(line);
