#!/usr/bin/env node
// Dev script (never a dependency of vpdsr): UpscalerJS's published ESRGAN models on TensorFlow.js's
// wasm backend, for the comparison table and the speed bench. Install them into a scratch folder:
//   mkdir -p /tmp/ujs && cd /tmp/ujs && npm init -y && npm install @upscalerjs/esrgan-slim \
//     @upscalerjs/esrgan-medium @upscalerjs/esrgan-thick @tensorflow/tfjs @tensorflow/tfjs-backend-wasm
// then from the repository:
//   node scripts/dev/upscalerjs.mjs --dir /tmp/ujs --lr ../shared/data/realsr-x4/lr --out /tmp/ujs-out   (outputs)
//   node scripts/dev/upscalerjs.mjs --dir /tmp/ujs --bench 128 --repeat 3                                (timing)
// Each model's x4 layers model is loaded from its package folder (models/x4) and run on the whole
// image in one piece with the package's input/output ranges; outputs are clamped and rounded to 8 bit.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import sharp from 'sharp';

const { values } = parseArgs({ options: {
  dir: { type: 'string', default: '/tmp/ujs' }, lr: { type: 'string' }, out: { type: 'string' },
  models: { type: 'string', default: 'slim,medium,thick' }, threads: { type: 'string', default: '2' },
  bench: { type: 'string' }, repeat: { type: 'string', default: '3' }, max: { type: 'string' },
} });
const req = createRequire(path.join(path.resolve(values.dir), 'package.json'));
const tf = req('@tensorflow/tfjs');
const wasm = req('@tensorflow/tfjs-backend-wasm');
wasm.setThreadsCount?.(Number(values.threads));
await tf.setBackend('wasm');
await tf.ready();

function ioHandler(modelJson) {
  const dir = path.dirname(modelJson);
  return {
    async load() {
      const j = JSON.parse(fs.readFileSync(modelJson, 'utf8'));
      const specs = [], bufs = [];
      for (const g of j.weightsManifest) {
        specs.push(...g.weights);
        for (const p of g.paths) bufs.push(fs.readFileSync(path.join(dir, p)));
      }
      const all = Buffer.concat(bufs);
      return { modelTopology: j.modelTopology, weightSpecs: specs, weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength), format: j.format, generatedBy: j.generatedBy, convertedBy: j.convertedBy };
    },
  };
}

async function loadModel(size) {
  const pkg = `@upscalerjs/esrgan-${size}`;
  const def = req(`${pkg}/4x`).default ?? req(`${pkg}/4x`);
  def.setup?.(tf);
  const root = path.join(path.resolve(values.dir), 'node_modules', pkg);
  const model = await tf.loadLayersModel(ioHandler(path.join(root, def._internals.path)));
  return { name: `upscalerjs-esrgan-${size}`, model, inMax: def.inputRange[1], outMax: def.outputRange[1] };
}

/** uint8 HWC RGB → uint8 HWC RGB ×4. */
function run(m, data, w, h) {
  return tf.tidy(() => {
    const x = tf.tensor4d(Float32Array.from(data), [1, h, w, 3]).mul(m.inMax / 255);
    const y = m.model.predict(x).mul(255 / m.outMax).clipByValue(0, 255).round();
    return y.dataSync();
  });
}

const names = values.models.split(',');
let peak = process.memoryUsage().rss;
const sample = () => { peak = Math.max(peak, process.memoryUsage().rss); };
const timer = setInterval(sample, 20);
if (values.bench) {
  const s = Number(values.bench);
  const data = new Uint8Array(s * s * 3).map((_, i) => (i * 2654435761) >>> 24);
  for (const n of names) {
    const m = await loadModel(n);
    run(m, data, s, s); // warm-up
    const times = [];
    for (let i = 0; i < Number(values.repeat); i++) { const t0 = performance.now(); run(m, data, s, s); times.push((performance.now() - t0) / 1000); sample(); }
    times.sort((a, b) => a - b);
    process.stdout.write(JSON.stringify({ model: m.name, backend: tf.getBackend(), threads: Number(values.threads), input: `${s}x${s}`, output: `${4 * s}x${4 * s}`, seconds_median: times[times.length >> 1], seconds: times, peak_rss_mib: Math.round(peak / 2 ** 20) }) + '\n');
    m.model.dispose();
  }
} else {
  if (!values.lr || !values.out) { process.stderr.write('upscalerjs: give --lr DIR and --out DIR, or --bench SIZE\n'); process.exit(2); }
  const files = fs.readdirSync(values.lr).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort().slice(0, values.max ? Number(values.max) : undefined);
  for (const n of names) {
    const m = await loadModel(n);
    const dir = path.join(values.out, m.name);
    fs.mkdirSync(dir, { recursive: true });
    let secs = 0;
    for (const f of files) {
      const { data, info } = await sharp(path.join(values.lr, f)).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
      const t0 = performance.now();
      const y = run(m, data, info.width, info.height);
      secs += (performance.now() - t0) / 1000;
      sample();
      await sharp(Buffer.from(Uint8Array.from(y)), { raw: { width: info.width * 4, height: info.height * 4, channels: 3 } }).png().toFile(path.join(dir, f.replace(/\.[^.]+$/, '.png')));
    }
    process.stdout.write(JSON.stringify({ model: m.name, backend: tf.getBackend(), threads: Number(values.threads), images: files.length, seconds_per_image: secs / files.length, peak_rss_mib: Math.round(peak / 2 ** 20) }) + '\n');
    m.model.dispose();
  }
}
clearInterval(timer);
