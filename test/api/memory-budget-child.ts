// One upscale in a process of its own, so the test can read its peak RSS:
//   node memory-budget-child.js MODEL_DIR SIZE MAX_MEMORY [TILE]
// loads the model, then upscales a SIZE×SIZE image with maxMemory (and tile, when given) and
// prints one JSON line { loadedBytes, peakBytes, tiles }: the RSS once the model is loaded and the
// process's peak RSS after the upscale.
import { loadModel } from '../../src/api/model.js';
import { upscale } from '../../src/api/upscale.js';

const [dir, sizeArg, maxMemory, tileArg] = process.argv.slice(2);
// The test runner also loads this file, with no arguments: then it does nothing.
if (dir === undefined) process.exit(0);
const size = Number(sizeArg);
const model = await loadModel(dir!, { worker: false });
// A smooth test card (the networks' cost does not depend on the content).
const data = new Uint8Array(size * size * 3);
for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) for (let c = 0; c < 3; c++) data[(y * size + x) * 3 + c] = (x * 3 + y * 5 + c * 40) & 255;
const loadedBytes = Math.max(process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);
let tiles = 0;
await upscale({ data, width: size, height: size, channels: 3 }, {
  model, maxMemory: maxMemory!, ...(tileArg === undefined ? {} : { tile: Number(tileArg) }),
  onProgress: (p) => { tiles = p.tiles; },
});
const peakBytes = process.resourceUsage().maxRSS * 1024;
model.dispose();
process.stdout.write(JSON.stringify({ loadedBytes, peakBytes, tiles }) + '\n');
