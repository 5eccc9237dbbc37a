#!/usr/bin/env node
// npm run experiment:vpdsr [-- --iterations N | --probe N] [--out DIR] [--config FILE]: the §8.3
// experiment; --iterations overrides every phase (a quick end-to-end proof), --probe times N
// iterations of each phase and suggests the counts that fit the time budget.
import { parseArgs } from 'node:util';
import { runExperiment } from '../dist/src/train/experiment.js';

const { values } = parseArgs({ options: { config: { type: 'string', default: 'experiments/vpdsr/experiment.yaml' }, iterations: { type: 'string' }, probe: { type: 'string' }, out: { type: 'string' } } });
const iterations = values.iterations === undefined ? undefined : Number(values.iterations);
if (iterations !== undefined && (!Number.isSafeInteger(iterations) || iterations < 1)) {
  process.stderr.write(`experiment: --iterations must be a positive integer, got ${values.iterations}\n`);
  process.exit(2);
}
const probe = values.probe === undefined ? undefined : Number(values.probe);
if (probe !== undefined && (!Number.isSafeInteger(probe) || probe < 3)) {
  process.stderr.write(`experiment: --probe must be an integer of at least 3, got ${values.probe}\n`);
  process.exit(2);
}
const ac = new AbortController();
process.once('SIGINT', () => { process.stderr.write('\nexperiment: stopping after this iteration (rerun to continue)\n'); ac.abort(); });
let last = 0;
try {
  await runExperiment(values.config, {
    iterations, probe, out: values.out, signal: ac.signal,
    log: (l) => process.stderr.write(`experiment: ${l}\n`),
    onProgress: (p) => {
      if (Date.now() - last > 15000 || p.step === p.total) {
        last = Date.now();
        const t = Object.entries(p.terms).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(' ');
        process.stderr.write(`experiment: ${p.kind} ${p.step}/${p.total} ${t} ${p.itPerSec.toFixed(2)} it/s\n`);
      }
    },
  });
} catch (e) {
  process.stderr.write(`experiment: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}\n`);
  process.exit(1);
}
