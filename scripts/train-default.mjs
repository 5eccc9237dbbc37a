#!/usr/bin/env node
// npm run train:default [-- --iterations N] [--out DIR] [--config FILE] [--no-eval]: trains the bundled
// model from configs/default-model.yaml; rerun the same command to resume after a stop. --iterations
// overrides every phase (a quick end-to-end proof; use it with --out so the bundled model is kept).
import { parseArgs } from 'node:util';
import { trainDefaultModel } from '../dist/src/train/default-model.js';

const { values } = parseArgs({ options: { config: { type: 'string', default: 'configs/default-model.yaml' }, iterations: { type: 'string' }, out: { type: 'string' }, 'no-eval': { type: 'boolean' }, 'eval-max': { type: 'string' } } });
const iterations = values.iterations === undefined ? undefined : Number(values.iterations);
if (iterations !== undefined && (!Number.isSafeInteger(iterations) || iterations < 1)) {
  process.stderr.write(`train:default: --iterations must be a positive integer, got ${values.iterations}\n`);
  process.exit(2);
}
if (iterations !== undefined && values.out === undefined) {
  process.stderr.write('train:default: --iterations needs --out DIR (a quick run must not replace the bundled model)\n');
  process.exit(2);
}
const ac = new AbortController();
process.once('SIGINT', () => { process.stderr.write('\ntrain:default: stopping after this iteration (rerun to continue)\n'); ac.abort(); });
process.once('SIGTERM', () => { process.stderr.write('\ntrain:default: stopping after this iteration (rerun to continue)\n'); ac.abort(); });
let last = 0;
const t0 = Date.now();
try {
  const r = await trainDefaultModel(values.config, {
    iterations, out: values.out, signal: ac.signal, noEval: values['no-eval'], evalMax: values['eval-max'] === undefined ? undefined : Math.max(1, Number(values['eval-max']) | 0),
    log: (l) => process.stderr.write(`train:default: [${((Date.now() - t0) / 60000).toFixed(1)} min] ${l}\n`),
    onProgress: (p) => {
      if (Date.now() - last > 30000 || p.step === p.total) {
        last = Date.now();
        const t = Object.entries(p.terms).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(' ');
        process.stderr.write(`train:default: [${((Date.now() - t0) / 60000).toFixed(1)} min] ${p.kind} ${p.step}/${p.total} ${t} ${p.itPerSec.toFixed(3)} it/s\n`);
      }
    },
  });
  process.stderr.write(`train:default: model → ${r.model} (run folder ${r.out})\n`);
} catch (e) {
  process.stderr.write(`train:default: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}\n`);
  process.exit(1);
}
