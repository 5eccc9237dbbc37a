#!/usr/bin/env node
// npm run bench:data — the compiled benches live in dist/ (npx tsc -p tsconfig.json first):
// degradation pairs/s at 256² (bench/data/degrade.ts), then image I/O MB/s (bench/data/io.ts).
import { benchDegradation } from '../../dist/bench/data/degrade.js';
import { benchImageIO } from '../../dist/bench/data/io.js';

for (const line of await benchDegradation()) console.log(line);
for (const line of await benchImageIO()) console.log(line);
